//! The spatial touch model: how likely each key is, given where a tap
//! landed.
//!
//! Each letter key is a 2-D Gaussian centred on the key (shifted by the
//! user's learned offset for it) with standard deviations proportional to
//! the key's width and height: the configured spread, or less for a user
//! whose taps have been seen to land closer to the centres (the learned
//! spread times [`SPREAD_TO_SIGMA`], at least [`MIN_SIGMA`]), so that a
//! careful typist's words are not read as someone else's typos. A tap's
//! posterior over the keys is the normalised likelihood (keys equally likely a priori); keys with a
//! posterior below [`MIN_POSTERIOR`] are dropped, so a tap costs a handful
//! of keys, not the whole keyboard. A tap near an edge of the keyboard is
//! simply closest to the edge keys: their Gaussians dominate, which is what
//! a finger that slipped off the edge meant.
//!
//! Keys map to folded characters ([`crate::fold`]), so the accented and
//! upper-case forms of a letter are reached through its key: the lexicon is
//! searched on folded keys.

use std::sync::RwLock;

use crate::layout::{Key, KeyKind, Layout};
use crate::text::fold::fold;

/// Keys less likely than this for a tap are not considered.
pub const MIN_POSTERIOR: f32 = 1e-3;

/// At most this many keys per tap.
pub const MAX_KEYS_PER_TAP: usize = 6;

/// The furthest a learned offset may move a key centre, in key widths.
pub const MAX_OFFSET: f32 = 0.5;

/// How many observations a key's learned offset remembers: older ones decay
/// with weight `1 − 1/MEMORY` per new one.
pub const MEMORY: f32 = 50.0;

/// Observations of a key before its offset is used.
pub const MIN_OBSERVATIONS: f32 = 5.0;

/// How many taps the learned spread remembers (decaying as the offsets do).
pub const SPREAD_MEMORY: f32 = 200.0;

/// Taps of accepted words before the learned spread is used.
pub const MIN_SPREAD_TAPS: u32 = 50;

/// The model's standard deviation for a user whose taps spread `s` key
/// widths around the (offset) centres: `SPREAD_TO_SIGMA · s`, between
/// [`MIN_SIGMA`] and the configured one. Chosen on the validation logs
/// (ARCHITECTURE.md): the configured 0.45 reads sigma-0.3 and -0.4 typists
/// best, 0.3 sigma-0.2 typists.
pub const SPREAD_TO_SIGMA: f32 = 1.5;

/// The least standard deviation the learned spread may bring the model to.
pub const MIN_SIGMA: f32 = 0.3;

/// One letter key as the model sees it.
#[derive(Debug, Clone, PartialEq)]
struct SpatialKey {
    /// The folded character the key types.
    character: char,
    /// Index of the key in the layout.
    index: usize,
    x: f32,
    y: f32,
    sigma_x: f32,
    sigma_y: f32,
}

/// A key's likelihood for one tap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyChance {
    /// The folded character of the key.
    pub character: char,
    /// The key's index in the layout.
    pub key: usize,
    /// Natural log of the posterior probability of the key.
    pub log_p: f32,
}

/// The touch model of one layout.
#[derive(Debug)]
pub struct SpatialModel {
    keys: Vec<SpatialKey>,
    /// The space bar: centre, half-width beyond one key, sigmas.
    space: Option<SpatialKey>,
    /// The shift key, a key like the letters.
    shift: Option<SpatialKey>,
    /// Standard deviation of a tap, in key widths (and heights).
    sigma: f32,
    offsets: KeyOffsets,
}

impl SpatialModel {
    /// The model of `layout`'s letter keys, with standard deviations of
    /// `sigma` key widths (and heights).
    pub fn new(layout: &Layout, sigma: f32) -> Self {
        let sigma = if sigma.is_finite() && sigma > 0.05 {
            sigma
        } else {
            0.05
        };
        let keys: Vec<SpatialKey> = layout
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.kind == KeyKind::Letter)
            .filter_map(|(index, k)| {
                let folded = fold(&k.output);
                let mut chars = folded.chars();
                let character = chars.next()?;
                // A key that folds to several characters is not one letter.
                if chars.next().is_some() {
                    return None;
                }
                Some(SpatialKey {
                    character,
                    index,
                    x: k.x,
                    y: k.y,
                    sigma_x: sigma * k.width,
                    sigma_y: sigma * k.height,
                })
            })
            .collect();
        // The first key of `kind`, its horizontal sigma from its width.
        let key_of = |kind: KeyKind, character: char, sigma_x: &dyn Fn(f32) -> f32| {
            let (index, k) = layout
                .keys
                .iter()
                .enumerate()
                .find(|(_, k)| k.kind == kind)?;
            Some(SpatialKey {
                character,
                index,
                x: k.x,
                y: k.y,
                sigma_x: sigma_x(k.width),
                sigma_y: sigma * k.height,
            })
        };
        // Along the bar, the distance counts from its end zones.
        let space = key_of(KeyKind::Space, ' ', &|width| (width - 1.0).max(0.0) / 2.0);
        let shift = key_of(KeyKind::Shift, '\u{21e7}', &|width| sigma * width);
        Self {
            offsets: KeyOffsets::new(layout.keys.len()),
            keys,
            space,
            shift,
            sigma,
        }
    }

    /// Natural log of the probability that a tap at `(x, y)` was meant for
    /// the space bar rather than a letter (`-inf` without a space bar).
    pub fn space_log_p(&self, x: f32, y: f32) -> f32 {
        self.non_letter_log_p(x, y, false)
    }

    /// Natural log of the probability that a tap at `(x, y)` was meant for
    /// the space bar or shift rather than a letter: a tap that typed a
    /// letter at the start of a word may have been either.
    pub fn space_or_shift_log_p(&self, x: f32, y: f32) -> f32 {
        self.non_letter_log_p(x, y, true)
    }

    /// Natural log of the probability that a tap at `(x, y)` was meant for
    /// `key`, a key of the layout that types no letter (punctuation, enter;
    /// the space bar as [`space_log_p`](Self::space_log_p)), rather than
    /// for a letter.
    pub fn key_log_p(&self, x: f32, y: f32, key: &Key) -> f32 {
        match key.kind {
            KeyKind::Space => self.space_log_p(x, y),
            KeyKind::Letter => f32::NEG_INFINITY,
            _ => {
                let other = SpatialKey {
                    character: '\0',
                    index: 0,
                    x: key.x,
                    y: key.y,
                    sigma_x: self.sigma * key.width,
                    sigma_y: self.sigma * key.height,
                };
                let scale = self.sigma_scale();
                let Some(other) = gaussian_log_p(x, y, &other, scale) else {
                    return f32::NEG_INFINITY;
                };
                self.share_of(x, y, &[other], scale)
            }
        }
    }

    fn non_letter_log_p(&self, x: f32, y: f32, with_shift: bool) -> f32 {
        if !(x.is_finite() && y.is_finite()) {
            return f32::NEG_INFINITY;
        }
        let scale = self.sigma_scale();
        let unit = self.keys.first().map_or(0.4, |k| k.sigma_x.max(0.05)) * scale;
        let space = self.space.as_ref().map(|space| {
            // Along the bar, the distance counts from its end zones.
            let dx = ((x - space.x).abs() - space.sigma_x).max(0.0) / unit;
            let sigma_y = space.sigma_y * scale;
            let dy = (y - space.y) / sigma_y;
            -0.5 * (dx * dx + dy * dy) - (unit * sigma_y).ln()
        });
        let shift = self
            .shift
            .as_ref()
            .filter(|_| with_shift)
            .and_then(|k| gaussian_log_p(x, y, k, scale));
        let others: Vec<f32> = space.into_iter().chain(shift).collect();
        self.share_of(x, y, &others, scale)
    }

    /// Natural log of the share of `others` (log-likelihoods of keys that
    /// type no letter) in the likelihood of a tap at `(x, y)`, the letters
    /// included (`-inf` without others or for a non-finite point); `scale`
    /// is [`sigma_scale`](Self::sigma_scale)'s, already applied to `others`.
    fn share_of(&self, x: f32, y: f32, others: &[f32], scale: f32) -> f32 {
        if others.is_empty() || !(x.is_finite() && y.is_finite()) {
            return f32::NEG_INFINITY;
        }
        let letters: Vec<f32> = self
            .keys
            .iter()
            .filter_map(|k| gaussian_log_p(x, y, k, scale))
            .collect();
        let best = letters
            .iter()
            .chain(others)
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        let mass = |logs: &[f32]| logs.iter().map(|l| (l - best).exp()).sum::<f32>();
        let (other, all) = (mass(others), mass(&letters) + mass(others));
        other.ln() - all.ln()
    }

    /// The user's learned touch offsets.
    pub fn offsets(&self) -> &KeyOffsets {
        &self.offsets
    }

    /// Learns from a tap at `(x, y)` meant for the letter key `index` (of
    /// an accepted word): the key's offset and the user's spread.
    pub fn learn(&self, index: usize, x: f32, y: f32) {
        if let Some(k) = self.keys.iter().find(|k| k.index == index) {
            let size = (k.sigma_x / self.sigma, k.sigma_y / self.sigma);
            self.offsets.learn(index, (k.x, k.y), size, x, y);
        }
    }

    /// The standard deviation the model uses now, in key widths: the
    /// configured one, or less once the user's taps have shown a smaller
    /// spread (see the module documentation).
    pub fn sigma(&self) -> f32 {
        self.sigma * self.sigma_scale()
    }

    /// The factor the learned spread applies to the configured sigma.
    fn sigma_scale(&self) -> f32 {
        self.scale_for(self.offsets.spread())
    }

    /// The factor a learned `spread` (if any yet) applies to the configured
    /// sigma.
    fn scale_for(&self, spread: Option<f32>) -> f32 {
        match spread {
            Some(spread) => {
                let floor = MIN_SIGMA.min(self.sigma);
                (SPREAD_TO_SIGMA * spread).clamp(floor, self.sigma) / self.sigma
            }
            None => 1.0,
        }
    }

    /// The likeliest keys for a tap at `(x, y)`, best first (at most
    /// [`MAX_KEYS_PER_TAP`], each at least [`MIN_POSTERIOR`]). Empty for a
    /// non-finite point or a layout without letters.
    pub fn keys_for(&self, x: f32, y: f32) -> Vec<KeyChance> {
        if !(x.is_finite() && y.is_finite()) || self.keys.is_empty() {
            return Vec::new();
        }
        // One read of what was learned per tap.
        let (offsets, spread) = self.offsets.snapshot_and_spread();
        let scale = self.scale_for(spread);
        let mut chances: Vec<KeyChance> = self
            .keys
            .iter()
            .map(|k| {
                let (ox, oy) = offsets.get(k.index).copied().unwrap_or((0.0, 0.0));
                let dx = (x - k.x - ox) / (k.sigma_x * scale);
                let dy = (y - k.y - oy) / (k.sigma_y * scale);
                KeyChance {
                    character: k.character,
                    key: k.index,
                    log_p: -0.5 * (dx * dx + dy * dy) - (k.sigma_x * k.sigma_y).ln(),
                }
            })
            .collect();
        let best = chances.iter().map(|c| c.log_p).fold(f32::MIN, f32::max);
        let total: f32 = chances.iter().map(|c| (c.log_p - best).exp()).sum();
        let norm = best + total.ln();
        for c in &mut chances {
            c.log_p -= norm;
        }
        chances.sort_by(|a, b| b.log_p.total_cmp(&a.log_p));
        let floor = MIN_POSTERIOR.ln();
        chances.retain(|c| c.log_p >= floor);
        chances.truncate(MAX_KEYS_PER_TAP);
        chances
    }

    /// The key index of the letter key typing the folded `character`.
    pub fn key_of(&self, character: char) -> Option<usize> {
        self.keys
            .iter()
            .find(|k| k.character == character)
            .map(|k| k.index)
    }

    /// The centre of the layout key `index`, if it is a letter key here.
    pub fn centre(&self, index: usize) -> Option<(f32, f32)> {
        self.keys
            .iter()
            .find(|k| k.index == index)
            .map(|k| (k.x, k.y))
    }
}

/// Per-key mean touch offsets learned from accepted words: an exponentially
/// decaying mean (memory [`MEMORY`] observations), used once a key has
/// [`MIN_OBSERVATIONS`], bounded by [`MAX_OFFSET`]; and the user's spread
/// around them (memory [`SPREAD_MEMORY`] taps, used after
/// [`MIN_SPREAD_TAPS`]). Shared by the sessions of one engine; learning and
/// reading may happen on different threads.
#[derive(Debug)]
pub struct KeyOffsets {
    state: RwLock<Learned>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Learned {
    keys: Vec<KeyOffset>,
    /// Decaying mean of the squared distance, per axis, of a tap from its
    /// key's offset centre, in key sizes.
    spread_squared: f32,
    /// Taps in that mean.
    spread_taps: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct KeyOffset {
    dx: f32,
    dy: f32,
    weight: f32,
}

impl KeyOffsets {
    fn new(keys: usize) -> Self {
        Self {
            state: RwLock::new(Learned {
                keys: vec![KeyOffset::default(); keys],
                ..Learned::default()
            }),
        }
    }

    /// Learns that a tap meant for key `index` (centre `centre`, width and
    /// height `size`) landed at `(x, y)`. Taps further than one key from
    /// the centre are ignored: they are slips, not habits.
    pub fn learn(&self, index: usize, centre: (f32, f32), size: (f32, f32), x: f32, y: f32) {
        let (dx, dy) = (x - centre.0, y - centre.1);
        if !(dx.is_finite() && dy.is_finite()) || dx.hypot(dy) > 1.0 {
            return;
        }
        let Ok(mut state) = self.state.write() else {
            return;
        };
        let Some(&entry) = state.keys.get(index) else {
            return;
        };
        // The spread around the centre as the model places it now.
        let (ox, oy) = entry.in_use();
        let (rx, ry) = ((dx - ox) / size.0.max(0.1), (dy - oy) / size.1.max(0.1));
        state.spread_taps = state.spread_taps.saturating_add(1);
        // The weight of the decaying mean after n taps: 1 + d + … + d^(n-1).
        let decay = 1.0 - 1.0 / SPREAD_MEMORY;
        let weight = SPREAD_MEMORY * (1.0 - decay.powi(state.spread_taps.min(1 << 20) as i32));
        let rate = 1.0 / weight;
        state.spread_squared += ((rx * rx + ry * ry) / 2.0 - state.spread_squared) * rate;
        let Some(entry) = state.keys.get_mut(index) else {
            return;
        };
        entry.weight = (entry.weight * (1.0 - 1.0 / MEMORY) + 1.0).min(MEMORY);
        let rate = 1.0 / entry.weight;
        entry.dx += (dx - entry.dx) * rate;
        entry.dy += (dy - entry.dy) * rate;
    }

    /// Forgets everything learned.
    pub fn clear(&self) {
        if let Ok(mut state) = self.state.write() {
            state.keys.fill(KeyOffset::default());
            state.spread_squared = 0.0;
            state.spread_taps = 0;
        }
    }

    /// The offsets in use, per layout key (zero until a key has enough
    /// observations).
    pub fn snapshot(&self) -> Vec<(f32, f32)> {
        let Ok(state) = self.state.read() else {
            return Vec::new();
        };
        state.keys.iter().map(KeyOffset::in_use).collect()
    }

    /// The user's learned spread (standard deviation of a tap around its
    /// key, in key sizes), once [`MIN_SPREAD_TAPS`] taps have been seen.
    pub fn spread(&self) -> Option<f32> {
        self.state.read().ok()?.spread()
    }

    /// [`snapshot`](Self::snapshot) and [`spread`](Self::spread) from one
    /// read.
    pub fn snapshot_and_spread(&self) -> (Vec<(f32, f32)>, Option<f32>) {
        let Ok(state) = self.state.read() else {
            return (Vec::new(), None);
        };
        (
            state.keys.iter().map(KeyOffset::in_use).collect(),
            state.spread(),
        )
    }
}

impl Learned {
    fn spread(&self) -> Option<f32> {
        (self.spread_taps >= MIN_SPREAD_TAPS).then(|| self.spread_squared.max(0.0).sqrt())
    }
}

impl KeyOffset {
    /// The offset as the model uses it: zero until the key has enough
    /// observations, then bounded.
    fn in_use(&self) -> (f32, f32) {
        if self.weight < MIN_OBSERVATIONS {
            (0.0, 0.0)
        } else {
            (
                self.dx.clamp(-MAX_OFFSET, MAX_OFFSET),
                self.dy.clamp(-MAX_OFFSET, MAX_OFFSET),
            )
        }
    }
}

/// Log-likelihood of a tap at `(x, y)` under `key`'s Gaussian (without
/// the user's offsets: the posterior against keys that type no letter).
/// `scale` multiplies its standard deviations.
fn gaussian_log_p(x: f32, y: f32, key: &SpatialKey, scale: f32) -> Option<f32> {
    let (sigma_x, sigma_y) = (key.sigma_x * scale, key.sigma_y * scale);
    let dx = (x - key.x) / sigma_x;
    let dy = (y - key.y) / sigma_y;
    let log_p = -0.5 * (dx * dx + dy * dy) - (sigma_x * sigma_y).ln();
    log_p.is_finite().then_some(log_p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Key;

    fn layout() -> Layout {
        let key = |output: &str, x: f32, y: f32, width: f32| Key {
            kind: if output == " " {
                KeyKind::Space
            } else {
                KeyKind::Letter
            },
            output: output.into(),
            x,
            y,
            width,
            height: 1.0,
            alternates: vec![],
        };
        Layout {
            name: "test".into(),
            language: "en".into(),
            width: 3.0,
            height: 2.0,
            keys: vec![
                key("a", 0.5, 0.5, 1.0),
                key("b", 1.5, 0.5, 1.0),
                key("Ü", 2.5, 0.5, 1.0),
                key(" ", 1.5, 1.5, 3.0),
            ],
        }
    }

    #[test]
    fn the_key_under_the_tap_is_likeliest_and_posteriors_sum_to_one() {
        let model = SpatialModel::new(&layout(), 0.4);
        let chances = model.keys_for(0.6, 0.4);
        assert_eq!(chances[0].character, 'a');
        assert_eq!(chances[1].character, 'b');
        let total: f32 = chances.iter().map(|c| c.log_p.exp()).sum();
        assert!((total - 1.0).abs() < 0.01, "{chances:?}");
        // Between two keys: even.
        let middle = model.keys_for(1.0, 0.5);
        assert!((middle[0].log_p - middle[1].log_p).abs() < 1e-4);
        // Accented keys fold; the space bar is not a letter.
        assert_eq!(model.key_of('u'), Some(2));
        assert!(model.keys_for(2.9, 0.1).iter().all(|c| c.character != ' '));
    }

    #[test]
    fn a_careful_typist_narrows_the_spread_and_a_careless_one_does_not() {
        let model = SpatialModel::new(&layout(), 0.45);
        let before = model.keys_for(0.85, 0.5)[0].log_p;
        // Too few taps yet: the configured spread.
        for i in 0..MIN_SPREAD_TAPS - 1 {
            let jitter = if i % 2 == 0 { 0.1 } else { -0.1 };
            model.learn(0, 0.5 + jitter, 0.5 - jitter);
        }
        assert_eq!(model.sigma(), 0.45);
        model.learn(0, 0.6, 0.4);
        // Taps within 0.1 of the centre: the least spread allowed, and a tap
        // off the centre is read as its key more surely.
        assert!(
            (model.sigma() - MIN_SIGMA).abs() < 1e-6,
            "{}",
            model.sigma()
        );
        let after = model.keys_for(0.85, 0.5)[0];
        assert_eq!(after.character, 'a');
        assert!(after.log_p > before, "{} > {before}", after.log_p);
        // Taps half a key away: the configured spread again, never more.
        for i in 0..200 {
            let jitter = if i % 2 == 0 { 0.5 } else { -0.5 };
            model.learn(0, 0.5 + jitter, 0.5);
        }
        assert_eq!(model.sigma(), 0.45);
        model.offsets().clear();
        assert_eq!(model.offsets().spread(), None);
    }

    #[test]
    fn hostile_taps_give_nothing_or_the_edge_keys() {
        let model = SpatialModel::new(&layout(), 0.4);
        assert!(model.keys_for(f32::NAN, 0.0).is_empty());
        assert!(model.keys_for(0.0, f32::INFINITY).is_empty());
        let far = model.keys_for(-1e6, 0.5);
        assert_eq!(far.len(), 1);
        assert_eq!(far[0].character, 'a');
    }

    #[test]
    fn learned_offsets_move_the_key_and_stay_bounded() {
        let model = SpatialModel::new(&layout(), 0.4);
        // The user hits "a" at its right edge, always.
        for _ in 0..3 {
            model.learn(0, 0.95, 0.5);
        }
        assert_eq!(model.offsets().snapshot()[0], (0.0, 0.0), "too few yet");
        for _ in 0..100 {
            model.learn(0, 0.95, 0.5);
        }
        let (dx, dy) = model.offsets().snapshot()[0];
        assert!((dx - 0.45).abs() < 0.01 && dy.abs() < 1e-6, "{dx} {dy}");
        // A tap at the boundary with "b" now reads as "a".
        let chances = model.keys_for(1.05, 0.5);
        assert_eq!(chances[0].character, 'a');
        // Slips are ignored, NaN is ignored, offsets are bounded.
        model.learn(0, 5.0, 0.5);
        model.learn(0, f32::NAN, 0.5);
        for _ in 0..200 {
            model.learn(0, 1.3, 0.9);
        }
        let (dx, dy) = model.offsets().snapshot()[0];
        assert!(dx <= MAX_OFFSET && dy <= MAX_OFFSET);
        model.offsets().clear();
        assert_eq!(model.offsets().snapshot()[0], (0.0, 0.0));
    }
}
