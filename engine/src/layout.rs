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

    /// The index of the key a tap at `(x, y)` lands on.
    ///
    /// This is plain geometry, a stand-in until the spatial touch model
    /// turns each tap into a distribution over nearby keys: the key whose
    /// rectangle contains the point; else, for a tap in a gap or just off
    /// the edge, the key whose rectangle is nearest, if it is within
    /// [`NEAR_KEY`] (one letter-key width). The distance is measured to the
    /// rectangle, not the centre, because keys differ in size: a tap just
    /// below the end of the space bar is nearer the space bar's centre line
    /// than the centre of any other key, but not nearer its centre point.
    ///
    /// A NaN or infinite coordinate, or a point farther than [`NEAR_KEY`]
    /// from every key, is [`Error::InvalidInput`].
    pub fn key_index_at(&self, x: f32, y: f32) -> Result<usize> {
        if !(x.is_finite() && y.is_finite()) {
            return Err(Error::InvalidInput {
                detail: format!("tap coordinates must be finite, got ({x}, {y})"),
            });
        }
        let mut best: Option<(f32, f32, usize)> = None;
        for (i, key) in self.keys.iter().enumerate() {
            let (l, r, t, b) = key.bounds();
            let dx = (l - x).max(x - r).max(0.0);
            let dy = (t - y).max(y - b).max(0.0);
            let edge = dx.hypot(dy);
            if edge == 0.0 {
                return Ok(i);
            }
            let centre = (key.x - x).hypot(key.y - y);
            if best.is_none_or(|(e, c, _)| (edge, centre) < (e, c)) {
                best = Some((edge, centre, i));
            }
        }
        match best {
            Some((edge, _, i)) if edge <= NEAR_KEY => Ok(i),
            _ => Err(Error::InvalidInput {
                detail: format!(
                    "tap at ({x}, {y}) is not on or near a key of {:?} ({} x {} key widths)",
                    self.name, self.width, self.height
                ),
            }),
        }
    }

    /// The letter key nearest to `(x, y)` and the distance from the point
    /// to its edge (0 inside it), in key widths.
    pub fn nearest_letter(&self, x: f32, y: f32) -> Option<(usize, f32)> {
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, key)| key.kind == KeyKind::Letter)
            .map(|(i, key)| {
                let (l, r, t, b) = key.bounds();
                let dx = (l - x).max(x - r).max(0.0);
                let dy = (t - y).max(y - b).max(0.0);
                (i, dx.hypot(dy))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The key a tap at `(x, y)` lands on; see [`Layout::key_index_at`].
    pub fn key_at(&self, x: f32, y: f32) -> Result<&Key> {
        let i = self.key_index_at(x, y)?;
        self.keys.get(i).ok_or_else(|| Error::InvalidInput {
            detail: format!("no key {i}"),
        })
    }
}

/// How far (in key widths) a tap may land from a key and still count as
/// that key: one letter-key width.
pub const NEAR_KEY: f32 = 1.0;

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
    fn taps_resolve_to_the_key_under_or_nearest() {
        let mut space = key(" ", 3.0);
        space.kind = KeyKind::Space;
        space.y = 2.5;
        space.width = 4.0;
        let layout = Layout {
            name: "t".into(),
            language: "en".into(),
            width: 5.0,
            height: 3.0,
            keys: vec![key("a", 0.5), key("b", 1.5), key("c", 4.5), space],
        };
        layout.validate().unwrap();
        let at = |x, y| layout.key_at(x, y).map(|k| k.output.as_str());
        assert_eq!(at(0.1, 0.1).unwrap(), "a");
        assert_eq!(at(1.5, 0.5).unwrap(), "b");
        // In the gap between b (ends at 2.0) and c (starts at 4.0): nearer b.
        assert_eq!(at(2.9, 0.5).unwrap(), "b");
        assert_eq!(at(3.1, 0.5).unwrap(), "c");
        // Below the keyboard, under the end of the space bar: the edge
        // counts, not the centre.
        assert_eq!(at(1.2, 3.5).unwrap(), " ");
        // Just off the left edge, then too far.
        assert_eq!(at(-0.9, 0.5).unwrap(), "a");
        for (x, y) in [(-1.1, 0.5), (2.5, 4.5), (100.0, 100.0), (-3e38, 0.0)] {
            let err = layout.key_at(x, y).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
            assert!(err.to_string().contains("not on or near a key"), "{err}");
        }
        for (x, y) in [
            (f32::NAN, 0.5),
            (0.5, f32::INFINITY),
            (f32::NEG_INFINITY, f32::NAN),
        ] {
            let err = layout.key_at(x, y).unwrap_err();
            assert!(err.to_string().contains("must be finite"), "{err}");
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
