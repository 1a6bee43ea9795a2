//! The engine: immutable, shared language packs and configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::decode::{Corrector, SpatialModel};
use crate::error::{Error, Result};
use crate::lm::NeuralLm;
use crate::pack::{LanguagePack, PACK_EXTENSION};
use crate::personal::ldp::SketchParams;
use crate::personal::{Limits, PersonalStore, StoreKey};
use crate::session::{Session, SessionOptions};
use crate::suggest::{self, Stages, Suggestion};
use crate::text::fold::fold;

/// Tuning knobs of the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Weight λ of the pair model against word frequency, in `[0, 1]`.
    pub pair_weight: f32,
    /// Number of suggestions a session returns by default.
    pub suggestions: usize,
    /// Weight of the neural language model against the n-gram score, in
    /// `[0, 1]` (log domain). The default, 0.9, is the best of a grid over
    /// 0.5–0.9 on validation text (see ARCHITECTURE.md).
    pub lm_weight: f32,
    /// Weight of the neural language model in the autocorrect decision
    /// (the touch decoder's ranking of the word being committed), in
    /// `[0, 1]`; 0 leaves the decision to the n-gram model. The default,
    /// 0.3, with `score_typed_with_lm`, was chosen from a grid over
    /// {0, 0.3, 0.6, 0.9} on validation logs: as accurate as 0.6 and 0.9
    /// (within 0.1 point) with the fewest correct words changed (see
    /// ARCHITECTURE.md).
    pub decision_lm_weight: f32,
    /// In the autocorrect decision, score a typed word the lexicon does not
    /// know with the neural model too (as the lexicon words it is weighed
    /// against are), not by the unknown-word prior alone.
    pub score_typed_with_lm: bool,
    /// Weight of the neural model's probability of the next word, given
    /// each reading of the word before it, when that word is decided
    /// again at the next word's commit; 0 turns the revision off. The
    /// default, 1.0, was chosen on validation logs against 0.6 (see
    /// ARCHITECTURE.md).
    pub lookahead_lm_weight: f32,
    /// Candidates the neural model rescores per call (the best of the
    /// n-gram ranking), and words it proposes before the first letter.
    pub lm_candidates: usize,
    /// Words the neural model proposes itself while a word is typed (its
    /// likeliest next words that start with the typed letters), rescored
    /// beside the n-gram candidates; 0 turns the proposals off.
    pub lm_proposals: usize,
    /// Tokens of the text before the cursor the neural model reads at most
    /// (the model's window is longer; every run copies and attends to the
    /// whole cached context, so fewer tokens are faster).
    pub lm_context_tokens: usize,
    /// Time a call may spend before the neural stage is skipped.
    pub lm_budget: Duration,
    /// Which corrector decides what a typed word becomes at the space.
    pub corrector: Corrector,
    /// Standard deviation of taps around a key centre, in key widths, that
    /// the touch model assumes; with `touch_adaptation`, a user whose
    /// accepted taps spread less is modelled with less (down to 0.3, see
    /// [`crate::decode::spatial`]).
    pub touch_sigma: f32,
    /// Weight of the touch model's log-likelihood against the language
    /// model's.
    pub touch_weight: f32,
    /// Cost (nats) of a stray tap or a left-out letter; a swap costs half a
    /// nat less.
    pub edit_penalty: f32,
    /// A typed lexicon word at most this costly (centibels, lower is more
    /// frequent) is common: autocorrected only by a correction far likelier
    /// in its context (a real-word error, "night" for "might"), never read
    /// as several words.
    pub keep_cost: u16,
    /// Log-probability of a typed word the lexicon does not know.
    pub unknown_word_log_prob: f32,
    /// A correction is applied when it scores this many nats above the
    /// typed word; above zero it is only offered.
    pub autocorrect_margin: f32,
    /// Learn where this user taps each key, and how widely, from the words
    /// they accept.
    pub touch_adaptation: bool,
    /// Learn the user's words and pairs into the personal dictionary (where
    /// the field allows it).
    pub personal_learning: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            pair_weight: 0.6,
            suggestions: 3,
            lm_weight: 0.9,
            decision_lm_weight: 0.3,
            score_typed_with_lm: true,
            lookahead_lm_weight: 1.0,
            lm_candidates: 8,
            lm_proposals: 8,
            lm_context_tokens: 32,
            lm_budget: Duration::from_millis(10),
            corrector: Corrector::Spatial,
            touch_sigma: 0.45,
            touch_weight: 1.0,
            edit_penalty: 5.0,
            keep_cost: 400,
            unknown_word_log_prob: -16.0,
            autocorrect_margin: 1.0,
            touch_adaptation: true,
            personal_learning: true,
        }
    }
}

/// Where the neural language model comes from.
#[derive(Debug, Clone)]
struct LmSource {
    dir: PathBuf,
    runtime: PathBuf,
    threads: usize,
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
    lm: Option<LmSource>,
    personal: Option<PathBuf>,
    personal_key: Option<StoreKey>,
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

    /// Loads the neural language model in `dir` with the ONNX Runtime
    /// library `runtime`, running on `threads` threads. If it cannot be
    /// loaded, the engine is still built and ranks with its n-gram model;
    /// [`Engine::lm_error`] says why.
    pub fn language_model(
        mut self,
        dir: impl Into<PathBuf>,
        runtime: impl Into<PathBuf>,
        threads: usize,
    ) -> Self {
        self.lm = Some(LmSource {
            dir: dir.into(),
            runtime: runtime.into(),
            threads,
        });
        self
    }

    /// Keeps the personal dictionary in the file `path` (created if
    /// missing). Without it the dictionary lives in memory only. A damaged
    /// file is kept aside and reported by [`Engine::personal_error`]; the
    /// engine starts with an empty dictionary at `path`.
    pub fn personal_store(mut self, path: impl Into<PathBuf>) -> Self {
        self.personal = Some(path.into());
        self
    }

    /// Encrypts the personal dictionary's file at rest with `key` (256
    /// bits, from the Keychain or the Keystore). A file in the clear is
    /// rewritten encrypted; an encrypted file opened with another key (or
    /// none) is left untouched, the dictionary lives in memory for this
    /// engine, and [`Engine::personal_error`] is [`Error::PersonalKey`].
    pub fn personal_key(mut self, key: StoreKey) -> Self {
        self.personal_key = Some(key);
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
        let (lm, lm_error) = match self.lm {
            None => (None, None),
            Some(source) => match NeuralLm::load(&source.dir, &source.runtime, source.threads) {
                Ok(lm) => (Some(Arc::new(lm)), None),
                Err(e) => (None, Some(e)),
            },
        };
        let limits = Limits::default();
        let key = self.personal_key.as_ref();
        let (personal, personal_error) = match &self.personal {
            None => (PersonalStore::in_memory(limits), None),
            Some(path) => match PersonalStore::open_with(path, limits, key) {
                Ok(store) => (store, None),
                // The damaged file was moved aside: start afresh there.
                Err(e @ Error::PersonalStore { .. }) => (
                    PersonalStore::open_with(path, limits, key)
                        .unwrap_or_else(|_| PersonalStore::in_memory(limits)),
                    Some(e),
                ),
                Err(e) => (PersonalStore::in_memory(limits), Some(e)),
            },
        };
        let inner = Arc::new(Inner {
            config: self.config,
            packs,
            lm,
            lm_error,
            personal_error,
        });
        Ok(Engine {
            spatial: spatial_models(&inner),
            personal: Arc::new(personal),
            inner,
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
    lm: Option<Arc<NeuralLm>>,
    lm_error: Option<Error>,
    personal_error: Option<Error>,
}

/// The prediction engine: loaded packs and configuration. Cheap to clone,
/// immutable and shared between threads; each text field gets a [`Session`].
#[derive(Debug, Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    /// Touch models with what this user's taps taught them.
    spatial: Arc<BTreeMap<String, Arc<SpatialModel>>>,
    /// The user's words.
    personal: Arc<PersonalStore>,
}

/// Fresh touch models for every pack.
fn spatial_models(inner: &Inner) -> Arc<BTreeMap<String, Arc<SpatialModel>>> {
    Arc::new(
        inner
            .packs
            .iter()
            .map(|(language, pack)| {
                let model = SpatialModel::new(pack.layout(), inner.config.touch_sigma);
                (language.clone(), Arc::new(model))
            })
            .collect(),
    )
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

    /// The touch model of `language`'s layout, with the offsets learned
    /// from this engine's sessions.
    pub fn spatial_model(&self, language: &str) -> Result<&Arc<SpatialModel>> {
        self.pack(language)?;
        self.spatial
            .get(language)
            .ok_or_else(|| Error::UnknownLanguage {
                language: language.to_owned(),
                available: self.languages().map(str::to_owned).collect(),
            })
    }

    /// The same packs and models with nothing learned: a fresh user, with
    /// fresh touch offsets and an empty in-memory personal dictionary.
    /// Cheap (the packs and models are shared); replays give each log its
    /// own, so that what one log teaches does not leak into another.
    pub fn fresh_user(&self) -> Engine {
        Engine {
            spatial: spatial_models(&self.inner),
            personal: Arc::new(PersonalStore::in_memory(Limits::default())),
            inner: self.inner.clone(),
        }
    }

    /// The user's personal dictionary.
    pub fn personal(&self) -> &Arc<PersonalStore> {
        &self.personal
    }

    /// Why the personal dictionary's file could not be used, if it could
    /// not (the engine then runs with an empty dictionary).
    pub fn personal_error(&self) -> Option<&Error> {
        self.inner.personal_error.as_ref()
    }

    /// Opts in to privacy-preserving discovery of new words: each word
    /// that becomes a personal suggestion for the first time and is in no
    /// loaded pack's lexicon is turned into one ε-LDP report, taken with
    /// [`PersonalStore::take_ldp_reports`]. See [`crate::personal::ldp`]
    /// for the guarantee.
    pub fn enable_ldp(&self, params: SketchParams) -> Result<()> {
        let packs: Vec<Arc<LanguagePack>> = self.inner.packs.values().cloned().collect();
        self.personal.enable_ldp(
            params,
            Box::new(move |word| {
                let key = fold(word);
                packs.iter().all(|pack| pack.exact(&key).next().is_none())
            }),
        )
    }

    /// Forgets `word` everywhere: the personal dictionary's entry and
    /// pairs, the learned touch offsets and spread (which do not record which word
    /// taught them, so they are all reset) and the neural model's cached
    /// contexts.
    pub fn forget(&self, word: &str) -> Result<()> {
        self.personal.forget(word)?;
        self.drop_traces();
        Ok(())
    }

    /// Forgets everything the user taught the engine: the personal
    /// dictionary, the learned touch offsets and spread, and the neural model's cache
    /// of recent contexts.
    pub fn clear_personal(&self) -> Result<()> {
        self.personal.clear()?;
        self.drop_traces();
        Ok(())
    }

    /// Drops what holds typed text or what was learned from it outside the
    /// personal dictionary: touch offsets and spread, and the neural model's cached
    /// contexts. (A session's own text is the host's to close.)
    fn drop_traces(&self) {
        for model in self.spatial.values() {
            model.offsets().clear();
        }
        if let Some(lm) = &self.inner.lm {
            lm.clear_cache();
        }
    }

    /// The neural language model, if one is loaded.
    pub fn language_model(&self) -> Option<&Arc<NeuralLm>> {
        self.inner.lm.as_ref()
    }

    /// Why the requested neural language model could not be loaded.
    pub fn lm_error(&self) -> Option<&Error> {
        self.inner.lm_error.as_ref()
    }

    /// The top `k` suggestions for the current word `word` after `context`
    /// (the text before it), in `language`. A word with a hyphen is
    /// completed after its last hyphen ("asseyez-v" → "asseyez-vous").
    pub fn suggest(
        &self,
        language: &str,
        context: &str,
        word: &str,
        k: usize,
    ) -> Result<Vec<Suggestion>> {
        Ok(self.suggest_with_stages(language, context, word, k)?.0)
    }

    /// [`Engine::suggest`], also saying which stages ranked the result.
    pub fn suggest_with_stages(
        &self,
        language: &str,
        context: &str,
        word: &str,
        k: usize,
    ) -> Result<(Vec<Suggestion>, Stages)> {
        let pack = self.pack(language)?;
        let lm = self.inner.lm.as_deref();
        // A word with a hyphen and letters after it ("asseyez-v") is
        // completed after its last hyphen and written after the parts
        // before it ("asseyez-vous"): the lexicon holds hyphenated words
        // joined if at all.
        if let Some(hyphen) = word.rfind('-').filter(|&i| i > 0 && i + 1 < word.len()) {
            let (head, tail) = word.split_at(hyphen + 1);
            let context = format!("{context}{head}");
            let (list, stages) = suggest::suggest(pack, lm, &self.inner.config, &context, tail, k);
            return Ok((suggest::after_hyphen(head, list), stages));
        }
        Ok(suggest::suggest(
            pack,
            lm,
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
