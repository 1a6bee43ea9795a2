//! `nib suggest --batch`: JSON Lines requests in, JSON Lines answers out.
//!
//! The stable interface for evaluation scripts; its schema is documented in
//! `bindings/cli/BATCH.md`. Each input line is one request; each gets exactly
//! one output line, in order. A line that cannot be answered gets an error
//! line and the run goes on.

use std::io::{BufRead, Write};
use std::time::Instant;

use nib_engine::{Engine, NeuralStage};
use serde::{Deserialize, Serialize};

/// Longest request line accepted, in bytes.
const MAX_LINE: usize = 1 << 20;

#[derive(Debug, Deserialize)]
struct Request {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    context: String,
    #[serde(default)]
    word: String,
    #[serde(default)]
    k: Option<usize>,
}

#[derive(Debug, Serialize)]
struct SuggestionOut<'a> {
    text: &'a str,
    kind: &'static str,
    score: f32,
}

#[derive(Debug, Serialize)]
struct Answer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<serde_json::Value>,
    suggestions: Vec<SuggestionOut<'a>>,
    micros: u64,
    neural: &'static str,
}

#[derive(Debug, Serialize)]
struct ErrorAnswer {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<serde_json::Value>,
    line: usize,
    error: String,
}

/// Most suggestions a request may ask for.
const MAX_K: usize = 50;

/// Answers every request on `input`, writing one line each to `output`.
pub fn run(
    engine: &Engine,
    default_language: &str,
    default_k: usize,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line?;
        let number = n + 1;
        let answer = answer(engine, default_language, default_k, number, &line);
        if let Some(answer) = answer {
            output.write_all(answer.as_bytes())?;
            output.write_all(b"\n")?;
            output.flush()?;
        }
    }
    Ok(())
}

fn answer(
    engine: &Engine,
    default_language: &str,
    default_k: usize,
    line: usize,
    bytes: &[u8],
) -> Option<String> {
    let error = |id: Option<serde_json::Value>, error: String| {
        serde_json::to_string(&ErrorAnswer { id, line, error }).ok()
    };
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if bytes.len() > MAX_LINE {
        return error(
            None,
            format!("request of {} bytes exceeds {MAX_LINE}", bytes.len()),
        );
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return error(None, "request is not valid UTF-8".into());
    };
    let request: Request = match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => return error(None, format!("malformed request: {e}")),
    };
    let k = request.k.unwrap_or(default_k).min(MAX_K);
    let language = request.lang.as_deref().unwrap_or(default_language);
    let started = Instant::now();
    let result = engine.suggest_with_stages(language, &request.context, &request.word, k);
    let micros = started.elapsed().as_micros() as u64;
    match result {
        Ok((suggestions, stages)) => {
            let suggestions = suggestions
                .iter()
                .map(|s| SuggestionOut {
                    text: &s.text,
                    kind: s.kind.as_str(),
                    score: s.score,
                })
                .collect();
            let neural = match stages.neural {
                NeuralStage::NotUsed => "not_used",
                NeuralStage::Ran => "ran",
                NeuralStage::OverBudget => "over_budget",
                NeuralStage::Failed => "failed",
            };
            serde_json::to_string(&Answer {
                id: request.id,
                suggestions,
                micros,
                neural,
            })
            .ok()
        }
        Err(e) => error(request.id, e.to_string()),
    }
}
