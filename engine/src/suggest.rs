//! Completion and next-word prediction over a language pack.
//!
//! Candidates come from three cheap places, so that no keystroke walks more
//! than a few hundred lexicon entries:
//!
//! 1. the words under the folded prefix: the precomputed top list of a heavy
//!    prefix, or all words under a light one (at most
//!    [`HEAVY_PREFIX_LIMIT`](crate::pack::HEAVY_PREFIX_LIMIT));
//! 2. the words whose key is exactly what was typed (so that a rare or
//!    offensive word typed out in full is still offered);
//! 3. the followers of the previous word in the pair table.
//!
//! Each is scored by the interpolated probability
//! `λ·P(w | previous) + (1 − λ)·P(w)`, where `P(w)` comes from the word's
//! frequency and `P(w | previous)` from the pair counts; the typed case and
//! the sentence position are then applied and duplicates merged.

use unicode_normalization::UnicodeNormalization;

use crate::engine::Config;
use crate::pack::{HEAVY_PREFIX_LIMIT, LanguagePack, WordId, WordRef};
use crate::text::case::{TypedCase, apply_case};
use crate::text::context::analyse;
use crate::text::fold::{fold, folded_starts_with};

/// Words longer than this (in characters) get no completions: no lexicon
/// word is that long, and the bound keeps the work per keystroke small.
pub const MAX_WORD_CHARS: usize = 48;

/// Where a suggestion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuggestionKind {
    /// Completes the letters typed so far.
    Completion,
    /// Predicts the next word before any letter is typed.
    Prediction,
}

impl SuggestionKind {
    /// A stable lower-case name, used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionKind::Completion => "completion",
            SuggestionKind::Prediction => "prediction",
        }
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The text to insert in place of the current word.
    pub text: String,
    /// Where it comes from.
    pub kind: SuggestionKind,
    /// Natural log of its estimated probability; higher is better.
    pub score: f32,
}

/// The top `k` suggestions for the current word `typed` after `context`.
pub(crate) fn suggest(
    pack: &LanguagePack,
    config: &Config,
    context: &str,
    typed: &str,
    k: usize,
) -> Vec<Suggestion> {
    if k == 0 || typed.chars().count() > MAX_WORD_CHARS {
        return Vec::new();
    }
    let typed: String = typed.nfc().collect();
    let key = fold(&typed);
    if key.is_empty() && !typed.is_empty() {
        return Vec::new();
    }
    let info = analyse(context);
    let previous = info.previous_word.and_then(|w| pack.lookup(w));
    let followers: Vec<(WordId, u32)>;
    let mut total = 0;
    if let Some((t, iter)) = previous.and_then(|p| pack.followers(p)) {
        total = t;
        followers = iter.collect();
    } else {
        followers = Vec::new();
    }

    let mut candidates: Vec<WordRef<'_>> = Vec::with_capacity(64);
    let offered = |w: &WordRef<'_>| !w.offensive || fold(w.surface) == key;
    match pack.top_words(&key) {
        Some(top) => {
            candidates.extend(top);
            candidates.extend(pack.exact(&key));
        }
        None => {
            pack.for_each_with_prefix(&key, HEAVY_PREFIX_LIMIT, |w| {
                if offered(&w) {
                    candidates.push(w);
                }
            });
        }
    }
    for &(id, _) in &followers {
        if let Some(w) = pack.word(id)
            && folded_starts_with(w.surface, &key)
            && offered(&w)
        {
            candidates.push(w);
        }
    }

    candidates.sort_unstable_by_key(|w| w.id);
    candidates.dedup_by_key(|w| w.id);

    let lambda = if total > 0 {
        f64::from(config.pair_weight.clamp(0.0, 1.0))
    } else {
        0.0
    };
    let mut scored: Vec<(f64, WordRef<'_>)> = candidates
        .into_iter()
        .map(|word| {
            let unigram = 10f64.powf(-f64::from(word.cost) / 100.0);
            let pair = followers
                .iter()
                .find(|(id, _)| *id == word.id)
                .map_or(0.0, |&(_, n)| f64::from(n) / f64::from(total.max(1)));
            ((lambda * pair + (1.0 - lambda) * unigram).ln(), word)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.surface.cmp(b.1.surface))
    });

    let kind = if key.is_empty() {
        SuggestionKind::Prediction
    } else {
        SuggestionKind::Completion
    };
    let typed_case = TypedCase::of(&typed);
    // `k` comes from the host and may be huge; reserving it up front would
    // abort on allocation failure.
    let mut out: Vec<Suggestion> = Vec::with_capacity(k.min(16));
    for (score, word) in scored {
        let text = apply_case(word.surface, typed_case, info.sentence_start);
        // Case changes can make two words look the same ("Paris", "paris" at
        // a sentence start); the better one came first.
        if out.iter().all(|s| s.text != text) {
            out.push(Suggestion {
                text,
                kind,
                score: score as f32,
            });
            if out.len() == k {
                break;
            }
        }
    }
    out
}
