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
//!   tokens, and once the context is longer than its window, the window
//!   before (its first tokens dropped and its keys turned back to start at
//!   position 0) stands in for that prefix, so a keystroke never re-runs
//!   the whole context.
//! * **Word scoring.** `log P(word | context)` is the sum of the word's
//!   subword log-probabilities plus the probability that the word ends
//!   there: the mass of the tokens that would not continue it (see
//!   `languages/lm/tokenizer.py`). The candidate words of a call go
//!   through one run after the cached context, as one row holding the tree
//!   of their tokens (words that begin alike share those tokens; each
//!   token sees the context and its own ancestors only), so no position is
//!   computed twice or padded; completions and corrections of every length
//!   compete on the same footing.
//!
//! The model file is the engine graph of `languages/lm/export.py`: it
//! returns those scores, the next-token distribution and the new tokens'
//! keys and values, never the `[B, T, V]` logits.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lru::LruCache;
use ort::session::Session as OrtSession;
use ort::value::{Tensor, TensorRef};
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

/// The model's inputs, in order (see `languages/lm/export.py`).
const INPUTS: [&str; 7] = [
    "input_ids",
    "positions",
    "parents",
    "attention_mask",
    "past_key",
    "past_value",
    "word_end_mask",
];
/// Its outputs.
const OUTPUTS: [&str; 5] = [
    "next_log_probs",
    "token_log_probs",
    "end_log_probs",
    "new_key",
    "new_value",
];
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
    /// Base of the rotary position angles.
    #[serde(default = "default_rope_base")]
    pub rope_base: f32,
}

fn default_rope_base() -> f32 {
    10_000.0
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
    /// For each token id: 1 if it does not continue the word before it
    /// (the model's `word_end_mask` input), else 0.
    word_end_mask: Vec<f32>,
    /// For each token id: the word it starts, if it is `▁word` (a whole
    /// word on its own, used for next-word candidates).
    word_starts: Vec<Option<String>>,
    /// RoPE's frequency for each pair of a head's dimensions.
    inv_freq: Vec<f32>,
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
        let inputs: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        let outputs: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        if inputs != INPUTS || outputs != OUTPUTS {
            return Err(fail(
                &model_path,
                format!(
                    "inputs {inputs:?} and outputs {outputs:?}, expected {INPUTS:?} and {OUTPUTS:?}"
                ),
            ));
        }
        let inv_freq = (0..config.head_dim() / 2)
            .map(|i| {
                1.0 / config
                    .rope_base
                    .powf(2.0 * i as f32 / config.head_dim() as f32)
            })
            .collect();
        let lm = Self {
            path: dir.to_path_buf(),
            config,
            session: Mutex::new(session),
            tokenizer,
            bos,
            unk,
            word_end_mask: continues
                .iter()
                .map(|&c| if c { 0.0 } else { 1.0 })
                .collect(),
            word_starts,
            inv_freq,
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
    /// `max_tokens` (at least one): every model run attends to the whole
    /// cached context, so a shorter one is faster. The window slides with
    /// each new word; [`state`](Self::state) then reuses the cached state
    /// of the window before.
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

    /// The state after `ids`, from the cache or by extending a cached
    /// prefix or a cached window that `ids` moved on from (see [`reusable`]
    /// and `without_first`).
    pub fn state(&self, ids: &[u32]) -> Result<Arc<ContextState>> {
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = states.get(ids) {
            return Ok(state.clone());
        }
        let reuse = reusable(&states, ids);
        if let Some((base, _)) = &reuse {
            states.promote(&base.tokens);
        }
        drop(states);
        let turned;
        let (past_len, past_key, past_value) = match &reuse {
            Some((base, 0)) => (base.tokens.len(), &base.past_key[..], &base.past_value[..]),
            Some((base, dropped)) => {
                turned = self.without_first(base, *dropped);
                (base.tokens.len() - dropped, &turned.0[..], &turned.1[..])
            }
            None => (0, &[][..], &[][..]),
        };
        let run = self.run(
            &TreeRow::sequence(&ids[past_len..]),
            past_len,
            past_key,
            past_value,
            Outputs::Context,
        )?;
        let blocks = self.config.n_layers * self.config.n_heads;
        let cached = past_len * self.config.head_dim();
        let state = Arc::new(ContextState {
            tokens: ids.to_vec(),
            past_key: append_positions(past_key, &run.new_key, blocks, cached),
            past_value: append_positions(past_value, &run.new_value, blocks, cached),
            log_probs: run.next_log_probs,
            memo: Mutex::new(HashMap::new()),
        });
        let mut states = self.states.lock().unwrap_or_else(|e| e.into_inner());
        states.put(ids.to_vec(), state.clone());
        Ok(state)
    }

    /// The keys and values of `state` without its first `dropped`
    /// positions, as if its other tokens had been run from position 0.
    /// Keys are stored after RoPE, so each is turned back by `dropped`
    /// positions; values carry no position. The kept tokens' keys and
    /// values were computed with the dropped tokens before them, which the
    /// window no longer holds: context reaches a little further than the
    /// window, as in a recurrent model.
    fn without_first(&self, state: &ContextState, dropped: usize) -> (Vec<f32>, Vec<f32>) {
        let dh = self.config.head_dim();
        let positions = state.tokens.len();
        let blocks = state.past_key.len() / (positions * dh).max(1);
        let mut keys = Vec::with_capacity(blocks * (positions - dropped) * dh);
        let mut values = Vec::with_capacity(keys.capacity());
        for block in 0..blocks {
            let kept = (block * positions + dropped) * dh..(block + 1) * positions * dh;
            keys.extend_from_slice(&state.past_key[kept.clone()]);
            values.extend_from_slice(&state.past_value[kept]);
        }
        turn_back(&mut keys, dh, &self.inv_freq, dropped);
        (keys, values)
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
            // One run for all: the words share a tree of their tokens.
            let scores = self.score_tree(state, &todo)?;
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

    /// Scores `words` in one run: their tokens form one row, a tree in
    /// which words that begin alike share those tokens (each token sees
    /// only the context and its own ancestors), so that no position is
    /// computed twice and none is padding.
    fn score_tree(&self, state: &ContextState, words: &[(&str, Arc<[u32]>)]) -> Result<Vec<f32>> {
        let mut row = TreeRow::default();
        let paths: Vec<Vec<usize>> = words.iter().map(|(_, tokens)| row.insert(tokens)).collect();
        let run = self.run(
            &row,
            state.tokens.len(),
            &state.past_key,
            &state.past_value,
            Outputs::Scores,
        )?;
        let never = f32::MIN_POSITIVE.ln();
        Ok(words
            .iter()
            .zip(&paths)
            .map(|((_, tokens), path)| {
                let first = state
                    .log_probs
                    .get(tokens[0] as usize)
                    .copied()
                    .unwrap_or(f32::NEG_INFINITY);
                let within: f32 = path[1..].iter().map(|&n| run.token_log_probs[n]).sum();
                let last = path[path.len() - 1];
                // An end mass of zero is `-inf`; `max` makes it (and a NaN) `never`.
                first + within + run.end_log_probs[last].max(never)
            })
            .collect())
    }

    /// One model run over `row` after a shared cache of `past_len` tokens
    /// (`[L, 1, H, P, Dh]`).
    fn run(
        &self,
        row: &TreeRow,
        past_len: usize,
        past_key: &[f32],
        past_value: &[f32],
        wanted: Outputs,
    ) -> Result<RunOutput> {
        let fail = |e: ort::Error| Error::Model {
            path: self.path.join(MODEL_FILE),
            detail: e.to_string(),
        };
        let c = &self.config;
        let width = row.ids.len();
        let past_shape = [
            c.n_layers as i64,
            1,
            c.n_heads as i64,
            past_len as i64,
            c.head_dim() as i64,
        ];
        let shape = [1, width as i64];
        let input_ids = TensorRef::from_array_view((shape, &row.ids[..])).map_err(fail)?;
        let positions = TensorRef::from_array_view((shape, &row.positions[..])).map_err(fail)?;
        let parents = TensorRef::from_array_view((shape, &row.parents[..])).map_err(fail)?;
        let attention_mask =
            Tensor::from_array(([1, width as i64, width as i64], row.attention_mask()))
                .map_err(fail)?;
        let past_key = TensorRef::from_array_view((past_shape, past_key)).map_err(fail)?;
        let past_value = TensorRef::from_array_view((past_shape, past_value)).map_err(fail)?;
        let mask = TensorRef::from_array_view(([c.vocab_size as i64], &self.word_end_mask[..]))
            .map_err(fail)?;
        let mut session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let outputs = session
            .run(ort::inputs![
                "input_ids" => input_ids,
                "positions" => positions,
                "parents" => parents,
                "attention_mask" => attention_mask,
                "past_key" => past_key,
                "past_value" => past_value,
                "word_end_mask" => mask,
            ])
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
        let new_cache = c.n_layers * c.n_heads * width * c.head_dim();
        Ok(match wanted {
            Outputs::Context => RunOutput {
                next_log_probs: take("next_log_probs", c.vocab_size)?,
                new_key: take("new_key", new_cache)?,
                new_value: take("new_value", new_cache)?,
                ..RunOutput::default()
            },
            Outputs::Scores => RunOutput {
                token_log_probs: take("token_log_probs", width)?,
                end_log_probs: take("end_log_probs", width)?,
                ..RunOutput::default()
            },
        })
    }
}

/// Attention bias of a token for the tokens of its row it may not see.
const UNSEEN: f32 = -1e9;

/// The tokens of one model run: a sequence (a context step), or a tree of
/// candidate words in which words that begin alike share those tokens.
#[derive(Debug, Default)]
struct TreeRow {
    ids: Vec<i64>,
    /// Each token's position after the cache: its depth in the tree.
    positions: Vec<i64>,
    /// The row position each token follows; -1 for the cache's end.
    parents: Vec<i64>,
    /// The row position of each (parent, token), for sharing prefixes.
    index: HashMap<(i64, u32), usize>,
}

impl TreeRow {
    /// `tokens` one after another.
    fn sequence(tokens: &[u32]) -> Self {
        Self {
            ids: tokens.iter().map(|&t| i64::from(t)).collect(),
            positions: (0..tokens.len() as i64).collect(),
            parents: (-1..tokens.len() as i64 - 1).collect(),
            index: HashMap::new(),
        }
    }

    /// Adds a word's tokens below the cache's end, sharing the row
    /// positions of any word already added that begins the same; returns
    /// the row position of each token.
    fn insert(&mut self, tokens: &[u32]) -> Vec<usize> {
        let mut parent = -1i64;
        tokens
            .iter()
            .enumerate()
            .map(|(depth, &token)| {
                let next = self.ids.len();
                let at = *self.index.entry((parent, token)).or_insert(next);
                if at == next {
                    self.ids.push(i64::from(token));
                    self.positions.push(depth as i64);
                    self.parents.push(parent);
                }
                parent = at as i64;
                at
            })
            .collect()
    }

    /// `[T, T]`: 0 where token t sees token s (itself and its ancestors),
    /// [`UNSEEN`] elsewhere.
    fn attention_mask(&self) -> Vec<f32> {
        let width = self.ids.len();
        let mut mask = vec![UNSEEN; width * width];
        for t in 0..width {
            let mut seen = t as i64;
            while seen >= 0 {
                mask[t * width + seen as usize] = 0.0;
                seen = self.parents[seen as usize];
            }
        }
        mask
    }
}

/// What a run's caller reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outputs {
    /// A context step: the next-token distribution and the new positions'
    /// keys and values, which extend the cache.
    Context,
    /// Scoring candidate words: their tokens' log-probabilities and where
    /// the words may end.
    Scores,
}

/// The outputs of one run that its caller asked for (the others empty).
#[derive(Default)]
struct RunOutput {
    /// `[V]`: log P(next token) after the row's last token.
    next_log_probs: Vec<f32>,
    /// `[T]`: log P(row[t] | cache, its ancestors); for a token after the
    /// cache's end, not a score.
    token_log_probs: Vec<f32>,
    /// `[T]`: log P(the word ends after row[t]).
    end_log_probs: Vec<f32>,
    /// `[L, 1, H, T, Dh]`: keys of a context step's new tokens.
    new_key: Vec<f32>,
    /// `[L, 1, H, T, Dh]`: their values.
    new_value: Vec<f32>,
}

/// The cached state that `ids` continues, with how many of its first
/// tokens to drop: a prefix of `ids` (none dropped), or the window before a
/// new word moved it on (its tokens, less the first few, begin `ids` and
/// make at least half of them). Either way at most two words' tokens
/// ([`MAX_WORD_TOKENS`] each) are new or dropped, and at least one token is
/// new (a run gives the next-token distribution); the state that leaves
/// the most tokens to reuse wins, a prefix before a moved window. A chance
/// overlap is not reused: a short one (a sentence start), or the end of a
/// long window that a short context (another text's first words) happens
/// to repeat.
fn reusable(
    states: &LruCache<Vec<u32>, Arc<ContextState>>,
    ids: &[u32],
) -> Option<(Arc<ContextState>, usize)> {
    let most = MAX_WORD_TOKENS * 2;
    states
        .iter()
        .filter_map(|(tokens, state)| {
            let dropped = (0..tokens.len().min(most + 1)).find(|&d| {
                let kept = tokens.len() - d;
                kept < ids.len()
                    && ids.len() - kept <= most
                    && (d == 0 || 2 * kept >= ids.len())
                    && ids.starts_with(&tokens[d..])
            })?;
            Some(((tokens.len() - dropped, dropped == 0), state, dropped))
        })
        .max_by_key(|(rank, _, _)| *rank)
        .map(|(_, state, dropped)| (state.clone(), dropped))
}

/// Turns RoPE keys (`[.., Dh]` rows, each rotated by its position) back by
/// `positions`: the pair `(x[i], x[i + Dh/2])` rotates by
/// `-positions · inv_freq[i]`, as `languages/lm/export.py` rotates forward.
fn turn_back(keys: &mut [f32], head_dim: usize, inv_freq: &[f32], positions: usize) {
    let half = head_dim / 2;
    let turns: Vec<(f32, f32)> = inv_freq
        .iter()
        .take(half)
        .map(|&f| {
            let angle = positions as f64 * f64::from(f);
            (angle.cos() as f32, angle.sin() as f32)
        })
        .collect();
    for key in keys.chunks_exact_mut(head_dim) {
        let (x1, x2) = key.split_at_mut(half);
        for ((a, b), &(cos, sin)) in x1.iter_mut().zip(x2.iter_mut()).zip(&turns) {
            (*a, *b) = (*a * cos + *b * sin, *b * cos - *a * sin);
        }
    }
}

/// A cache `[blocks, P, Dh]` (blocks = layers × heads) with the positions
/// of `new` (`[blocks, T, Dh]`) appended after each block's `P`: the layout
/// `[L, 1, H, P + T, Dh]` the model reads back.
fn append_positions(past: &[f32], new: &[f32], blocks: usize, past_per_block: usize) -> Vec<f32> {
    let new_per_block = new.len() / blocks.max(1);
    let mut out = Vec::with_capacity(past.len() + new.len());
    for block in 0..blocks {
        if past_per_block > 0 {
            out.extend_from_slice(&past[block * past_per_block..][..past_per_block]);
        }
        out.extend_from_slice(&new[block * new_per_block..][..new_per_block]);
    }
    out
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
    fn appends_new_positions_to_each_block() {
        // two blocks, two cached positions and one new, one value each
        let past = [1.0, 2.0, 3.0, 4.0];
        let new = [9.0, 8.0];
        assert_eq!(
            append_positions(&past, &new, 2, 2),
            [1.0, 2.0, 9.0, 3.0, 4.0, 8.0]
        );
        assert_eq!(append_positions(&[], &new, 2, 0), [9.0, 8.0]);
    }

    #[test]
    fn words_that_begin_alike_share_their_first_tokens() {
        let mut row = TreeRow::default();
        assert_eq!(row.insert(&[7, 8, 9]), [0, 1, 2]);
        assert_eq!(row.insert(&[7, 8, 4, 5]), [0, 1, 3, 4]);
        assert_eq!(row.insert(&[6, 8]), [5, 6]);
        assert_eq!(row.insert(&[7]), [0]);
        assert_eq!(row.ids, [7, 8, 9, 4, 5, 6, 8]);
        assert_eq!(row.positions, [0, 1, 2, 2, 3, 0, 1]);
        assert_eq!(row.parents, [-1, 0, 1, 1, 3, -1, 5]);
        // each token sees itself and its ancestors, nothing else
        let mask = row.attention_mask();
        let seen =
            |t: usize| -> Vec<usize> { (0..7).filter(|&s| mask[t * 7 + s] == 0.0).collect() };
        assert_eq!(seen(4), [0, 1, 3, 4]);
        assert_eq!(seen(2), [0, 1, 2]);
        assert_eq!(seen(6), [5, 6]);
        assert_eq!(mask[4 * 7 + 2], UNSEEN);
    }

    #[test]
    fn a_sequence_is_a_tree_without_branches() {
        let row = TreeRow::sequence(&[3, 1, 4]);
        assert_eq!(row.positions, [0, 1, 2]);
        assert_eq!(row.parents, [-1, 0, 1]);
        let mask = row.attention_mask();
        assert_eq!(mask[..3], [0.0, UNSEEN, UNSEEN]);
        assert_eq!(mask[6..], [0.0, 0.0, 0.0]);
    }

    /// A key as RoPE stores it: `key` rotated forward by `position`.
    fn rotated(key: &[f32], inv_freq: &[f32], position: usize) -> Vec<f32> {
        let half = key.len() / 2;
        let mut out = key.to_vec();
        for i in 0..half {
            let angle = position as f64 * f64::from(inv_freq[i]);
            let (sin, cos) = (angle.sin() as f32, angle.cos() as f32);
            out[i] = key[i] * cos - key[i + half] * sin;
            out[i + half] = key[i + half] * cos + key[i] * sin;
        }
        out
    }

    #[test]
    fn a_key_turned_back_is_the_key_at_the_earlier_position() {
        let inv_freq: Vec<f32> = (0..4)
            .map(|i| 1.0 / 10_000f32.powf(i as f32 / 4.0))
            .collect();
        let key = [0.3, -1.2, 0.7, 2.0, -0.4, 0.9, 1.5, -0.8];
        // two keys of one head, at positions 9 and 12
        let mut keys = [rotated(&key, &inv_freq, 9), rotated(&key, &inv_freq, 12)].concat();
        turn_back(&mut keys, 8, &inv_freq, 5);
        let wanted = [rotated(&key, &inv_freq, 4), rotated(&key, &inv_freq, 7)].concat();
        for (got, want) in keys.iter().zip(&wanted) {
            assert!((got - want).abs() < 1e-5, "{keys:?} against {wanted:?}");
        }
        // turning back by nothing changes nothing
        let mut same = wanted.clone();
        turn_back(&mut same, 8, &inv_freq, 0);
        assert_eq!(same, wanted);
    }

    fn cached(tokens: &[u32]) -> (Vec<u32>, Arc<ContextState>) {
        let state = ContextState {
            tokens: tokens.to_vec(),
            past_key: Vec::new(),
            past_value: Vec::new(),
            log_probs: Vec::new(),
            memo: Mutex::new(HashMap::new()),
        };
        (tokens.to_vec(), Arc::new(state))
    }

    #[test]
    fn a_context_continues_a_cached_prefix_or_the_window_it_moved_on_from() {
        let mut states = LruCache::new(NonZeroUsize::new(4).unwrap());
        for tokens in [&[1, 5, 6, 7, 8, 9][..], &[4, 5, 6], &[2, 1]] {
            let (key, state) = cached(tokens);
            states.put(key, state);
        }
        // [5..9] moved on by two tokens: drop one from the first entry, the
        // one that leaves the most to reuse.
        let (state, dropped) = reusable(&states, &[5, 6, 7, 8, 9, 10, 11]).unwrap();
        assert_eq!(
            (state.tokens.as_slice(), dropped),
            (&[1, 5, 6, 7, 8, 9][..], 1)
        );
        // a prefix is extended as it is
        let (state, dropped) = reusable(&states, &[4, 5, 6, 7]).unwrap();
        assert_eq!((state.tokens.as_slice(), dropped), (&[4, 5, 6][..], 0));
        // a chance overlap of one token in a longer window is not reused
        assert!(reusable(&states, &[1, 20, 21, 22]).is_none());
        // nor a window that a cached one ends with: nothing would be left
        // to run
        assert!(reusable(&states, &[6, 7, 8, 9]).is_none());
        // nor the end of a long window that a short context repeats
        let long: Vec<u32> = (100..140).chain([1, 50]).collect();
        let (key, state) = cached(&long);
        states.put(key, state);
        assert!(reusable(&states, &[1, 50, 51]).is_none());
        assert!(reusable(&states, &[30, 31]).is_none());
    }

    #[test]
    fn splits_sentences() {
        assert_eq!(sentence_end("Hi. How are"), Some(3));
        assert_eq!(sentence_end("e.g. this"), Some(4));
        assert_eq!(sentence_end("no end"), None);
        assert_eq!(sentence_end("3.5 kg"), None);
    }
}
