//! Reading the `ink` events of typing logs in the engine's replay.

use std::collections::BTreeMap;
use std::sync::Arc;

use nib_engine::Engine;
use nib_engine::typing::{InkDecoder, Point};

use crate::ink::Ink;
use crate::model::StrokeModel;
use crate::recognizer::{Recognizer, RecognizerConfig};

/// An [`InkDecoder`] for [`nib_engine::typing::Replayer::with_ink`]: one
/// recognizer per language of an engine, sharing one stroke model and the
/// engine's neural language model, settings as the bindings' recognizer.
#[derive(Debug)]
pub struct LogInkDecoder {
    recognizers: BTreeMap<String, Recognizer>,
}

impl LogInkDecoder {
    /// Recognizers for every pack of `engine`, reading with `model`.
    pub fn new(model: Arc<StrokeModel>, engine: &Engine) -> Self {
        let mut config = RecognizerConfig::default();
        config.decode.pair_weight = engine.config().pair_weight;
        let recognizers = engine
            .languages()
            .filter_map(|language| {
                let pack = engine.pack(language).ok()?.clone();
                let recognizer = Recognizer::new(model.clone(), Some(pack), config)
                    .with_language_model(engine.language_model().cloned());
                Some((language.to_owned(), recognizer))
            })
            .collect();
        Self { recognizers }
    }
}

impl InkDecoder for LogInkDecoder {
    fn read(
        &self,
        language: &str,
        strokes: &[Vec<Point>],
        context: &str,
    ) -> std::result::Result<String, String> {
        let recognizer = self
            .recognizers
            .get(language)
            .ok_or_else(|| format!("no recognizer for language {language:?}"))?;
        let recognition = recognizer
            .recognize(&Ink::from_log(strokes), 1, context)
            .map_err(|e| e.to_string())?;
        recognition
            .candidates
            .into_iter()
            .next()
            .map(|c| c.text)
            .ok_or_else(|| "no reading".to_owned())
    }
}
