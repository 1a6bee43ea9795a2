//! Cleaning word lists: what counts as a word worth suggesting.

use unicode_normalization::UnicodeNormalization;

use crate::recipe::{Recipe, Script};

/// Longest word kept, in characters.
pub const MAX_WORD_CHARS: usize = 32;

fn in_script(c: char, script: Script) -> bool {
    match script {
        Script::Latin => {
            c.is_ascii_lowercase()
                || c.is_ascii_uppercase()
                || (('\u{00C0}'..='\u{024F}').contains(&c) && c != '×' && c != '÷')
        }
        Script::Cyrillic => ('\u{0400}'..='\u{04FF}').contains(&c),
    }
}

/// The cleaned form of `word` (NFC, typographic apostrophes made plain), or
/// `None` if it is not a word: digits, URLs, stray punctuation, another
/// script, a lone letter that is not a word, or too long.
pub fn clean_word(word: &str, recipe: &Recipe) -> Option<String> {
    let word: String = word
        .nfc()
        .map(|c| if c == '’' { '\'' } else { c })
        .collect();
    let chars: Vec<char> = word.chars().collect();
    if chars.is_empty() || chars.len() > MAX_WORD_CHARS {
        return None;
    }
    let joiner = |c: char| c == '\'' || c == '-';
    let first_last_ok = !joiner(chars[0]) && !joiner(chars[chars.len() - 1]);
    let doubled = chars.windows(2).any(|w| joiner(w[0]) && joiner(w[1]));
    let letters_ok = chars
        .iter()
        .all(|&c| in_script(c, recipe.script) || joiner(c));
    if !first_last_ok || doubled || !letters_ok {
        return None;
    }
    if chars.len() == 1
        && !recipe
            .one_letter_words
            .contains(&word.to_lowercase().as_str())
    {
        return None;
    }
    Some(word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipe::recipe;

    #[test]
    fn keeps_words_and_drops_noise() {
        let en = recipe("en").unwrap();
        let ru = recipe("ru").unwrap();
        assert_eq!(clean_word("don’t", en).as_deref(), Some("don't"));
        assert_eq!(clean_word("café", en).as_deref(), Some("café"));
        assert_eq!(clean_word("well-known", en).as_deref(), Some("well-known"));
        for noise in [
            "www.example.com",
            "1999",
            "b2b",
            "'tis",
            "x",
            "--",
            "a--b",
            "дом",
            "e-mail-",
        ] {
            assert_eq!(clean_word(noise, en), None, "{noise}");
        }
        assert_eq!(clean_word("дом", ru).as_deref(), Some("дом"));
        assert_eq!(clean_word("home", ru), None);
        assert_eq!(clean_word(&"a".repeat(40), en), None);
    }
}
