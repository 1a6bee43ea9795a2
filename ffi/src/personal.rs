//! The user's personal dictionary through the bindings (the store's file
//! and key are `EngineOptions`): the user's controls over it (add, block, forget, clear, export, import)
//! and the opt-in reports for privacy-preserving discovery of new words.

use nib_engine::personal::ldp::SketchParams;
use nib_engine::personal::{Export, Learned};

use crate::engine::Engine;
use crate::error::{NibError, Result};

/// The store's failures are `PersonalStore`, including its file's I/O
/// (which the general mapping would call a missing pack).
fn store_error(error: nib_engine::Error) -> NibError {
    use nib_engine::Error as E;
    match error {
        E::Io { .. } | E::PersonalStore { .. } | E::PersonalKey { .. } => {
            NibError::PersonalStore(error.to_string())
        }
        other => other.into(),
    }
}

#[uniffi::export]
impl Engine {
    /// Why the personal dictionary's file could not be used when the
    /// engine was made (damaged and kept aside, or the key does not open
    /// it), or `None`.
    pub fn personal_error(&self) -> Result<Option<String>> {
        Ok(self.get()?.personal_error().map(ToString::to_string))
    }

    /// Adds `word` to the personal dictionary as chosen by the user (a
    /// suggestion at once). `false` when it is refused: it looks like a
    /// secret (a card number, a long digit string, a password or key), it
    /// is blocked, or it is not a word.
    pub fn add_word(&self, word: String) -> Result<bool> {
        let learned = self.get()?.personal().add(&word).map_err(store_error)?;
        Ok(learned == Learned::Suggestible)
    }

    /// Never suggests `word` again (until it is forgotten).
    pub fn block_word(&self, word: String) -> Result<()> {
        self.get()?.personal().block(&word).map_err(store_error)
    }

    /// Removes every trace of `word`: the entry, its pairs, a block, a
    /// pending report, the learned touch offsets; the file is rewritten
    /// without it.
    pub fn forget_word(&self, word: String) -> Result<()> {
        self.get()?.forget(&word).map_err(store_error)
    }

    /// Removes everything the user taught the engine: the dictionary, the
    /// learned touch offsets, the cached contexts.
    pub fn clear_personal(&self) -> Result<()> {
        self.get()?.clear_personal().map_err(store_error)
    }

    /// Whether `word` is a personal suggestion.
    pub fn knows_word(&self, word: String) -> Result<bool> {
        Ok(self.get()?.personal().knows(&word))
    }

    /// Words in the personal dictionary.
    pub fn personal_word_count(&self) -> Result<u64> {
        Ok(self.get()?.personal().len() as u64)
    }

    /// The whole personal dictionary as JSON (version, clock, words,
    /// pairs, blocked words), for a backup or the user's own sync.
    pub fn export_personal(&self) -> Result<String> {
        serde_json::to_string(&self.get()?.personal().export())
            .map_err(|e| NibError::Internal(e.to_string()))
    }

    /// Replaces the personal dictionary with an export. Malformed JSON or
    /// an export of another version is `InvalidInput`, and nothing
    /// changes.
    pub fn import_personal(&self, json: String) -> Result<()> {
        let export: Export = serde_json::from_str(&json).map_err(|e| {
            NibError::InvalidInput(format!("not a personal dictionary export: {e}"))
        })?;
        self.get()?.personal().import(&export).map_err(store_error)
    }

    /// Forces what was learned to stable storage (`fsync`); call it when
    /// the keyboard goes to the background. Learned words already survive
    /// the process being killed without it.
    pub fn sync_personal(&self) -> Result<()> {
        self.get()?.personal().sync().map_err(store_error)
    }

    /// Opts in to privacy-preserving discovery of new words: each word the
    /// user teaches that no loaded pack knows becomes one report with
    /// local differential privacy `epsilon` (a Count Mean Sketch of `k`
    /// hash functions and `m` buckets; 4, 256 and 1024 by default).
    #[uniffi::method(default(epsilon = 4.0, k = 256, m = 1024))]
    pub fn enable_word_reports(&self, epsilon: f64, k: u32, m: u32) -> Result<()> {
        self.get()?.enable_ldp(SketchParams { epsilon, k, m })?;
        Ok(())
    }

    /// Opts out; pending reports are dropped.
    pub fn disable_word_reports(&self) -> Result<()> {
        Ok(self.get()?.personal().disable_ldp()?)
    }

    /// The reports made since the last call, one JSON object each, for
    /// the host to send to its aggregator (`nib ldp aggregate`).
    pub fn take_word_reports(&self) -> Result<Vec<String>> {
        self.get()?
            .personal()
            .take_ldp_reports()?
            .iter()
            .map(|r| serde_json::to_string(r).map_err(|e| NibError::Internal(e.to_string())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::tests::pack_dir;
    use crate::types::{EngineConfig, EngineOptions};

    fn open_with(path: &std::path::Path, key: Option<Vec<u8>>) -> Result<Arc<Engine>> {
        Engine::with_options(
            pack_dir(),
            vec!["en".into()],
            EngineConfig::default(),
            EngineOptions {
                personal_store: Some(path.to_str().unwrap().into()),
                personal_key: key,
                ..EngineOptions::default()
            },
        )
    }

    fn open(path: &std::path::Path, key: Option<Vec<u8>>) -> Arc<Engine> {
        open_with(path, key).unwrap()
    }

    #[test]
    fn the_personal_dictionary_round_trips_through_the_bindings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("user.nibdict");
        let engine = open(&path, Some(vec![7; 32]));
        assert_eq!(engine.personal_error().unwrap(), None);
        assert!(engine.add_word("Qorvex".into()).unwrap());
        assert!(!engine.add_word("4111111111111111".into()).unwrap());
        let export = engine.export_personal().unwrap();
        engine.forget_word("Qorvex".into()).unwrap();
        assert!(!engine.knows_word("Qorvex".into()).unwrap());
        engine.import_personal(export).unwrap();
        assert!(engine.knows_word("Qorvex".into()).unwrap());
        assert!(matches!(
            engine.import_personal("{".into()),
            Err(NibError::InvalidInput(_))
        ));
        drop(engine);
        let wrong = open(&path, Some(vec![8; 32]));
        assert!(wrong.personal_error().unwrap().is_some());
        assert!(!wrong.knows_word("Qorvex".into()).unwrap());
        let right = open(&path, Some(vec![7; 32]));
        assert!(right.knows_word("Qorvex".into()).unwrap());
        assert!(matches!(
            open_with(&path, Some(vec![1; 5])),
            Err(NibError::InvalidInput(_))
        ));
        right.enable_word_reports(4.0, 256, 1024).unwrap();
        assert!(right.add_word("Blorptang".into()).unwrap());
        assert_eq!(right.take_word_reports().unwrap().len(), 1);
        assert!(matches!(
            right.enable_word_reports(f64::NAN, 256, 1024),
            Err(NibError::InvalidInput(_))
        ));
    }
}
