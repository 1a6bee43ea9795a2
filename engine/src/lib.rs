//! nib's engine: on-device text prediction for keyboards.
//!
//! An [`Engine`] is built once from language packs (see [`pack`]) and shared;
//! each text field gets a [`Session`] that follows the text before the cursor
//! and answers with [`Suggestion`]s: completions of the word being typed, or
//! predictions of the next word.
//!
//! ```no_run
//! use nib_engine::Engine;
//!
//! let engine = Engine::builder().pack_dir(".cache/packs", ["en"]).build()?;
//! let mut session = engine.session("en")?;
//! session.type_text("I would like to th");
//! for suggestion in session.suggestions(3) {
//!     println!("{} ({:.2})", suggestion.text, suggestion.score);
//! }
//! # Ok::<(), nib_engine::Error>(())
//! ```
//!
//! Words are stored in their proper case with accents; lookups go through a
//! folded key (see [`fold`]) so that "cafe" finds "café" and "dont" finds
//! "don't".
#![deny(missing_docs)]

pub mod decode;
mod engine;
mod error;
pub mod eval;
pub mod layout;
pub mod lm;
pub mod memory;
pub mod pack;
pub mod personal;
mod session;
mod suggest;
mod text;
pub mod typing;

pub use engine::{Config, Engine, EngineBuilder, available_in};
pub use error::{Error, Result};
pub use session::{FieldType, Session, SessionOptions};
pub use suggest::{MAX_WORD_CHARS, NeuralStage, Stages, Suggestion, SuggestionKind};
pub use text::case::{TypedCase, apply_case, capitalise};
pub use text::context::{ContextInfo, analyse as analyse_context, split_token};
pub use text::fold::{fold, folded_starts_with, is_apostrophe};
