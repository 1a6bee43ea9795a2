//! Completion and next-word prediction over a language pack.
//!
//! Candidates come from three cheap places, so that no keystroke walks more
//! than a few hundred lexicon entries:
//!
//! 1. the words under the folded prefix: the precomputed top list of a heavy
//!    prefix, or all words under a light one (at most
//!    [`HEAVY_PREFIX_LIMIT`](crate::pack::HEAVY_PREFIX_LIMIT));
//! 2. the words whose key is exactly what was typed (so that a rare or
//!    offensive word typed out in full is still offered);
//! 3. the followers of the previous word in the pair table.
//!
//! Each is scored by the interpolated probability
//! `λ·P(w | previous) + (1 − λ)·P(w)`, where `P(w)` comes from the word's
//! frequency and `P(w | previous)` from the pair counts; the typed case and
//! the sentence position are then applied and duplicates merged.
//!
//! When a neural language model is loaded, the best n-gram candidates and
//! the model's own likeliest next words that the lexicon knows and that
//! start with the typed letters are rescored by it: the final score is
//! `w·ln P_lm(w | context) + (1 − w)·ln P_ngram(w)`. The model runs only
//! while the call's budget lasts; past it the n-gram ranking stands and the
//! [`Stages`] say so.

use std::time::Instant;

use unicode_normalization::UnicodeNormalization;

use crate::engine::Config;
use crate::lm::{ContextState, NeuralLm};
use crate::pack::{HEAVY_PREFIX_LIMIT, LanguagePack, WordId, WordRef};
use crate::text::case::{TypedCase, apply_case};
use crate::text::context::analyse;
use crate::text::fold::{fold, folded_starts_with};

/// Words longer than this (in characters) get no completions: no lexicon
/// word is that long, and the bound keeps the work per keystroke small.
pub const MAX_WORD_CHARS: usize = 48;

/// Where a suggestion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuggestionKind {
    /// Completes the letters typed so far.
    Completion,
    /// Predicts the next word before any letter is typed.
    Prediction,
    /// A word the taps may have meant that does not start with what was
    /// typed.
    Correction,
    /// The typed word itself, not in the lexicon.
    Verbatim,
}

impl SuggestionKind {
    /// A stable lower-case name, used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionKind::Completion => "completion",
            SuggestionKind::Prediction => "prediction",
            SuggestionKind::Correction => "correction",
            SuggestionKind::Verbatim => "verbatim",
        }
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// The text to insert in place of the current word.
    pub text: String,
    /// Where it comes from.
    pub kind: SuggestionKind,
    /// Natural log of its estimated probability; higher is better.
    pub score: f32,
}

/// What the neural stage did for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeuralStage {
    /// No model is loaded, or it cannot spell these words.
    NotUsed,
    /// The model rescored the candidates.
    Ran,
    /// The call's budget was spent before the model could run.
    OverBudget,
    /// The model failed; the n-gram ranking stands.
    Failed,
}

/// Which stages ranked a list of suggestions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stages {
    /// What the neural language model did.
    pub neural: NeuralStage,
}

/// The top `k` suggestions for the current word `typed` after `context`.
pub(crate) fn suggest(
    pack: &LanguagePack,
    lm: Option<&NeuralLm>,
    config: &Config,
    context: &str,
    typed: &str,
    k: usize,
) -> (Vec<Suggestion>, Stages) {
    let started = Instant::now();
    if k == 0 || typed.chars().count() > MAX_WORD_CHARS {
        return (Vec::new(), Stages::unused());
    }
    let typed: String = typed.nfc().collect();
    let key = fold(&typed);
    if key.is_empty() && !typed.is_empty() {
        return (Vec::new(), Stages::unused());
    }
    let info = analyse(context);
    let previous = info.previous_word.and_then(|w| pack.lookup(w));
    let followers = followers_of(pack, previous);

    let mut candidates: Vec<WordRef<'_>> = Vec::with_capacity(64);
    let offered = |w: &WordRef<'_>| !w.offensive || fold(w.surface) == key;
    match pack.top_words(&key) {
        Some(top) => {
            candidates.extend(top);
            candidates.extend(pack.exact(&key));
        }
        None => {
            pack.for_each_with_prefix(&key, HEAVY_PREFIX_LIMIT, |w| {
                if offered(&w) {
                    candidates.push(w);
                }
            });
        }
    }
    for &(id, _) in &followers.1 {
        if let Some(w) = pack.word(id)
            && folded_starts_with(w.surface, &key)
            && offered(&w)
        {
            candidates.push(w);
        }
    }
    let kind = if key.is_empty() {
        SuggestionKind::Prediction
    } else {
        SuggestionKind::Completion
    };
    let candidates = candidates
        .into_iter()
        .map(|word| Candidate {
            word,
            bias: 0.0,
            kind,
        })
        .collect();
    let ranking = Ranking {
        pack,
        lm,
        config,
        context,
        started,
        proposals: Some(&key),
        lm_weight: config.lm_weight,
    };
    ranking.rank(candidates, &followers, TypedCase::of(&typed), k)
}

/// Suggestions for the part of a word after its last hyphen, written
/// after the parts before it (`head`, ending with the hyphen): "vous" after
/// "asseyez-" is "asseyez-vous". Readings as several words are dropped.
pub(crate) fn after_hyphen(head: &str, list: Vec<Suggestion>) -> Vec<Suggestion> {
    list.into_iter()
        .filter(|s| !s.text.contains(char::is_whitespace))
        .map(|s| Suggestion {
            text: format!("{head}{}", s.text),
            ..s
        })
        .collect()
}

/// A word to rank, with a log-probability added to its score (the touch
/// model's, for decoded words) and the kind it is shown as.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate<'a> {
    /// The word.
    pub word: WordRef<'a>,
    /// Added to the language-model score (natural log).
    pub bias: f64,
    /// How it is shown.
    pub kind: SuggestionKind,
}

/// The pair counts after the previous word: the total and the followers.
pub(crate) type Followers = (u32, Vec<(WordId, u32)>);

/// The followers of `previous`, if any.
pub(crate) fn followers_of(pack: &LanguagePack, previous: Option<WordId>) -> Followers {
    previous
        .and_then(|p| pack.followers(p))
        .map_or((0, Vec::new()), |(t, iter)| (t, iter.collect()))
}

impl Stages {
    fn unused() -> Self {
        Stages {
            neural: NeuralStage::NotUsed,
        }
    }
}

/// Ranks candidate words for one call: the n-gram score, then the neural
/// model's while the budget lasts, plus each candidate's bias.
pub(crate) struct Ranking<'a> {
    pub pack: &'a LanguagePack,
    pub lm: Option<&'a NeuralLm>,
    pub config: &'a Config,
    pub context: &'a str,
    pub started: Instant,
    /// The folded letters typed so far, when the model may propose its own
    /// words that start with them (all words before the first letter).
    pub proposals: Option<&'a str>,
    /// Weight of the neural model against the n-gram score, in `[0, 1]`:
    /// `Config::lm_weight` for the suggestion strip,
    /// `Config::decision_lm_weight` for autocorrection.
    pub lm_weight: f32,
}

/// Words the model proposes itself while letters are typed must be at
/// least this likely as the next word (natural log; one in 200,000): the
/// rarer ones do not reach the top of the list, and the floor spares
/// folding thousands of token strings on every keystroke.
const PROPOSAL_FLOOR: f32 = -12.2;

impl<'a> Ranking<'a> {
    /// The n-gram log-probability of `word` after the previous word.
    pub(crate) fn ngram_score(&self, word: &WordRef<'_>, followers: &Followers) -> f64 {
        let (total, list) = followers;
        let lambda = if *total > 0 {
            f64::from(self.config.pair_weight.clamp(0.0, 1.0))
        } else {
            0.0
        };
        let unigram = 10f64.powf(-f64::from(word.cost) / 100.0);
        let pair = list
            .iter()
            .find(|(id, _)| *id == word.id)
            .map_or(0.0, |&(_, n)| f64::from(n) / f64::from((*total).max(1)));
        (lambda * pair + (1.0 - lambda) * unigram).ln()
    }

    /// The candidates ranked, best first, with their scores, before the
    /// case of what was typed is applied.
    pub(crate) fn scored(
        &self,
        candidates: Vec<Candidate<'a>>,
        followers: &Followers,
        typed_case: TypedCase,
        stages: &mut Stages,
    ) -> Vec<(f64, Candidate<'a>)> {
        self.scored_with(candidates, followers, typed_case, None, stages)
            .0
    }

    /// [`scored`](Self::scored), and the neural model's log-probability of
    /// the string `also` (a typed word the lexicon does not know, written
    /// in the case the candidates are), scored in the same model run, when
    /// the model ran.
    pub(crate) fn scored_with(
        &self,
        mut candidates: Vec<Candidate<'a>>,
        followers: &Followers,
        typed_case: TypedCase,
        also: Option<&str>,
        stages: &mut Stages,
    ) -> (Vec<(f64, Candidate<'a>)>, Option<f32>) {
        let info = analyse(self.context);
        let config = self.config;
        // The neural model's own next-word guesses, where the lexicon knows them.
        let lm_state = self.lm.and_then(|lm| {
            if self.started.elapsed() >= config.lm_budget {
                stages.neural = NeuralStage::OverBudget;
                return None;
            }
            match lm.state(&lm.context_ids_within(self.context, config.lm_context_tokens)) {
                Ok(state) => Some((lm, state)),
                Err(_) => {
                    stages.neural = NeuralStage::Failed;
                    None
                }
            }
        });
        let mut proposed: Vec<WordId> = Vec::new();
        if let Some(key) = self.proposals
            && let Some((lm, state)) = &lm_state
        {
            let (kind, words) = if key.is_empty() {
                let words = lm.next_word_tokens(state, config.lm_candidates);
                (SuggestionKind::Prediction, words)
            } else {
                let completes = |word: &str| folded_starts_with(word, key);
                let words = lm.next_word_tokens_where(
                    state,
                    config.lm_proposals,
                    PROPOSAL_FLOOR,
                    completes,
                );
                (SuggestionKind::Completion, words)
            };
            for (word, _) in words {
                if let Some(w) = self.pack.lookup(word).and_then(|id| self.pack.word(id))
                    && !w.offensive
                {
                    proposed.push(w.id);
                    candidates.push(Candidate {
                        word: w,
                        bias: 0.0,
                        kind,
                    });
                }
            }
        }
        // One entry per word: the best bias wins.
        candidates.sort_unstable_by(|a, b| {
            a.word
                .id
                .cmp(&b.word.id)
                .then_with(|| b.bias.total_cmp(&a.bias))
        });
        candidates.dedup_by_key(|c| c.word.id);

        let mut also_lm = None;
        let mut scored: Vec<(f64, Candidate<'a>)> = candidates
            .into_iter()
            .map(|c| (self.ngram_score(&c.word, followers) + c.bias, c))
            .collect();
        let by_score = |a: &(f64, Candidate<'_>), b: &(f64, Candidate<'_>)| {
            b.0.total_cmp(&a.0)
                .then_with(|| a.1.word.surface.cmp(b.1.word.surface))
        };
        scored.sort_by(by_score);

        if let Some((lm, state)) = &lm_state {
            if self.started.elapsed() >= config.lm_budget {
                stages.neural = NeuralStage::OverBudget;
            } else {
                // The model rescores the best n-gram candidates and the words
                // it proposed itself, which the n-gram ranking may have put
                // far down.
                let keep = |i: usize, c: &Candidate<'_>| {
                    i < config.lm_candidates || proposed.contains(&c.word.id)
                };
                let (front, back): (Vec<_>, Vec<_>) = std::mem::take(&mut scored)
                    .into_iter()
                    .enumerate()
                    .partition(|(i, (_, c))| keep(*i, c));
                let shortlist = front.len();
                scored = front
                    .into_iter()
                    .chain(back)
                    .map(|(_, item)| item)
                    .collect();
                // The model saw words as they are written: "The" after a full stop.
                let natural_case = if typed_case == TypedCase::Upper {
                    TypedCase::Capitalised
                } else {
                    typed_case
                };
                let written: Vec<String> = scored[..shortlist]
                    .iter()
                    .map(|(_, c)| apply_case(c.word.surface, natural_case, info.sentence_start))
                    .collect();
                let also = also.map(|typed| apply_case(typed, natural_case, info.sentence_start));
                match self.rescore(
                    lm,
                    state,
                    &mut scored[..shortlist],
                    &written,
                    also.as_deref(),
                ) {
                    Ok(also_score) => {
                        also_lm = also_score;
                        scored[..shortlist].sort_by(by_score);
                        stages.neural = NeuralStage::Ran;
                    }
                    Err(_) => stages.neural = NeuralStage::Failed,
                }
            }
        }
        (scored, also_lm)
    }

    /// The score of a word the lexicon does not know, whose prior is
    /// `prior` and whose neural log-probability is `lm_score` (from
    /// [`scored_with`](Self::scored_with), when the model ran): mixed as
    /// the lexicon words it is weighed against are.
    pub(crate) fn unknown_word_score(&self, lm_score: Option<f32>, prior: f64) -> f64 {
        let weight = f64::from(self.lm_weight.clamp(0.0, 1.0));
        lm_score.map_or(prior, |lm| weight * f64::from(lm) + (1.0 - weight) * prior)
    }

    /// Replaces the n-gram scores of `shortlist` (its words `written` as
    /// the model sees them) by the mix with the neural model's, all in one
    /// model run (the words share a tree of their tokens, so a run over
    /// them all costs little more than one over a few, and far less than
    /// two runs); `also` rides in the same run.
    fn rescore(
        &self,
        lm: &NeuralLm,
        state: &ContextState,
        shortlist: &mut [(f64, Candidate<'a>)],
        written: &[String],
        also: Option<&str>,
    ) -> crate::Result<Option<f32>> {
        let weight = f64::from(self.lm_weight.clamp(0.0, 1.0));
        let mut refs: Vec<&str> = written.iter().map(String::as_str).collect();
        refs.extend(also);
        let mut lm_scores = lm.score_words(state, &refs)?;
        let also_score = also.and_then(|_| lm_scores.pop().flatten());
        for ((score, c), lm_score) in shortlist.iter_mut().zip(lm_scores) {
            if let Some(lm_score) = lm_score {
                *score = weight * f64::from(lm_score) + (1.0 - weight) * (*score - c.bias) + c.bias;
            }
        }
        Ok(also_score)
    }

    /// The top `k` suggestions among `candidates`.
    pub(crate) fn rank(
        &self,
        candidates: Vec<Candidate<'a>>,
        followers: &Followers,
        typed_case: TypedCase,
        k: usize,
    ) -> (Vec<Suggestion>, Stages) {
        let mut stages = Stages::unused();
        let scored = self.scored(candidates, followers, typed_case, &mut stages);
        let sentence_start = analyse(self.context).sentence_start;
        // `k` comes from the host and may be huge; reserving it up front would
        // abort on allocation failure.
        let mut out: Vec<Suggestion> = Vec::with_capacity(k.min(16));
        for (score, c) in scored {
            let text = apply_case(c.word.surface, typed_case, sentence_start);
            // Case changes can make two words look the same ("Paris", "paris" at
            // a sentence start); the better one came first.
            if out.iter().all(|s| s.text != text) {
                out.push(Suggestion {
                    text,
                    kind: c.kind,
                    score: score as f32,
                });
                if out.len() == k {
                    break;
                }
            }
        }
        (out, stages)
    }
}
