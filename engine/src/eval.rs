//! Keystroke savings rate (KSR), as the evaluation protocol defines it.
//!
//! Each word of a text is typed letter by letter. Before the first letter
//! and after each one, if the intended word (exactly, case included) is among
//! the top `k` suggestions it is selected at the cost of one keystroke and
//! committed with its trailing space. Punctuation and tokens with digits are
//! typed key by key; a space after a selected word is free unless punctuation
//! follows. `KSR = 1 − (keys typed + selections) / characters`, spaces
//! included. The predictor sees the text before the word as a session
//! keeps a text field's: its last 256 to 512 bytes.

use std::time::{Duration, Instant};

use crate::engine::Engine;
use crate::error::Result;
use crate::session::CONTEXT_LIMIT;
use crate::text::context::split_token;

/// The outcome of typing a text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KsrReport {
    /// Characters of the text, one space after each token included.
    pub characters: u64,
    /// Keys typed, selections excluded.
    pub keystrokes: u64,
    /// Suggestions selected.
    pub selections: u64,
    /// Words typed with prediction.
    pub words: u64,
    /// Words selected before their first letter (next-word predictions).
    pub predicted_before_typing: u64,
    /// Next-word predictions made (one before each word typed with
    /// prediction).
    pub next_word_predictions: u64,
    /// Of those, how often the word was the first suggestion.
    pub next_word_top1: u64,
    /// Of those, how often the word was among the first three.
    pub next_word_top3: u64,
}

impl KsrReport {
    /// The keystroke savings rate.
    pub fn ksr(&self) -> f64 {
        if self.characters == 0 {
            return 0.0;
        }
        1.0 - (self.keystrokes + self.selections) as f64 / self.characters as f64
    }

    /// Adds another report.
    pub fn add(&mut self, other: &KsrReport) {
        self.characters += other.characters;
        self.keystrokes += other.keystrokes;
        self.selections += other.selections;
        self.words += other.words;
        self.predicted_before_typing += other.predicted_before_typing;
        self.next_word_predictions += other.next_word_predictions;
        self.next_word_top1 += other.next_word_top1;
        self.next_word_top3 += other.next_word_top3;
    }

    /// Share of next-word predictions whose first suggestion was right.
    pub fn next_word_top1_accuracy(&self) -> f64 {
        self.next_word_top1 as f64 / self.next_word_predictions.max(1) as f64
    }

    /// Share of next-word predictions with the word among the first three.
    pub fn next_word_top3_accuracy(&self) -> f64 {
        self.next_word_top3 as f64 / self.next_word_predictions.max(1) as f64
    }
}

/// Types `text` through `engine` in `language` with `k` suggestions shown.
pub fn keystroke_savings(
    engine: &Engine,
    language: &str,
    text: &str,
    k: usize,
) -> Result<KsrReport> {
    engine.pack(language)?;
    keystroke_savings_with(
        text,
        k,
        |before, prefix, shown| {
            let suggestions = engine.suggest(language, before, prefix, shown)?;
            Ok(suggestions.into_iter().map(|s| s.text).collect())
        },
        |_, _| {},
    )
}

/// The protocol of [`keystroke_savings`] with any predictor: `suggest`
/// gets the text before the word, the typed letters of the word and the
/// number of suggestions wanted, and returns the suggestions, best first
/// (more than wanted are cut); its first error ends the typing. `observe`
/// gets the time each request took and whether it came before the word's
/// first letter (a next-word prediction). `nib ksr` measures nib and other
/// engines (`--presage`) with it, on exactly the same terms.
pub fn keystroke_savings_with<E>(
    text: &str,
    k: usize,
    mut suggest: impl FnMut(&str, &str, usize) -> std::result::Result<Vec<String>, E>,
    mut observe: impl FnMut(Duration, bool),
) -> std::result::Result<KsrReport, E> {
    let mut report = KsrReport::default();
    let mut context = String::new();
    for token in text.split_whitespace() {
        let (lead, word, trail) = split_token(token);
        let chars = |s: &str| s.chars().count() as u64;
        report.characters += chars(token) + 1;
        report.keystrokes += chars(lead);
        context.push_str(lead);

        let predictable = !word.is_empty() && word.chars().all(|c| !c.is_numeric());
        let mut selected = false;
        if predictable {
            report.words += 1;
            let before = context.as_str();
            for (typed, end) in prefixes(word) {
                let shown = if typed == 0 { k.max(3) } else { k };
                let started = Instant::now();
                let mut suggestions = suggest(before, &word[..end], shown)?;
                observe(started.elapsed(), typed == 0);
                suggestions.truncate(shown);
                if typed == 0 {
                    let rank = suggestions.iter().position(|s| s == word);
                    report.next_word_predictions += 1;
                    report.next_word_top1 += u64::from(rank == Some(0));
                    report.next_word_top3 += u64::from(rank.is_some_and(|r| r < 3));
                    suggestions.truncate(k);
                }
                if suggestions.iter().any(|s| s == word) {
                    report.selections += 1;
                    report.keystrokes += typed;
                    report.predicted_before_typing += u64::from(typed == 0);
                    selected = true;
                    break;
                }
            }
        }
        if !selected {
            report.keystrokes += chars(word);
        }
        report.keystrokes += chars(trail);
        if !(selected && trail.is_empty()) {
            report.keystrokes += 1;
        }
        context.push_str(word);
        context.push_str(trail);
        context.push(' ');
        // The text before the word, kept as a session keeps a text field's.
        if context.len() > 2 * CONTEXT_LIMIT {
            context = trim_to(&context, CONTEXT_LIMIT).to_owned();
        }
    }
    Ok(report)
}

/// `(characters typed, byte end)` for every prefix of `word`, empty first.
fn prefixes(word: &str) -> impl Iterator<Item = (u64, usize)> + '_ {
    std::iter::once((0, 0)).chain(
        word.char_indices()
            .enumerate()
            .map(|(n, (i, c))| (n as u64 + 1, i + c.len_utf8())),
    )
}

fn trim_to(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_cover_every_length() {
        let all: Vec<_> = prefixes("héllo").collect();
        assert_eq!(all, [(0, 0), (1, 1), (2, 3), (3, 4), (4, 5), (5, 6)]);
    }

    #[test]
    fn a_selection_costs_one_key_and_saves_its_space() {
        // "the" is always suggested, "cat" never: "the" costs one
        // selection, "cat" three letters and its space; "cat." would
        // also cost its period and the space after it.
        let always_the = |_: &str, _: &str, _: usize| Ok::<_, ()>(vec!["the".to_owned()]);
        let r = keystroke_savings_with("the cat", 3, always_the, |_, _| {}).unwrap();
        assert_eq!((r.characters, r.keystrokes, r.selections), (8, 4, 1));
        assert_eq!(
            (r.words, r.predicted_before_typing, r.next_word_top1),
            (2, 1, 1)
        );
        let r = keystroke_savings_with("the. cat", 3, always_the, |_, _| {}).unwrap();
        assert_eq!((r.characters, r.keystrokes, r.selections), (9, 6, 1));
    }

    #[test]
    fn the_predictor_sees_the_text_before_and_the_typed_letters() {
        let mut asked = Vec::new();
        let record = |before: &str, typed: &str, _: usize| {
            asked.push(format!("{before}|{typed}"));
            Ok::<_, ()>(Vec::new())
        };
        keystroke_savings_with("(hi, yo", 3, record, |_, _| {}).unwrap();
        assert_eq!(
            asked,
            ["(|", "(|h", "(|hi", "(hi, |", "(hi, |y", "(hi, |yo"]
        );
    }

    #[test]
    fn ksr_of_nothing_is_zero() {
        assert_eq!(KsrReport::default().ksr(), 0.0);
        let r = KsrReport {
            characters: 10,
            keystrokes: 4,
            selections: 1,
            ..Default::default()
        };
        assert!((r.ksr() - 0.5).abs() < 1e-9);
    }
}
