//! Touch decoding and autocorrect.
//!
//! - [`spatial`]: each tap as a likelihood over keys, with per-user learned
//!   offsets;
//! - [`search`]: a beam search over the lexicon automaton that explains the
//!   taps with keys and edits (stray taps, left-out letters, swapped
//!   letters);
//! - this module: the words those prefixes stand for, ranked by the touch
//!   model plus the language models (completions and corrections for the
//!   suggestion strip), and the autocorrect decision for a word being
//!   committed, with a plain edit-distance corrector as the baseline.

pub mod search;
pub mod spatial;

use std::collections::HashMap;
use std::time::Instant;

use fst::IntoStreamer;

use crate::engine::Config;
use crate::lm::NeuralLm;
use crate::pack::{HEAVY_PREFIX_LIMIT, LanguagePack, WordRef};
use crate::suggest::{Candidate, Ranking, Stages, Suggestion, SuggestionKind, followers_of};
use crate::text::case::{TypedCase, apply_case, capitalise};
use crate::text::context::{analyse, begins_sentence};
use crate::text::fold::{fold, folded_starts_with};

pub use search::{Observation, Prefix, SearchParams, Searcher};
pub use spatial::{KeyChance, KeyOffsets, SpatialModel};

/// Which corrector decides what a word becomes when it is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corrector {
    /// The touch decoder: spatial model, edits and language models.
    #[default]
    Spatial,
    /// The baseline: the most frequent lexicon word within edit distance 1
    /// (2 for words of five letters or more) of an unknown typed word.
    EditDistance,
    /// Words are committed as typed.
    Off,
}

/// What the autocorrect did with a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The word was replaced by the correction.
    Applied,
    /// A correction was likely enough to offer, not to apply.
    Suggested,
    /// The word was committed as typed.
    Kept,
}

/// The autocorrect decision for one committed word, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The word as typed.
    pub typed: String,
    /// The best correction, if any.
    pub correction: Option<String>,
    /// What was done.
    pub action: Action,
    /// The corrector that decided.
    pub stage: Corrector,
    /// Score of the correction minus score of the typed word (nats); 0
    /// when there is no correction.
    pub margin: f32,
    /// Why, in words.
    pub reason: String,
}

impl Decision {
    fn kept(typed: &str, stage: Corrector, reason: impl Into<String>) -> Self {
        Self {
            typed: typed.to_owned(),
            correction: None,
            action: Action::Kept,
            stage,
            margin: 0.0,
            reason: reason.into(),
        }
    }

    /// The text committed.
    pub fn committed(&self) -> &str {
        match (&self.action, &self.correction) {
            (Action::Applied, Some(correction)) => correction,
            _ => &self.typed,
        }
    }
}

/// The readings an autocorrect decision weighed, kept so that the word
/// can be decided again once the next word is known
/// ([`Decoder::revise`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rivals {
    /// The text committed for the word.
    pub committed: String,
    /// The word as typed and its score in the decision.
    pub typed: (String, f64),
    /// The lexicon knows the typed word.
    pub typed_known: bool,
    /// The best corrections, written as they would be committed, with
    /// their scores, best first.
    pub corrections: Vec<(String, f64)>,
    /// The margin a correction needed over the typed word.
    pub required: f32,
}

/// Corrections kept per decision for its revision at the next word.
const MAX_RIVALS: usize = 4;

/// A word is rewritten at the next word's commit only when the new
/// reading scores this many nats above what was committed (plus, for a
/// word kept as typed, the margin its correction needed). Chosen on the
/// validation logs: without the extra margin for words kept as typed,
/// correct words changed rose (Italian 0.4 0.29 → 0.86 %); with it, 2
/// read 0.03 points more than 3 but changed more correct German and
/// Russian words at sigma 0.3; 0 and 1 (English 0.4 only) fewer right.
const REVISION_MARGIN: f64 = 3.0;

/// A typed word is rewritten the lexicon's way ("dont" → "don't") when
/// that form is this much more frequent (centibels).
const RESTORE_MARGIN: u16 = 100;

/// A tap at least this likely (natural log) to be meant for the space bar
/// may split a word in two.
const SPACE_HIT_LOG_P: f32 = -5.0;

/// Extra margin (nats) to replace a typed word the lexicon knows, at
/// `keep_cost`; it falls linearly to nothing over the next
/// [`KNOWN_WORD_MARGIN_SPAN`] centibels.
const KNOWN_WORD_EXTRA_MARGIN: f32 = 4.0;

/// See [`KNOWN_WORD_EXTRA_MARGIN`].
const KNOWN_WORD_MARGIN_SPAN: u16 = 250;

/// A left-out space costs this much less than a left-out letter: it is
/// only tried where both halves are common words.
const MISSING_SPACE_DISCOUNT: f64 = 3.0;

/// Words of more observations than this are not split.
const MAX_SEGMENTED: usize = 32;

/// Most breaks tried in one typed word (four words).
const MAX_BREAKS: usize = 3;

/// Most pieces searched for the readings of one typed word: readings of
/// fewer breaks come first, and a long run with many likely space-bar hits
/// stops there.
const MAX_PIECE_SEARCHES: usize = 32;

/// A tap on the space bar, punctuation, enter or backspace is read as a
/// letter only if that is at least this likely (natural log).
const MERGE_LETTER_LOG_P: f32 = -2.0;

/// A typed word the lexicon counts common (at most `keep_cost`) is
/// replaced only by a correction this many nats likelier (a real-word
/// error: "night" for "might"). Chosen on the validation logs: 3 changed
/// more correct English words, 3.5 and 4 none.
const COMMON_WORD_MARGIN: f32 = 4.0;

/// A word typed in capitals of at most this many letters is kept as typed
/// (an acronym).
const MAX_ACRONYM_CHARS: usize = 5;

/// At most this many space-bar readings are tried per word, the likeliest.
const MAX_SPACE_HITS: usize = 4;

/// A typed word of more hyphenated parts than this is decided whole.
const MAX_HYPHENATED_PARTS: usize = 4;

/// Prefixes turned into exact-word candidates.
const EXACT_PREFIXES: usize = 24;
/// Prefixes whose completions are offered.
const COMPLETED_PREFIXES: usize = 6;
/// Completions gathered per light prefix.
const COMPLETIONS_PER_PREFIX: usize = 32;

/// Everything a decoding call reads.
pub(crate) struct Decoder<'a> {
    pub pack: &'a LanguagePack,
    pub lm: Option<&'a NeuralLm>,
    pub config: &'a Config,
    pub model: &'a SpatialModel,
    pub context: &'a str,
}

impl<'a> Decoder<'a> {
    /// The ranking of the suggestion strip (`lm_weight`) or of the
    /// autocorrect decision (`decision_lm_weight`).
    fn ranking(&self, started: Instant, lm_weight: f32) -> Ranking<'a> {
        Ranking {
            pack: self.pack,
            lm: self.lm,
            config: self.config,
            context: self.context,
            started,
            proposals: None,
            lm_weight,
        }
    }

    fn params(&self) -> SearchParams {
        SearchParams {
            // A stray tap is rarer than a missed key.
            insertion: self.config.edit_penalty + 1.0,
            omission: self.config.edit_penalty,
            transposition: self.config.edit_penalty - 0.5,
            ..SearchParams::default()
        }
    }

    /// The words whose keys are exactly the best [`EXACT_PREFIXES`]
    /// prefixes, those `offered` allows, each biased by its prefix's touch
    /// cost and shown as `kind_of` says.
    fn exact_words(
        &self,
        prefixes: &[Prefix],
        offered: impl Fn(&WordRef<'_>) -> bool,
        kind_of: impl Fn(&WordRef<'_>) -> SuggestionKind,
    ) -> Vec<Candidate<'a>> {
        let weight = f64::from(self.config.touch_weight);
        let mut candidates = Vec::with_capacity(128);
        for p in prefixes.iter().take(EXACT_PREFIXES) {
            let Some(value) = p.value else { continue };
            for word in self.pack.run(value).filter(|w| offered(w)) {
                candidates.push(Candidate {
                    word,
                    bias: -weight * f64::from(p.cost),
                    kind: kind_of(&word),
                });
            }
        }
        candidates
    }

    /// The prefixes explaining `observations`, continuing `searcher`.
    fn prefixes(&self, observations: &[Observation], searcher: &mut Searcher) -> Vec<Prefix> {
        let params = self.params();
        searcher.update(self.pack, self.model, observations, &params);
        searcher.prefixes_after(self.pack, usize::MAX, &params)
    }

    /// Completions and corrections of the word typed as `literal` with
    /// `observations`, for the suggestion strip. `searcher` holds the
    /// search of the word so far and is brought up to date.
    pub fn suggestions(
        &self,
        literal: &str,
        observations: &[Observation],
        searcher: &mut Searcher,
        k: usize,
    ) -> (Vec<Suggestion>, Stages) {
        let started = Instant::now();
        let literal_key = fold(literal);
        let prefixes = self.prefixes(observations, searcher);
        let weight = f64::from(self.config.touch_weight);
        let kind_of = |w: &WordRef<'_>| {
            if folded_starts_with(w.surface, &literal_key) {
                SuggestionKind::Completion
            } else {
                SuggestionKind::Correction
            }
        };
        let offered = |w: &WordRef<'_>| !w.offensive || fold(w.surface) == literal_key;
        let mut candidates = self.exact_words(&prefixes, offered, kind_of);
        for p in prefixes.iter().take(COMPLETED_PREFIXES) {
            let bias = -weight * f64::from(p.cost);
            let mut add = |w: WordRef<'a>| {
                if offered(&w) {
                    candidates.push(Candidate {
                        word: w,
                        bias,
                        kind: kind_of(&w),
                    });
                }
            };
            match self.pack.top_words(&p.key) {
                Some(top) => top.for_each(&mut add),
                None => {
                    self.pack.for_each_with_prefix(
                        &p.key,
                        COMPLETIONS_PER_PREFIX.min(HEAVY_PREFIX_LIMIT),
                        &mut add,
                    );
                }
            }
        }
        let info = analyse(self.context);
        let previous = info.previous_word.and_then(|w| self.pack.lookup(w));
        let followers = followers_of(self.pack, previous);
        let typed_case = TypedCase::of(literal);
        let (mut list, stages) = self
            .ranking(started, self.config.lm_weight)
            .rank(candidates, &followers, typed_case, k);
        if typed_case == TypedCase::Natural {
            capitalise_shifted(&mut list, &prefixes, &literal_key);
        }
        (list, stages)
    }

    /// The cost of the observations read as exactly `key`.
    fn literal_cost(&self, key: &str, observations: &[Observation]) -> f32 {
        let miss = -spatial::MIN_POSTERIOR.ln();
        let mut chars = key.chars();
        let mut cost = 0.0;
        for observation in observations {
            match *observation {
                Observation::Tap { x, y } => {
                    let Some(c) = chars.next() else {
                        break;
                    };
                    cost += self
                        .model
                        .keys_for(x, y)
                        .iter()
                        .find(|k| k.character == c)
                        .map_or(miss, |k| -k.log_p);
                }
                Observation::Char(c) => {
                    let mut buffer = [0u8; 4];
                    for _ in fold(c.encode_utf8(&mut buffer)).chars() {
                        chars.next();
                    }
                }
            }
        }
        cost
    }

    /// The likeliest lexicon word for `observations` after `context`, with
    /// its score (language model + touch), if any.
    fn best_word(&self, context: &str, observations: &[Observation]) -> Option<(f64, String)> {
        let prefixes = search::search(self.pack, self.model, observations, &self.params());
        self.best_word_of(context, &prefixes)
    }

    /// [`best_word`](Self::best_word) among the words of `prefixes`, the
    /// search of the observations.
    fn best_word_of(&self, context: &str, prefixes: &[Prefix]) -> Option<(f64, String)> {
        // The word-pair model only: these readings are extra, tried at a
        // commit, and must not spend the neural model's budget again.
        let decoder = Decoder {
            context,
            lm: None,
            ..*self
        };
        let candidates =
            self.exact_words(prefixes, |w| !w.offensive, |_| SuggestionKind::Correction);
        let previous = analyse(context)
            .previous_word
            .and_then(|w| self.pack.lookup(w));
        let followers = followers_of(self.pack, previous);
        let mut stages = Stages {
            neural: crate::suggest::NeuralStage::NotUsed,
        };
        let scored = decoder
            .ranking(Instant::now(), self.config.decision_lm_weight)
            .scored(candidates, &followers, TypedCase::Natural, &mut stages);
        scored
            .first()
            .map(|(score, c)| (*score, c.word.surface.to_owned()))
    }

    /// `correction` with the marked letters of `typed` (ö, ñ, ё) where
    /// the lexicon writes the word so, or, for ё, where Russian may.
    fn with_marks_typed(&self, typed: &str, correction: String) -> String {
        let marked = with_typed_marks(typed, &correction);
        if marked == correction {
            return correction;
        }
        let key = fold(&correction);
        if only_yo_added(&correction, &marked)
            || self
                .pack
                .exact(&key)
                .any(|w| w.surface.to_lowercase() == marked.to_lowercase())
        {
            marked
        } else {
            correction
        }
    }

    /// The best reading of the observations as two to four words: taps
    /// that may have been meant for the space bar, or a space left out.
    fn segmented(&self, literal: &str, observations: &[Observation]) -> Option<(f64, Vec<String>)> {
        let n = observations.len();
        if !(3..=MAX_SEGMENTED).contains(&n) {
            return None;
        }
        // (first observation of the next word, cost of the break)
        let mut breaks: Vec<(usize, usize, f64)> = Vec::new();
        for (i, o) in observations.iter().enumerate().take(n - 1).skip(1) {
            // A space bar hit between two words of at least one letter.
            if let Observation::Tap { x, y } = *o {
                let log_p = self.model.space_log_p(x, y);
                if log_p >= SPACE_HIT_LOG_P {
                    breaks.push((i, i + 1, -f64::from(log_p)));
                }
            }
        }
        breaks.sort_by(|a, b| a.2.total_cmp(&b.2));
        breaks.truncate(MAX_SPACE_HITS);
        // A space left out: only where both halves, as typed, are common
        // words ("iwant"), so that the search runs a few times at most.
        let missing = f64::from(self.config.edit_penalty) - MISSING_SPACE_DISCOUNT;
        let typed: Vec<char> = literal.chars().collect();
        if typed.len() == n {
            for i in 1..n {
                let left: String = typed[..i].iter().collect();
                let right: String = typed[i..].iter().collect();
                let common = |w: &str| {
                    self.pack
                        .exact(&fold(w))
                        .any(|w| w.cost <= self.config.keep_cost)
                };
                if common(&left) && common(&right) {
                    breaks.push((i, i, missing));
                }
            }
        }
        breaks.sort_by_key(|&(end, _, _)| end);
        // One break (two words) up to three (four words: "bevreallybmad"
        // has two), in order, each piece at least one observation long.
        let mut readings: Vec<Vec<(usize, usize, f64)>> = breaks.iter().map(|&b| vec![b]).collect();
        let mut grown = 0;
        while grown < readings.len() {
            let reading = readings[grown].clone();
            grown += 1;
            if reading.len() == MAX_BREAKS {
                continue;
            }
            let Some(&(_, last_next, _)) = reading.last() else {
                continue;
            };
            for &b in breaks.iter().filter(|b| b.0 > last_next) {
                let mut longer = reading.clone();
                longer.push(b);
                readings.push(longer);
            }
        }
        // The best word of each piece, by its context and observations.
        let mut words: HashMap<(String, usize, usize), Option<(f64, String)>> = HashMap::new();
        let mut best: Option<(f64, Vec<String>)> = None;
        'readings: for reading in readings {
            let (mut context, mut start) = (self.context.to_owned(), 0);
            let (mut score, mut text) = (0.0, Vec::with_capacity(reading.len() + 1));
            for (end, next, cost) in reading.into_iter().chain([(n, n, 0.0)]) {
                let key = (context.clone(), start, end);
                if !words.contains_key(&key) && words.len() == MAX_PIECE_SEARCHES {
                    break 'readings;
                }
                // The letters typed for this word, where taps and letters
                // correspond one to one.
                let piece =
                    (typed.len() == n).then(|| typed[start..end].iter().collect::<String>());
                let word = words.entry(key).or_insert_with(|| match &piece {
                    // Digits typed before a missed space ("30vpm"): a
                    // number, as typed.
                    Some(piece) if is_number(piece) => Some((NUMBER_PIECE_LOG_P, piece.clone())),
                    _ => self.best_word(&context, &observations[start..end]),
                });
                let Some((s, mut w)) = word.clone() else {
                    continue 'readings;
                };
                if let Some(piece) = piece {
                    // A later word in the case its own letters were typed
                    // in ("thevWorld"); the first takes the whole word's
                    // (below).
                    let case = TypedCase::of(&piece);
                    if start > 0 && case != TypedCase::Natural {
                        w = apply_case(&w, case, false);
                    }
                    // The marked letters typed, as in a word decided alone.
                    w = self.with_marks_typed(&piece, w);
                }
                score += s - cost;
                context = format!("{context}{w} ");
                text.push(w);
                start = next;
            }
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, text));
            }
        }
        best
    }

    /// Whether a word ended by a tap at `tap` on a key that types no letter
    /// (the space bar, a punctuation key, enter) and the word typed after
    /// it were one word, the tap meant for a letter next to that key ("a
    /// out" for "about", "co.puter" for "computer"). `separator_log_p` is
    /// the spatial model's probability (natural log) that the tap was meant
    /// for that key
    /// ([`SpatialModel::key_log_p`](spatial::SpatialModel::key_log_p));
    /// `first` is what was typed before it, after `context_before`;
    /// `second` what came after. Returns the merged word when that reading
    /// wins by the margin.
    pub fn merge(
        &self,
        context_before: &str,
        first: &[Observation],
        tap: (f32, f32),
        separator_log_p: f32,
        second: &[Observation],
    ) -> Option<(String, f32)> {
        let p_letter = letter_log_p(separator_log_p)?;
        let mut merged = first.to_vec();
        merged.push(Observation::Tap { x: tap.0, y: tap.1 });
        merged.extend_from_slice(second);
        if merged.len() > MAX_SEGMENTED {
            return None;
        }
        let (whole_score, whole) = self.best_word(context_before, &merged)?;
        let (first_score, first_word) = self.best_word(context_before, first)?;
        let after = format!("{context_before}{first_word} ");
        let (second_score, _) = self.best_word(&after, second)?;
        let margin = (whole_score + p_letter
            - (first_score + second_score + f64::from(separator_log_p)))
            as f32;
        (margin >= self.config.autocorrect_margin).then_some((whole, margin))
    }

    /// Whether a word ended by a tap at `tap` on a punctuation key
    /// (`mark`) right before a space was meant with a letter next to that
    /// key instead: "e. suas" for "em suas", the "m" missed onto the full
    /// stop below it. `first` is what was typed before the tap, after
    /// `context_before`; `second` the word typed after the space, in lower
    /// case (a capital there says the sentence did end). The touch model
    /// and the word-pair model weigh the two readings of the first word;
    /// the neural model, when loaded and within the call's budget, the two
    /// texts, which tells a sentence's end from its middle. Returns the
    /// first word with the letter when that reading wins by the margin.
    pub fn letter_before_space(
        &self,
        context_before: &str,
        first: &[Observation],
        tap: (f32, f32),
        separator_log_p: f32,
        mark: &str,
        second: &str,
    ) -> Option<(String, f32)> {
        let p_letter = letter_log_p(separator_log_p)?;
        let mut longer = first.to_vec();
        longer.push(Observation::Tap { x: tap.0, y: tap.1 });
        if longer.len() > MAX_SEGMENTED {
            return None;
        }
        let (whole_score, whole) = self.best_word(context_before, &longer)?;
        let (first_score, first_word) = self.best_word(context_before, first)?;
        let joined = format!("{whole} {second}");
        let ended = format!("{first_word}{mark} {}", capitalise(second));
        let odds = self
            .neural_log_odds(context_before, &joined, &ended, Instant::now())
            .unwrap_or(0.0);
        let margin =
            (whole_score + p_letter - (first_score + f64::from(separator_log_p))) as f32 + odds;
        (margin >= self.config.autocorrect_margin).then_some((whole, margin))
    }

    /// In a language that writes its nouns with a capital (German), a
    /// word typed in lower case that the lexicon writes only with one,
    /// written so ("freund" → "Freund", "nationen" → "Nationen": shift
    /// missed). `None` where the lexicon also writes it in lower case
    /// ("morgen", "Morgen"), and in other languages, where such words are
    /// names and brands often written in lower case ("wifi",
    /// "philadelphia").
    fn lexicon_case(&self, literal: &str, key: &str, sentence_start: bool) -> Option<Decision> {
        if !capitalises_nouns(self.pack.language()) || literal.chars().any(char::is_uppercase) {
            return None;
        }
        let forms: Vec<WordRef<'_>> = self.pack.exact(key).filter(|w| !w.offensive).collect();
        if forms.iter().any(|w| w.surface == literal) {
            return None;
        }
        let written = forms
            .iter()
            .filter(|w| w.surface.to_lowercase() == literal)
            .min_by_key(|w| w.cost)?;
        Some(Decision {
            typed: literal.to_owned(),
            correction: Some(apply_case(
                written.surface,
                TypedCase::Natural,
                sentence_start,
            )),
            action: Action::Applied,
            stage: Corrector::Spatial,
            margin: f32::INFINITY,
            reason: format!("{:?} is how the lexicon writes it", written.surface),
        })
    }

    /// The margin a correction needs over the typed word: the autocorrect
    /// margin, and more for a typed word the lexicon knows (`known`, its
    /// likeliest entry), since such a word is far more often meant than a
    /// typo that happens to be a word. The extra shrinks to nothing for
    /// the rarest lexicon words, which are often misspellings themselves
    /// ("becuase").
    fn required_margin(&self, known: Option<&WordRef<'_>>) -> f32 {
        self.config.autocorrect_margin
            + known.map_or(0.0, |w| {
                let rarity = (f32::from(w.cost) - f32::from(self.config.keep_cost))
                    / f32::from(KNOWN_WORD_MARGIN_SPAN);
                KNOWN_WORD_EXTRA_MARGIN * (1.0 - rarity.clamp(0.0, 1.0))
            })
    }

    /// The word typed as `literal` read with a letter that a tap on
    /// backspace erased put back, and that tap read as the letter beside it
    /// ("mi⌫k" for "milk"), or with a tap on shift before its first letter
    /// read as a letter ("⇧t" for "at"): `restored` holds those
    /// observations, `backspace_log_p` is the spatial model's probability
    /// (natural log) that the tap was meant for its key, backspace or
    /// shift, and `typed_score` the word as typed
    /// ([`typed_score`](Self::typed_score)); `searcher` holds a search of
    /// the restored observations so far (one kept between keystrokes, or a
    /// fresh one) and is brought up to date. The restored reading's
    /// best word and its margin over the typed reading, when that margin
    /// reaches what a correction of the typed word needs. Like
    /// [`merge`](Self::merge), scored with the word-pair model only.
    pub fn unerase(
        &self,
        literal: &str,
        typed_score: f64,
        restored: &[Observation],
        backspace_log_p: f32,
        searcher: &mut Searcher,
    ) -> Option<(String, f32)> {
        letter_log_p(backspace_log_p)?;
        if restored.len() > MAX_SEGMENTED {
            return None;
        }
        let prefixes = self.prefixes(restored, searcher);
        let (score, word) = self.best_word_of(self.context, &prefixes)?;
        if fold(&word) == fold(literal) {
            return None;
        }
        let margin = self.unerased_margin(literal, score, typed_score, backspace_log_p)?;
        Some((word, margin))
    }

    /// The word typed as `literal` after a tap on backspace erased the
    /// separator after the word before, which became current again
    /// (`reopened`, the first letters of `literal`; `before`, the text
    /// before the cursor as it was, separator included), read as that
    /// word, the separator, and a new word whose first letter is the tap
    /// (`restored`: the tap, then the observations typed after it). The
    /// new word and the margin of that reading over the typed one
    /// (`typed_score`), as [`unerase`](Self::unerase) gives them.
    pub fn unerase_separator(
        &self,
        literal: &str,
        typed_score: f64,
        (reopened, before): (&str, &str),
        restored: &[Observation],
        backspace_log_p: f32,
    ) -> Option<(String, f32)> {
        letter_log_p(backspace_log_p)?;
        if restored.len() > MAX_SEGMENTED {
            return None;
        }
        let (second_score, second) = self.best_word(before, restored)?;
        let first_score = if reopened.is_empty() {
            0.0
        } else {
            let chars: Vec<Observation> = reopened.chars().map(Observation::Char).collect();
            self.typed_score(reopened, &chars, &mut Searcher::default())
        };
        let score = first_score + second_score;
        let margin = self.unerased_margin(literal, score, typed_score, backspace_log_p)?;
        Some((second, margin))
    }

    /// The margin of a reading that took a tap on backspace for a letter
    /// (`score`) over the word typed as `literal` (`typed_score`), the
    /// tap's odds of each included, if it reaches what a correction of the
    /// typed word needs.
    fn unerased_margin(
        &self,
        literal: &str,
        score: f64,
        typed_score: f64,
        backspace_log_p: f32,
    ) -> Option<f32> {
        let p_letter = letter_log_p(backspace_log_p)?;
        let margin = (score + p_letter - (typed_score + f64::from(backspace_log_p))) as f32;
        let known = self.pack.exact(&fold(literal)).min_by_key(|w| w.cost);
        (margin >= self.required_margin(known.as_ref())).then_some(margin)
    }

    /// The score of the word typed as `literal` with `observations`: its
    /// best reading by the word-pair model, or the word as typed at the
    /// unknown-word probability if that is higher. `searcher` holds the
    /// search of the observations so far (the session's, kept between
    /// keystrokes) and is brought up to date.
    pub fn typed_score(
        &self,
        literal: &str,
        observations: &[Observation],
        searcher: &mut Searcher,
    ) -> f64 {
        let key = fold(literal);
        let weight = f64::from(self.config.touch_weight);
        let as_typed = unknown_word_log_prob(self.config, &key)
            - weight * f64::from(self.literal_cost(&key, observations));
        let prefixes = self.prefixes(observations, searcher);
        self.best_word_of(self.context, &prefixes)
            .map_or(as_typed, |(score, _)| score.max(as_typed))
    }

    /// Accents and apostrophes the user typed are theirs: a word typed with
    /// them that the lexicon writes that way is not respelled ("tè", not
    /// "te"), a typed hyphen is kept where it joins lexicon words
    /// ("diz-se") or the word list writes the word without it
    /// ("что-нибудь"), and in French, Italian and Portuguese an elision of a
    /// lexicon word is kept ("c'è", "l'unica", "po'"). `None` for a plain
    /// word or one to decode.
    fn typed_marks_kept(&self, literal: &str, key: &str) -> Option<String> {
        let known = |w: &str| self.pack.exact(&fold(w)).next().is_some();
        // A typed hyphen is meant: between lexicon words ("diz-se",
        // "well-known"), or in a word the word list writes without it
        // ("что-нибудь", listed as "чтонибудь").
        if literal.contains('-')
            && (literal
                .split('-')
                .all(|part| !part.is_empty() && known(part))
                || known(&literal.replace('-', "")))
        {
            return Some(format!("{literal:?}: a hyphen as typed"));
        }
        let lower = literal.to_lowercase();
        if lower == key {
            return None; // nothing typed that folding drops
        }
        // Only a word common enough: a rare one ("añoa", a stray form in
        // the word list) is decoded like any rare word ("años").
        let common = self.config.keep_cost.saturating_add(KNOWN_WORD_MARGIN_SPAN);
        if self
            .pack
            .exact(key)
            .any(|w| w.surface.to_lowercase() == lower && w.cost <= common)
        {
            return Some(format!("{literal:?} is a lexicon word, marks as typed"));
        }
        self.is_elision(literal)
            .then(|| format!("{literal:?}: an elision of lexicon words, as typed"))
    }

    /// A word typed with hyphens the user chose (long-pressed, not
    /// tapped): "asseyez-vlus", "twenry-oje". The lexicon lists such words
    /// without their hyphens if at all ("twentyone"), so each part is
    /// decided on its own, after the text and the parts before it, and the
    /// hyphens are kept: "asseyez-vous", "twenty-one". A part of one
    /// letter ("a-t-il") or read as several words is kept as typed. The
    /// parts' changes are applied only if each is; the margin is the
    /// smallest. `None` where no hyphen was typed between letters, where
    /// the word list holds the word joined ("чтонибудь"), or for more than
    /// [`MAX_HYPHENATED_PARTS`] parts.
    fn decide_hyphenated(
        &self,
        literal: &str,
        observations: &[Observation],
        started: Instant,
    ) -> Option<Decision> {
        let chars: Vec<char> = literal.chars().collect();
        if chars.len() != observations.len() {
            return None;
        }
        let hyphens: Vec<usize> = (0..chars.len())
            .filter(|&i| chars[i] == '-' && observations[i] == Observation::Char('-'))
            .collect();
        if hyphens.is_empty() || hyphens.len() >= MAX_HYPHENATED_PARTS {
            return None;
        }
        let bounds: Vec<(usize, usize)> = std::iter::once(0)
            .chain(hyphens.iter().map(|&h| h + 1))
            .zip(hyphens.iter().copied().chain(std::iter::once(chars.len())))
            .collect();
        // "что-нибудь", listed as "чтонибудь", is kept as typed.
        if bounds.iter().any(|&(from, to)| from >= to)
            || self
                .pack
                .exact(&fold(&literal.replace('-', "")))
                .next()
                .is_some()
        {
            return None;
        }
        let mut written = String::new();
        let mut action = Action::Kept;
        let mut margin = f32::INFINITY;
        let mut changed = Vec::new();
        for (i, &(from, to)) in bounds.iter().enumerate() {
            if i > 0 {
                written.push('-');
            }
            let part: String = chars[from..to].iter().collect();
            // A letter between hyphens is meant: the "t" of "a-t-il".
            if to - from == 1 {
                written.push_str(&part);
                continue;
            }
            let context = format!("{}{written}", self.context);
            let decoder = Decoder {
                context: &context,
                ..*self
            };
            let decision = decoder.decide_since(
                &part,
                &observations[from..to],
                &mut Searcher::default(),
                started,
                &mut None,
            );
            match decision.correction.filter(|c| !c.contains(' ')) {
                Some(correction) if decision.action != Action::Kept => {
                    action = match (action, decision.action) {
                        (Action::Suggested, _) | (_, Action::Suggested) => Action::Suggested,
                        _ => Action::Applied,
                    };
                    margin = margin.min(decision.margin);
                    changed.push(format!("{part:?} → {correction:?}"));
                    written.push_str(&correction);
                }
                _ => written.push_str(&part),
            }
        }
        Some(if changed.is_empty() {
            Decision::kept(
                literal,
                Corrector::Spatial,
                "each part of the hyphenated word kept",
            )
        } else {
            Decision {
                typed: literal.to_owned(),
                correction: Some(written),
                action,
                stage: Corrector::Spatial,
                margin,
                reason: format!(
                    "hyphenated word, parts decided apart: {}",
                    changed.join(", ")
                ),
            }
        })
    }

    /// Whether `word` is an elision ("l'unica", "c'è", "po'") in a
    /// language that writes them: a word that elides its last vowel
    /// ([`elided_heads`]) before a lexicon word beginning with a vowel or
    /// "h", or in Italian a short lexicon word cut short. ("V'est",
    /// "pas'" and "s'ol" are typos, not elisions.)
    fn is_elision(&self, word: &str) -> bool {
        let heads = elided_heads(self.pack.language());
        if heads.is_empty() {
            return false;
        }
        let known = |w: &str| self.pack.exact(&fold(w)).next().is_some();
        let Some((head, tail)) = word.rsplit_once(crate::text::fold::is_apostrophe) else {
            return false;
        };
        if tail.is_empty() {
            return self.pack.language() == "it" && head.chars().count() <= 4 && known(head);
        }
        let vowel_next = fold(tail)
            .chars()
            .next()
            .is_some_and(|c| "aeiouyh".contains(c));
        let head = head.to_lowercase();
        vowel_next && heads.contains(&head.as_str()) && known(tail)
    }

    /// Whether the neural model, when loaded and within the call's
    /// budget, finds the words `split` (a reading of the word typed as
    /// `literal` as several) at least as likely after the context as the
    /// word as typed. The readings as several words are scored with the
    /// word-pair model, which knows nothing of a word the lexicon lacks
    /// but its length: a correctly typed name or rare word ("Debian",
    /// "divora") would otherwise lose to common words its letters hold
    /// ("De ian", "di ora"). Without the model, or when it cannot say,
    /// nothing is vetoed.
    fn neural_allows_split(&self, split: &str, literal: &str, started: Instant) -> bool {
        self.neural_prefers(split, literal, started).unwrap_or(true)
    }

    /// Whether the neural model finds `a` at least as likely after the
    /// context as `b`; `None` without the model, past the call's budget,
    /// or when it cannot score them.
    fn neural_prefers(&self, a: &str, b: &str, started: Instant) -> Option<bool> {
        self.neural_log_odds(self.context, a, b, started)
            .map(|odds| odds >= 0.0)
    }

    /// The neural model's `ln P(a) − ln P(b)` after `context`; `None`
    /// without the model, past the call's budget, or when it cannot score
    /// them.
    fn neural_log_odds(&self, context: &str, a: &str, b: &str, started: Instant) -> Option<f32> {
        let lm = self.lm?;
        if started.elapsed() >= self.config.lm_budget {
            return None;
        }
        let ids = lm.context_ids_within(context, self.config.lm_context_tokens);
        let state = lm.state(&ids).ok()?;
        match lm.score_words(&state, &[a, b]).as_deref() {
            Ok([Some(a), Some(b)]) => Some(a - b),
            _ => None,
        }
    }

    /// The correction `best` of the word typed as `literal` (folded
    /// `key`), written as it would be committed: in the case typed (a
    /// first tap read as a missed shift gives a capital), a capital where
    /// a sentence surely begins, and with the marked letters typed.
    fn written_correction(
        &self,
        literal: &str,
        key: &str,
        best: &Candidate<'_>,
        prefixes: &[Prefix],
        sentence_start: bool,
    ) -> String {
        // Of the ways the lexicon writes the best key, the one in the case
        // the user typed ("like", not "Like", for "liks").
        let best_key = fold(best.word.surface);
        let mut typed_case = TypedCase::of(first_tap_kept(literal, &best_key));
        // A first tap read as a shift that missed: the word was meant
        // with a capital ("apleaze" is "Please").
        if typed_case == TypedCase::Natural
            && prefixes.iter().any(|p| p.shifted && p.key == best_key)
        {
            typed_case = TypedCase::Capitalised;
        }
        // But not a lower-case form with marks where the best form and
        // the typed word have none ("petde" is "Peter", not "péter").
        let plain = |w: &str| w.to_lowercase() == best_key;
        let surface = if typed_case == TypedCase::Natural {
            self.pack
                .exact(&best_key)
                .filter(|w| !w.offensive && w.surface.chars().all(|c| !c.is_uppercase()))
                .filter(|w| {
                    plain(w.surface) || !plain(best.word.surface) || key != literal.to_lowercase()
                })
                .min_by_key(|w| w.cost)
                .map_or(best.word.surface, |w| w.surface)
        } else {
            best.word.surface
        };
        let correction = apply_case(surface, typed_case, sentence_start);
        self.with_marks_typed(literal, correction)
    }

    /// The word decided with `rivals` after `context_before`, decided
    /// again now that the text after it is known: `separator` and the
    /// next word `next` as committed. Each reading's score gains
    /// `lookahead_lm_weight` times the neural model's `ln P(next |
    /// context, reading)`, and the decision's rule is applied again (a
    /// correction needs the same margin over the typed word). Returns the
    /// new text when it differs from what was committed; `None` without
    /// the neural model or when nothing changes. Bounded work: one model
    /// run over at most ten strings (each reading with and without the
    /// next word), most of whose first halves the decision already scored
    /// in the same context.
    pub fn revise(
        &self,
        context_before: &str,
        rivals: &Rivals,
        separator: &str,
        next: &str,
    ) -> Option<String> {
        let weight = f64::from(self.config.lookahead_lm_weight);
        let lm = self
            .lm
            .filter(|_| weight > 0.0 && !rivals.corrections.is_empty())?;
        // The next word must be words the lexicon knows: the model finds a
        // typo likelier after a typo ("vI sd") than after a word.
        if !next
            .split(' ')
            .all(|w| self.pack.exact(&fold(w)).next().is_some())
        {
            return None;
        }
        // An unknown word kept as typed stays; a correction of one may
        // give way only to another correction.
        if !rivals.typed_known && rivals.committed == rivals.typed.0 {
            return None;
        }
        let ids = lm.context_ids_within(context_before, self.config.lm_context_tokens);
        let state = lm.state(&ids).ok()?;
        let readings: Vec<&(String, f64)> = std::iter::once(&rivals.typed)
            .chain(&rivals.corrections)
            .collect();
        let texts: Vec<String> = readings
            .iter()
            .flat_map(|(text, _)| [text.clone(), format!("{text}{separator}{next}")])
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let scores = lm.score_words(&state, &refs).ok()?;
        let total = |i: usize| -> Option<f64> {
            let alone = scores.get(2 * i).copied().flatten()?;
            let with_next = scores.get(2 * i + 1).copied().flatten()?;
            Some(readings[i].1 + weight * f64::from(with_next - alone))
        };
        let best = (1..readings.len())
            .filter_map(|i| Some((total(i)?, i)))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let chosen = if rivals.typed_known {
            let typed = total(0)?;
            match best {
                Some((score, i)) if (score - typed) as f32 >= rivals.required => &readings[i].0,
                _ => &readings[0].0,
            }
        } else {
            &readings[best?.1].0
        };
        if *chosen == rivals.committed {
            return None;
        }
        // A second thought must be clearly better than the first: by
        // `REVISION_MARGIN`, and a typed word kept as the user wrote it
        // gives way only by that plus the margin its correction needed.
        let committed = readings.iter().position(|(t, _)| *t == rivals.committed)?;
        let chosen_at = readings.iter().position(|(t, _)| t == chosen)?;
        let gain = total(chosen_at)? - total(committed)?;
        let mut needed = REVISION_MARGIN;
        if committed == 0 {
            needed += f64::from(rivals.required);
        }
        (gain >= needed).then(|| chosen.clone())
    }

    /// The touch decoder's decision for the word typed as `literal`, with
    /// the readings it weighed when it ranked corrections against the
    /// typed word (none when a rule decided).
    pub fn decide_with_rivals(
        &self,
        literal: &str,
        observations: &[Observation],
        searcher: &mut Searcher,
    ) -> (Decision, Option<Rivals>) {
        let mut rivals = None;
        let decision =
            self.decide_since(literal, observations, searcher, Instant::now(), &mut rivals);
        if let Some(r) = rivals.as_mut() {
            r.committed = decision.committed().to_owned();
        }
        (decision, rivals)
    }

    /// [`decide_with_rivals`](Self::decide_with_rivals) within the budget
    /// of a call that began at `started`; `rivals` receives the readings
    /// weighed, when the ranking decided.
    fn decide_since(
        &self,
        literal: &str,
        observations: &[Observation],
        searcher: &mut Searcher,
        started: Instant,
        rivals: &mut Option<Rivals>,
    ) -> Decision {
        let stage = Corrector::Spatial;
        let key = fold(literal);
        if key.is_empty() {
            return Decision::kept(literal, stage, "nothing to correct");
        }
        if let Some(decision) = self.decide_hyphenated(literal, observations, started) {
            return decision;
        }
        if let Some(reason) = self.typed_marks_kept(literal, &key) {
            return Decision::kept(literal, stage, reason);
        }
        // Capitals typed letter by letter (shift before each, or caps
        // lock) are chosen: an acronym ("SFO", "NY") or shouting, not a
        // typo of a lexicon word ("SCO", "MY").
        if TypedCase::of(literal) == TypedCase::Upper && key.chars().count() <= MAX_ACRONYM_CHARS {
            return Decision::kept(literal, stage, "typed in capitals");
        }
        let known = self.pack.exact(&key).min_by_key(|w| w.cost);
        let info = analyse(self.context);
        // A correction takes a capital where a sentence surely begins; after
        // "!" or an ellipsis, the case typed.
        let sentence_start = begins_sentence(self.context);
        // A common word typed is replaced only by a far likelier one ("mr"
        // → "me", "night" → "might" after "I"), never split, and never
        // merely offered.
        let common_known = known.is_some_and(|w| w.cost <= self.config.keep_cost);
        if let Some(w) = known.filter(|_| common_known) {
            let lower = literal.to_lowercase();
            let as_typed = self
                .pack
                .exact(&key)
                .filter(|w| w.surface.to_lowercase() == lower)
                .map(|w| w.cost)
                .min();
            // Marks typed where the lexicon's usual form has none ("daß",
            // "muß" in the spelling before 1996; the lexicon writes "dass")
            // were chosen on purpose: no key types them by itself.
            let marks_chosen = lower != key && w.surface.to_lowercase() == key;
            // "lune" may not be "l'une": where the letters are a word in
            // their own right, the neural model, when loaded, says which
            // is meant ("la lune", "l'une des").
            let a_word_itself = as_typed.is_some()
                && self.is_elision(w.surface)
                && self.neural_prefers(&lower, &w.surface.to_lowercase(), started) == Some(true);
            // "dont" is "don't", "uber" is "über": the letters are right and
            // the lexicon writes them otherwise, far more often.
            if as_typed.is_none_or(|cost| cost > w.cost.saturating_add(RESTORE_MARGIN))
                && w.surface.to_lowercase() != lower
                && !marks_chosen
                && !a_word_itself
            {
                let correction = apply_case(w.surface, TypedCase::of(literal), sentence_start);
                return Decision {
                    typed: literal.to_owned(),
                    correction: Some(correction),
                    action: Action::Applied,
                    stage,
                    margin: f32::INFINITY,
                    reason: format!("{:?} is how the lexicon writes it", w.surface),
                };
            }
            if let Some(decision) = self.lexicon_case(literal, &key, sentence_start) {
                return decision;
            }
            if marks_chosen || a_word_itself {
                return Decision::kept(
                    literal,
                    stage,
                    format!("{:?} is a known word (cost {} cB)", w.surface, w.cost),
                );
            }
        }
        let weight = f64::from(self.config.touch_weight);
        let prefixes = self.prefixes(observations, searcher);
        let literal_cost = self.literal_cost(&key, observations);
        let mut candidates =
            self.exact_words(&prefixes, |w| !w.offensive, |_| SuggestionKind::Correction);
        if let Some(w) = known {
            candidates.push(Candidate {
                word: w,
                bias: -weight * f64::from(literal_cost),
                kind: SuggestionKind::Completion,
            });
        }
        let previous = info.previous_word.and_then(|w| self.pack.lookup(w));
        let followers = followers_of(self.pack, previous);
        let mut stages = Stages {
            neural: crate::suggest::NeuralStage::NotUsed,
        };
        let ranking = self.ranking(started, self.config.decision_lm_weight);
        // An unknown typed word is scored by the model in the same run as its rivals.
        let typed_unknown = (known.is_none() && self.config.score_typed_with_lm).then_some(literal);
        let (scored, typed_lm) = ranking.scored_with(
            candidates,
            &followers,
            TypedCase::of(literal),
            typed_unknown,
            &mut stages,
        );
        // The typed word's score, an unknown one's prior lowered by
        // `per_letter` more for each letter past the fourth.
        let typed_word = scored.iter().find(|(_, c)| fold(c.word.surface) == key);
        let typed_score_with = |per_letter: f64| match typed_word {
            Some((score, _)) => *score,
            None => {
                let prior = unknown_prior(self.config, &key, UNKNOWN_PER_LETTER + per_letter);
                ranking.unknown_word_score(typed_lm, prior) - weight * f64::from(literal_cost)
            }
        };
        let typed_score = typed_score_with(0.0);
        let best_or = |typed: f64| scored.first().map_or(typed, |(s, _)| s.max(typed));
        // Read as several words, a typed lexicon word needs the margin a
        // correction of it would.
        let single = best_or(typed_score_with(SPLIT_UNKNOWN_PER_LETTER));
        if !common_known
            && let Some((score, words)) = self.segmented(literal, observations)
            && score - single >= f64::from(self.required_margin(known.as_ref()))
            && self.neural_allows_split(&words.join(" "), literal, started)
        {
            let mut text = words.join(" ");
            if TypedCase::of(literal) != TypedCase::Natural || sentence_start {
                text = apply_case(&text, TypedCase::of(literal), sentence_start);
            }
            return Decision {
                typed: literal.to_owned(),
                correction: Some(text),
                action: Action::Applied,
                stage,
                margin: (score - typed_score) as f32,
                reason: format!(
                    "read as {} words (space bar hit or left out), {:.2} above one word",
                    words.len(),
                    score - single
                ),
            };
        }
        let Some((best_score, best)) = scored.first() else {
            return Decision::kept(literal, stage, "no lexicon word explains the taps");
        };
        // A typed word the lexicon knows needs a larger margin.
        let mut required = self.required_margin(known.as_ref());
        if common_known {
            required = COMMON_WORD_MARGIN;
        }
        // A rare word typed with the marks the lexicon writes it with
        // ("castañeta", "Générez": a long press chose them) is replaced only
        // by the margin a common known word needs.
        let lower = literal.to_lowercase();
        if lower != key
            && self
                .pack
                .exact(&key)
                .any(|w| w.surface.to_lowercase() == lower)
        {
            required = required.max(self.config.autocorrect_margin + KNOWN_WORD_EXTRA_MARGIN);
        }
        let written = |c: &Candidate<'_>| {
            self.written_correction(literal, &key, c, &prefixes, sentence_start)
        };
        // The readings are kept only where the next word can weigh them.
        if self.lm.is_some() && self.config.lookahead_lm_weight > 0.0 {
            let mut corrections: Vec<(String, f64)> = Vec::with_capacity(MAX_RIVALS);
            for (score, c) in &scored {
                if corrections.len() == MAX_RIVALS {
                    break;
                }
                if fold(c.word.surface) != key {
                    let text = written(c);
                    if !corrections.iter().any(|(t, _)| *t == text) {
                        corrections.push((text, *score));
                    }
                }
            }
            *rivals = Some(Rivals {
                committed: String::new(),
                typed: (literal.to_owned(), typed_score),
                typed_known: known.is_some(),
                corrections,
                required,
            });
        }
        if fold(best.word.surface) == key {
            return self
                .lexicon_case(literal, &key, sentence_start)
                .inspect(|_| *rivals = None)
                .unwrap_or_else(|| Decision::kept(literal, stage, "the typed word ranks first"));
        }
        let margin = (best_score - typed_score) as f32;
        let correction = written(best);
        let (action, reason) = if margin >= required {
            (
                Action::Applied,
                format!(
                    "margin {margin:.2} ≥ {required:.2} (touch + language model{})",
                    if stages.neural == crate::suggest::NeuralStage::Ran {
                        ", neural"
                    } else {
                        ""
                    }
                ),
            )
        } else if let Some(w) = known.filter(|_| common_known) {
            (
                Action::Kept,
                format!(
                    "{:?} is a common word (cost {} cB): margin {margin:.2} < {required:.2}",
                    w.surface, w.cost
                ),
            )
        } else if margin > 0.0 {
            (
                Action::Suggested,
                format!("margin {margin:.2} < {required:.2}: offered, not applied"),
            )
        } else {
            (
                Action::Kept,
                format!("margin {margin:.2}: typed word as likely"),
            )
        };
        Decision {
            typed: literal.to_owned(),
            correction: Some(correction),
            action,
            stage,
            margin,
            reason,
        }
    }
}

/// The words that elide their last vowel before a vowel or "h", written
/// with an apostrophe, in `language` (none where it writes no elisions).
fn elided_heads(language: &str) -> &'static [&'static str] {
    match language {
        "fr" => &[
            "c", "ç", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu",
            "quoiqu", "presqu", "quelqu", "entr",
        ],
        "it" => &[
            "l", "d", "c", "m", "t", "s", "v", "n", "un", "all", "dall", "dell", "nell", "sull",
            "coll", "quell", "quest", "bell", "sant", "tutt", "nessun", "qualcun", "cos", "com",
            "dov", "quand", "senz", "anch", "mezz", "buon", "grand", "ch",
        ],
        "pt" => &["d", "n"],
        _ => &[],
    }
}

/// Natural log of the probability that a tap on a key that types no
/// letter (the space bar, punctuation, enter, backspace, shift) was meant for a
/// letter instead, given `key_log_p`, the spatial model's for that key;
/// `None` when that is less likely than [`MERGE_LETTER_LOG_P`].
pub(crate) fn letter_log_p(key_log_p: f32) -> Option<f64> {
    let p_letter = (1.0 - key_log_p.exp()).max(1e-6).ln();
    (key_log_p.is_finite() && p_letter >= MERGE_LETTER_LOG_P).then_some(f64::from(p_letter))
}

/// Capitalises the corrections in `list` that read the first tap as a
/// shift that missed (they come from a [`Prefix::shifted`] prefix and do
/// not continue the letters typed, `literal_key`), as the decision would
/// commit them.
fn capitalise_shifted(list: &mut [Suggestion], prefixes: &[Prefix], literal_key: &str) {
    for suggestion in list {
        let key = fold(&suggestion.text);
        let shifted = prefixes
            .iter()
            .any(|p| p.shifted && !p.key.is_empty() && key.starts_with(p.key.as_str()));
        if shifted && !key.starts_with(literal_key) {
            suggestion.text = capitalise(&suggestion.text);
        }
    }
}

/// The baseline corrector, a classic spelling corrector: a typed word the
/// lexicon does not hold becomes the most frequent lexicon word at the
/// smallest edit distance (1, or 2 for words of five letters or more),
/// found with the fst Levenshtein automaton. (Protecting only frequent
/// words, as the decoder does, made it change 5–30 % of correctly typed
/// words.)
pub(crate) fn edit_distance_decision(
    pack: &LanguagePack,
    config: &Config,
    context: &str,
    literal: &str,
) -> Decision {
    let stage = Corrector::EditDistance;
    let key = fold(literal);
    if key.is_empty() {
        return Decision::kept(literal, stage, "nothing to correct");
    }
    let _ = config;
    if pack.exact(&key).next().is_some() {
        return Decision::kept(literal, stage, "a lexicon word");
    }
    let distance = if key.chars().count() >= 5 { 2 } else { 1 };
    let Ok(automaton) = fst::automaton::Levenshtein::new(&key, distance) else {
        return Decision::kept(literal, stage, "too long for the automaton");
    };
    let mut stream = pack.lexicon_map().search(automaton).into_stream();
    let mut best: Option<(usize, u16, WordRef<'_>)> = None;
    while let Some((found, value)) = fst::Streamer::next(&mut stream) {
        let Ok(found) = std::str::from_utf8(found) else {
            continue;
        };
        let d = edit_distance(&key, found);
        for w in pack.run(value).filter(|w| !w.offensive) {
            if best.is_none_or(|(bd, bc, _)| (d, w.cost) < (bd, bc)) {
                best = Some((d, w.cost, w));
            }
        }
    }
    let Some((d, _, w)) = best else {
        return Decision::kept(literal, stage, "no word within reach");
    };
    let correction = apply_case(w.surface, TypedCase::of(literal), begins_sentence(context));
    Decision {
        typed: literal.to_owned(),
        correction: Some(correction),
        action: Action::Applied,
        stage,
        margin: 0.0,
        reason: format!("unknown word; nearest at distance {d}"),
    }
}

/// Log-probability of a typed word the lexicon does not know: the
/// configured value for words of up to four letters, less
/// [`UNKNOWN_PER_LETTER`] for each letter beyond (a long unknown string is
/// less likely to be meant than a short one).
pub(crate) fn unknown_word_log_prob(config: &Config, key: &str) -> f64 {
    unknown_prior(config, key, UNKNOWN_PER_LETTER)
}

/// The unknown-word prior at `per_letter` nats for each letter past the
/// fourth.
fn unknown_prior(config: &Config, key: &str, per_letter: f64) -> f64 {
    let extra = key.chars().count().saturating_sub(4) as f64;
    f64::from(config.unknown_word_log_prob) - per_letter * extra
}

/// See [`unknown_word_log_prob`].
const UNKNOWN_PER_LETTER: f64 = 1.0;

/// Score (natural log) of a number as one of the words a run-on is read
/// as ("30vpm" as "30 pm"): about a common word's.
const NUMBER_PIECE_LOG_P: f64 = -8.0;

/// Whether `language` writes every noun with a capital.
fn capitalises_nouns(language: &str) -> bool {
    language == "de"
}

/// The letters of `literal` that spell the word `key`, as far as its case
/// goes: without the first when that was a stray tap the word does not
/// begin with and the second is the word's first letter ("vEcerybody" is
/// "Everybody", the space bar hit as "v" before shift; "Vfunny" is
/// "funny").
fn first_tap_kept<'a>(literal: &'a str, key: &str) -> &'a str {
    let mut chars = literal.chars();
    let (Some(first), Some(second), Some(start)) =
        (chars.next(), chars.clone().next(), key.chars().next())
    else {
        return literal;
    };
    let folded = |c: char| fold(&c.to_string()).chars().next();
    if folded(first) != Some(start) && folded(second) == Some(start) {
        chars.as_str()
    } else {
        literal
    }
}

/// Whether `piece` is a number as typed: digits, with the separators of
/// times, decimals and thousands between them ("30", "10:15", "4.2").
fn is_number(piece: &str) -> bool {
    piece.starts_with(|c: char| c.is_ascii_digit())
        && piece.ends_with(|c: char| c.is_ascii_digit())
        && piece
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | ','))
}

/// Further cost per letter past the fourth of an unknown typed word when it
/// is weighed against a reading as several words: a run-on with a typo in
/// each word ("vailablwbhousewz") was kept as one unknown word. Counted
/// there only, the validation logs at sigma 0.4 gained 1.2-1.8 points of
/// word accuracy (en, de, ru) and no correct word was changed more; counted
/// everywhere (a prior of 2 nats a letter), correct unknown words (names)
/// were changed in four more cases.
const SPLIT_UNKNOWN_PER_LETTER: f64 = 1.0;

/// The correction with the marked letters the user typed where it has
/// their plain letter: "wchön" → "schön", not the likelier "schon" the
/// search reads the same letters as (it folds ö to o); "солёнкя" →
/// "солёная". Each typed letter whose folded form differs from it (ö, é,
/// ё, ñ), aligned with the same folded letter in `correction`, is copied
/// over in the correction's case.
fn with_typed_marks(typed: &str, correction: &str) -> String {
    let folded = |c: char| -> String { c.to_lowercase().map(|l| fold(&l.to_string())).collect() };
    let marked = |c: char| {
        c.to_lowercase()
            .any(|l| fold(&l.to_string()) != l.to_string())
    };
    if !typed.chars().any(marked) {
        return correction.to_owned();
    }
    let a: Vec<(char, String)> = typed.chars().map(|c| (c, folded(c))).collect();
    let mut b: Vec<(char, String)> = correction.chars().map(|c| (c, folded(c))).collect();
    // Levenshtein table over folded letters, then the alignment walked
    // back from its end.
    let width = b.len() + 1;
    let mut cost = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            cost[i * width + j] = match (i, j) {
                (0, _) => j,
                (_, 0) => i,
                _ => (cost[(i - 1) * width + j - 1] + usize::from(a[i - 1].1 != b[j - 1].1))
                    .min(cost[(i - 1) * width + j] + 1)
                    .min(cost[i * width + j - 1] + 1),
            };
        }
    }
    let (mut i, mut j) = (a.len(), b.len());
    while i > 0 && j > 0 {
        let here = cost[i * width + j];
        let same = a[i - 1].1 == b[j - 1].1;
        if here == cost[(i - 1) * width + j - 1] + usize::from(!same) {
            let (typed_char, corrected) = (a[i - 1].0, b[j - 1].0);
            if same && marked(typed_char) && !marked(corrected) {
                let letter: Vec<char> = if corrected.is_uppercase() {
                    typed_char.to_uppercase().collect()
                } else {
                    typed_char.to_lowercase().collect()
                };
                if let [c] = letter[..] {
                    b[j - 1].0 = c;
                }
            }
            i -= 1;
            j -= 1;
        } else if here == cost[(i - 1) * width + j] + 1 {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    b.into_iter().map(|(c, _)| c).collect()
}

/// Whether `marked` is `plain` with some е written ё (Russian writes
/// either).
fn only_yo_added(plain: &str, marked: &str) -> bool {
    plain.chars().count() == marked.chars().count()
        && plain
            .chars()
            .zip(marked.chars())
            .all(|(p, m)| p == m || (p, m) == ('е', 'ё') || (p, m) == ('Е', 'Ё'))
}

/// Levenshtein distance between two short strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("teh", "the"), 2);
        assert_eq!(edit_distance("helo", "hello"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("über", "uber"), 1);
    }

    #[test]
    fn typed_marks_are_kept_in_the_correction() {
        assert_eq!(with_typed_marks("солёнкя", "соленая"), "солёная");
        assert_eq!(with_typed_marks("зовёь", "зовет"), "зовёт");
        assert_eq!(with_typed_marks("Ёлеа", "Елка"), "Ёлка");
        assert_eq!(with_typed_marks("wchön", "schon"), "schön");
        assert_eq!(with_typed_marks("häzre", "Hatte"), "Hätte");
        // Only where the typed mark stands; none typed, none added.
        assert_eq!(with_typed_marks("soleno", "solenoé"), "solenoé");
        assert_eq!(with_typed_marks("соленкя", "соленая"), "соленая");
        assert_eq!(with_typed_marks("ёж", "ёжик"), "ёжик");
        assert_eq!(with_typed_marks("cafè", "café"), "café");
        assert!(only_yo_added("Елка", "Ёлка"));
        assert!(!only_yo_added("schon", "schön"));
    }
}
