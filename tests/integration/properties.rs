use nib_engine::{fold, folded_starts_with};
use nib_tests::engine;
use proptest::prelude::*;

/// Words to draw prefixes from, across scripts.
const WORDS: &[(&str, &str)] = &[
    ("en", "thanks"),
    ("en", "Monday"),
    ("en", "don't"),
    ("en", "interesting"),
    ("de", "Straße"),
    ("de", "über"),
    ("de", "möglich"),
    ("fr", "c'est"),
    ("fr", "français"),
    ("fr", "aujourd'hui"),
    ("es", "mañana"),
    ("it", "perché"),
    ("pt", "não"),
    ("ru", "спасибо"),
    ("ru", "пойдём"),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn completions_match_the_prefix_sorted_and_unique(
        pick in 0..WORDS.len(),
        cut in 0usize..12,
        upper in any::<bool>(),
        k in 1usize..12,
    ) {
        let engine = engine();
        let (lang, word) = WORDS[pick];
        let mut typed: String = word.chars().take(cut).collect();
        if upper {
            typed = typed.to_uppercase();
        }
        let suggestions = engine.suggest(lang, "so ", &typed, k).unwrap();
        prop_assert!(suggestions.len() <= k);
        let key = fold(&typed);
        for s in &suggestions {
            prop_assert!(folded_starts_with(&s.text, &key), "{:?} does not extend {:?}", s.text, typed);
        }
        for pair in suggestions.windows(2) {
            prop_assert!(pair[0].score >= pair[1].score, "not sorted: {:?}", suggestions);
        }
        let mut seen: Vec<&str> = suggestions.iter().map(|s| s.text.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        prop_assert_eq!(seen.len(), suggestions.len(), "duplicates");
    }

    #[test]
    fn any_text_is_answered_without_panic(context in "\\PC{0,40}", word in "\\PC{0,20}") {
        let engine = engine();
        let suggestions = engine.suggest("en", &context, &word, 3).unwrap();
        prop_assert!(suggestions.len() <= 3);
    }
}
