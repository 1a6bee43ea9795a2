//! A session: the state of one text field.
//!
//! The session mirrors the text before the cursor as the host reports it
//! through events: letters typed, backspace, a picked suggestion, a cursor
//! move. It keeps the current word apart from the committed context, so that
//! asking for suggestions costs no parsing of the whole field.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::engine::Engine;
use crate::suggest::Suggestion;
use crate::text::context::is_word_char;

/// Context kept before the current word, in bytes: enough for the previous
/// words; older text does not change the prediction.
const CONTEXT_LIMIT: usize = 256;
/// The current word is not grown past this many bytes. A host that keeps
/// typing without a separator is not typing a word; [`Session::set_context`]
/// resynchronises.
const WORD_LIMIT: usize = 1024;

/// The state of one text field.
#[derive(Debug, Clone)]
pub struct Session {
    engine: Engine,
    language: String,
    context: String,
    word: String,
}

impl Session {
    pub(crate) fn new(engine: Engine, language: String) -> Self {
        Self {
            engine,
            language,
            context: String::new(),
            word: String::new(),
        }
    }

    /// The session's language.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// The word being typed.
    pub fn current_word(&self) -> &str {
        &self.word
    }

    /// The (trimmed) text before the current word.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Types `text`: letters extend the current word; anything else
    /// (space, punctuation) commits it. Control characters are ignored.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            if is_word_char(c) {
                if self.word.len() + c.len_utf8() <= WORD_LIMIT {
                    self.word.push(c);
                }
            } else if !c.is_control() || c == '\n' {
                self.commit_word();
                self.push_context(c);
            }
        }
    }

    /// Deletes the grapheme before the cursor.
    pub fn backspace(&mut self) {
        let target = if self.word.is_empty() {
            &mut self.context
        } else {
            &mut self.word
        };
        if let Some((at, _)) = target.grapheme_indices(true).next_back() {
            target.truncate(at);
        }
        if self.word.is_empty() {
            // Deleting into a word of the context makes it current again.
            let start = word_start(&self.context);
            self.word = self.context.split_off(start);
        }
    }

    /// Replaces the current word with `text` (a picked suggestion) followed by
    /// a space.
    pub fn pick(&mut self, text: &str) {
        self.word.clear();
        for c in text.chars().filter(|c| !c.is_control()) {
            self.push_context(c);
        }
        self.push_context(' ');
    }

    /// Resets the field: `before_cursor` is the text before the cursor.
    pub fn set_context(&mut self, before_cursor: &str) {
        let keep = trim_start_to(before_cursor, CONTEXT_LIMIT + WORD_LIMIT);
        let start = word_start(keep);
        self.context = keep[..start].to_owned();
        self.word = keep[start..].chars().take(WORD_LIMIT).collect();
        self.trim_context();
    }

    /// The top `k` suggestions for the current word.
    pub fn suggestions(&self, k: usize) -> Vec<Suggestion> {
        self.engine
            .suggest(&self.language, &self.context, &self.word, k)
            .unwrap_or_default()
    }

    fn commit_word(&mut self) {
        if !self.word.is_empty() {
            let word: String = self.word.nfc().collect();
            self.context.push_str(&word);
            self.word.clear();
        }
    }

    fn push_context(&mut self, c: char) {
        self.context.push(c);
        self.trim_context();
    }

    fn trim_context(&mut self) {
        if self.context.len() > 2 * CONTEXT_LIMIT {
            let keep = trim_start_to(&self.context, CONTEXT_LIMIT).len();
            self.context.drain(..self.context.len() - keep);
        }
    }
}

/// The last at most `limit` bytes of `text`, cut at a character boundary.
fn trim_start_to(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Where the trailing word of `text` starts.
fn word_start(text: &str) -> usize {
    text.char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c))
        .last()
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_start_and_trim() {
        assert_eq!(word_start("hello wor"), 6);
        assert_eq!(word_start("hello "), 6);
        assert_eq!(word_start(""), 0);
        assert_eq!(trim_start_to("ééé", 3), "é");
    }
}
