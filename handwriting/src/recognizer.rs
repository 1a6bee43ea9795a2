//! Recognition: ink in, ranked candidates out, from scratch or while the
//! pen moves.
//!
//! A [`Recognizer`] is built once (the stroke model, optionally a language
//! pack, settings) and is immutable and `Send + Sync`; an [`InkSession`]
//! holds the ink of one writing area and answers with candidates after each
//! stroke.
//!
//! # What an update recomputes
//!
//! Honestly: most of it. A new stroke changes the ink's height, mean and
//! slant, which move every earlier point, and the model's bidirectional
//! LSTM reads the whole sequence in both directions, so every frame's
//! output can change. An update therefore
//!
//! - **keeps** each finished stroke's validation and cleaning, with its
//!   height sums and bounding box ([`CleanStroke`]), computed once when the
//!   stroke arrives;
//! - **recomputes** normalisation, resampling and features over all strokes
//!   (one linear pass), the model over the whole sequence, and the beam
//!   search over all frames;
//! - **skips everything** when asked again without a new stroke (the last
//!   answer is kept, as many panels ask on every frame).
//!
//! For a word (a few hundred resampled points) the model dominates at
//! about a millisecond; see the `handwriting` benchmark.

use std::path::Path;
use std::sync::Arc;

use nib_engine::lm::NeuralLm;
use nib_engine::pack::LanguagePack;

use crate::decode::{Candidate, DecodeParams, Decoder, Groups, greedy};
use crate::error::{InkError, Result};
use crate::features::{CleanStroke, Features, features_bounded};
use crate::ink::{Ink, InkLimits, Point, validate_stroke};
use crate::model::{LogProbs, StrokeModel};
use crate::rescore::neural_rescore;

/// Settings of a recognizer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecognizerConfig {
    /// The search's settings.
    pub decode: DecodeParams,
    /// What ink is accepted.
    pub limits: InkLimits,
    /// Most resampled points recognised at once (about 20 words of writing).
    pub max_feature_rows: usize,
    /// In an [`InkSession`], where the pen may still be writing the last
    /// word, completions of it are offered at this cost (see
    /// [`DecodeParams::completion_penalty`]); `None` turns them off. Set
    /// by hand, not tuned: UNIPEN has no half-written words.
    pub session_completion_penalty: Option<f32>,
    /// Weight of the neural language model's score of a whole reading
    /// (given the text before the ink) added to the search's, when the
    /// recognizer has a model ([`Recognizer::with_language_model`]); 0
    /// turns it off. Chosen on the tuning fifth of the UNIPEN validation
    /// writers (see ARCHITECTURE.md).
    pub neural_weight: f32,
    /// The search's best readings that the neural model rescores (at least
    /// the number asked for).
    pub neural_candidates: usize,
    /// Nats added per word the neural model scores, against its preference
    /// for readings of fewer words.
    pub neural_word_bonus: f32,
}

impl Default for RecognizerConfig {
    fn default() -> Self {
        Self {
            decode: DecodeParams::default(),
            limits: InkLimits::default(),
            max_feature_rows: 6_000,
            session_completion_penalty: Some(2.0),
            neural_weight: 0.5,
            neural_candidates: 8,
            neural_word_bonus: 5.0,
        }
    }
}

/// The result of one recognition.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    /// The best readings, best first.
    pub candidates: Vec<Candidate>,
    /// The model's own best reading (greedy CTC, no lexicon).
    pub raw: String,
    /// Resampled points the model read.
    pub feature_rows: usize,
    /// Whether the neural language model rescored the readings.
    pub neural: bool,
}

/// A stroke model with a language pack: immutable, shared.
#[derive(Debug)]
pub struct Recognizer {
    model: Arc<StrokeModel>,
    pack: Option<Arc<LanguagePack>>,
    lm: Option<Arc<NeuralLm>>,
    groups: Groups,
    config: RecognizerConfig,
}

impl Recognizer {
    /// A recognizer for `model`, constrained by `pack`'s lexicon and word
    /// model, or free (any character string) without one.
    pub fn new(
        model: Arc<StrokeModel>,
        pack: Option<Arc<LanguagePack>>,
        config: RecognizerConfig,
    ) -> Self {
        let groups = Groups::new(model.charset());
        Self {
            model,
            pack,
            lm: None,
            groups,
            config,
        }
    }

    /// Loads the model in `model_dir` with ONNX Runtime from `runtime` (or
    /// shares the one already loaded, see [`StrokeModel::shared`]) and
    /// uses `pack`.
    pub fn load(
        model_dir: &Path,
        runtime: &Path,
        pack: Option<Arc<LanguagePack>>,
        config: RecognizerConfig,
    ) -> Result<Self> {
        Ok(Self::new(
            StrokeModel::shared(model_dir, runtime)?,
            pack,
            config,
        ))
    }

    /// The same model and pack with other settings.
    pub fn with_config(&self, config: RecognizerConfig) -> Self {
        Self {
            model: self.model.clone(),
            pack: self.pack.clone(),
            lm: self.lm.clone(),
            groups: self.groups.clone(),
            config,
        }
    }

    /// The same recognizer with the engine's neural language model (or
    /// none) to rescore its best readings with the text before the ink.
    /// Only used with a pack: without one the recognizer is the plain
    /// stroke model.
    pub fn with_language_model(&self, lm: Option<Arc<NeuralLm>>) -> Self {
        Self {
            lm,
            ..self.with_config(self.config)
        }
    }

    /// The neural language model, if any.
    pub fn language_model(&self) -> Option<&Arc<NeuralLm>> {
        self.lm.as_ref()
    }

    /// The same model and settings with another pack (or none).
    pub fn with_pack(&self, pack: Option<Arc<LanguagePack>>) -> Self {
        Self {
            pack,
            ..self.with_config(self.config)
        }
    }

    /// The settings.
    pub fn config(&self) -> &RecognizerConfig {
        &self.config
    }

    /// The stroke model.
    pub fn model(&self) -> &Arc<StrokeModel> {
        &self.model
    }

    /// The language pack, if any.
    pub fn pack(&self) -> Option<&Arc<LanguagePack>> {
        self.pack.as_ref()
    }

    /// The features of `ink`, after checking it against the limits.
    pub fn features(&self, ink: &Ink) -> Result<Features> {
        ink.validate(&self.config.limits)?;
        let strokes: Vec<CleanStroke> = ink
            .strokes
            .iter()
            .filter_map(|s| CleanStroke::new(s))
            .collect();
        Ok(features_bounded(&strokes, self.config.max_feature_rows)?)
    }

    /// Recognises `ink` from scratch: the `k` best readings. `context` is
    /// the text before the ink (its last word feeds the pair model).
    pub fn recognize(&self, ink: &Ink, k: usize, context: &str) -> Result<Recognition> {
        let features = self.features(ink)?;
        self.recognize_features(&features, k, context)
    }

    /// Runs the model and the search on features already computed.
    pub fn recognize_features(
        &self,
        features: &Features,
        k: usize,
        context: &str,
    ) -> Result<Recognition> {
        self.recognize_with(features, k, context, self.config.decode)
    }

    /// The search settings of an [`InkSession`]: the recognizer's, with
    /// completions of the last word.
    pub fn session_params(&self) -> DecodeParams {
        DecodeParams {
            completion_penalty: self.config.session_completion_penalty,
            ..self.config.decode
        }
    }

    fn recognize_with(
        &self,
        features: &Features,
        k: usize,
        context: &str,
        params: DecodeParams,
    ) -> Result<Recognition> {
        if features.is_empty() {
            return Err(InkError::Empty.into());
        }
        let log_probs = self.model.run(features)?;
        Ok(self.decode_with(&log_probs, features.rows(), k, context, params))
    }

    /// Decodes the model's output.
    pub fn decode(
        &self,
        log_probs: &LogProbs,
        feature_rows: usize,
        k: usize,
        context: &str,
    ) -> Recognition {
        self.decode_with(log_probs, feature_rows, k, context, self.config.decode)
    }

    fn decode_with(
        &self,
        log_probs: &LogProbs,
        feature_rows: usize,
        k: usize,
        context: &str,
        params: DecodeParams,
    ) -> Recognition {
        let decoder = Decoder {
            pack: self.pack.as_deref(),
            groups: &self.groups,
            charset: self.model.charset(),
            params,
        };
        let previous = nib_engine::analyse_context(context).previous_word;
        let raw = greedy(log_probs, self.model.charset());
        // Lines are left to the search: rescoring every reading word by
        // word cost 16 ms a line at the median (50 ms at p99) and did not
        // help on the tuning lines. The model's own reading tells a line.
        let line = raw.split_whitespace().nth(1).is_some();
        let lm = self
            .lm
            .as_deref()
            .filter(|_| self.pack.is_some() && self.config.neural_weight > 0.0 && k > 0 && !line);
        let mut neural = false;
        let candidates = match lm {
            Some(lm) => {
                let mut candidates =
                    decoder.decode(log_probs, k.max(self.config.neural_candidates), previous);
                // A failing model leaves the search's ranking.
                neural = neural_rescore(
                    lm,
                    context,
                    &mut candidates,
                    self.config.neural_weight,
                    self.config.neural_word_bonus,
                )
                .is_ok();
                candidates.truncate(k);
                candidates
            }
            None => decoder.decode(log_probs, k, previous),
        };
        Recognition {
            candidates,
            raw,
            feature_rows,
            neural,
        }
    }

    /// A new, empty writing area.
    pub fn session(self: &Arc<Self>) -> InkSession {
        InkSession {
            recognizer: self.clone(),
            strokes: Vec::new(),
            clean: Vec::new(),
            points: 0,
            context: String::new(),
            generation: 0,
            last: None,
        }
    }
}

/// The ink of one writing area, recognised as it grows.
#[derive(Debug)]
pub struct InkSession {
    recognizer: Arc<Recognizer>,
    strokes: Vec<Vec<Point>>,
    /// Cleaned strokes (`None`: nothing left after cleaning), one per stroke.
    clean: Vec<Option<CleanStroke>>,
    points: usize,
    context: String,
    /// Bumped by every change of the ink or the context.
    generation: u64,
    /// The last answer: the generation and `k` it was for.
    last: Option<(u64, usize, Recognition)>,
}

impl InkSession {
    /// Adds a finished stroke. It is checked (finite, bounded, time not
    /// going backwards, within the limits) and cleaned once, here.
    pub fn add_stroke(&mut self, points: Vec<Point>) -> Result<(), InkError> {
        let limits = &self.recognizer.config.limits;
        if self.strokes.len() >= limits.max_strokes {
            return Err(InkError::TooManyStrokes {
                found: self.strokes.len() + 1,
                limit: limits.max_strokes,
            });
        }
        let total = self.points.saturating_add(points.len());
        if total > limits.max_points {
            return Err(InkError::TooManyPoints {
                found: total,
                limit: limits.max_points,
            });
        }
        validate_stroke(&points, self.strokes.len(), limits)?;
        self.clean.push(CleanStroke::new(&points));
        self.points = total;
        self.strokes.push(points);
        self.generation += 1;
        Ok(())
    }

    /// Removes the last stroke, if any.
    pub fn undo_stroke(&mut self) -> Option<Vec<Point>> {
        let stroke = self.strokes.pop()?;
        self.clean.pop();
        self.points -= stroke.len();
        self.generation += 1;
        Some(stroke)
    }

    /// Removes all ink.
    pub fn clear(&mut self) {
        self.strokes.clear();
        self.clean.clear();
        self.points = 0;
        self.generation += 1;
    }

    /// Sets the text before the ink (for the pair model).
    pub fn set_context(&mut self, context: &str) {
        if self.context != context {
            self.context = context.to_owned();
            self.generation += 1;
        }
    }

    /// The strokes so far.
    pub fn ink(&self) -> Ink {
        Ink::new(self.strokes.clone())
    }

    /// Number of strokes.
    pub fn stroke_count(&self) -> usize {
        self.strokes.len()
    }

    /// The `k` best readings of the ink so far, with completions of a last
    /// word that may still be being written
    /// ([`RecognizerConfig::session_completion_penalty`]). Asking again
    /// without a new stroke returns the kept answer.
    pub fn candidates(&mut self, k: usize) -> Result<Recognition> {
        if let Some((generation, kk, answer)) = &self.last
            && *generation == self.generation
            && *kk == k
        {
            return Ok(answer.clone());
        }
        if self.points == 0 {
            return Err(InkError::Empty.into());
        }
        let clean: Vec<CleanStroke> = self.clean.iter().flatten().cloned().collect();
        let features = features_bounded(&clean, self.recognizer.config.max_feature_rows)?;
        let params = self.recognizer.session_params();
        let answer = self
            .recognizer
            .recognize_with(&features, k, &self.context, params)?;
        self.last = Some((self.generation, k, answer.clone()));
        Ok(answer)
    }
}
