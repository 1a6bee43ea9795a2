//! The engine: immutable, shared language packs and configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::pack::{LanguagePack, PACK_EXTENSION};
use crate::session::{Session, SessionOptions};
use crate::suggest::{self, Suggestion};

/// Tuning knobs of the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Weight λ of the pair model against word frequency, in `[0, 1]`.
    pub pair_weight: f32,
    /// Number of suggestions a session returns by default.
    pub suggestions: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pair_weight: 0.6,
            suggestions: 3,
        }
    }
}

/// Builds an [`Engine`].
///
/// ```no_run
/// let engine = nib_engine::Engine::builder()
///     .pack_dir(".cache/packs", ["en", "de"])
///     .build()?;
/// let suggestions = engine.suggest("en", "I would like to ", "th", 3)?;
/// # Ok::<(), nib_engine::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct EngineBuilder {
    config: Config,
    files: Vec<PathBuf>,
    dir_languages: Vec<(PathBuf, String)>,
}

impl EngineBuilder {
    /// Sets the configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Loads the pack file at `path`.
    pub fn pack(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Loads `<dir>/<language>.nibpack` for each language.
    pub fn pack_dir<S: AsRef<str>>(
        mut self,
        dir: impl AsRef<Path>,
        languages: impl IntoIterator<Item = S>,
    ) -> Self {
        for language in languages {
            self.dir_languages
                .push((dir.as_ref().to_path_buf(), language.as_ref().to_owned()));
        }
        self
    }

    /// Loads and validates every pack.
    pub fn build(self) -> Result<Engine> {
        let mut packs = BTreeMap::new();
        let mut files = self.files;
        for (dir, language) in self.dir_languages {
            let path = dir.join(format!("{language}.{PACK_EXTENSION}"));
            if !path.is_file() {
                return Err(Error::UnknownLanguage {
                    language,
                    available: available_in(&dir),
                });
            }
            files.push(path);
        }
        if files.is_empty() {
            return Err(Error::Config("no language pack given".into()));
        }
        for path in files {
            let pack = LanguagePack::open(&path)?;
            packs.insert(pack.language().to_owned(), Arc::new(pack));
        }
        Ok(Engine {
            inner: Arc::new(Inner {
                config: self.config,
                packs,
            }),
        })
    }
}

/// The languages with a pack in `dir`, sorted.
pub fn available_in(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == PACK_EXTENSION)
                .then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    found.sort();
    found
}

#[derive(Debug)]
struct Inner {
    config: Config,
    packs: BTreeMap<String, Arc<LanguagePack>>,
}

/// The prediction engine: loaded packs and configuration. Cheap to clone,
/// immutable and shared between threads; each text field gets a [`Session`].
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl Engine {
    /// A builder.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The loaded languages.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.inner.packs.keys().map(String::as_str)
    }

    /// The pack of `language`.
    pub fn pack(&self, language: &str) -> Result<&Arc<LanguagePack>> {
        self.inner
            .packs
            .get(language)
            .ok_or_else(|| Error::UnknownLanguage {
                language: language.to_owned(),
                available: self.languages().map(str::to_owned).collect(),
            })
    }

    /// The top `k` suggestions for the current word `word` after `context`
    /// (the text before it), in `language`.
    pub fn suggest(
        &self,
        language: &str,
        context: &str,
        word: &str,
        k: usize,
    ) -> Result<Vec<Suggestion>> {
        Ok(suggest::suggest(
            self.pack(language)?,
            &self.inner.config,
            context,
            word,
            k,
        ))
    }

    /// A new session for an ordinary text field in `language`.
    pub fn session(&self, language: &str) -> Result<Session> {
        self.session_with(language, SessionOptions::default())
    }

    /// A new session for a text field in `language`, set up as `options`
    /// says (a password field, a field where nothing may be learned).
    pub fn session_with(&self, language: &str, options: SessionOptions) -> Result<Session> {
        self.pack(language)?;
        Ok(Session::new(self.clone(), language.to_owned(), options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Engine>();
        assert_send_sync::<Session>();
    }

    #[test]
    fn missing_pack_names_language_and_alternatives() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("de.nibpack"), b"junk").unwrap();
        let err = Engine::builder()
            .pack_dir(dir.path(), ["xx"])
            .build()
            .unwrap_err();
        assert_eq!(err.to_string(), "unknown language \"xx\" (available: de)");
        let err = Engine::builder()
            .pack_dir(dir.path(), ["de"])
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::PackMagic { .. }), "{err}");
        assert!(matches!(Engine::builder().build(), Err(Error::Config(_))));
    }
}
