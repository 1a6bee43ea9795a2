//! Rescoring the search's best readings with the engine's neural language
//! model.
//!
//! The lexicon search scores each word with the pack's n-gram word model,
//! which knows one previous word at most (and pairs only in English). The
//! neural model reads the whole text before the ink, and the words of a
//! line before each word, so the search's `n` best readings get
//! `weight · ln P_lm(reading | context)` added to their score and are
//! ranked again. `ln P_lm(reading | context)` is the sum over the reading's
//! whitespace-separated words of `ln P(word | context and the words before
//! it)`, each the model's word score (subword tokens plus the end of the
//! word), for every word that has some text before it: a word written
//! alone gets no neural score (the lexicon's frequencies rank it better).
//! The words at one position that share their left context are scored in
//! one batched run.

use std::collections::HashMap;

use nib_engine::lm::NeuralLm;
use nib_engine::split_token;

use crate::decode::Candidate;

/// Adds `weight · ln P_lm(text | context)` to each candidate's score and
/// sorts them again, best first. Every word scored also earns `word_bonus`
/// (nats, before the weight): a sum of log-probabilities favours readings
/// of fewer words ("DONOT" over "DO NOT"), which the bonus offsets. A reading the model cannot spell (a
/// character its tokenizer lacks) gets the worst score any reading got, so
/// that it is not preferred for being unreadable. Fails only when the
/// model fails; the candidates are then left as they were.
pub(crate) fn neural_rescore(
    lm: &NeuralLm,
    context: &str,
    candidates: &mut [Candidate],
    weight: f32,
    word_bonus: f32,
) -> nib_engine::Result<()> {
    // Punctuation, alone ("-") or around a word ("car?"), is the search's
    // business (its punctuation cost); the model scores the words.
    let words: Vec<Vec<&str>> = candidates
        .iter()
        .map(|c| {
            c.text
                .split_whitespace()
                .map(|token| split_token(token).1)
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .collect()
        })
        .collect();
    let mut totals: Vec<Option<f32>> = vec![Some(0.0); candidates.len()];
    let longest = words.iter().map(Vec::len).max().unwrap_or(0);
    for position in 0..longest {
        // The readings with a word here, grouped by the text before it.
        let mut by_left: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, w) in words.iter().enumerate() {
            if position < w.len() && totals[i].is_some() {
                let left = left_context(context, &w[..position]);
                // With nothing before it, the model's score of a word is a
                // plain frequency, which the lexicon's (from far more text)
                // already gives: measured, it only hurt.
                if !left.is_empty() {
                    by_left.entry(left).or_default().push(i);
                }
            }
        }
        for (left, readers) in by_left {
            let state = lm.state(&lm.context_ids(&left))?;
            let asked: Vec<&str> = readers.iter().map(|&i| words[i][position]).collect();
            let scores = lm.score_words(&state, &asked)?;
            for (&i, score) in readers.iter().zip(scores) {
                totals[i] = match (totals[i], score) {
                    (Some(total), Some(score)) => Some(total + score + word_bonus),
                    _ => None,
                };
            }
        }
    }
    let worst = totals
        .iter()
        .flatten()
        .copied()
        .fold(f32::INFINITY, f32::min);
    let worst = if worst.is_finite() { worst } else { 0.0 };
    for (c, total) in candidates.iter_mut().zip(totals) {
        c.score += weight * total.unwrap_or(worst);
    }
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(())
}

/// The text before the ink followed by the reading's words before this one.
fn left_context(context: &str, before: &[&str]) -> String {
    let mut left = context.trim_end().to_owned();
    for w in before {
        if !left.is_empty() {
            left.push(' ');
        }
        left.push_str(w);
    }
    if !left.is_empty() {
        left.push(' ');
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn left_context_joins_the_words_before() {
        assert_eq!(left_context("", &[]), "");
        assert_eq!(left_context("I said ", &[]), "I said ");
        assert_eq!(
            left_context("I said", &["hello", "there"]),
            "I said hello there "
        );
        assert_eq!(left_context("", &["hello"]), "hello ");
    }
}
