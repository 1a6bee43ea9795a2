//! Folding: the search key under which a word is stored and looked up.
//!
//! A keyboard user types "cafe", "uber", "dont" or "CEST" and means "café",
//! "über", "don't" and "c'est". The lexicon therefore indexes every surface
//! form under a folded key: lower case, diacritics removed, apostrophes
//! dropped, ligatures and ß spelled out. The typed letters are folded the same
//! way, so completion is a prefix search on folded keys and the surface form
//! (with its proper case and accents) is what the user sees.
//!
//! Cyrillic й is a letter of its own on a Russian keyboard, not an accented
//! и, so it keeps its breve; ё folds to е as Russian readers expect.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Characters that are dropped from keys: apostrophes of every flavour.
pub fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}')
}

/// Calls `emit` with the folded characters of `c`.
fn fold_char(c: char, emit: &mut impl FnMut(char)) {
    if c.is_ascii() {
        // The common case, without Unicode tables.
        if c != '\'' && !c.is_ascii_control() {
            emit(c.to_ascii_lowercase());
        }
        return;
    }
    if is_apostrophe(c) || c.is_control() {
        return;
    }
    for lower in c.to_lowercase() {
        match lower {
            'й' => emit('й'),
            'ß' => {
                emit('s');
                emit('s');
            }
            'æ' => {
                emit('a');
                emit('e');
            }
            'œ' => {
                emit('o');
                emit('e');
            }
            _ => decompose_canonical(lower, |d| {
                if !is_combining_mark(d) {
                    emit(d);
                }
            }),
        }
    }
}

/// The folded search key of `text`.
///
/// ```
/// assert_eq!(nib_engine::fold("Straße"), "strasse");
/// assert_eq!(nib_engine::fold("C'est"), "cest");
/// assert_eq!(nib_engine::fold("Français"), "francais");
/// ```
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Appends the folded key of `text` to `out`.
pub fn fold_into(text: &str, out: &mut String) {
    for c in text.chars() {
        fold_char(c, &mut |f| out.push(f));
    }
}

/// Whether the folded form of `word` starts with the already folded `prefix`,
/// without allocating.
pub fn folded_starts_with(word: &str, prefix: &str) -> bool {
    let mut expected = prefix.chars();
    let mut matched = true;
    let mut done = false;
    for c in word.chars() {
        if done {
            break;
        }
        fold_char(c, &mut |f| {
            if done || !matched {
                return;
            }
            match expected.next() {
                Some(e) if e == f => {}
                Some(_) => matched = false,
                None => done = true,
            }
        });
        if !matched {
            return false;
        }
    }
    matched && expected.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_case_accents_apostrophes() {
        assert_eq!(fold("Über"), "uber");
        assert_eq!(fold("don't"), "dont");
        assert_eq!(fold("l’été"), "lete");
        assert_eq!(fold("Œuvre"), "oeuvre");
        assert_eq!(fold("ЁЛКА"), "елка");
        assert_eq!(fold("мой"), "мой");
        assert_eq!(fold("niño"), "nino");
    }

    #[test]
    fn prefix_check_matches_fold() {
        assert!(folded_starts_with("Straße", "stras"));
        assert!(folded_starts_with("Straße", "strasse"));
        assert!(!folded_starts_with("Straße", "strasses"));
        assert!(folded_starts_with("c'est", "ce"));
        assert!(folded_starts_with("anything", ""));
        assert!(!folded_starts_with("мои", "мой"));
    }

    proptest! {
        #[test]
        fn prefix_check_agrees_with_fold(word in "\\PC{0,12}", cut in 0usize..16) {
            let key = fold(&word);
            let prefix: String = key.chars().take(cut).collect();
            prop_assert!(folded_starts_with(&word, &prefix));
            let longer = format!("{key}q");
            prop_assert!(!folded_starts_with(&word, &longer));
        }

        #[test]
        fn fold_is_idempotent(word in "\\PC{0,16}") {
            let once = fold(&word);
            prop_assert_eq!(fold(&once), once.clone());
        }
    }
}
