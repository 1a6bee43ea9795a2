//! The stroke model: an int8 ONNX network from features to per-frame
//! character log-probabilities, run through the engine's ONNX Runtime.
//!
//! A model directory holds `model.int8.onnx`, `charset.txt` and
//! `SHA256SUMS`. Loading checks both files against their checksums before
//! ONNX Runtime sees a byte, so a truncated or damaged download is a typed
//! [`Error::Model`] naming the file, never a crash inside the runtime. The
//! runtime itself is the engine's: [`nib_engine::lm::load_runtime`] loads
//! it once per process, whichever model asks first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use ort::session::Session as OrtSession;
use ort::value::Tensor;
use sha2::{Digest, Sha256};

use crate::charset::Charset;
use crate::error::{Error, Result};
use crate::features::{Features, NUM_FEATURES, frames_for};

/// The model file in a model directory.
pub const MODEL_FILE: &str = "model.int8.onnx";
/// The charset file.
pub const CHARSET_FILE: &str = "charset.txt";
/// The checksum file (`sha256sum` format).
pub const CHECKSUM_FILE: &str = "SHA256SUMS";
/// Largest model file accepted (the design's budget is 5 MB).
const MAX_MODEL_BYTES: u64 = 16 << 20;

/// Per-frame log-probabilities over the classes, `[frames, classes]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogProbs {
    classes: usize,
    data: Vec<f32>,
}

impl LogProbs {
    /// Log-probabilities of `frames × classes` values, row-major. `None` if
    /// the lengths disagree or `classes` is 0.
    pub fn new(classes: usize, data: Vec<f32>) -> Option<Self> {
        (classes > 0 && data.len().is_multiple_of(classes)).then_some(Self { classes, data })
    }

    /// Frames.
    pub fn frames(&self) -> usize {
        self.data.len() / self.classes
    }

    /// Classes per frame.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The log-probabilities of frame `t`.
    pub fn frame(&self, t: usize) -> &[f32] {
        self.data
            .get(t * self.classes..(t + 1) * self.classes)
            .unwrap_or(&[])
    }
}

/// A loaded stroke model with its charset.
pub struct StrokeModel {
    dir: PathBuf,
    charset: Charset,
    session: Mutex<OrtSession>,
}

impl std::fmt::Debug for StrokeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrokeModel")
            .field("dir", &self.dir)
            .field("classes", &self.charset.len())
            .finish()
    }
}

/// The SHA-256 of `bytes`, in lower-case hex.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads `file` of `dir` and checks it against the `SHA256SUMS` line that
/// names it.
fn read_checked(dir: &Path, sums: &str, file: &str, limit: u64) -> Result<Vec<u8>> {
    let path = dir.join(file);
    let fail = |detail: String| Error::Model {
        path: path.clone(),
        detail,
    };
    let expected = sums
        .lines()
        .filter_map(|l| l.split_once(char::is_whitespace))
        .find(|(_, name)| name.trim().trim_start_matches('*') == file)
        .map(|(hash, _)| hash.to_ascii_lowercase())
        .ok_or_else(|| fail(format!("not listed in {CHECKSUM_FILE}")))?;
    let len = std::fs::metadata(&path)
        .map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?
        .len();
    if len > limit {
        return Err(fail(format!("{len} bytes, more than {limit}")));
    }
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let found = sha256_hex(&bytes);
    if found != expected {
        return Err(fail(format!(
            "checksum mismatch (SHA-256 {found}, expected {expected}): damaged or truncated"
        )));
    }
    Ok(bytes)
}

impl StrokeModel {
    /// Loads the model in `dir` with ONNX Runtime from `runtime` (the
    /// engine's runtime: loaded once per process), checking the checksums
    /// first and running one frame to prove the shapes.
    pub fn load(dir: &Path, runtime: &Path) -> Result<Self> {
        let sums_path = dir.join(CHECKSUM_FILE);
        let sums = std::fs::read_to_string(&sums_path).map_err(|source| Error::Io {
            path: sums_path.clone(),
            source,
        })?;
        let charset_bytes = read_checked(dir, &sums, CHARSET_FILE, 1 << 20)?;
        let charset_path = dir.join(CHARSET_FILE);
        let text = String::from_utf8(charset_bytes).map_err(|_| Error::Model {
            path: charset_path.clone(),
            detail: "not UTF-8".into(),
        })?;
        let charset = Charset::parse(&text, &charset_path)?;
        let model = read_checked(dir, &sums, MODEL_FILE, MAX_MODEL_BYTES)?;
        let env = nib_engine::lm::load_runtime(runtime)?;
        let model_path = dir.join(MODEL_FILE);
        let fail = |e: &dyn std::fmt::Display| Error::Model {
            path: model_path.clone(),
            detail: e.to_string(),
        };
        let session = nib_engine::lm::session_builder(env, 1)
            .map_err(|e| fail(&e))?
            .commit_from_memory(&model)
            .map_err(|e| fail(&e))?;
        let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if inputs != ["features"] {
            return Err(fail(&format!("unexpected inputs {inputs:?}")));
        }
        let loaded = Self {
            dir: dir.to_path_buf(),
            charset,
            session: Mutex::new(session),
        };
        // One run of a one-point ink proves the output has one class per
        // charset line.
        let one = [0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0];
        loaded.run_rows(&one, 1)?;
        Ok(loaded)
    }

    /// The model in `dir`, shared: while anything in the process still
    /// holds the one loaded from this directory with these checksums, it
    /// is returned instead of a second copy (a keyboard makes one
    /// recognizer per language); a model replaced on disk is loaded anew.
    pub fn shared(dir: &Path, runtime: &Path) -> Result<Arc<Self>> {
        type Loaded = HashMap<(PathBuf, String), Weak<StrokeModel>>;
        static LOADED: Mutex<Option<Loaded>> = Mutex::new(None);
        let sums_path = dir.join(CHECKSUM_FILE);
        let sums = std::fs::read_to_string(&sums_path).map_err(|source| Error::Io {
            path: sums_path.clone(),
            source,
        })?;
        let key = (
            std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
            sums,
        );
        // Held while loading, so that two threads do not load one model twice.
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        let loaded = loaded.get_or_insert_with(HashMap::new);
        loaded.retain(|_, model| model.strong_count() > 0);
        if let Some(model) = loaded.get(&key).and_then(Weak::upgrade) {
            return Ok(model);
        }
        let model = Arc::new(Self::load(dir, runtime)?);
        loaded.insert(key, Arc::downgrade(&model));
        Ok(model)
    }

    /// The model's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The output classes.
    pub fn charset(&self) -> &Charset {
        &self.charset
    }

    /// Runs the model on `features` (at least one row).
    pub fn run(&self, features: &Features) -> Result<LogProbs> {
        self.run_rows(features.as_slice(), features.rows())
    }

    fn run_rows(&self, values: &[f32], rows: usize) -> Result<LogProbs> {
        let path = self.dir.join(MODEL_FILE);
        let fail = |detail: String| Error::Model {
            path: path.clone(),
            detail,
        };
        if rows == 0 || values.len() != rows * NUM_FEATURES {
            return Err(fail(format!("{rows} feature rows cannot be run")));
        }
        let input = Tensor::from_array((
            vec![1i64, rows as i64, NUM_FEATURES as i64],
            values.to_vec(),
        ))
        .map_err(|e| fail(e.to_string()))?;
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(ort::inputs!["features" => input])
            .map_err(|e| fail(e.to_string()))?;
        let (_, data) = outputs["log_probs"]
            .try_extract_tensor::<f32>()
            .map_err(|e| fail(e.to_string()))?;
        let (frames, classes) = (frames_for(rows), self.charset.len());
        if data.len() != frames * classes {
            return Err(fail(format!(
                "{} output values, expected {frames} frames of {classes} classes",
                data.len()
            )));
        }
        LogProbs::new(classes, data.to_vec()).ok_or_else(|| fail("empty output".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_like_sha256sum() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn refuses_a_damaged_model_before_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let released = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/nib-hw-1");
        for f in [CHECKSUM_FILE, CHARSET_FILE] {
            std::fs::copy(released.join(f), dir.path().join(f)).unwrap();
        }
        let model = std::fs::read(released.join(MODEL_FILE)).unwrap();
        std::fs::write(dir.path().join(MODEL_FILE), &model[..model.len() / 2]).unwrap();
        let err =
            StrokeModel::load(dir.path(), Path::new("/nonexistent/libonnxruntime.so")).unwrap_err();
        assert!(
            matches!(&err, Error::Model { detail, .. } if detail.contains("checksum")),
            "{err}"
        );
        std::fs::remove_file(dir.path().join(MODEL_FILE)).unwrap();
        let err =
            StrokeModel::load(dir.path(), Path::new("/nonexistent/libonnxruntime.so")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
