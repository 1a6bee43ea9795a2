//! nib's handwriting recognition: ink in, word candidates out.
//!
//! The pipeline:
//!
//! 1. [`Ink`]: strokes of (x, y, t) points, y down; read from JSON ink,
//!    InkML or UNIPEN ([`read_ink`], [`UnipenDoc`]) or from a typing log's
//!    `ink` event ([`Ink::from_log`]), and checked ([`Ink::validate`]) so
//!    that bad input is a typed [`InkError`], never a panic or unbounded
//!    work.
//! 2. [`features`]: cleaning, normalisation of position, size and slant,
//!    arc-length resampling and eight numbers per point, exactly as
//!    `handwriting/FEATURES.md` specifies and the training pipeline computes
//!    (checked against a shared test vector).
//! 3. [`StrokeModel`]: the int8 ONNX network (conv + BiLSTM, CTC output over
//!    224 classes), run through the engine's ONNX Runtime after its
//!    checksums are verified.
//! 4. [`Decoder`]: a CTC prefix beam search constrained by the language
//!    pack's lexicon and scored with its word model, with an
//!    out-of-vocabulary path so names can be written, word gaps found at the
//!    space class; or greedy decoding.
//! 5. [`Recognizer`] (immutable, shared) and [`InkSession`] (one writing
//!    area, updated stroke by stroke).
//!
//! ```no_run
//! use std::path::Path;
//! use std::sync::Arc;
//! use nib_engine::Engine;
//! use nib_handwriting::{Recognizer, RecognizerConfig, read_ink};
//!
//! let engine = Engine::builder().pack_dir(".cache/packs", ["en"]).build()?;
//! let recognizer = Arc::new(Recognizer::load(
//!     Path::new("handwriting/models/nib-hw-1"),
//!     Path::new(".cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1"),
//!     Some(engine.pack("en")?.clone()),
//!     RecognizerConfig::default(),
//! )?);
//! let (ink, _label) = read_ink(Path::new("handwriting/testdata/ink/hello.json"))?;
//! let mut area = recognizer.session();
//! for stroke in ink.strokes {
//!     area.add_stroke(stroke)?;
//!     for candidate in area.candidates(3)?.candidates {
//!         println!("{} ({:.2})", candidate.text, candidate.score);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod charset;
mod decode;
mod error;
mod eval;
mod features;
mod ink;
mod model;
mod read;
mod recognizer;
mod replay;
mod rescore;

pub use charset::{BLANK, Charset, normalise_label};
pub use decode::{Candidate, DecodeParams, Decoder, Groups, greedy};
pub use error::{Error, InkError, Result};
pub use eval::{ErrorCounts, edit_distance};
pub use features::{
    CleanStroke, FEATURE_NAMES, FEATURES_VERSION, Features, NUM_FEATURES, STEP, clean, features,
    features_bounded, frames_for,
};
pub use ink::{Ink, InkLimits, Point, Stroke, validate_stroke};
pub use model::{CHARSET_FILE, CHECKSUM_FILE, LogProbs, MODEL_FILE, StrokeModel};
pub use read::{
    Format, Segment, UnipenDoc, json_strokes, parse_ink, read_ink, to_json, unipen_root,
};
pub use recognizer::{InkSession, Recognition, Recognizer, RecognizerConfig};
pub use replay::LogInkDecoder;
