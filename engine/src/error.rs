//! Errors of the engine.
//!
//! One enum whose variants say precisely what went wrong and where, so that a
//! caller (the CLI, the FFI layer) can both show a useful message and decide
//! what to do. The FFI crate maps these onto its smaller public error in one
//! place.

use std::path::PathBuf;

/// Everything that can go wrong in the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with the pack magic number.
    #[error("{path} is not a nib language pack (magic {found:02x?}, expected {expected:02x?})")]
    PackMagic {
        /// The file.
        path: PathBuf,
        /// The magic number expected.
        expected: [u8; 8],
        /// The bytes found instead.
        found: Vec<u8>,
    },
    /// The pack was written in a format version this engine does not read.
    #[error("{path} has pack format version {found}, this engine reads version {expected}")]
    PackVersion {
        /// The file.
        path: PathBuf,
        /// The version this engine reads.
        expected: u32,
        /// The version found in the file.
        found: u32,
    },
    /// The pack is shorter than its header says.
    #[error("{path} is truncated: {detail}")]
    PackTruncated {
        /// The file.
        path: PathBuf,
        /// What was missing.
        detail: String,
    },
    /// A checksum did not match: the file was damaged.
    #[error("{path} is corrupt: checksum mismatch in {section}")]
    PackChecksum {
        /// The file.
        path: PathBuf,
        /// The header or section whose checksum failed.
        section: String,
    },
    /// The pack's structure is inconsistent.
    #[error("{path} is corrupt: {detail}")]
    PackCorrupt {
        /// The file.
        path: PathBuf,
        /// What is inconsistent.
        detail: String,
    },
    /// No pack for the requested language is loaded.
    #[error("unknown language {language:?} (available: {})", available.join(", "))]
    UnknownLanguage {
        /// The language requested.
        language: String,
        /// The languages that are loaded.
        available: Vec<String>,
    },
    /// A keyboard layout is invalid.
    #[error("invalid layout {name:?}: {detail}")]
    Layout {
        /// The layout's name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The ONNX Runtime library is missing, unloadable or of the wrong version.
    /// The engine carries on without its neural language model.
    #[error("ONNX Runtime at {path}: {detail}")]
    Runtime {
        /// The library that was to be loaded.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// A language model or tokenizer file is missing, corrupt or does not
    /// match what the engine expects.
    #[error("language model {path}: {detail}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// An argument from the host cannot be used: a tap at a NaN or infinite
    /// coordinate, or far from every key.
    #[error("invalid input: {detail}")]
    InvalidInput {
        /// What was wrong with it.
        detail: String,
    },
    /// The personal dictionary's file is damaged or of another version. It
    /// was renamed to `kept` (never overwritten) and the store starts
    /// empty.
    #[error("personal dictionary {path} is damaged ({detail}); kept as {kept}")]
    PersonalStore {
        /// The store's file.
        path: PathBuf,
        /// Where the damaged file was moved.
        kept: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The personal dictionary is encrypted and no key, or another key,
    /// was given. The file is left as it is.
    #[error("personal dictionary {path}: {detail}")]
    PersonalKey {
        /// The store's file.
        path: PathBuf,
        /// What is wrong with the key.
        detail: String,
    },
    /// The builder was given no pack or an unusable configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl Error {
    /// A corruption error for `path`.
    pub(crate) fn corrupt(path: &std::path::Path, detail: impl Into<String>) -> Self {
        Error::PackCorrupt {
            path: path.to_path_buf(),
            detail: detail.into(),
        }
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
