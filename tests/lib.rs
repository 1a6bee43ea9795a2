//! Shared fixtures of nib's integration tests and benchmarks: where the built
//! packs are, and the behaviour cases stored as data.
#![deny(missing_docs)]

use std::path::PathBuf;
use std::sync::OnceLock;

use nib_engine::Engine;
use serde::Deserialize;

/// The pack directory: `$NIB_PACKS`, else `.cache/packs` in the repository.
pub fn pack_dir() -> PathBuf {
    std::env::var_os("NIB_PACKS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.cache/packs"))
}

/// The neural model directory: `$NIB_LM`, else the released model in
/// `languages/models/nib-lm-1`.
pub fn lm_dir() -> PathBuf {
    std::env::var_os("NIB_LM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../languages/models/nib-lm-1")
        })
}

/// The ONNX Runtime library: `$NIB_ORT`, else the one `languages/fetch.py`
/// unpacks.
pub fn runtime() -> PathBuf {
    std::env::var_os("NIB_ORT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../.cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1")
        })
}

/// The loaded neural model, once per test binary. Panics with instructions
/// when the runtime has not been fetched.
pub fn neural_lm() -> std::sync::Arc<nib_engine::lm::NeuralLm> {
    static LM: OnceLock<std::sync::Arc<nib_engine::lm::NeuralLm>> = OnceLock::new();
    LM.get_or_init(
        || match nib_engine::lm::NeuralLm::load(&lm_dir(), &runtime(), 1) {
            Ok(lm) => std::sync::Arc::new(lm),
            Err(e) => panic!("{e}\nfetch the runtime first: bash .ci/setup"),
        },
    )
    .clone()
}

/// The stroke model directory: `$NIB_HW_MODEL`, else the released model in
/// `handwriting/models/nib-hw-1`.
pub fn hw_model_dir() -> PathBuf {
    std::env::var_os("NIB_HW_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../handwriting/models/nib-hw-1")
        })
}

/// A synthetic ink fixture of `handwriting/testdata/ink/` (`hello`,
/// `world`, `line`, `name`): the ink and its label.
pub fn ink_fixture(name: &str) -> (nib_handwriting::Ink, String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../handwriting/testdata/ink")
        .join(format!("{name}.json"));
    match nib_handwriting::read_ink(&path) {
        Ok((ink, Some(label))) => (ink, label),
        Ok((_, None)) => panic!("{}: no label", path.display()),
        Err(e) => panic!("{e}"),
    }
}

/// The English handwriting recognizer (stroke model and the English pack),
/// loaded once per test binary. Panics with instructions when the runtime
/// has not been fetched.
pub fn recognizer() -> std::sync::Arc<nib_handwriting::Recognizer> {
    static RECOGNIZER: OnceLock<std::sync::Arc<nib_handwriting::Recognizer>> = OnceLock::new();
    RECOGNIZER
        .get_or_init(|| {
            let pack = match engine().pack("en") {
                Ok(pack) => pack.clone(),
                Err(e) => panic!("{e}"),
            };
            match nib_handwriting::Recognizer::load(
                &hw_model_dir(),
                &runtime(),
                Some(pack),
                nib_handwriting::RecognizerConfig::default(),
            ) {
                Ok(r) => std::sync::Arc::new(r),
                Err(e) => panic!("{e}\nfetch the runtime first: bash .ci/setup"),
            }
        })
        .clone()
}

/// The languages nib ships.
pub const LANGUAGES: [&str; 7] = ["en", "de", "fr", "es", "it", "pt", "ru"];

/// An engine with every shipped pack, loaded once per test binary. Panics
/// with instructions when the packs have not been built, which is a set-up
/// error, not a test failure.
pub fn engine() -> Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE
        .get_or_init(
            || match Engine::builder().pack_dir(pack_dir(), LANGUAGES).build() {
                Ok(engine) => engine,
                Err(e) => panic!("{e}\nbuild the packs first: bash .ci/setup (or nib build-packs)"),
            },
        )
        .clone()
}

/// One behaviour case of completion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionCase {
    /// What the case shows.
    pub name: String,
    /// Language tag.
    pub lang: String,
    /// Text before the current word.
    #[serde(default)]
    pub context: String,
    /// Letters typed.
    pub word: String,
    /// Suggestions requested.
    #[serde(default = "three")]
    pub k: usize,
    /// Must be among the suggestions.
    #[serde(default)]
    pub expect: Vec<String>,
    /// Must be the first suggestion.
    #[serde(default)]
    pub first: Option<String>,
    /// Must not be among the suggestions.
    #[serde(default)]
    pub absent: Vec<String>,
}

fn three() -> usize {
    3
}

#[derive(Debug, Deserialize)]
struct CaseFile {
    case: Vec<CompletionCase>,
}

/// The completion cases in `tests/cases/completion.toml`.
pub fn completion_cases() -> Vec<CompletionCase> {
    let text = include_str!("cases/completion.toml");
    match toml::from_str::<CaseFile>(text) {
        Ok(file) => file.case,
        Err(e) => panic!("tests/cases/completion.toml: {e}"),
    }
}

/// A made-up word: `prefix` followed by the letters of `n` in base 26,
/// distinct for distinct `n`, letters only (digits would look like secrets
/// to the personal dictionary).
pub fn made_up_word(prefix: &str, mut n: u64) -> String {
    let mut word = String::from(prefix);
    loop {
        word.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            break word;
        }
    }
}
