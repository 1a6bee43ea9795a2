//! The model's output classes (`charset.txt`) and label normalisation.
//!
//! One class per line: line 0 is the CTC blank `<blank>`, `<space>` is the
//! space, every other line is one character (NFC). Labels are normalised
//! the way training normalised them (typographic quotes and dashes to
//! ASCII, `…` to `...`, runs of spaces to one), so that error rates compare
//! like with like.

use std::path::Path;

use unicode_normalization::UnicodeNormalization;

use crate::error::{Error, Result};

/// The class index of the CTC blank.
pub const BLANK: usize = 0;

/// The output alphabet of a stroke model.
#[derive(Debug, Clone, PartialEq)]
pub struct Charset {
    /// Character of each class; the blank's slot holds `'\0'`.
    chars: Vec<char>,
}

impl Charset {
    /// Parses `charset.txt`; `path` is only used in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let fail = |line: usize, detail: String| Error::Parse {
            path: path.to_path_buf(),
            format: "charset",
            line,
            detail,
        };
        let mut chars = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            let c = match line {
                "<blank>" if chars.is_empty() => '\0',
                "<blank>" => return Err(fail(i + 1, "blank not on the first line".into())),
                "<space>" => ' ',
                _ => {
                    let mut it = line.chars();
                    match (it.next(), it.next()) {
                        (Some(c), None) => c,
                        _ => return Err(fail(i + 1, format!("{line:?} is not one character"))),
                    }
                }
            };
            if chars.is_empty() && c != '\0' {
                return Err(fail(i + 1, "the first class must be <blank>".into()));
            }
            chars.push(c);
        }
        if chars.len() < 2 {
            return Err(fail(0, "fewer than two classes".into()));
        }
        Ok(Self { chars })
    }

    /// Reads a charset file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Number of classes, blank included.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether there is no class (never true for a parsed charset).
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The character of class `i` (`None` for the blank or out of range).
    pub fn char(&self, i: usize) -> Option<char> {
        if i == BLANK {
            return None;
        }
        self.chars.get(i).copied()
    }

    /// The class of `c`.
    pub fn index(&self, c: char) -> Option<usize> {
        self.chars
            .iter()
            .skip(1)
            .position(|&x| x == c)
            .map(|i| i + 1)
    }

    /// The classes of a normalised label, or `None` if a character has no
    /// class.
    pub fn encode(&self, text: &str) -> Option<Vec<usize>> {
        text.chars().map(|c| self.index(c)).collect()
    }

    /// The text of class ids (blanks skipped).
    pub fn decode(&self, ids: &[usize]) -> String {
        ids.iter().filter_map(|&i| self.char(i)).collect()
    }
}

/// A label as training saw it: NFC, typographic quotes and dashes as ASCII,
/// `…` as `...`, tabs and no-break spaces as spaces, runs of spaces as one,
/// trimmed.
pub fn normalise_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfc() {
        let mapped = match c {
            '\u{201C}' | '\u{201D}' | '\u{201E}' => "\"",
            '\u{2018}' | '\u{2019}' | '\u{201A}' => "'",
            '\u{2013}' | '\u{2014}' | '\u{2212}' => "-",
            '\t' | '\u{00A0}' => " ",
            '\u{2026}' => "...",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(mapped);
    }
    let mut squeezed = String::with_capacity(out.len());
    for c in out.chars() {
        if c == ' ' && squeezed.ends_with(' ') {
            continue;
        }
        squeezed.push(c);
    }
    squeezed.trim_matches(' ').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn reads_the_released_charset() {
        let charset = Charset::parse(
            include_str!("../train/charset.txt"),
            Path::new("charset.txt"),
        )
        .unwrap();
        assert_eq!(charset.len(), 224);
        assert_eq!(charset.char(1), Some(' '));
        assert_eq!(charset.char(BLANK), None);
        let ids = charset.encode("Straße, ёж").unwrap();
        assert_eq!(charset.decode(&ids), "Straße, ёж");
    }

    #[test]
    fn rejects_malformed_charsets() {
        let p = Path::new("c.txt");
        assert!(Charset::parse("a\nb\n", p).is_err());
        assert!(Charset::parse("<blank>\nab\n", p).is_err());
        assert!(Charset::parse("<blank>\n", p).is_err());
    }

    #[test]
    fn normalises_labels_as_training_did() {
        assert_eq!(
            normalise_label("  \u{201C}don\u{2019}t\u{201D}\u{2026}  a  b "),
            "\"don't\"... a b"
        );
        assert_eq!(normalise_label("e\u{301}"), "é");
    }
}
