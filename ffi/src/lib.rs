//! nib's foreign-function interface: the objects, records and the one
//! error that Kotlin, Swift and Python see, through UniFFI proc-macros.
//!
//! This is the only crate that knows about uniffi. It is a thin layer: each
//! object wraps an engine value ([`Engine`] an `nib_engine::Engine`,
//! [`Session`] an `nib_engine::Session`), records copy the engine's plain
//! data with explicit `From`/`TryFrom` conversions (`types.rs`), and every
//! engine error becomes a [`NibError`] in one place (`error.rs`).
//!
//! Three promises hold at the boundary:
//!
//! - **No panic crosses it.** Inputs are checked (NaN taps, language tags
//!   that would escape the pack directory, configurations out of range) and
//!   the engine bounds its work on any text. uniffi would turn a panic into
//!   an internal error, but none should reach it.
//! - **Threads.** An [`Engine`] is shared freely. A [`Session`] is one text
//!   field on one thread; a second thread using it at the same moment gets
//!   [`NibError::Busy`] at once instead of blocking or racing.
//! - **Closing.** After `close()`, every call is [`NibError::Closed`].
//!
//! Strings cross as UTF-8. The foreign sides cannot send invalid UTF-8:
//! Kotlin's encoder rejects a lone surrogate with a
//! `CharacterCodingException`, Python's with a `UnicodeEncodeError`, and
//! Swift strings are always valid; bytes that still arrived invalid would be
//! refused by uniffi as an internal error, not a crash.
//!
//! ```
//! # let packs = concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/packs");
//! use nib_ffi::{Engine, EngineConfig};
//!
//! let engine = Engine::new(packs.into(), vec!["en".into()], EngineConfig::default())?;
//! let session = engine.session("en".into(), None)?;
//! session.type_text("I would like to th".into())?;
//! let best = &session.suggestions(3)?[0];
//! session.pick(best.text.clone())?;
//! # Ok::<(), nib_ffi::NibError>(())
//! ```
#![deny(missing_docs)]

uniffi::setup_scaffolding!("nib");

mod engine;
mod error;
mod exclusive;
mod handwriting;
mod personal;
mod session;
mod types;

pub use engine::Engine;
pub use error::{NibError, Result};
pub use handwriting::{HandwritingRecognizer, InkArea};
pub use session::Session;
pub use types::{
    CorrectionAction, Decision, EngineConfig, EngineOptions, FieldType, InkCandidate, InkPoint,
    Key, KeyKind, Layout, SessionOptions, Suggestion, SuggestionKind,
};

#[cfg(test)]
mod tests {
    /// The built packs: `$NIB_PACKS`, else `.cache/packs` in the repository.
    pub(crate) fn pack_dir() -> String {
        std::env::var("NIB_PACKS")
            .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/packs").into())
    }
}
