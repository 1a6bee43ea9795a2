//! Typing logs: what a user (or a simulated typist) did in a text field,
//! and the machinery that measures the engine on it.
//!
//! - [`log`]: the versioned JSON Lines format (one [`Event`] per line, a
//!   session header first) and a streaming reader that reports bad lines
//!   with their line numbers instead of stopping;
//! - [`simulate`]: a simulated typist that turns text into logs, tapping
//!   keys with Gaussian noise and making typos at given rates;
//! - [`replay`]: feeds logs through engine sessions deterministically and
//!   tallies keystroke savings, next-word accuracy, word accuracy after the
//!   engine's decisions and per-event latency, in a [`Tally`] that merges
//!   exactly with the tallies of other shards.
//!
//! The JSON Schema of the format is `engine/schema/typing-log-v1.schema.json`.

pub mod log;
pub mod replay;
pub mod simulate;

pub use log::{Event, LOG_VERSION, LogReader, Point, Problem, ProblemKind, Record, SessionHeader};
pub use replay::{
    InkCounts, InkDecoder, LatencyHistogram, Metrics, ReplayOptions, Replayer, Tally,
};
pub use simulate::{Typist, TypistConfig};
