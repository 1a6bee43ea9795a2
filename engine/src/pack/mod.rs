//! Language packs: one file per language holding everything the engine knows
//! about it.
//!
//! A pack is a [container](container) of sections:
//!
//! | tag    | content |
//! | ------ | ------- |
//! | `MANI` | [`Manifest`] as JSON: counts, sources, licences |
//! | `LAYT` | the keyboard [`Layout`] as JSON |
//! | `LEXF` | fst map from folded key to a run of word ids (`start << 16 \| count`) |
//! | `WORD` | per word: offset of its surface in `STRS` (u32), cost in centibels (u16), flags (u16); plus a sentinel |
//! | `STRS` | the surfaces, UTF-8, back to back |
//! | `PREF` | fst map from a heavy folded prefix to its run in `TOPS` |
//! | `TOPS` | word ids (u32), the most frequent words under each heavy prefix |
//! | `PIDX` | pair index: `(previous, start, len, total)` u32 records sorted by previous |
//! | `PENT` | pair entries: `(next, count)` u32 records, each word's followers by count |
//!
//! Word ids are positions in folded-key order, so every folded prefix covers
//! one contiguous run of ids. The pack is memory-mapped; sections are read in
//! place. Loading verifies every checksum and the structure that later reads
//! rely on, so that a damaged file is rejected up front with a typed error.
//! Reads past that point still use checked access and cannot panic.

mod container;
mod encode;
mod manifest;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fst::{IntoStreamer, Streamer};

pub use container::{Container, ContainerWriter, FORMAT_VERSION, MAGIC, Tag, tag_name};
pub use encode::{PackSpec, WordSpec, encode};
pub use manifest::{Manifest, Source};

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::text::fold::fold;
use container::read_u32;

/// Section tags.
pub mod tags {
    use super::Tag;
    /// Manifest (JSON).
    pub const MANIFEST: Tag = *b"MANI";
    /// Layout (JSON).
    pub const LAYOUT: Tag = *b"LAYT";
    /// Lexicon fst.
    pub const LEXICON: Tag = *b"LEXF";
    /// Word records.
    pub const WORDS: Tag = *b"WORD";
    /// Surface strings.
    pub const STRINGS: Tag = *b"STRS";
    /// Heavy-prefix fst.
    pub const PREFIXES: Tag = *b"PREF";
    /// Top words of heavy prefixes.
    pub const TOPS: Tag = *b"TOPS";
    /// Pair index.
    pub const PAIR_INDEX: Tag = *b"PIDX";
    /// Pair entries.
    pub const PAIR_ENTRIES: Tag = *b"PENT";
}

/// File extension of packs.
pub const PACK_EXTENSION: &str = "nibpack";
/// Flag bit: the word is offensive.
pub const FLAG_OFFENSIVE: u16 = 1;
/// A prefix shared by more words than this gets a precomputed top list.
pub const HEAVY_PREFIX_LIMIT: usize = 160;
/// Length of each precomputed top list.
pub const TOP_PER_PREFIX: usize = 24;
/// Followers kept per word in the pair table.
pub const MAX_FOLLOWERS: usize = 64;

const WORD_RECORD: usize = 8;
const PAIR_INDEX_RECORD: usize = 16;
const PAIR_ENTRY_RECORD: usize = 8;

/// The bytes behind a pack: a memory map or an owned buffer.
#[derive(Debug)]
enum Backing {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl AsRef<[u8]> for Backing {
    fn as_ref(&self) -> &[u8] {
        match self {
            Backing::Mapped(m) => m,
            Backing::Owned(v) => v,
        }
    }
}

/// A section borrowed from the shared backing, usable as fst storage.
#[derive(Debug, Clone)]
pub(crate) struct SectionBytes {
    backing: Arc<Backing>,
    range: Range<usize>,
}

impl AsRef<[u8]> for SectionBytes {
    fn as_ref(&self) -> &[u8] {
        &AsRef::<[u8]>::as_ref(&*self.backing)[self.range.clone()]
    }
}

/// A word as stored in a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WordRef<'a> {
    /// Its id in this pack.
    pub id: WordId,
    /// The surface form, in its proper case.
    pub surface: &'a str,
    /// Cost in centibels.
    pub cost: u16,
    /// Whether it is offensive.
    pub offensive: bool,
}

/// A position in the lexicon automaton: the folded prefix read so far.
///
/// The decoders (the touch search, handwriting) walk the lexicon one
/// folded character at a time with [`LanguagePack::lexicon_root`],
/// [`LanguagePack::lexicon_next`] / [`LanguagePack::lexicon_step`],
/// [`LanguagePack::lexicon_children`] and [`LanguagePack::lexicon_words`]. A node is only meaningful for the
/// pack that made it; nodes are small and `Copy`, so a beam can hold many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LexiconNode {
    addr: usize,
    out: u64,
}

/// The index of a word in a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct WordId(pub u32);

/// A loaded, validated language pack.
#[derive(Debug)]
pub struct LanguagePack {
    path: PathBuf,
    backing: Arc<Backing>,
    manifest: Manifest,
    layout: Layout,
    lexicon: fst::Map<SectionBytes>,
    prefixes: fst::Map<SectionBytes>,
    words: Range<usize>,
    strings: Range<usize>,
    tops: Range<usize>,
    pair_index: Range<usize>,
    pair_entries: Range<usize>,
    word_count: u32,
    container: Container,
}

/// Visits every node of an fst once, reading each transition and final
/// output.
///
/// The fst crate trusts its input and can panic on a crafted automaton whose
/// checksums were recomputed. Every later lookup only parses nodes this walk
/// has parsed, so a pack that passes it can be read without a panic; a panic
/// during the walk itself is caught and reported as corruption. Values need
/// no check here: ids are bounds-checked where they are used.
fn check_fst(path: &Path, name: &str, map: &fst::Map<SectionBytes>) -> Result<()> {
    let fst = map.as_fst();
    let walk = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let len = fst.as_bytes().len();
        let mut seen = vec![0u64; len / 64 + 1];
        let mut stack = vec![fst.root().addr()];
        while let Some(addr) = stack.pop() {
            if addr >= len && addr != 0 {
                return false;
            }
            let (word, bit) = (addr / 64, 1u64 << (addr % 64));
            if seen[word] & bit != 0 {
                continue;
            }
            seen[word] |= bit;
            let node = fst.node(addr);
            let _ = node.final_output();
            stack.extend(node.transitions().map(|t| t.addr));
        }
        true
    }));
    match walk {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::corrupt(
            path,
            format!("{name} points outside itself"),
        )),
        Err(_) => Err(Error::corrupt(
            path,
            format!("{name} is not a valid automaton"),
        )),
    }
}

impl LanguagePack {
    /// Memory-maps and validates the pack at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is read-only; packs are written to a temporary file and
        // renamed into place, so a pack is never modified while mapped.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Self::from_backing(path, Backing::Mapped(map))
    }

    /// Validates a pack held in memory; `path` is only used in errors.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Self> {
        Self::from_backing(path, Backing::Owned(bytes))
    }

    fn from_backing(path: &Path, backing: Backing) -> Result<Self> {
        let backing = Arc::new(backing);
        let bytes = (*backing).as_ref();
        let container = Container::parse(path, bytes)?;
        let section = |tag| container.require(path, tag);
        let json = |tag| -> Result<&[u8]> { Ok(&bytes[section(tag)?]) };
        let manifest: Manifest = serde_json::from_slice(json(tags::MANIFEST)?)
            .map_err(|e| Error::corrupt(path, format!("manifest: {e}")))?;
        let layout: Layout = serde_json::from_slice(json(tags::LAYOUT)?)
            .map_err(|e| Error::corrupt(path, format!("layout: {e}")))?;
        layout.validate()?;
        let fst_map = |tag| -> Result<fst::Map<SectionBytes>> {
            let range = section(tag)?;
            fst::Map::new(SectionBytes {
                backing: backing.clone(),
                range,
            })
            .map_err(|e| Error::corrupt(path, format!("{}: {e}", tag_name(tag))))
        };
        let lexicon = fst_map(tags::LEXICON)?;
        let prefixes = fst_map(tags::PREFIXES)?;
        let words = section(tags::WORDS)?;
        let strings = section(tags::STRINGS)?;
        let tops = section(tags::TOPS)?;
        let pair_index = section(tags::PAIR_INDEX)?;
        let pair_entries = section(tags::PAIR_ENTRIES)?;

        if !words.len().is_multiple_of(WORD_RECORD) || words.is_empty() {
            return Err(Error::corrupt(path, "word table has a partial record"));
        }
        let word_count = (words.len() / WORD_RECORD - 1) as u32;
        let word_bytes = &bytes[words.clone()];
        let Ok(string_text) = std::str::from_utf8(&bytes[strings.clone()]) else {
            return Err(Error::corrupt(path, "word strings are not UTF-8"));
        };
        let mut last = 0;
        for record in word_bytes.chunks_exact(WORD_RECORD) {
            let offset = read_u32(record, 0) as usize;
            if offset < last || offset > string_text.len() {
                return Err(Error::corrupt(path, "word string offsets out of order"));
            }
            if !string_text.is_char_boundary(offset) {
                return Err(Error::corrupt(path, "word string splits a character"));
            }
            last = offset;
        }
        if last != string_text.len() {
            return Err(Error::corrupt(
                path,
                "word strings do not end at the sentinel",
            ));
        }
        let check_ids = |name: &str, range: &Range<usize>, stride: usize, at: usize| {
            if !range.len().is_multiple_of(stride) {
                return Err(Error::corrupt(path, format!("{name} has a partial record")));
            }
            let ok = bytes[range.clone()]
                .chunks_exact(stride)
                .all(|r| read_u32(r, at) < word_count);
            if ok {
                Ok(())
            } else {
                Err(Error::corrupt(
                    path,
                    format!("{name} names a word id out of range"),
                ))
            }
        };
        check_ids("TOPS", &tops, 4, 0)?;
        check_ids("PIDX", &pair_index, PAIR_INDEX_RECORD, 0)?;
        check_ids("PENT", &pair_entries, PAIR_ENTRY_RECORD, 0)?;
        if lexicon.len() > word_count as usize {
            return Err(Error::corrupt(path, "more lexicon keys than words"));
        }
        check_fst(path, "LEXF", &lexicon)?;
        check_fst(path, "PREF", &prefixes)?;

        Ok(Self {
            path: path.to_path_buf(),
            manifest,
            layout,
            lexicon,
            prefixes,
            words,
            strings,
            tops,
            pair_index,
            pair_entries,
            word_count,
            container,
            backing,
        })
    }

    fn bytes(&self, range: &Range<usize>) -> &[u8] {
        (*self.backing).as_ref().get(range.clone()).unwrap_or(&[])
    }

    /// Where the pack was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The language tag.
    pub fn language(&self) -> &str {
        &self.manifest.language
    }

    /// The keyboard layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Number of words.
    pub fn word_count(&self) -> u32 {
        self.word_count
    }

    /// Size of the pack file in bytes.
    pub fn size(&self) -> usize {
        (*self.backing).as_ref().len()
    }

    /// Tags and sizes of the sections.
    pub fn sections(&self) -> impl Iterator<Item = (Tag, usize)> + '_ {
        self.container.sections()
    }

    /// The word with id `id`, if it exists.
    pub fn word(&self, id: WordId) -> Option<WordRef<'_>> {
        let words = self.bytes(&self.words);
        let at = id.0 as usize * WORD_RECORD;
        let record = words.get(at..at + 2 * WORD_RECORD)?;
        let start = read_u32(record, 0) as usize;
        let end = read_u32(record, WORD_RECORD) as usize;
        let surface = std::str::from_utf8(self.bytes(&self.strings).get(start..end)?).ok()?;
        let cost = u16::from_le_bytes([record[4], record[5]]);
        let flags = u16::from_le_bytes([record[6], record[7]]);
        Some(WordRef {
            id,
            surface,
            cost,
            offensive: flags & FLAG_OFFENSIVE != 0,
        })
    }

    /// The lexicon map (folded keys to word runs).
    pub(crate) fn lexicon_map(&self) -> &fst::Map<SectionBytes> {
        &self.lexicon
    }

    /// The empty prefix: where every lexicon walk starts.
    pub fn lexicon_root(&self) -> LexiconNode {
        LexiconNode {
            addr: self.lexicon.as_fst().root().addr(),
            out: 0,
        }
    }

    /// The node reached from `node` by the folded characters of `key`
    /// (already folded: see [`crate::fold`]), or `None` if no lexicon key
    /// continues that way. An empty `key` returns `node`.
    pub fn lexicon_next(&self, node: LexiconNode, key: &str) -> Option<LexiconNode> {
        let fst = self.lexicon.as_fst();
        let (mut addr, mut out) = (node.addr, node.out);
        // Nodes come from this pack's own walks, which `check_fst` has
        // parsed at load, so `fst.node` cannot panic here.
        for &b in key.as_bytes() {
            let current = fst.node(addr);
            let t = current.transition(current.find_input(b)?);
            out = out.wrapping_add(t.out.value());
            addr = t.addr;
        }
        Some(LexiconNode { addr, out })
    }

    /// The node reached from `node` by the folded character `c`.
    pub fn lexicon_step(&self, node: LexiconNode, c: char) -> Option<LexiconNode> {
        let mut buffer = [0u8; 4];
        self.lexicon_next(node, c.encode_utf8(&mut buffer))
    }

    /// The characters that continue some lexicon key from `node`, with the
    /// node each leads to.
    pub fn lexicon_children(&self, node: LexiconNode) -> Vec<(char, LexiconNode)> {
        let fst = self.lexicon.as_fst();
        let mut found = Vec::new();
        // (bytes so far and their count, node)
        let mut stack: Vec<([u8; 4], usize, LexiconNode)> = vec![([0; 4], 0, node)];
        while let Some((bytes, len, node)) = stack.pop() {
            if len > 0
                && let Ok(text) = std::str::from_utf8(&bytes[..len])
            {
                if let Some(c) = text.chars().next() {
                    found.push((c, node));
                }
                continue;
            }
            if len >= 4 {
                continue;
            }
            for t in fst.node(node.addr).transitions() {
                let mut next = bytes;
                next[len] = t.inp;
                let child = LexiconNode {
                    addr: t.addr,
                    out: node.out.wrapping_add(t.out.value()),
                };
                stack.push((next, len + 1, child));
            }
        }
        found
    }

    /// The lexicon value of the key that ends at `node` (its word run, see
    /// [`LanguagePack::run`]), if the prefix is a key.
    pub(crate) fn lexicon_value(&self, node: LexiconNode) -> Option<u64> {
        let current = self.lexicon.as_fst().node(node.addr);
        current
            .is_final()
            .then(|| node.out.wrapping_add(current.final_output().value()))
    }

    /// The words whose folded key ends at `node` (none if the prefix is not
    /// itself a key).
    pub fn lexicon_words(&self, node: LexiconNode) -> impl Iterator<Item = WordRef<'_>> {
        self.run(self.lexicon_value(node).unwrap_or(0))
    }

    /// The words of a lexicon value (the output summed along a key's path).
    pub(crate) fn run(&self, value: u64) -> impl Iterator<Item = WordRef<'_>> {
        let start = (value >> 16) as u32;
        let count = (value & 0xffff) as u32;
        (start..start.saturating_add(count)).filter_map(|id| self.word(WordId(id)))
    }

    /// The words whose folded key is exactly `key`.
    pub fn exact(&self, key: &str) -> impl Iterator<Item = WordRef<'_>> {
        self.run(self.lexicon.get(key).unwrap_or(0))
    }

    /// The id of `word` as written (case-insensitively), else of the most
    /// frequent word with the same folded key.
    pub fn lookup(&self, word: &str) -> Option<WordId> {
        let mut best = None;
        for candidate in self.exact(&fold(word)) {
            if candidate.surface == word {
                return Some(candidate.id);
            }
            if best.is_none() || candidate.surface.to_lowercase() == word.to_lowercase() {
                best = best.or(Some(candidate.id));
            }
        }
        best
    }

    /// The precomputed top words under a heavy folded `prefix`, most frequent
    /// first; `None` if the prefix is not heavy.
    pub fn top_words(&self, prefix: &str) -> Option<impl Iterator<Item = WordRef<'_>>> {
        let value = self.prefixes.get(prefix)?;
        let tops = self.bytes(&self.tops);
        let start = (value >> 16) as usize * 4;
        let end = start + (value & 0xffff) as usize * 4;
        let ids = tops.get(start..end).unwrap_or(&[]);
        Some(
            ids.chunks_exact(4)
                .filter_map(|c| self.word(WordId(read_u32(c, 0)))),
        )
    }

    /// Calls `visit` with every word whose folded key starts with `prefix`,
    /// in key order, stopping after `limit` words. Returns whether it stopped
    /// early.
    pub fn for_each_with_prefix<'a>(
        &'a self,
        prefix: &str,
        limit: usize,
        mut visit: impl FnMut(WordRef<'a>),
    ) -> bool {
        let mut stream = self.lexicon.range().ge(prefix).into_stream();
        let mut seen = 0;
        while let Some((key, value)) = stream.next() {
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            for word in self.run(value) {
                if seen == limit {
                    return true;
                }
                seen += 1;
                visit(word);
            }
        }
        false
    }

    /// The followers of `previous` (most frequent first) and the total count
    /// of pairs starting with it, if it has any.
    pub fn followers(
        &self,
        previous: WordId,
    ) -> Option<(u32, impl Iterator<Item = (WordId, u32)> + '_)> {
        let index = self.bytes(&self.pair_index);
        let records = index.len() / PAIR_INDEX_RECORD;
        let record = |i: usize| &index[i * PAIR_INDEX_RECORD..(i + 1) * PAIR_INDEX_RECORD];
        let (mut lo, mut hi) = (0, records);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if read_u32(record(mid), 0) < previous.0 {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        if lo == records || read_u32(record(lo), 0) != previous.0 {
            return None;
        }
        let found = record(lo);
        let (start, len, total) = (
            read_u32(found, 4) as usize,
            read_u32(found, 8) as usize,
            read_u32(found, 12),
        );
        let entries = self.bytes(&self.pair_entries);
        let slice = entries
            .get(start * PAIR_ENTRY_RECORD..(start + len) * PAIR_ENTRY_RECORD)
            .unwrap_or(&[]);
        let iter = slice
            .chunks_exact(PAIR_ENTRY_RECORD)
            .map(|e| (WordId(read_u32(e, 0)), read_u32(e, 4)));
        Some((total, iter))
    }
}

#[cfg(test)]
pub(crate) mod tests;
