//! Ink to model features, exactly as `handwriting/FEATURES.md` (version 1)
//! specifies and the Python training pipeline computes them.
//!
//! The pipeline is: clean (drop non-finite and repeated points, empty
//! strokes), normalise position and size by the arc-length-weighted height
//! statistics, remove the slant, resample every stroke at a fixed arc-length
//! step, and describe each resampled point by eight numbers. The shared test
//! vector `handwriting/testdata/features.json` checks that this module and
//! the Python one agree within 1e-4.
//!
//! # What can be kept while the pen moves
//!
//! Normalisation is global: the height `h`, the mean height and the slant
//! come from all the ink, so a new stroke moves and rescales every earlier
//! point. What does not change is each stroke's cleaned points and its sums
//! (segment moments, bounding box), so [`CleanStroke`] holds those, and a
//! recogniser cleans a stroke once, when it arrives. Normalising, resampling
//! and the eight features are then recomputed over the whole ink on each
//! update; that is one linear pass over a few hundred points (microseconds,
//! against a millisecond for the model).

use crate::error::InkError;
use crate::ink::{Ink, Point};

/// The version of the specification implemented here.
pub const FEATURES_VERSION: u32 = 1;
/// Numbers per resampled point.
pub const NUM_FEATURES: usize = 8;
/// Resampling step, in units of the ink height `h`.
pub const STEP: f64 = 0.05;
/// Largest |slant| removed (45 degrees).
const SLANT_LIMIT: f64 = 1.0;
/// Names of the features, in order.
pub const FEATURE_NAMES: [&str; NUM_FEATURES] = [
    "dx",
    "dy",
    "y",
    "stroke_start",
    "cos_dir",
    "sin_dir",
    "cos_turn",
    "sin_turn",
];

/// A stroke after cleaning (step 1), with the sums that normalisation
/// needs from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanStroke {
    points: Vec<[f64; 2]>,
    /// Segment length, first and second moment of y along the segments.
    w: f64,
    m1: f64,
    m2: f64,
    /// Plain sums of y and y² over the points (for ink of dots only).
    sum_y: f64,
    sum_yy: f64,
    min: [f64; 2],
    max: [f64; 2],
}

impl CleanStroke {
    /// Cleans a stroke: non-finite points dropped, then points equal to the
    /// one kept before them. `None` if no point is left.
    pub fn new(stroke: &[Point]) -> Option<Self> {
        let mut points: Vec<[f64; 2]> = Vec::with_capacity(stroke.len());
        for p in stroke {
            if !(p.x.is_finite() && p.y.is_finite()) {
                continue;
            }
            if points.last() == Some(&[p.x, p.y]) {
                continue;
            }
            points.push([p.x, p.y]);
        }
        let first = *points.first()?;
        let (mut w, mut m1, mut m2, mut sum_y, mut sum_yy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut min, mut max) = (first, first);
        for (i, p) in points.iter().enumerate() {
            sum_y += p[1];
            sum_yy += p[1] * p[1];
            for k in 0..2 {
                min[k] = min[k].min(p[k]);
                max[k] = max[k].max(p[k]);
            }
            if i > 0 {
                let a = points[i - 1];
                let (dx, dy) = (p[0] - a[0], p[1] - a[1]);
                let l = (dx * dx + dy * dy).sqrt();
                let (ya, yb) = (a[1], p[1]);
                w += l;
                m1 += l * (ya + yb) * 0.5;
                m2 += l * (ya * ya + ya * yb + yb * yb) / 3.0;
            }
        }
        Some(Self {
            points,
            w,
            m1,
            m2,
            sum_y,
            sum_yy,
            min,
            max,
        })
    }

    /// Points left after cleaning.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point is left (never true for a value `new` returned).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// Cleans every stroke of `ink`, dropping the strokes left empty.
pub fn clean(ink: &Ink) -> Vec<CleanStroke> {
    ink.strokes
        .iter()
        .filter_map(|s| CleanStroke::new(s))
        .collect()
}

/// A `[T, 8]` float32 feature matrix, row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    data: Vec<f32>,
}

impl Features {
    /// Resampled points `T`.
    pub fn rows(&self) -> usize {
        self.data.len() / NUM_FEATURES
    }

    /// Whether there is no point (`T = 0`: nothing to recognise).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`, if it exists.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        self.data.get(i * NUM_FEATURES..(i + 1) * NUM_FEATURES)
    }

    /// All values, row after row.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// The values, row after row.
    pub fn into_vec(self) -> Vec<f32> {
        self.data
    }
}

/// Frames the model outputs for `t` feature rows: two stride-2 layers,
/// `ceil(ceil(t / 2) / 2)`.
pub fn frames_for(t: usize) -> usize {
    t.div_ceil(2).div_ceil(2)
}

/// The features of `ink`, without a bound on their number (the reference
/// computation; recognisers use [`features_bounded`]).
pub fn features(ink: &Ink) -> Features {
    // Without a bound there is no error; an empty matrix is the safe answer.
    features_bounded(&clean(ink), usize::MAX).unwrap_or_default()
}

/// The features of cleaned strokes, refusing (before any allocation) ink
/// that would resample to more than `max_rows` points.
pub fn features_bounded(strokes: &[CleanStroke], max_rows: usize) -> Result<Features, InkError> {
    let Some(norm) = Normalisation::of(strokes) else {
        return Ok(Features::default());
    };
    let normalised: Vec<Vec<[f64; 2]>> = strokes.iter().map(|s| norm.apply(s)).collect();
    let slant = slant(&normalised);
    let shaped: Vec<Vec<[f64; 2]>> = normalised
        .into_iter()
        .map(|s| s.into_iter().map(|[x, y]| [x - slant * y, y]).collect())
        .collect();
    let mut rows = 0usize;
    for s in &shaped {
        rows = rows.saturating_add(resampled_len(s, max_rows));
    }
    if rows > max_rows {
        return Err(InkError::TooLong {
            points: rows,
            limit: max_rows,
        });
    }
    let mut data = Vec::with_capacity(rows * NUM_FEATURES);
    let mut prev: Option<[f64; 2]> = None;
    for s in &shaped {
        let r = resample(s);
        describe(&r, prev, &mut data);
        prev = r.last().copied().or(prev);
    }
    Ok(Features { data })
}

/// Steps 2 and 3: the offsets and the scale.
struct Normalisation {
    min_x: f64,
    mean_y: f64,
    h: f64,
}

impl Normalisation {
    fn of(strokes: &[CleanStroke]) -> Option<Self> {
        let first = strokes.first()?;
        let (mut w, mut m1, mut m2) = (0.0, 0.0, 0.0);
        let (mut min, mut max) = (first.min, first.max);
        for s in strokes {
            w += s.w;
            m1 += s.m1;
            m2 += s.m2;
            for k in 0..2 {
                min[k] = min[k].min(s.min[k]);
                max[k] = max[k].max(s.max[k]);
            }
        }
        // "Not positive", NaN included, as the specification words it.
        if w.is_nan() || w <= 0.0 {
            w = strokes.iter().map(|s| s.points.len() as f64).sum();
            m1 = strokes.iter().map(|s| s.sum_y).sum();
            m2 = strokes.iter().map(|s| s.sum_yy).sum();
        }
        let mean_y = m1 / w;
        let std_y = (m2 / w - mean_y * mean_y).max(0.0).sqrt();
        let (width, height) = (max[0] - min[0], max[1] - min[1]);
        let mut h = (4.0 * std_y).max((width + height) / 50.0);
        if h.is_nan() || h <= 0.0 {
            h = 1.0;
        }
        Some(Self {
            min_x: min[0],
            mean_y,
            h,
        })
    }

    fn apply(&self, stroke: &CleanStroke) -> Vec<[f64; 2]> {
        stroke
            .points
            .iter()
            .map(|p| [(p[0] - self.min_x) / self.h, (p[1] - self.mean_y) / self.h])
            .collect()
    }
}

/// Step 4: the shear that makes near-vertical segments vertical.
fn slant(strokes: &[Vec<[f64; 2]>]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for s in strokes {
        for pair in s.windows(2) {
            let (dx, dy) = (pair[1][0] - pair[0][0], pair[1][1] - pair[0][1]);
            if dy.abs() > dx.abs() {
                num += dx * dy.signum();
                den += dy.abs();
            }
        }
    }
    if den > 0.0 {
        (num / den).clamp(-SLANT_LIMIT, SLANT_LIMIT)
    } else {
        0.0
    }
}

/// Segment lengths of a stroke.
fn segments(stroke: &[[f64; 2]]) -> Vec<f64> {
    stroke
        .windows(2)
        .map(|p| {
            let (dx, dy) = (p[1][0] - p[0][0], p[1][1] - p[0][1]);
            (dx * dx + dy * dy).sqrt()
        })
        .collect()
}

/// Intervals `n` of a stroke of arc length `length` (`None`: one point).
fn intervals(length: f64) -> Option<f64> {
    if length > 0.0 {
        Some((length / STEP + 0.5).floor().max(1.0))
    } else {
        None
    }
}

/// Points the stroke resamples to, saturating just above `cap`.
fn resampled_len(stroke: &[[f64; 2]], cap: usize) -> usize {
    if stroke.len() < 2 {
        return 1;
    }
    let length: f64 = segments(stroke).iter().sum();
    match intervals(length) {
        None => 1,
        Some(n) if n + 1.0 > cap as f64 => cap.saturating_add(1),
        Some(n) => n as usize + 1,
    }
}

/// Step 5: `n + 1` points evenly spaced along the stroke, ends kept exact.
fn resample(stroke: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let (Some(&first), Some(&last)) = (stroke.first(), stroke.last()) else {
        return Vec::new();
    };
    if stroke.len() == 1 {
        return vec![first];
    }
    let seg = segments(stroke);
    let mut cum = Vec::with_capacity(seg.len() + 1);
    cum.push(0.0);
    for (j, l) in seg.iter().enumerate() {
        cum.push(cum[j] + l);
    }
    let length = cum[seg.len()];
    let Some(n) = intervals(length) else {
        return vec![first];
    };
    let count = n as usize;
    let mut out = Vec::with_capacity(count + 1);
    let mut j = 0;
    for k in 0..=count {
        let target = length * k as f64 / n;
        // The first segment whose end is at or past the target; targets
        // increase, so the search only moves forward.
        while j + 1 < seg.len() && cum[j + 1] < target {
            j += 1;
        }
        let l = if seg[j] > 0.0 { seg[j] } else { 1.0 };
        let f = ((target - cum[j]) / l).clamp(0.0, 1.0);
        let (a, b) = (stroke[j], stroke[j + 1]);
        out.push([a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])]);
    }
    out[0] = first;
    out[count] = last;
    out
}

/// `v / |v|`, or zero for a zero vector.
fn unit(v: [f64; 2]) -> [f64; 2] {
    let n = (v[0] * v[0] + v[1] * v[1]).sqrt();
    if n > 0.0 {
        [v[0] / n, v[1] / n]
    } else {
        [0.0, 0.0]
    }
}

fn sub(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] - b[0], a[1] - b[1]]
}

/// Step 6: the eight numbers of each point of a resampled stroke, appended
/// to `out`; `prev` is the last point of the previous stroke.
fn describe(s: &[[f64; 2]], prev: Option<[f64; 2]>, out: &mut Vec<f32>) {
    let n = s.len();
    for k in 0..n {
        let before = if k > 0 { Some(s[k - 1]) } else { prev };
        let d = before.map_or([0.0, 0.0], |b| sub(s[k], b));
        let (dir, turn) = if n > 1 {
            let dir = unit(sub(s[(k + 1).min(n - 1)], s[k.saturating_sub(1)]));
            let turn = if k > 0 && k + 1 < n {
                let u = unit(sub(s[k], s[k - 1]));
                let v = unit(sub(s[k + 1], s[k]));
                [u[0] * v[0] + u[1] * v[1], u[0] * v[1] - u[1] * v[0]]
            } else {
                [1.0, 0.0]
            };
            (dir, turn)
        } else {
            ([0.0, 0.0], [1.0, 0.0])
        };
        let start = if k == 0 { 1.0 } else { 0.0 };
        out.extend(
            [d[0], d[1], s[k][1], start, dir[0], dir[1], turn[0], turn[1]].map(|v| v as f32),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn ink_of(strokes: &Value) -> Ink {
        let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        Ink::new(
            strokes
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    s.as_array()
                        .unwrap()
                        .iter()
                        .map(|p| Point::new(num(&p[0]), num(&p[1]), num(&p[2])))
                        .collect()
                })
                .collect(),
        )
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn matches_the_shared_test_vector() {
        let doc: Value = serde_json::from_str(include_str!("../testdata/features.json")).unwrap();
        assert_eq!(doc["features_version"], FEATURES_VERSION);
        let tolerance = doc["tolerance"].as_f64().unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 9);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let got = features(&ink_of(&case["strokes"]));
            let want = case["features"].as_array().unwrap();
            assert_eq!(got.rows(), want.len(), "{name}: rows");
            for (i, row) in want.iter().enumerate() {
                for (k, v) in row.as_array().unwrap().iter().enumerate() {
                    let g = f64::from(got.row(i).unwrap()[k]);
                    let w = v.as_f64().unwrap();
                    assert!(
                        (g - w).abs() <= tolerance,
                        "{name}: row {i} {}: got {g}, want {w}",
                        FEATURE_NAMES[k]
                    );
                }
            }
        }
    }

    #[test]
    fn bounds_the_resampled_length() {
        // A long, flat zigzag: each segment is tens of ink heights long.
        let stroke: Vec<Point> = (0..2000)
            .map(|i| Point::new(f64::from(i % 2) * 1000.0, f64::from(i) * 0.001, 0.0))
            .collect();
        let strokes = clean(&Ink::new(vec![stroke]));
        assert!(matches!(
            features_bounded(&strokes, 4000),
            Err(InkError::TooLong { .. })
        ));
    }

    #[test]
    fn frames_follow_the_model() {
        assert_eq!(frames_for(1), 1);
        assert_eq!(frames_for(4), 1);
        assert_eq!(frames_for(5), 2);
        assert_eq!(frames_for(9), 3);
    }
}
