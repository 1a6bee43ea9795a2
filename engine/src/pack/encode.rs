//! Building the sections of a language pack from words, pairs and a layout.
//!
//! The builder in `nib-languages` decides *which* words, cases and pairs go
//! into a pack; this module decides *how* they are laid out, so that the
//! writer and the reader of the format live side by side.

use std::collections::HashMap;

use fst::MapBuilder;

use super::container::ContainerWriter;
use super::manifest::Manifest;
use super::{FLAG_OFFENSIVE, HEAVY_PREFIX_LIMIT, MAX_FOLLOWERS, TOP_PER_PREFIX, tags};
use crate::layout::Layout;
use crate::text::fold::fold;

/// A word to put into a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordSpec {
    /// The word as it should be shown, in its proper case.
    pub surface: String,
    /// Cost in centibels: the word's frequency is `10^(-cost/100)`.
    pub cost: u16,
    /// Offensive words are only suggested once typed out in full.
    pub offensive: bool,
}

/// Everything a pack holds, before encoding.
#[derive(Debug, Clone)]
pub struct PackSpec {
    /// Counts and provenance. `words`, `offensive_words` and `pairs` are
    /// filled in by [`encode`].
    pub manifest: Manifest,
    /// The keyboard layout.
    pub layout: Layout,
    /// The lexicon. Surfaces must be unique.
    pub words: Vec<WordSpec>,
    /// Word pairs `(previous, next, count)` as indices into `words`.
    pub pairs: Vec<(u32, u32, u32)>,
}

/// Encodes a pack. Words with an empty folded key and duplicate surfaces are
/// dropped (the cheaper cost wins); pairs referring to dropped or unknown words
/// are ignored.
pub fn encode(spec: &PackSpec) -> Vec<u8> {
    // Order words by folded key so that every prefix is one contiguous run.
    let mut order: Vec<(String, usize)> = spec
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| (fold(&w.surface), i))
        .filter(|(key, _)| !key.is_empty())
        .collect();
    order.sort_by(|(ka, ia), (kb, ib)| {
        let (a, b) = (&spec.words[*ia], &spec.words[*ib]);
        ka.cmp(kb)
            .then(a.cost.cmp(&b.cost))
            .then(a.surface.cmp(&b.surface))
    });
    let mut seen = std::collections::HashSet::new();
    order.retain(|(_, i)| seen.insert(spec.words[*i].surface.as_str()));
    let mut new_id = vec![u32::MAX; spec.words.len()];
    for (id, (_, i)) in order.iter().enumerate() {
        new_id[*i] = id as u32;
    }

    let (lexicon, words, strings) = encode_lexicon(spec, &order);
    let (prefixes, tops) = encode_prefixes(spec, &order);
    let (pair_index, pair_entries, pair_count) = encode_pairs(spec, &new_id);

    let mut manifest = spec.manifest.clone();
    manifest.words = order.len() as u32;
    manifest.offensive_words = order
        .iter()
        .filter(|(_, i)| spec.words[*i].offensive)
        .count() as u32;
    manifest.pairs = pair_count;

    let mut writer = ContainerWriter::new();
    writer
        .section(
            tags::MANIFEST,
            serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
        )
        .section(
            tags::LAYOUT,
            serde_json::to_vec(&spec.layout).unwrap_or_default(),
        )
        .section(tags::LEXICON, lexicon)
        .section(tags::WORDS, words)
        .section(tags::STRINGS, strings)
        .section(tags::PREFIXES, prefixes)
        .section(tags::TOPS, tops)
        .section(tags::PAIR_INDEX, pair_index)
        .section(tags::PAIR_ENTRIES, pair_entries);
    writer.finish()
}

fn encode_lexicon(spec: &PackSpec, order: &[(String, usize)]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut map = MapBuilder::memory();
    let mut words = Vec::with_capacity((order.len() + 1) * 8);
    let mut strings = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let key = &order[start].0;
        let end = start + order[start..].iter().take_while(|(k, _)| k == key).count();
        let count = (end - start).min(u16::MAX as usize);
        // Keys are inserted in sorted order and are unique, so this cannot fail.
        let _ = map.insert(key, ((start as u64) << 16) | count as u64);
        start = end;
    }
    for (_, i) in order {
        let word = &spec.words[*i];
        words.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        words.extend_from_slice(&word.cost.to_le_bytes());
        let flags = if word.offensive { FLAG_OFFENSIVE } else { 0 };
        words.extend_from_slice(&flags.to_le_bytes());
        strings.extend_from_slice(word.surface.as_bytes());
    }
    // Sentinel: the end of the last string.
    words.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    words.extend_from_slice(&[0; 4]);
    (map.into_inner().unwrap_or_default(), words, strings)
}

/// For every prefix shared by more than [`HEAVY_PREFIX_LIMIT`] words, the
/// [`TOP_PER_PREFIX`] most frequent inoffensive ones, so that completing a
/// short prefix never walks thousands of keys.
fn encode_prefixes(spec: &PackSpec, order: &[(String, usize)]) -> (Vec<u8>, Vec<u8>) {
    let mut counts: HashMap<&str, u32> = HashMap::new();
    for (key, _) in order {
        *counts.entry("").or_default() += 1;
        for (i, _) in key.char_indices().skip(1) {
            *counts.entry(&key[..i]).or_default() += 1;
        }
        *counts.entry(key.as_str()).or_default() += 1;
    }
    let mut heavy: Vec<&str> = counts
        .into_iter()
        .filter(|&(_, n)| n as usize > HEAVY_PREFIX_LIMIT)
        .map(|(p, _)| p)
        .collect();
    heavy.sort_unstable();
    let mut map = MapBuilder::memory();
    let mut tops = Vec::new();
    for prefix in heavy {
        let lo = order.partition_point(|(k, _)| k.as_str() < prefix);
        let hi = lo + order[lo..].partition_point(|(k, _)| k.starts_with(prefix));
        let mut ids: Vec<u32> = (lo..hi)
            .filter(|&id| !spec.words[order[id].1].offensive)
            .map(|id| id as u32)
            .collect();
        ids.sort_by_key(|&id| (spec.words[order[id as usize].1].cost, id));
        ids.truncate(TOP_PER_PREFIX);
        let offset = (tops.len() / 4) as u64;
        let _ = map.insert(prefix, (offset << 16) | ids.len() as u64);
        for id in ids {
            tops.extend_from_slice(&id.to_le_bytes());
        }
    }
    (map.into_inner().unwrap_or_default(), tops)
}

/// Pair index records `(previous, start, len, total)` sorted by previous word,
/// and entries `(next, count)` with each word's followers by count, pruned to
/// [`MAX_FOLLOWERS`]. `total` counts all followers before pruning.
fn encode_pairs(spec: &PackSpec, new_id: &[u32]) -> (Vec<u8>, Vec<u8>, u32) {
    let id = |i: u32| new_id.get(i as usize).copied().filter(|&id| id != u32::MAX);
    let mut by_prev: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
    for &(prev, next, count) in &spec.pairs {
        if let (Some(prev), Some(next)) = (id(prev), id(next)) {
            by_prev.entry(prev).or_default().push((next, count));
        }
    }
    let mut prevs: Vec<u32> = by_prev.keys().copied().collect();
    prevs.sort_unstable();
    let (mut index, mut entries, mut kept) = (Vec::new(), Vec::new(), 0u32);
    for prev in prevs {
        let followers = by_prev
            .get_mut(&prev)
            .map(std::mem::take)
            .unwrap_or_default();
        let mut merged: HashMap<u32, u64> = HashMap::new();
        for (next, count) in followers {
            *merged.entry(next).or_default() += u64::from(count);
        }
        let total: u64 = merged.values().sum();
        // Counts are stored in 32 bits; web-scale counts are scaled down
        // together so that their ratios survive.
        let scale = total.div_ceil(u64::from(u32::MAX)).max(1);
        let mut followers: Vec<(u32, u64)> = merged.into_iter().collect();
        followers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        followers.truncate(MAX_FOLLOWERS);
        let start = (entries.len() / 8) as u32;
        for &(next, count) in &followers {
            entries.extend_from_slice(&next.to_le_bytes());
            entries.extend_from_slice(&((count / scale).max(1) as u32).to_le_bytes());
        }
        for value in [prev, start, followers.len() as u32, (total / scale) as u32] {
            index.extend_from_slice(&value.to_le_bytes());
        }
        kept += followers.len() as u32;
    }
    (index, entries, kept)
}
