//! Errors of the handwriting crate.
//!
//! [`InkError`] says precisely what is wrong with a piece of ink (which
//! stroke, which point), so that a host can reject a bad event and carry
//! on; [`Error`] adds the failures of files and of the model. The FFI layer
//! maps both onto its small public error in one place.

use std::path::PathBuf;

/// What is wrong with a piece of ink.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InkError {
    /// No stroke holds a point.
    #[error("the ink has no points")]
    Empty,
    /// A stroke was given without points.
    #[error("stroke {stroke} has no points")]
    EmptyStroke {
        /// Index of the stroke.
        stroke: usize,
    },
    /// A coordinate or time is NaN or infinite.
    #[error("stroke {stroke}, point {point}: coordinate or time is not a finite number")]
    NonFinite {
        /// Index of the stroke.
        stroke: usize,
        /// Index of the point in its stroke.
        point: usize,
    },
    /// A coordinate is so large that it cannot be a pen position in any
    /// coordinate system a digitiser uses (and would overflow squares).
    #[error("stroke {stroke}, point {point}: coordinate beyond ±{limit}")]
    OutOfRange {
        /// Index of the stroke.
        stroke: usize,
        /// Index of the point in its stroke.
        point: usize,
        /// The largest magnitude accepted.
        limit: f64,
    },
    /// Time goes backwards inside a stroke.
    #[error("stroke {stroke}, point {point}: time goes backwards")]
    TimeBackwards {
        /// Index of the stroke.
        stroke: usize,
        /// Index of the point in its stroke.
        point: usize,
    },
    /// More points than a recogniser accepts.
    #[error("{found} points, at most {limit} are accepted")]
    TooManyPoints {
        /// Points given.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// More strokes than a recogniser accepts.
    #[error("{found} strokes, at most {limit} are accepted")]
    TooManyStrokes {
        /// Strokes given.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// The ink is too long for one recognition once resampled (a scribble
    /// over a whole page, or a dash a kilometre long).
    #[error("the ink resamples to {points} points, at most {limit} are recognised at once")]
    TooLong {
        /// Resampled points the ink would have.
        points: usize,
        /// The limit.
        limit: usize,
    },
}

/// Everything that can go wrong in the handwriting crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ink cannot be recognised.
    #[error("invalid ink: {0}")]
    Ink(#[from] InkError),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An ink file is malformed.
    #[error("{path}: {format}, line {line}: {detail}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Its format (`JSON ink`, `InkML`, `UNIPEN`).
        format: &'static str,
        /// The line of the problem (1-based; 0 when unknown).
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// The stroke model or its charset is missing, corrupt, or not what this
    /// crate expects.
    #[error("handwriting model {path}: {detail}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An engine error: the language pack, or the ONNX Runtime library.
    #[error(transparent)]
    Engine(#[from] nib_engine::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
