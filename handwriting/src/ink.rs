//! Ink: strokes of pen points, and the checks a recogniser applies to them.
//!
//! Coordinates are in any unit (pixels, tablet units, millimetres) with `y`
//! growing **downwards**, as on a screen; recognition normalises position
//! and size, so only the shape matters. Time is in milliseconds and is not
//! used by the model (arc-length resampling removes the sampling rate), but
//! it is kept and checked, because time running backwards inside a stroke
//! is the sign of a broken digitiser or a mixed-up event stream.
//!
//! Readers keep whatever the file holds (a NaN, a duplicate point); the
//! feature pipeline tolerates that exactly as its specification says.
//! [`Ink::validate`] is the stricter check for ink from a host, applied
//! before recognition.

use crate::error::InkError;

/// One pen sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position, growing downwards.
    pub y: f64,
    /// Time in milliseconds.
    pub t: f64,
}

impl Point {
    /// A point at (x, y) at time t (milliseconds).
    pub fn new(x: f64, y: f64, t: f64) -> Self {
        Self { x, y, t }
    }
}

/// The points of one pen-down.
pub type Stroke = Vec<Point>;

/// Strokes in drawing order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ink {
    /// The strokes.
    pub strokes: Vec<Stroke>,
}

/// Bounds on the ink one recognition accepts. Work is linear in the points,
/// so these bound the work and memory of a call whatever a host sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InkLimits {
    /// Points over all strokes.
    pub max_points: usize,
    /// Strokes.
    pub max_strokes: usize,
    /// Largest coordinate magnitude.
    pub max_coordinate: f64,
}

impl Default for InkLimits {
    fn default() -> Self {
        Self {
            // A line of handwriting at 200 Hz for a minute.
            max_points: 20_000,
            max_strokes: 1_000,
            max_coordinate: 1e9,
        }
    }
}

impl Ink {
    /// Ink made of `strokes`.
    pub fn new(strokes: Vec<Stroke>) -> Self {
        Self { strokes }
    }

    /// Points over all strokes.
    pub fn point_count(&self) -> usize {
        self.strokes.iter().map(Vec::len).sum()
    }

    /// Whether no stroke holds a point.
    pub fn is_empty(&self) -> bool {
        self.strokes.iter().all(Vec::is_empty)
    }

    /// Ink from the strokes of a typing log's `ink` event.
    pub fn from_log(strokes: &[Vec<nib_engine::typing::Point>]) -> Self {
        Self::new(
            strokes
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|p| Point::new(f64::from(p.0), f64::from(p.1), p.2))
                        .collect()
                })
                .collect(),
        )
    }

    /// The strokes as a typing log's `ink` event holds them.
    pub fn to_log(&self) -> Vec<Vec<nib_engine::typing::Point>> {
        self.strokes
            .iter()
            .map(|s| {
                s.iter()
                    .map(|p| nib_engine::typing::Point(p.x as f32, p.y as f32, p.t))
                    .collect()
            })
            .collect()
    }

    /// The smallest box holding every finite point: `(min_x, min_y, max_x,
    /// max_y)`, or `None` without one.
    pub fn bounds(&self) -> Option<(f64, f64, f64, f64)> {
        let mut out: Option<(f64, f64, f64, f64)> = None;
        for p in self.strokes.iter().flatten() {
            if !(p.x.is_finite() && p.y.is_finite()) {
                continue;
            }
            out = Some(match out {
                None => (p.x, p.y, p.x, p.y),
                Some((a, b, c, d)) => (a.min(p.x), b.min(p.y), c.max(p.x), d.max(p.y)),
            });
        }
        out
    }

    /// Checks the ink against `limits`: at least one point, no empty
    /// stroke, finite and bounded coordinates and times, time not going
    /// backwards inside a stroke. (Between strokes it may: some digitisers
    /// restart their clock at each pen-down.)
    pub fn validate(&self, limits: &InkLimits) -> Result<(), InkError> {
        if self.strokes.len() > limits.max_strokes {
            return Err(InkError::TooManyStrokes {
                found: self.strokes.len(),
                limit: limits.max_strokes,
            });
        }
        let points = self.point_count();
        if points > limits.max_points {
            return Err(InkError::TooManyPoints {
                found: points,
                limit: limits.max_points,
            });
        }
        for (i, stroke) in self.strokes.iter().enumerate() {
            validate_stroke(stroke, i, limits)?;
        }
        if points == 0 {
            return Err(InkError::Empty);
        }
        Ok(())
    }
}

/// Checks one stroke (number `index` of its ink) against `limits`.
pub fn validate_stroke(stroke: &[Point], index: usize, limits: &InkLimits) -> Result<(), InkError> {
    if stroke.is_empty() {
        return Err(InkError::EmptyStroke { stroke: index });
    }
    if stroke.len() > limits.max_points {
        return Err(InkError::TooManyPoints {
            found: stroke.len(),
            limit: limits.max_points,
        });
    }
    let mut last_t = f64::NEG_INFINITY;
    for (j, p) in stroke.iter().enumerate() {
        if !(p.x.is_finite() && p.y.is_finite() && p.t.is_finite()) {
            return Err(InkError::NonFinite {
                stroke: index,
                point: j,
            });
        }
        if p.x.abs() > limits.max_coordinate || p.y.abs() > limits.max_coordinate {
            return Err(InkError::OutOfRange {
                stroke: index,
                point: j,
                limit: limits.max_coordinate,
            });
        }
        if p.t < last_t {
            return Err(InkError::TimeBackwards {
                stroke: index,
                point: j,
            });
        }
        last_t = p.t;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stroke(points: &[(f64, f64, f64)]) -> Stroke {
        points
            .iter()
            .map(|&(x, y, t)| Point::new(x, y, t))
            .collect()
    }

    #[test]
    fn accepts_a_single_point() {
        let ink = Ink::new(vec![stroke(&[(1.0, 2.0, 0.0)])]);
        assert_eq!(ink.validate(&InkLimits::default()), Ok(()));
    }

    #[test]
    fn names_what_is_wrong() {
        let limits = InkLimits::default();
        assert_eq!(Ink::default().validate(&limits), Err(InkError::Empty));
        let nan = Ink::new(vec![stroke(&[(0.0, 0.0, 0.0), (f64::NAN, 1.0, 1.0)])]);
        assert_eq!(
            nan.validate(&limits),
            Err(InkError::NonFinite {
                stroke: 0,
                point: 1
            })
        );
        let back = Ink::new(vec![
            stroke(&[(0.0, 0.0, 0.0)]),
            stroke(&[(0.0, 0.0, 5.0), (1.0, 1.0, 4.0)]),
        ]);
        assert_eq!(
            back.validate(&limits),
            Err(InkError::TimeBackwards {
                stroke: 1,
                point: 1
            })
        );
        let far = Ink::new(vec![stroke(&[(1e12, 0.0, 0.0)])]);
        assert!(matches!(
            far.validate(&limits),
            Err(InkError::OutOfRange { .. })
        ));
        let empty_stroke = Ink::new(vec![stroke(&[(0.0, 0.0, 0.0)]), vec![]]);
        assert_eq!(
            empty_stroke.validate(&limits),
            Err(InkError::EmptyStroke { stroke: 1 })
        );
        let many = Ink::new(vec![vec![Point::new(0.0, 0.0, 0.0); 30_000]]);
        assert!(matches!(
            many.validate(&limits),
            Err(InkError::TooManyPoints { found: 30_000, .. })
        ));
    }

    #[test]
    fn round_trips_through_the_typing_log() {
        let ink = Ink::new(vec![stroke(&[(1.5, 2.0, 0.0), (3.0, 4.0, 10.0)])]);
        assert_eq!(Ink::from_log(&ink.to_log()), ink);
    }
}
