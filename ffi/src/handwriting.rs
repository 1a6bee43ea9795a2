//! Handwriting through the bindings: a recognizer (the stroke model with a
//! language's lexicon, shared) and ink areas (one per writing surface).
//!
//! The host adds each stroke when the pen lifts (`InkArea.add_stroke`) and
//! asks for candidates (`candidates(k)`); see `nib_handwriting` for what an
//! update recomputes. An ink area, like a `Session`, is driven from one
//! thread: a second thread at the same moment gets `Busy`.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use crate::engine::Engine;
use crate::error::{NibError, Result};
use crate::exclusive::Exclusive;
use crate::types::{InkCandidate, InkPoint};

/// The stroke model with one language's lexicon and word model: loaded
/// once, shared by every ink area. Safe to use from any thread.
#[derive(Debug, uniffi::Object)]
pub struct HandwritingRecognizer {
    /// `None` once closed.
    inner: RwLock<Option<Arc<nib_handwriting::Recognizer>>>,
}

impl HandwritingRecognizer {
    fn get(&self) -> Result<Arc<nib_handwriting::Recognizer>> {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| NibError::Closed("the recognizer is closed".into()))
    }
}

/// The ink of a host's stroke, checked by the recognizer.
fn stroke(points: Vec<InkPoint>) -> nib_handwriting::Stroke {
    points.into_iter().map(Into::into).collect()
}

#[uniffi::export]
impl HandwritingRecognizer {
    /// Loads the stroke model in `model_dir` (`model.int8.onnx`,
    /// `charset.txt`, `SHA256SUMS`) with the ONNX Runtime library at
    /// `runtime`, and uses `engine`'s pack for `language` to constrain and
    /// rank words, and its neural language model, when it has one, to rank
    /// words written after text (`InkArea.setContext`).
    ///
    /// Fails with `ModelUnavailable` when the model or the runtime is
    /// missing, damaged or of the wrong version, `UnknownLanguage` when the
    /// engine has no such pack, `Closed` when the engine is closed.
    #[uniffi::constructor]
    pub fn new(
        engine: Arc<Engine>,
        language: String,
        model_dir: String,
        runtime: String,
    ) -> Result<Arc<Self>> {
        let engine = engine.get()?;
        let pack = engine.pack(&language)?.clone();
        let mut config = nib_handwriting::RecognizerConfig::default();
        config.decode.pair_weight = engine.config().pair_weight;
        let recognizer = nib_handwriting::Recognizer::load(
            Path::new(&model_dir),
            Path::new(&runtime),
            Some(pack),
            config,
        )?
        .with_language_model(engine.language_model().cloned());
        Ok(Arc::new(Self {
            inner: RwLock::new(Some(Arc::new(recognizer))),
        }))
    }

    /// Recognises a whole ink at once (strokes of points in drawing
    /// order; any unit, y down, t in milliseconds): the `k` best readings,
    /// best first. Bad ink (no points, NaN, time going backwards in a
    /// stroke, too many points) fails with `InvalidInput`.
    pub fn recognize(&self, strokes: Vec<Vec<InkPoint>>, k: u32) -> Result<Vec<InkCandidate>> {
        let ink = nib_handwriting::Ink::new(strokes.into_iter().map(stroke).collect());
        let result = self.get()?.recognize(&ink, k as usize, "")?;
        Ok(result.candidates.into_iter().map(Into::into).collect())
    }

    /// A new, empty writing area.
    pub fn ink_area(&self) -> Result<Arc<InkArea>> {
        Ok(Arc::new(InkArea {
            inner: Exclusive::new(self.get()?.session(), "ink area"),
        }))
    }

    /// Releases the model and the pack (areas already made keep theirs);
    /// every later call is `Closed`.
    pub fn close(&self) {
        *self.inner.write().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The ink of one writing surface, recognised as strokes arrive.
#[derive(Debug, uniffi::Object)]
pub struct InkArea {
    inner: Exclusive<nib_handwriting::InkSession>,
}

impl InkArea {
    /// Runs `f` on the open area, or says why not.
    fn with<R>(&self, f: impl FnOnce(&mut nib_handwriting::InkSession) -> R) -> Result<R> {
        self.inner.with(f)
    }
}

#[uniffi::export]
impl InkArea {
    /// Adds a finished stroke (the points of one pen-down; any unit, y
    /// down, t in milliseconds). Bad points fail with `InvalidInput` and
    /// add nothing.
    pub fn add_stroke(&self, points: Vec<InkPoint>) -> Result<()> {
        self.with(|a| a.add_stroke(stroke(points)))?
            .map_err(|e| NibError::from(nib_handwriting::Error::from(e)))
    }

    /// The `k` best readings of the ink so far, best first, with
    /// completions of a last word that may still be being written (marked
    /// `completion`). Fails with `InvalidInput` while the area is empty.
    pub fn candidates(&self, k: u32) -> Result<Vec<InkCandidate>> {
        let result = self.with(|a| a.candidates(k as usize))??;
        Ok(result.candidates.into_iter().map(Into::into).collect())
    }

    /// Removes the last stroke; false if there was none.
    pub fn undo_stroke(&self) -> Result<bool> {
        self.with(|a| a.undo_stroke().is_some())
    }

    /// Removes all ink.
    pub fn clear_ink(&self) -> Result<()> {
        self.with(|a| a.clear())
    }

    /// Sets the text before the ink: its last word informs the ranking.
    pub fn set_context(&self, text: String) -> Result<()> {
        self.with(|a| a.set_context(&text))
    }

    /// Strokes so far.
    pub fn stroke_count(&self) -> Result<u32> {
        self.with(|a| a.stroke_count() as u32)
    }

    /// Ends the area; every later call is `Closed`.
    pub fn close(&self) {
        self.inner.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> String {
        std::env::var("NIB_ORT").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../.cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1"
            )
            .into()
        })
    }

    fn model() -> String {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../handwriting/models/nib-hw-1"
        )
        .into()
    }

    fn fixture(name: &str) -> Vec<Vec<InkPoint>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../handwriting/testdata/ink")
            .join(format!("{name}.json"));
        let (ink, _) = nib_handwriting::read_ink(&path).unwrap();
        ink.strokes
            .iter()
            .map(|s| {
                s.iter()
                    .map(|p| InkPoint {
                        x: p.x,
                        y: p.y,
                        t: p.t,
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn recognises_ink_and_refuses_bad_ink() {
        let engine = Engine::new(
            crate::tests::pack_dir(),
            vec!["en".into()],
            crate::EngineConfig::default(),
        )
        .unwrap();
        let recognizer =
            HandwritingRecognizer::new(engine.clone(), "en".into(), model(), runtime()).unwrap();
        let strokes = fixture("hello");
        assert_eq!(
            recognizer.recognize(strokes.clone(), 3).unwrap()[0].text,
            "hello"
        );
        let area = recognizer.ink_area().unwrap();
        assert!(matches!(area.candidates(3), Err(NibError::InvalidInput(_))));
        for s in strokes {
            area.add_stroke(s).unwrap();
        }
        assert_eq!(area.candidates(1).unwrap()[0].text, "hello");
        let nan = vec![InkPoint {
            x: f64::NAN,
            y: 0.0,
            t: 0.0,
        }];
        assert!(matches!(
            area.add_stroke(nan),
            Err(NibError::InvalidInput(_))
        ));
        assert!(area.undo_stroke().unwrap());
        area.clear_ink().unwrap();
        assert_eq!(area.stroke_count().unwrap(), 0);
        area.close();
        assert!(matches!(area.candidates(1), Err(NibError::Closed(_))));
        let missing = HandwritingRecognizer::new(
            engine.clone(),
            "en".into(),
            "/nonexistent".into(),
            runtime(),
        );
        assert!(matches!(missing, Err(NibError::ModelUnavailable(_))));
        let unknown = HandwritingRecognizer::new(engine, "xx".into(), model(), runtime());
        assert!(matches!(unknown, Err(NibError::UnknownLanguage(_))));
        recognizer.close();
        assert!(matches!(recognizer.ink_area(), Err(NibError::Closed(_))));
    }
}
