//! The one error of the bindings, and the one place that maps the engine's
//! errors onto it.
//!
//! The engine's [`nib_engine::Error`] says precisely what went wrong (which
//! checksum, which offset); a keyboard only needs to know what to do about
//! it. So the foreign languages see a handful of variants, one per
//! different reaction (fetch the pack again, pick another language, fix the
//! call, wait, stop), each carrying the engine's full message for logs.
//! Kotlin sees `NibException.PackNotFound` and so on, Swift
//! `NibError.PackNotFound(message:)`, Python `NibError.PackNotFound`.

/// What a call through the bindings can fail with. Every variant carries a
/// message that says what was wrong, for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum NibError {
    /// No readable pack where one was expected: a missing pack directory or
    /// file, or one that cannot be read (permissions). Download or install
    /// the pack.
    #[error("{0}")]
    PackNotFound(String),
    /// A pack file is damaged, truncated, not a pack, or of a format
    /// version this library does not read. Download the pack again (or a
    /// library that reads its version).
    #[error("{0}")]
    PackCorrupt(String),
    /// The language is not loaded (or has no pack in the directory given).
    /// The message lists the languages that are.
    #[error("{0}")]
    UnknownLanguage(String),
    /// An argument cannot be used: a tap at NaN or far off the keyboard, a
    /// malformed language tag, a configuration out of range.
    #[error("{0}")]
    InvalidInput(String),
    /// The session or engine was closed; make a new one.
    #[error("{0}")]
    Closed(String),
    /// The handwriting model or the ONNX Runtime library it runs on is
    /// missing, damaged (checksum), or of the wrong version. Install it
    /// again.
    #[error("{0}")]
    ModelUnavailable(String),
    /// Another thread is using this session right now. A session belongs to
    /// one text field, driven from one thread; this is a bug in the caller,
    /// reported instead of blocking or racing.
    #[error("{0}")]
    Busy(String),
    /// The personal dictionary's file cannot be used: damaged (kept aside
    /// under a new name), encrypted with another key, or not writable.
    /// What the user taught is not lost; show or log the message.
    #[error("{0}")]
    PersonalStore(String),
    /// A failure this version of the bindings does not classify: a bug to
    /// report, with the message.
    #[error("{0}")]
    Internal(String),
}

impl From<nib_engine::Error> for NibError {
    fn from(error: nib_engine::Error) -> Self {
        use nib_engine::Error as E;
        let message = error.to_string();
        match error {
            E::Io { .. } => NibError::PackNotFound(message),
            E::PackMagic { .. }
            | E::PackVersion { .. }
            | E::PackTruncated { .. }
            | E::PackChecksum { .. }
            | E::PackCorrupt { .. }
            // A layout comes from a pack; an invalid one means a bad pack.
            | E::Layout { .. } => NibError::PackCorrupt(message),
            E::UnknownLanguage { .. } => NibError::UnknownLanguage(message),
            E::PersonalStore { .. } | E::PersonalKey { .. } => NibError::PersonalStore(message),
            E::InvalidInput { .. } | E::Config(_) => NibError::InvalidInput(message),
            E::Runtime { .. } | E::Model { .. } => NibError::ModelUnavailable(message),
            // The engine's error is non-exhaustive: a variant added later
            // reaches the host as Internal until it is mapped here.
            _ => NibError::Internal(message),
        }
    }
}

impl From<nib_handwriting::Error> for NibError {
    fn from(error: nib_handwriting::Error) -> Self {
        use nib_handwriting::Error as E;
        let message = error.to_string();
        match error {
            E::Ink(_) => NibError::InvalidInput(message),
            E::Io { .. } | E::Model { .. } | E::Parse { .. } => NibError::ModelUnavailable(message),
            E::Engine(e) => e.into(),
            // Non-exhaustive: a variant added later is Internal until mapped.
            _ => NibError::Internal(message),
        }
    }
}

/// The bindings' result type.
pub type Result<T, E = NibError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn engine_errors_map_to_what_a_caller_does_about_them() {
        let path = PathBuf::from("/p/en.nibpack");
        let io = nib_engine::Error::Io {
            path: path.clone(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        assert!(
            matches!(NibError::from(io), NibError::PackNotFound(m) if m.contains("/p/en.nibpack"))
        );
        let version = nib_engine::Error::PackVersion {
            path: path.clone(),
            expected: 1,
            found: 2,
        };
        assert_eq!(
            NibError::from(version),
            NibError::PackCorrupt(
                "/p/en.nibpack has pack format version 2, this engine reads version 1".into()
            )
        );
        let checksum = nib_engine::Error::PackChecksum {
            path,
            section: "WORD".into(),
        };
        assert!(matches!(NibError::from(checksum), NibError::PackCorrupt(_)));
        let unknown = nib_engine::Error::UnknownLanguage {
            language: "xx".into(),
            available: vec!["de".into(), "en".into()],
        };
        assert_eq!(
            NibError::from(unknown).to_string(),
            "unknown language \"xx\" (available: de, en)"
        );
        let tap = nib_engine::Error::InvalidInput {
            detail: "tap coordinates must be finite, got (NaN, 1)".into(),
        };
        assert!(matches!(NibError::from(tap), NibError::InvalidInput(m) if m.contains("NaN")));
    }
}
