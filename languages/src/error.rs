//! Errors of the pack builder.

use std::path::PathBuf;

/// What can go wrong while building packs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A source or layout file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A source file is not in the expected format.
    #[error("{path}: {detail}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// No builder exists for the language.
    #[error("no pack recipe for language {0:?} (known: en, de, fr, es, it, pt, ru)")]
    UnknownLanguage(String),
    /// The layout is invalid.
    #[error(transparent)]
    Engine(#[from] nib_engine::Error),
    /// A source is missing from the cache.
    #[error("source {name} is not in {dir}: run `python3 languages/fetch.py` first")]
    MissingSource {
        /// The source.
        name: String,
        /// The cache directory.
        dir: PathBuf,
    },
}

/// The builder's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
