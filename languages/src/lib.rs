//! Builders of nib's language packs.
//!
//! Every pack is made from pinned registry sources that
//! `languages/fetch.py` downloads and verifies into `.cache/sources`:
//! a frequency list (wordfreq), a cased word list (Debian), offensive word
//! lists (naughty-words), and for English running text for casing (Brown
//! corpus) and word pairs (symspellpy). The layout of each language is a TOML
//! file in `languages/layouts/`. The pack format itself lives in
//! [`nib_engine::pack`]; this crate decides what goes into it.
//!
//! ```no_run
//! use std::path::Path;
//! use nib_languages::{BuildInputs, build_pack};
//!
//! let inputs = BuildInputs::in_repository(Path::new("."));
//! let report = build_pack("en", &inputs, Path::new(".cache/packs"))?;
//! println!("{} words, {} bytes", report.words, report.bytes);
//! # Ok::<(), nib_languages::Error>(())
//! ```
#![deny(missing_docs)]

mod build;
mod casing;
mod clean;
mod error;
mod recipe;
mod sources;

pub use build::{
    BuildInputs, BuildReport, MAX_WORDS, PACK_CONTENT_VERSION, build_pack, build_packs, pack_spec,
    read_layout,
};
pub use casing::{CaseCounts, CaseForms};
pub use clean::{MAX_WORD_CHARS, clean_word};
pub use error::{Error, Result};
pub use recipe::{RECIPES, Recipe, Script, recipe};
pub use sources::SourceCache;
