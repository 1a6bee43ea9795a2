//! The neural language model: an int8 ONNX decoder with a key/value cache,
//! and its subword tokenizer.
//!
//! The model is run in two ways:
//!
//! * **Context steps.** The text before the current word is tokenized (with
//!   `<s>` at sentence starts) and run once; the resulting key/value cache
//!   and next-token distribution are kept in an LRU keyed by the context's
//!   token ids. Typing more letters of the same word reuses the entry; a new
//!   word after a commit extends the longest cached prefix by its few new
//!   tokens, so a keystroke never re-runs the whole context.
//! * **Word scoring.** `log P(word | context)` is the sum of the word's
//!   subword log-probabilities plus the probability that the word ends
//!   there: one minus the mass of the tokens that would continue it (see
//!   `languages/lm/tokenizer.py`). All candidate words go through one
//!   batched run that starts from the cached context, so completions and
//!   corrections of every length compete on the same footing.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use ort::session::Session as OrtSession;
use ort::value::Tensor;
use serde::Deserialize;
use tokenizers::Tokenizer;

use super::runtime::{load_runtime, session_builder};
use crate::error::{Error, Result};

/// File names inside a model directory.
pub const MODEL_FILE: &str = "model.int8.onnx";
/// The tokenizer file.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// The metrics file that carries the model's configuration.
pub const METRICS_FILE: &str = "metrics.json";

const BOS: &str = "<s>";
const UNK: &str = "<unk>";
const METASPACE: char = '\u{2581}';
/// Tokens of one word beyond which it is not scored.
pub const MAX_WORD_TOKENS: usize = 8;
/// Context entries kept in the LRU. Each holds its key/value cache (about
/// 8 KB per token of context) and a next-token distribution (64 KB): 16
/// entries stay within a few megabytes and cover the text field's recent
/// words, which is what typing revisits.
const CONTEXT_CACHE: usize = 16;
/// Word scores kept per context before the memo is cleared.
const WORD_MEMO: usize = 4096;
/// Words whose tokens are remembered before that memo is cleared: the
/// candidates of a keystroke come back on the next one.
const TOKEN_MEMO: usize = 8192;

/// A word's token ids, `None` where the tokenizer cannot spell it.
type WordTokens = Option<Arc<[u32]>>;

/// Shape of the model, from `metrics.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct LmConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Width of the model.
    pub d_model: usize,
    /// Transformer blocks.
    pub n_layers: usize,
    /// Attention heads.
    pub n_heads: usize,
    /// Training context in tokens.
    pub context: usize,
}

impl LmConfig {
    fn head_dim(&self) -> usize {
        self.d_model / self.n_heads.max(1)
    }
}

#[derive(Deserialize)]
struct Metrics {
    model: MetricsModel,
}

#[derive(Deserialize)]
struct MetricsModel {
    config: LmConfig,
}

/// The model's state after a context: its key/value cache and the
/// log-probabilities of the next token.
#[derive(Debug)]
pub struct ContextState {
    tokens: Vec<u32>,
    past_key: Vec<f32>,
    past_value: Vec<f32>,
    log_probs: Vec<f32>,
    memo: Mutex<HashMap<String, Option<f32>>>,
}

impl ContextState {
    /// The context's token ids.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Log-probability of each token coming next.
    pub fn next_token_log_probs(&self) -> &[f32] {
        &self.log_probs
    }
}

/// A loaded language model.
pub struct NeuralLm {
    path: PathBuf,
    config: LmConfig,
    session: Mutex<OrtSession>,
    tokenizer: Tokenizer,
    bos: u32,
    unk: u32,
    /// For each token id: whether it continues the word before it.
    continues: Vec<bool>,
    /// For each token id: the word it starts, if it is `▁word` (a whole
    /// word on its own, used for next-word candidates).
    word_starts: Vec<Option<String>>,
    states: Mutex<LruCache<Vec<u32>, Arc<ContextState>>>,
    /// Words tokenized before (tokenizing costs microseconds per word).
    word_token_memo: Mutex<HashMap<String, WordTokens>>,
    /// The last context and its token ids: every letter of a word asks for
    /// the same context again.
    last_context: Mutex<Option<(String, Vec<u32>)>>,
}

impl std::fmt::Debug for NeuralLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NeuralLm")
            .field("path", &self.path)
            .field("config", &self.config)
            .finish()
    }
}

impl NeuralLm {
    /// Loads the model in `dir` (`model.int8.onnx`, `tokenizer.json`,
    /// `metrics.json`) with ONNX Runtime from `runtime`, running on
    /// `threads` threads.
    pub fn load(dir: &Path, runtime: &Path, threads: usize) -> Result<Self> {
        let env = load_runtime(runtime)?;
        let model_path = dir.join(MODEL_FILE);
        let fail = |path: &Path, detail: String| Error::Model {
            path: path.to_path_buf(),
            detail,
        };
        let metrics_path = dir.join(METRICS_FILE);
        let metrics =
            std::fs::read(&metrics_path).map_err(|e| fail(&metrics_path, e.to_string()))?;
        let config = serde_json::from_slice::<Metrics>(&metrics)
            .map_err(|e| fail(&metrics_path, e.to_string()))?
            .model
            .config;
        let tokenizer_path = dir.join(TOKENIZER_FILE);
        let tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| fail(&tokenizer_path, e.to_string()))?;
        let vocab = tokenizer.get_vocab_size(true);
        if vocab != config.vocab_size {
            return Err(fail(
                &tokenizer_path,
                format!("{vocab} tokens, the model expects {}", config.vocab_size),
            ));
        }
        let id = |token: &str| {
            tokenizer
                .token_to_id(token)
                .ok_or_else(|| fail(&tokenizer_path, format!("no {token} token")))
        };
        let (bos, unk) = (id(BOS)?, id(UNK)?);
        let mut continues = vec![false; vocab];
        let mut word_starts = vec![None; vocab];
        for (token, id) in tokenizer.get_vocab(true) {
            let Some(slot) = continues.get_mut(id as usize) else {
                continue;
            };
            let mut chars = token.chars();
            let first = chars.next();
            *slot = first.is_some_and(|c| {
                c != METASPACE
                    && !token.starts_with('<')
                    && (c.is_alphanumeric() || c == '\'' || is_mark(c))
            });
            if first == Some(METASPACE) {
                let rest = chars.as_str();
                if !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_alphabetic() || c == '\'' || is_mark(c))
                {
                    word_starts[id as usize] = Some(rest.to_owned());
                }
            }
        }
        let ort_fail = |e: &dyn std::fmt::Display| fail(&model_path, e.to_string());
        let session = session_builder(env, threads)
            .map_err(|e| ort_fail(&e))?
            .commit_from_file(&model_path)
            .map_err(|e| ort_fail(&e))?;
        let names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        if names != ["input_ids", "past_key", "past_value"] {
            return Err(fail(&model_path, format!("unexpected inputs {names:?}")));
        }
        let lm = Self {
            path: dir.to_path_buf(),
            config,
            session: Mutex::new(session),
            tokenizer,
            bos,
            unk,
            continues,
            word_starts,
            states: Mutex::new(LruCache::new(
                NonZeroUsize::new(CONTEXT_CACHE).unwrap_or(NonZeroUsize::MIN),
            )),
            word_token_memo: Mutex::new(HashMap::new()),
            last_context: Mutex::new(None),
        };
        // One step proves that the file is a model of the expected shape.
        lm.state(&[lm.bos])
            .map_err(|e| fail(&model_path, e.to_string()))?;
        Ok(lm)
    }

    /// The model's configuration.
    pub fn config(&self) -> &LmConfig {
        &self.config
    }

    /// Where the model was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token ids of the text before the cursor, `<s>` at each sentence
    /// start, cut to the model's window (leaving room for a word).
    pub fn context_ids(&self, context: &str) -> Vec<u32> {
        self.context_ids_within(context, usize::MAX)
    }

    /// [`context_ids`](Self::context_ids), keeping at most the last
    /// `max_tokens` (at least one): every model run copies and attends to
    /// the whole cached context, so a shorter one is faster.
    pub fn context_ids_within(&self, context: &str, max_tokens: usize) -> Vec<u32> {
        let mut last = self.last_context.lock().unwrap_or_else(|e| e.into_inner());
        let ids = match last.as_ref() {
            Some((text, ids)) if text == context => ids,
            _ => {
                let ids = self.tokenize_context(context);
                &last.insert((context.to_owned(), ids)).1
            }
        };
        ids[ids.len().saturating_sub(max_tokens.max(1))..].to_vec()
    }

    fn tokenize_context(&self, context: &str) -> Vec<u32> {
        let mut ids = vec![self.bos];
        let mut rest = context;
        while !rest.trim().is_empty() {
            let end = sentence_end(rest).unwrap_or(rest.len());
            let (sentence, tail) = rest.split_at(end);
            let sentence = sentence.trim();
            if !sentence.is_empty()
                && let Ok(encoding) = self.tokenizer.encode(sentence, false)
            {
                ids.extend_from_slice(encoding.get_ids());
                if end < rest.len() || ends_sentence(sentence) {
                    ids.push(self.bos);
                }
            }
            rest = tail;
        }
        let window = self.config.context.saturating_sub(MAX_WORD_TOKENS).max(1);
        if ids.len() > window {
            ids.drain(..ids.len() - window);
        }
        ids
    }

    /// Drops every cached context state, tokenized word and context (they hold what
    /// the user typed), for `forget` and `clear`.
    pub fn clear_cache(&self) {
        self.states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.word_token_memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self.last_context.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The state after `ids`, from the cache or by extending the longest
    /// cached prefix.
    pub fn state(&self, ids: &[u32]) -> Result<Arc<ContextState>> {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = states.get(ids) {
            return Ok(state.clone());
        }
        let mut base = None;
        for cut in (1..ids.len()).rev().take(MAX_WORD_TOKENS * 2) {
            if let Some(state) = states.get(&ids[..cut]) {
                base = Some(state.clone());
                break;
            }
        }
        drop(states);
        let (past_len, past_key, past_value) = match &base {
            Some(b) => (b.tokens.len(), b.past_key.clone(), b.past_value.clone()),
            None => (0, Vec::new(), Vec::new()),
        };
        let new: Vec<i64> = ids[past_len..].iter().map(|&t| i64::from(t)).collect();
        let vocab = self.config.vocab_size;
        let last_row = ids.len() - past_len - 1;
        let run = self.run(
            &[new],
            1,
            past_len,
            past_key,
            past_value,
            Cache::Keep,
            |logits| log_softmax(&logits[last_row * vocab..][..vocab]),
        )?;
        let state = Arc::new(ContextState {
            tokens: ids.to_vec(),
            past_key: run.present_key,
            past_value: run.present_value,
            log_probs: run.read,
            memo: Mutex::new(HashMap::new()),
        });
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        states.put(ids.to_vec(), state.clone());
        Ok(state)
    }

    /// `log P(word | context)` for each word (natural log), `None` where the
    /// tokenizer cannot spell the word or it is too long. One batched run for
    /// the words not scored before in this context.
    pub fn score_words(&self, state: &ContextState, words: &[&str]) -> Result<Vec<Option<f32>>> {
        let mut memo = state.memo.lock().unwrap_or_else(|e| e.into_inner());
        if memo.len() > WORD_MEMO {
            memo.clear();
        }
        let mut todo: Vec<(&str, Arc<[u32]>)> = Vec::new();
        for &word in words {
            if memo.contains_key(word) || todo.iter().any(|(w, _)| *w == word) {
                continue;
            }
            match self.word_tokens(word) {
                Some(tokens) => todo.push((word, tokens)),
                None => {
                    memo.insert(word.to_owned(), None);
                }
            }
        }
        if !todo.is_empty() {
            let scores = self.score_batch(state, &todo)?;
            for ((word, _), score) in todo.iter().zip(scores) {
                memo.insert((*word).to_owned(), Some(score));
            }
        }
        Ok(words
            .iter()
            .map(|w| memo.get(*w).copied().flatten())
            .collect())
    }

    /// Whole-word tokens (`▁word`) ranked by the probability of coming next,
    /// best first: the candidates of next-word prediction.
    pub fn next_word_tokens(&self, state: &ContextState, limit: usize) -> Vec<(&str, f32)> {
        self.next_word_tokens_where(state, limit, f32::NEG_INFINITY, |_| true)
    }

    /// [`next_word_tokens`](Self::next_word_tokens) restricted to the words
    /// `wanted` accepts (for example those that complete the typed letters)
    /// and at least `floor` likely; `wanted` is asked only about those.
    pub fn next_word_tokens_where(
        &self,
        state: &ContextState,
        limit: usize,
        floor: f32,
        wanted: impl Fn(&str) -> bool,
    ) -> Vec<(&str, f32)> {
        let mut best: Vec<(usize, f32)> = state
            .log_probs
            .iter()
            .enumerate()
            .filter(|&(id, &lp)| {
                lp >= floor
                    && self
                        .word_starts
                        .get(id)
                        .and_then(Option::as_deref)
                        .is_some_and(&wanted)
            })
            .map(|(id, &lp)| (id, lp))
            .collect();
        let limit = limit.min(best.len());
        if limit == 0 {
            return Vec::new();
        }
        best.select_nth_unstable_by(limit - 1, |a, b| b.1.total_cmp(&a.1));
        best.truncate(limit);
        best.sort_by(|a, b| b.1.total_cmp(&a.1));
        best.into_iter()
            .filter_map(|(id, lp)| Some((self.word_starts.get(id)?.as_deref()?, lp)))
            .collect()
    }

    /// `log P(first token of word | context)`, an upper bound of the
    /// word's score that costs no model run; `None` where the tokenizer
    /// cannot spell the word.
    pub fn first_token_log_prob(&self, state: &ContextState, word: &str) -> Option<f32> {
        let tokens = self.word_tokens(word)?;
        state.log_probs.get(*tokens.first()? as usize).copied()
    }

    fn word_tokens(&self, word: &str) -> WordTokens {
        let mut memo = self
            .word_token_memo
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(tokens) = memo.get(word) {
            return tokens.clone();
        }
        let tokens = self
            .tokenizer
            .encode(word, false)
            .ok()
            .and_then(|encoding| {
                let ids = encoding.get_ids();
                let ok =
                    !ids.is_empty() && ids.len() <= MAX_WORD_TOKENS && !ids.contains(&self.unk);
                ok.then(|| Arc::from(ids))
            });
        if memo.len() >= TOKEN_MEMO {
            memo.clear();
        }
        memo.insert(word.to_owned(), tokens.clone());
        tokens
    }

    fn score_batch(&self, state: &ContextState, words: &[(&str, Arc<[u32]>)]) -> Result<Vec<f32>> {
        let batch = words.len();
        let width = words.iter().map(|(_, t)| t.len()).max().unwrap_or(1);
        let rows: Vec<Vec<i64>> = words
            .iter()
            .map(|(_, t)| {
                let mut row: Vec<i64> = t.iter().map(|&x| i64::from(x)).collect();
                row.resize(width, 0);
                row
            })
            .collect();
        let tile = |past: &[f32]| tile_batch(past, self.config.n_layers, batch);
        let vocab = self.config.vocab_size;
        // The scores are read from ONNX Runtime's output in place: the
        // logits of a batch are megabytes, and only a few rows are needed.
        let run = self.run(
            &rows,
            batch,
            state.tokens.len(),
            tile(&state.past_key),
            tile(&state.past_value),
            Cache::Drop,
            |logits| {
                words
                    .iter()
                    .enumerate()
                    .map(|(b, (_, tokens))| {
                        let row = |j: usize| &logits[(b * width + j) * vocab..][..vocab];
                        let mut score = state
                            .log_probs
                            .get(tokens[0] as usize)
                            .copied()
                            .unwrap_or(f32::NEG_INFINITY);
                        for (j, &token) in tokens.iter().enumerate().skip(1) {
                            score += log_prob_of(row(j - 1), token as usize);
                        }
                        score + self.end_of_word_log_prob(row(tokens.len() - 1))
                    })
                    .collect()
            },
        )?;
        Ok(run.read)
    }

    /// `ln(1 − Σ p(continuation tokens))`: the word ends here.
    fn end_of_word_log_prob(&self, logits: &[f32]) -> f32 {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (mut all, mut ends) = (0f32, 0f32);
        for (id, &x) in logits.iter().enumerate() {
            let e = (x - max).exp();
            all += e;
            if !self.continues[id] {
                ends += e;
            }
        }
        (ends / all).max(f32::MIN_POSITIVE).ln()
    }

    /// One model run over `rows` (each `width` tokens) after a cache of
    /// `past_len` tokens; `read` gets the logits `[batch, width, vocab]`
    /// in place.
    #[allow(clippy::too_many_arguments)] // the model's inputs, spelled out
    fn run<R>(
        &self,
        rows: &[Vec<i64>],
        batch: usize,
        past_len: usize,
        past_key: Vec<f32>,
        past_value: Vec<f32>,
        keep_cache: Cache,
        read: impl FnOnce(&[f32]) -> R,
    ) -> Result<RunOutput<R>> {
        let fail = |e: ort::Error| Error::Model {
            path: self.path.join(MODEL_FILE),
            detail: e.to_string(),
        };
        let c = &self.config;
        let width = rows.first().map_or(0, Vec::len);
        let ids: Vec<i64> = rows.concat();
        let past_shape = vec![
            c.n_layers as i64,
            batch as i64,
            c.n_heads as i64,
            past_len as i64,
            c.head_dim() as i64,
        ];
        let input_ids =
            Tensor::from_array((vec![batch as i64, width as i64], ids)).map_err(fail)?;
        let past_key = Tensor::from_array((past_shape.clone(), past_key)).map_err(fail)?;
        let past_value = Tensor::from_array((past_shape, past_value)).map_err(fail)?;
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(ort::inputs!["input_ids" => input_ids, "past_key" => past_key, "past_value" => past_value])
            .map_err(fail)?;
        let take = |name: &str, expected: usize| -> Result<Vec<f32>> {
            let (_, data) = outputs[name].try_extract_tensor::<f32>().map_err(fail)?;
            if data.len() != expected {
                return Err(Error::Model {
                    path: self.path.join(MODEL_FILE),
                    detail: format!("{name} has {} values, expected {expected}", data.len()),
                });
            }
            Ok(data.to_vec())
        };
        let cache = c.n_layers * batch * c.n_heads * (past_len + width) * c.head_dim();
        let (present_key, present_value) = match keep_cache {
            Cache::Keep => (take("present_key", cache)?, take("present_value", cache)?),
            // Scoring throws the cache away: copying it out (megabytes per
            // run) was a third of a keystroke's time.
            Cache::Drop => (Vec::new(), Vec::new()),
        };
        let (_, logits) = outputs["logits"]
            .try_extract_tensor::<f32>()
            .map_err(fail)?;
        let expected = batch * width * c.vocab_size;
        if logits.len() != expected {
            return Err(Error::Model {
                path: self.path.join(MODEL_FILE),
                detail: format!("logits has {} values, expected {expected}", logits.len()),
            });
        }
        Ok(RunOutput {
            read: read(logits),
            present_key,
            present_value,
        })
    }
}

/// Whether a run's new key/value cache is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cache {
    /// Kept for the next step (a context state).
    Keep,
    /// Not needed (scoring candidate words).
    Drop,
}

struct RunOutput<R> {
    /// What the caller read from the logits.
    read: R,
    present_key: Vec<f32>,
    present_value: Vec<f32>,
}

/// Repeats a batch-1 cache `[L, 1, H, P, Dh]` as `[L, B, H, P, Dh]`.
fn tile_batch(past: &[f32], layers: usize, batch: usize) -> Vec<f32> {
    let per_layer = past.len() / layers.max(1);
    let mut out = Vec::with_capacity(past.len() * batch);
    for layer in past.chunks(per_layer.max(1)) {
        for _ in 0..batch {
            out.extend_from_slice(layer);
        }
    }
    out
}

fn log_softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&x| (x - max).exp()).sum();
    let norm = max + sum.ln();
    logits.iter().map(|&x| x - norm).collect()
}

fn log_prob_of(logits: &[f32], token: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&x| (x - max).exp()).sum();
    logits
        .get(token)
        .map_or(f32::NEG_INFINITY, |&x| x - max - sum.ln())
}

fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

fn ends_sentence(text: &str) -> bool {
    text.ends_with(['.', '!', '?', '…'])
}

/// Byte offset just past the first sentence end followed by whitespace.
fn sentence_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(c, '.' | '!' | '?' | '…' | '\n')
            && chars.peek().is_none_or(|(_, next)| next.is_whitespace())
        {
            return Some(i + c.len_utf8());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_each_layer_per_batch_row() {
        let past = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(
            tile_batch(&past, 2, 2),
            [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0]
        );
    }

    #[test]
    fn splits_sentences() {
        assert_eq!(sentence_end("Hi. How are"), Some(3));
        assert_eq!(sentence_end("e.g. this"), Some(4));
        assert_eq!(sentence_end("no end"), None);
        assert_eq!(sentence_end("3.5 kg"), None);
    }

    #[test]
    fn log_softmax_normalises() {
        let lp = log_softmax(&[1.0, 2.0, 3.0]);
        let total: f32 = lp.iter().map(|x| x.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!((log_prob_of(&[1.0, 2.0, 3.0], 2) - lp[2]).abs() < 1e-5);
    }
}
