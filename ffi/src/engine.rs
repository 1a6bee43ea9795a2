//! The engine object: packs loaded once and shared by every session.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use crate::error::{NibError, Result};
use crate::session::Session;
use nib_engine::personal::StoreKey;

use crate::types::{EngineConfig, EngineOptions, Layout, SessionOptions};

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

/// The engine builder for `languages` from `pack_dir` with `config`, after
/// checking every argument.
pub(crate) fn builder(
    pack_dir: &str,
    languages: &[String],
    config: EngineConfig,
) -> Result<nib_engine::EngineBuilder> {
    let config = nib_engine::Config::try_from(config)?;
    if languages.is_empty() {
        return Err(NibError::InvalidInput("no language given".into()));
    }
    for language in languages {
        check_tag(language)?;
    }
    let dir = Path::new(pack_dir);
    if !dir.is_dir() {
        return Err(NibError::PackNotFound(format!(
            "pack directory {pack_dir} does not exist or is not a directory"
        )));
    }
    Ok(nib_engine::Engine::builder()
        .config(config)
        .pack_dir(dir, languages))
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
        let engine = builder(&pack_dir, &languages, config)?.build()?;
        Ok(Arc::new(engine.into()))
    }

    /// Like `new`, with the personal dictionary and the neural model of
    /// `options`.
    ///
    /// With `personal_key` the dictionary's file is encrypted at rest with
    /// XChaCha20-Poly1305 (a file in the clear is rewritten encrypted); a
    /// key that is not 32 bytes is `InvalidInput`. A damaged file is
    /// renamed aside and the engine starts with an empty dictionary; an
    /// encrypted file opened with another key (or none) is left untouched
    /// and the dictionary lives in memory for this engine. A model that
    /// cannot be loaded (missing or wrong runtime, damaged files) leaves
    /// the engine ranking with its n-gram model. These are reported by
    /// `personalError()` and `lmError()`, not thrown, so that the keyboard
    /// keeps working.
    #[uniffi::constructor]
    pub fn with_options(
        pack_dir: String,
        languages: Vec<String>,
        config: EngineConfig,
        options: EngineOptions,
    ) -> Result<Arc<Self>> {
        let mut builder = builder(&pack_dir, &languages, config)?;
        if let Some(path) = options.personal_store {
            builder = builder.personal_store(path);
        }
        if let Some(key) = options.personal_key {
            builder = builder.personal_key(StoreKey::from_bytes(&key)?);
        }
        match (options.language_model, options.onnx_runtime) {
            (Some(model), Some(runtime)) => {
                builder =
                    builder.language_model(model, runtime, options.lm_threads.max(1) as usize);
            }
            (None, None) => {}
            _ => {
                return Err(NibError::InvalidInput(
                    "language_model and onnx_runtime go together".into(),
                ));
            }
        }
        Ok(Arc::new(builder.build()?.into()))
    }

    /// Why the neural language model could not be loaded, or `None` when
    /// it is loaded or none was asked for.
    pub fn lm_error(&self) -> Result<Option<String>> {
        Ok(self.get()?.lm_error().map(ToString::to_string))
    }

    /// Whether the neural language model is loaded and ranks suggestions.
    pub fn has_language_model(&self) -> Result<bool> {
        Ok(self.get()?.language_model().is_some())
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
            no_auto_capitals: false,
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
    fn the_neural_model_loads_through_the_options_or_says_why_not() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let runtime = std::env::var("NIB_ORT").unwrap_or_else(|_| {
            format!("{root}/.cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1")
        });
        let with_model = |model: &str, runtime: Option<String>| {
            Engine::with_options(
                pack_dir(),
                vec!["en".into()],
                EngineConfig::default(),
                EngineOptions {
                    language_model: Some(model.into()),
                    onnx_runtime: runtime,
                    ..EngineOptions::default()
                },
            )
        };
        let engine = with_model(
            &format!("{root}/languages/models/nib-lm-1"),
            Some(runtime.clone()),
        )
        .unwrap();
        assert_eq!(engine.lm_error().unwrap(), None);
        assert!(engine.has_language_model().unwrap());
        let broken = with_model("/nonexistent/model", Some(runtime)).unwrap();
        assert!(broken.lm_error().unwrap().is_some());
        assert!(!broken.has_language_model().unwrap());
        let session = broken.session("en".into(), None).unwrap();
        session.type_text("I would like to th".into()).unwrap();
        assert!(
            !session.suggestions(3).unwrap().is_empty(),
            "n-gram ranking"
        );
        assert!(matches!(
            with_model("/nonexistent/model", None),
            Err(NibError::InvalidInput(_))
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
