//! The neural language model stage: ONNX Runtime loading, the model with
//! its key/value cache, and word scoring.

mod model;
mod runtime;

pub use model::{
    ContextState, LmConfig, MAX_WORD_TOKENS, METRICS_FILE, MODEL_FILE, NeuralLm, TOKENIZER_FILE,
};
pub use runtime::{
    ORT_MINOR_VERSION, TELEMETRY_OFF_VARIABLE, load_runtime, loaded_runtime, session_builder,
};
