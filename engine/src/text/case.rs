//! Case: carrying what the user typed and where they are onto a candidate.
//!
//! The lexicon stores each word in its proper case ("Paris", "Haus", "I",
//! "the"). What is shown depends on two more things: the case the user typed
//! ("HEL" means they want "HELLO", "Th" means "The") and the position (the
//! first word of a sentence starts with a capital).

/// How the user typed the current word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypedCase {
    /// Nothing typed, or lower case: the lexicon's case stands.
    Natural,
    /// The first letter is a capital: capitalise the candidate.
    Capitalised,
    /// At least two letters, all capitals: upper-case the candidate.
    Upper,
}

impl TypedCase {
    /// Classifies the typed letters.
    pub fn of(typed: &str) -> Self {
        let mut letters = typed.chars().filter(|c| c.is_alphabetic());
        let Some(first) = letters.next() else {
            return TypedCase::Natural;
        };
        if !first.is_uppercase() {
            return TypedCase::Natural;
        }
        let mut rest = letters.peekable();
        if rest.peek().is_some() && rest.all(char::is_uppercase) {
            TypedCase::Upper
        } else {
            TypedCase::Capitalised
        }
    }
}

/// Applies the typed case and the sentence position to a lexicon surface form.
pub fn apply_case(surface: &str, typed: TypedCase, sentence_start: bool) -> String {
    match typed {
        TypedCase::Upper => surface.to_uppercase(),
        TypedCase::Capitalised => capitalise(surface),
        TypedCase::Natural if sentence_start => capitalise(surface),
        TypedCase::Natural => surface.to_owned(),
    }
}

/// Upper-cases the first letter, keeping the rest as it is.
pub fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_typed_case() {
        assert_eq!(TypedCase::of(""), TypedCase::Natural);
        assert_eq!(TypedCase::of("hel"), TypedCase::Natural);
        assert_eq!(TypedCase::of("H"), TypedCase::Capitalised);
        assert_eq!(TypedCase::of("Hel"), TypedCase::Capitalised);
        assert_eq!(TypedCase::of("HEL"), TypedCase::Upper);
        assert_eq!(TypedCase::of("DON'"), TypedCase::Upper);
    }

    #[test]
    fn applies_case() {
        assert_eq!(apply_case("hello", TypedCase::Upper, false), "HELLO");
        assert_eq!(apply_case("the", TypedCase::Natural, true), "The");
        assert_eq!(apply_case("Paris", TypedCase::Natural, false), "Paris");
        assert_eq!(apply_case("über", TypedCase::Capitalised, false), "Über");
        assert_eq!(apply_case("straße", TypedCase::Upper, false), "STRASSE");
    }
}
