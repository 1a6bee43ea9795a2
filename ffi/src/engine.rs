//! The engine object: packs loaded once and shared by every session.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{NibError, Result};
use crate::session::Session;
use crate::types::{EngineConfig, Layout, SessionOptions};

/// Language packs loaded once and shared: make one per process (or per
/// set of languages) and a [`Session`] per text field. Safe to use from any
/// thread.
///
/// `close()` releases the engine's hold on its packs; sessions already made
/// keep theirs until they are closed or dropped, and every later call on the
/// engine is `Closed`.
#[derive(Debug, uniffi::Object)]
pub struct Engine {
    /// `None` once closed. The lock is held only to clone the engine (an
    /// `Arc`) or to close it, so readers never wait on real work.
    inner: RwLock<Option<nib_engine::Engine>>,
}

impl From<nib_engine::Engine> for Engine {
    fn from(inner: nib_engine::Engine) -> Self {
        Self {
            inner: RwLock::new(Some(inner)),
        }
    }
}

impl Engine {
    /// The engine, unless closed. A poisoned lock cannot hide a broken
    /// engine (it is immutable), so it is read through.
    pub(crate) fn get(&self) -> Result<nib_engine::Engine> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| NibError::Closed("the engine is closed".into()))
    }
}

/// The longest language tag accepted; real ones ("pt-BR") are far shorter.
const MAX_TAG_LEN: usize = 32;

/// A language tag names a file in the pack directory, so it must not be
/// able to name anything else ("../x").
fn check_tag(language: &str) -> Result<()> {
    let ok = !language.is_empty()
        && language.len() <= MAX_TAG_LEN
        && language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(NibError::InvalidInput(format!(
            "{language:?} is not a language tag (letters, digits, '-' and '_', at most {MAX_TAG_LEN})"
        )))
    }
}

#[uniffi::export]
impl Engine {
    /// Loads `<pack_dir>/<language>.nibpack` for each of `languages`,
    /// verifying every checksum.
    ///
    /// Fails with `PackNotFound` when the directory is missing or a pack
    /// cannot be read, `UnknownLanguage` when the directory has no pack for
    /// a language (the message lists those it has), `PackCorrupt` for a
    /// damaged or foreign file, `InvalidInput` for a malformed tag, an
    /// empty list or a configuration out of range.
    #[uniffi::constructor(default(config))]
    pub fn new(
        pack_dir: String,
        languages: Vec<String>,
        config: EngineConfig,
    ) -> Result<Arc<Self>> {
        let config = nib_engine::Config::try_from(config)?;
        if languages.is_empty() {
            return Err(NibError::InvalidInput("no language given".into()));
        }
        for language in &languages {
            check_tag(language)?;
        }
        let dir = Path::new(&pack_dir);
        if !dir.is_dir() {
            return Err(NibError::PackNotFound(format!(
                "pack directory {pack_dir} does not exist or is not a directory"
            )));
        }
        let engine = nib_engine::Engine::builder()
            .config(config)
            .pack_dir(dir, &languages)
            .build()?;
        Ok(Arc::new(engine.into()))
    }

    /// The loaded languages, sorted.
    pub fn languages(&self) -> Result<Vec<String>> {
        Ok(self.get()?.languages().map(str::to_owned).collect())
    }

    /// The configuration the engine was built with.
    pub fn config(&self) -> Result<EngineConfig> {
        Ok(self.get()?.config().clone().into())
    }

    /// The keyboard layout of `language`: key kinds, outputs and geometry,
    /// in the units that `Session.tap` takes.
    pub fn layout(&self, language: String) -> Result<Layout> {
        Ok(self.get()?.pack(&language)?.layout().into())
    }

    /// A new session for one text field in `language`. Without `options`
    /// the field is ordinary text where learning is allowed.
    #[uniffi::method(default(options = None))]
    pub fn session(
        &self,
        language: String,
        options: Option<SessionOptions>,
    ) -> Result<Arc<Session>> {
        let options = options.unwrap_or(SessionOptions {
            field: crate::types::FieldType::Text,
            no_learning: false,
        });
        let session = self.get()?.session_with(&language, options.into())?;
        Ok(Arc::new(session.into()))
    }

    /// Releases the engine's packs (sessions keep theirs until closed).
    /// Idempotent; every later call on the engine fails with `Closed`.
    /// (Kotlin: `closeEngine()`, because `close()` is `AutoCloseable`'s,
    /// which frees the handle itself.)
    pub fn close(&self) {
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::pack_dir;

    fn open(dir: &str, languages: &[&str]) -> Result<Arc<Engine>> {
        Engine::new(
            dir.into(),
            languages.iter().map(|l| l.to_string()).collect(),
            EngineConfig::default(),
        )
    }

    #[test]
    fn loads_packs_and_exposes_layouts() {
        let engine = open(&pack_dir(), &["en", "de"]).unwrap();
        assert_eq!(engine.languages().unwrap(), ["de", "en"]);
        assert_eq!(engine.config().unwrap(), EngineConfig::default());
        let layout = engine.layout("en".into()).unwrap();
        assert_eq!(layout.language, "en");
        assert!(layout.keys.iter().any(|k| k.output == "h"));
        assert!(matches!(
            engine.layout("ru".into()),
            Err(NibError::UnknownLanguage(m)) if m.contains("available: de, en")
        ));
    }

    #[test]
    fn construction_errors_are_typed() {
        let missing = open("/nonexistent/nib/packs", &["en"]).unwrap_err();
        assert!(
            matches!(&missing, NibError::PackNotFound(m) if m.contains("/nonexistent/nib/packs"))
        );
        let unknown = open(&pack_dir(), &["xx"]).unwrap_err();
        assert!(matches!(unknown, NibError::UnknownLanguage(m) if m.contains("\"xx\"")));
        for tag in ["../en", "", "en/../../x", "e n"] {
            let err = open(&pack_dir(), &[tag]).unwrap_err();
            assert!(matches!(err, NibError::InvalidInput(_)), "{tag:?}: {err}");
        }
        assert!(matches!(
            open(&pack_dir(), &[]),
            Err(NibError::InvalidInput(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("xx.nibpack"), b"garbage, not a pack").unwrap();
        let corrupt = open(dir.path().to_str().unwrap(), &["xx"]).unwrap_err();
        assert!(matches!(corrupt, NibError::PackCorrupt(m) if m.contains("xx.nibpack")));
    }

    #[test]
    fn a_closed_engine_refuses_calls_but_its_sessions_go_on() {
        let engine = open(&pack_dir(), &["en"]).unwrap();
        let session = engine.session("en".into(), None).unwrap();
        engine.close();
        engine.close();
        assert!(matches!(engine.languages(), Err(NibError::Closed(_))));
        assert!(matches!(
            engine.session("en".into(), None),
            Err(NibError::Closed(_))
        ));
        session.type_text("hel".into()).unwrap();
        assert!(!session.suggestions(3).unwrap().is_empty());
    }
}
