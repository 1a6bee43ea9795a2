//! Keyboard layouts: the keys of a phone keyboard and their geometry.
//!
//! Units are key widths: a letter key is 1.0 wide and 1.0 high, x grows to
//! the right and y downward, and each key is given by its centre. The touch
//! model places taps in these units, so a layout is all it needs to know
//! about a keyboard. Layout sources are TOML files under
//! `languages/layouts/`; packs store them as JSON.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Types a letter.
    Letter,
    /// Types a punctuation character.
    Punctuation,
    /// Shift.
    Shift,
    /// Deletes the grapheme before the cursor.
    Backspace,
    /// The space bar.
    Space,
    /// Enter or return.
    Enter,
    /// Switches to the symbols page.
    Symbols,
}

/// One key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// What the key does.
    pub kind: KeyKind,
    /// The text it types (lower case for letters; empty for function keys).
    pub output: String,
    /// Centre, x.
    pub x: f32,
    /// Centre, y.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
    /// Long-press alternates, most common first.
    #[serde(default)]
    pub alternates: Vec<String>,
}

/// A keyboard layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Human-readable name, e.g. "German (QWERTZ)".
    pub name: String,
    /// Language tag, e.g. "de".
    pub language: String,
    /// Width of the keyboard.
    pub width: f32,
    /// Height of the keyboard.
    pub height: f32,
    /// The keys.
    pub keys: Vec<Key>,
}

impl Layout {
    /// Checks that the geometry is finite, inside the keyboard and without
    /// overlapping keys.
    pub fn validate(&self) -> Result<()> {
        let fail = |detail: String| {
            Err(Error::Layout {
                name: self.name.clone(),
                detail,
            })
        };
        if !(self.width.is_finite() && self.height.is_finite())
            || self.width <= 0.0
            || self.height <= 0.0
        {
            return fail(format!(
                "bad keyboard size {} x {}",
                self.width, self.height
            ));
        }
        if self.keys.is_empty() {
            return fail("no keys".into());
        }
        const EPS: f32 = 1e-3;
        for (i, key) in self.keys.iter().enumerate() {
            let nums = [key.x, key.y, key.width, key.height];
            if nums.iter().any(|n| !n.is_finite()) || key.width <= 0.0 || key.height <= 0.0 {
                return fail(format!("key {i} ({:?}) has bad geometry", key.output));
            }
            let (l, r, t, b) = key.bounds();
            if l < -EPS || t < -EPS || r > self.width + EPS || b > self.height + EPS {
                return fail(format!(
                    "key {i} ({:?}) lies outside the keyboard",
                    key.output
                ));
            }
            if key.kind == KeyKind::Letter && key.output.chars().count() != 1 {
                return fail(format!(
                    "letter key {i} types {:?}, not one letter",
                    key.output
                ));
            }
            for other in &self.keys[..i] {
                let (ol, or, ot, ob) = other.bounds();
                if l < or - EPS && ol < r - EPS && t < ob - EPS && ot < b - EPS {
                    return fail(format!(
                        "keys {:?} and {:?} overlap",
                        other.output, key.output
                    ));
                }
            }
        }
        Ok(())
    }

    /// The letter keys.
    pub fn letters(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter().filter(|k| k.kind == KeyKind::Letter)
    }
}

impl Key {
    /// Left, right, top and bottom edges.
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        let (hw, hh) = (self.width / 2.0, self.height / 2.0);
        (self.x - hw, self.x + hw, self.y - hh, self.y + hh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(output: &str, x: f32) -> Key {
        Key {
            kind: KeyKind::Letter,
            output: output.into(),
            x,
            y: 0.5,
            width: 1.0,
            height: 1.0,
            alternates: vec![],
        }
    }

    #[test]
    fn validates_geometry() {
        let mut layout = Layout {
            name: "t".into(),
            language: "en".into(),
            width: 2.0,
            height: 1.0,
            keys: vec![key("a", 0.5), key("b", 1.5)],
        };
        assert!(layout.validate().is_ok());
        layout.keys[1].x = 1.2;
        assert!(
            layout
                .validate()
                .unwrap_err()
                .to_string()
                .contains("overlap")
        );
        layout.keys[1].x = f32::NAN;
        assert!(
            layout
                .validate()
                .unwrap_err()
                .to_string()
                .contains("bad geometry")
        );
        layout.keys[1].x = 2.0;
        assert!(
            layout
                .validate()
                .unwrap_err()
                .to_string()
                .contains("outside")
        );
    }
}
