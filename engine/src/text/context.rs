//! Reading the text before the cursor: the previous word and whether the
//! next word starts a sentence.

/// Characters that end a sentence.
fn ends_sentence(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | '…' | '¿' | '¡' | '\n')
}

/// Whether `c` belongs inside a word (letters, marks, apostrophes, hyphens).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || crate::text::fold::is_apostrophe(c) || c == '-' || is_mark(c)
}

fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// Splits a whitespace-free token into the punctuation before its word,
/// the word, and the punctuation after it: `"(hello),"` gives `("(",
/// "hello", "),")`.
pub fn split_token(token: &str) -> (&str, &str, &str) {
    let start = token.find(is_word_char).unwrap_or(token.len());
    let end = token.rfind(is_word_char).map_or(start, |i| {
        i + token[i..].chars().next().map_or(0, char::len_utf8)
    });
    (&token[..start], &token[start..end], &token[end..])
}

/// Whether a word typed after `context` in lower case is surely the first
/// of a sentence, to be written with a capital: at the start of the text
/// or of a line, or after a full stop or question mark, with any opening
/// quotes, brackets and inverted marks between. Not after an exclamation
/// mark, which often closes an interjection inside a sentence ("Ah ! mon
/// Dieu", "oh! sorry"), nor after an ellipsis, a pause ("Persons... have").
pub fn begins_sentence(context: &str) -> bool {
    let before = context.trim_end_matches(|c: char| {
        (c.is_whitespace() && c != '\n') || matches!(c, '"' | '“' | '«' | '(' | '¿' | '¡')
    });
    match before.chars().next_back() {
        None | Some('\n' | '?') => true,
        Some('.') => !before.ends_with(".."),
        _ => false,
    }
}

/// What the engine needs to know about the text before the current word.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContextInfo<'a> {
    /// The word right before the current one, if the sentence has one.
    pub previous_word: Option<&'a str>,
    /// Whether the current word is the first of a sentence.
    pub sentence_start: bool,
}

/// Analyses `context`, the text before the current word.
pub fn analyse(context: &str) -> ContextInfo<'_> {
    let trimmed = context.trim_end_matches(|c: char| c.is_whitespace() && c != '\n');
    let Some(last) = trimmed.chars().next_back() else {
        return ContextInfo {
            previous_word: None,
            sentence_start: true,
        };
    };
    if ends_sentence(last) {
        return ContextInfo {
            previous_word: None,
            sentence_start: true,
        };
    }
    if !is_word_char(last) {
        return ContextInfo {
            previous_word: None,
            sentence_start: false,
        };
    }
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c))
        .last()
        .map_or(0, |(i, _)| i);
    let word = &trimmed[start..];
    let previous_word = word.chars().any(char::is_alphabetic).then_some(word);
    ContextInfo {
        previous_word,
        sentence_start: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_previous_word_and_sentence_start() {
        assert_eq!(
            analyse(""),
            ContextInfo {
                previous_word: None,
                sentence_start: true
            }
        );
        assert_eq!(
            analyse("Hello. "),
            ContextInfo {
                previous_word: None,
                sentence_start: true
            }
        );
        assert_eq!(
            analyse("I would like to "),
            ContextInfo {
                previous_word: Some("to"),
                sentence_start: false
            }
        );
        assert_eq!(
            analyse("say, "),
            ContextInfo {
                previous_word: None,
                sentence_start: false
            }
        );
        assert_eq!(
            analyse("l'été "),
            ContextInfo {
                previous_word: Some("l'été"),
                sentence_start: false
            }
        );
        assert!(analyse("line\n").sentence_start);
        assert_eq!(analyse("in 1999 ").previous_word, None);
    }

    #[test]
    fn a_sentence_surely_begins_after_a_full_stop_or_question_mark() {
        for context in [
            "",
            "Hello. ",
            "Why? ",
            "line\n",
            "He said. \"",
            "Hola. ¿",
            "Fin.  ",
        ] {
            assert!(begins_sentence(context), "{context:?}");
        }
        for context in ["Ah ! ", "Wait... ", "Well… ", "I would ", "a, ", "Oye, ¿"] {
            assert!(!begins_sentence(context), "{context:?}");
        }
    }
}
