//! Deciding the case of each word.
//!
//! Frequency lists are lower-cased, so the case of a word comes from other
//! sources, in this order:
//!
//! 1. **Running text** (English: the tagged Brown corpus). A case form that
//!    occurs inside sentences at least 3 times and more than twice as often
//!    as the lower-case form wins: "Paris", "I", "Monday", "NASA".
//! 2. **A cased word list** (Debian word lists; for Russian the hunspell
//!    dictionary expanded with `unmunch`). If the lower-case form is listed,
//!    the word is lower case; otherwise the listed capitalised form, else
//!    the first listed form: German "Haus", "Straße".
//! 3. **Compound heads** (German): a word missing from the list takes the
//!    case of its longest listed final part of at least four letters:
//!    "Bundesregierung" from "Regierung".
//! 4. Otherwise the word stays lower case.

use std::collections::HashMap;

use nib_engine::capitalise;

/// Counts of case forms in running text, keyed by the lower-cased word.
pub type CaseCounts = HashMap<String, HashMap<String, u32>>;

/// The case forms of a cased word list.
#[derive(Debug, Default)]
pub struct CaseForms {
    forms: HashMap<String, Vec<String>>,
}

impl CaseForms {
    /// Indexes a cased word list.
    pub fn new(words: impl IntoIterator<Item = String>) -> Self {
        let mut forms: HashMap<String, Vec<String>> = HashMap::new();
        for word in words {
            let entry = forms.entry(case_fold(&word)).or_default();
            if !entry.contains(&word) {
                entry.push(word);
            }
        }
        Self { forms }
    }

    /// The surface form of the lower-case word `lower`.
    pub fn choose(&self, lower: &str, counts: Option<&CaseCounts>, compound_heads: bool) -> String {
        if let Some(seen) = counts.and_then(|c| c.get(lower)) {
            let lower_count = seen.get(lower).copied().unwrap_or(0);
            let best = seen
                .iter()
                .filter(|(form, _)| form.as_str() != lower)
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)));
            if let Some((form, &count)) = best
                && count >= 3
                && count > 2 * lower_count
            {
                return form.clone();
            }
        }
        if let Some(forms) = self.forms.get(&case_fold(lower)) {
            return pick_listed(lower, forms);
        }
        if compound_heads {
            let starts = lower.char_indices().skip(1).map(|(i, _)| i);
            for start in starts {
                let head = &lower[start..];
                if head.chars().count() < 4 {
                    break;
                }
                if let Some(forms) = self.forms.get(&case_fold(head)) {
                    let listed = pick_listed(head, forms);
                    return if listed == head {
                        lower.to_owned()
                    } else {
                        capitalise(lower)
                    };
                }
            }
        }
        lower.to_owned()
    }
}

/// Lower case with ß spelled "ss", as frequency lists built with Python's
/// `str.casefold` spell it ("strasse" for "Straße"), and ё as е, as most
/// Russian text is written ("пойдем" for "пойдём").
fn case_fold(word: &str) -> String {
    word.to_lowercase().replace('ß', "ss").replace('ё', "е")
}

/// The form of `lower` among the listed `forms` (all of which fold to it):
/// the lower-case form itself, else its capitalisation, else a form that
/// differs only in case, else one that restores ß, lower case preferred.
fn pick_listed(lower: &str, forms: &[String]) -> String {
    if forms.iter().any(|f| f == lower) {
        return lower.to_owned();
    }
    let capitalised = capitalise(lower);
    if forms.contains(&capitalised) {
        return capitalised;
    }
    let same_letters = forms.iter().find(|f| f.to_lowercase() == lower);
    let lower_case = forms.iter().find(|f| f.to_lowercase() == **f);
    same_letters
        .or(lower_case)
        .or(forms.first())
        .cloned()
        .unwrap_or_else(|| lower.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(words: &[&str]) -> CaseForms {
        CaseForms::new(words.iter().map(|w| w.to_string()))
    }

    #[test]
    fn listed_case_wins_unless_text_disagrees() {
        let forms = list(&[
            "Haus", "essen", "Essen", "NASA", "paris", "Paris", "i", "I", "Straße", "große",
        ]);
        assert_eq!(forms.choose("strasse", None, false), "Straße");
        assert_eq!(forms.choose("grosse", None, false), "große");
        let ru = list(&["пойдём", "Москва"]);
        assert_eq!(ru.choose("пойдем", None, false), "пойдём");
        assert_eq!(ru.choose("москва", None, false), "Москва");
        assert_eq!(forms.choose("haus", None, false), "Haus");
        assert_eq!(forms.choose("essen", None, false), "essen");
        assert_eq!(forms.choose("nasa", None, false), "NASA");
        assert_eq!(forms.choose("paris", None, false), "paris");
        assert_eq!(forms.choose("unlisted", None, false), "unlisted");
        let mut counts = CaseCounts::new();
        counts.insert("paris".into(), [("Paris".to_string(), 40)].into());
        counts.insert(
            "may".into(),
            [("May".to_string(), 30), ("may".to_string(), 900)].into(),
        );
        assert_eq!(forms.choose("paris", Some(&counts), false), "Paris");
        assert_eq!(forms.choose("may", Some(&counts), false), "may");
    }

    #[test]
    fn german_compounds_follow_their_head() {
        let forms = list(&["Regierung", "laufen"]);
        assert_eq!(
            forms.choose("bundesregierung", None, true),
            "Bundesregierung"
        );
        assert_eq!(forms.choose("weglaufen", None, true), "weglaufen");
        assert_eq!(
            forms.choose("bundesregierung", None, false),
            "bundesregierung"
        );
    }
}
