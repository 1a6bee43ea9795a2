//! Replaying typing logs through the engine and tallying what it did.
//!
//! Each session of a log gets a fresh engine [`Session`]; every event is
//! applied to it as a keyboard would and followed by a request for
//! suggestions, as a keyboard makes after every keystroke. Both together are
//! timed per event type.
//!
//! Where the log says what the user meant (`expect` events), the replay
//! measures the engine under test, not the user who was logged:
//!
//! - **Keystroke savings.** Within a token, after every keystroke and before
//!   the first, the intended word is looked for among the top `k`
//!   suggestions; the first time it is there, a user would have picked it,
//!   at the cost of the keystrokes so far plus one (the pick types the space
//!   after the word; punctuation after it is still typed). A token whose word
//!   is never shown costs the keystrokes the log holds for it, typos and
//!   backspaces included. Shift and the symbols key are not keystrokes (as
//!   in [`crate::eval`], a capital is one character). With taps on the key
//!   centres and no typos, this is exactly [`crate::eval::keystroke_savings`].
//! - **Next word.** The suggestions shown before the first letter of each
//!   word, against that word (top 1 and top 3).
//! - **Word accuracy.** What the session committed for the token (after the
//!   engine's decisions at the space, and as the next word's commit left
//!   it: [`Session::revised_previous_word`](crate::Session::revised_previous_word))
//!   against the intended word; among the
//!   words typed correctly, how many were changed; among those typed wrong,
//!   how many the engine fixed. Picked words count for accuracy only.
//!
//! - **Handwriting.** With an [`InkDecoder`] ([`Replayer::with_ink`]), an
//!   `ink` event is read as a handwriting panel would: its best reading,
//!   given the text before it, is inserted with a space after it. Such a
//!   token counts in [`Tally::ink`] (words and whole-word accuracy, and a
//!   mistake of kind `ink` when wrong), not in the keyboard's metrics.
//!
//! Tokens whose events include a swipe, pasted text, a cursor move, or ink
//! without a decoder are not measured; they are counted as
//! `unmeasured_words`.
//!
//! A [`Tally`] holds only counts and histograms, so tallies of any number of
//! shards merge ([`Tally::merge`]) into exactly the tally of one run over
//! all of them, timings included.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::layout::KeyKind;
use crate::session::{Session, SessionOptions};
use crate::suggest::Suggestion;
use crate::text::context::{is_word_char, split_token};
use crate::typing::log::{
    Event, LOG_VERSION, LogReader, Point, Problem, ProblemKind, SessionHeader,
};

/// Reads the ink of a typing log's `ink` event, for the replay. The
/// handwriting crate implements it (the engine cannot depend on it).
pub trait InkDecoder: Send + Sync + std::fmt::Debug {
    /// The best reading of `strokes` written in `language` after
    /// `context`, or why there is none.
    fn read(
        &self,
        language: &str,
        strokes: &[Vec<Point>],
        context: &str,
    ) -> std::result::Result<String, String>;
}

/// Handwritten words of a replay: read, and read right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InkCounts {
    /// Tokens written as ink and read.
    pub words: u64,
    /// Of those, read exactly as the intended word.
    pub correct: u64,
}

impl InkCounts {
    /// `correct / words` (0 without words).
    pub fn accuracy(&self) -> f64 {
        if self.words == 0 {
            0.0
        } else {
            self.correct as f64 / self.words as f64
        }
    }
}

/// How many problem messages a tally keeps (all are counted).
pub const MAX_EXAMPLES: usize = 50;

/// How many wrong words a tally keeps (all are counted in its metrics).
pub const MAX_MISTAKES: usize = 500;

/// The tally format version, written into partial results.
pub const TALLY_VERSION: u32 = 1;

/// How the replay measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Suggestions shown (`k`).
    pub suggestions: usize,
    /// Stop at the first problem instead of skipping it.
    pub strict: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            suggestions: 3,
            strict: false,
        }
    }
}

/// Counts of what the engine achieved on the measured words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Characters of the intended text, a space after each token.
    pub characters: u64,
    /// Keystrokes a user of the engine needed, picks excluded.
    pub keystrokes: u64,
    /// Suggestions picked.
    pub selections: u64,
    /// Words measured (letters, no digits).
    pub words: u64,
    /// Predictions made before the first letter of a word.
    pub next_word_predictions: u64,
    /// ... with the word first.
    pub next_word_top1: u64,
    /// ... with the word in the first three.
    pub next_word_top3: u64,
    /// Words whose committed text is known.
    pub committed: u64,
    /// ... committed as intended.
    pub correct: u64,
    /// Words typed exactly as intended (not picked).
    pub typed_correct: u64,
    /// ... that the engine changed at commit.
    pub typed_correct_changed: u64,
    /// Words typed with an error (not picked).
    pub typed_wrong: u64,
    /// ... that the engine committed as intended.
    pub typed_wrong_fixed: u64,
}

impl Metrics {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Metrics) {
        self.characters += other.characters;
        self.keystrokes += other.keystrokes;
        self.selections += other.selections;
        self.words += other.words;
        self.next_word_predictions += other.next_word_predictions;
        self.next_word_top1 += other.next_word_top1;
        self.next_word_top3 += other.next_word_top3;
        self.committed += other.committed;
        self.correct += other.correct;
        self.typed_correct += other.typed_correct;
        self.typed_correct_changed += other.typed_correct_changed;
        self.typed_wrong += other.typed_wrong;
        self.typed_wrong_fixed += other.typed_wrong_fixed;
    }

    /// Keystroke savings rate: 1 − (keystrokes + selections) / characters.
    pub fn ksr(&self) -> f64 {
        if self.characters == 0 {
            return 0.0;
        }
        1.0 - (self.keystrokes + self.selections) as f64 / self.characters as f64
    }

    /// Share of next-word predictions with the word first.
    pub fn next_word_top1_accuracy(&self) -> f64 {
        ratio(self.next_word_top1, self.next_word_predictions)
    }

    /// Share of next-word predictions with the word in the first three.
    pub fn next_word_top3_accuracy(&self) -> f64 {
        ratio(self.next_word_top3, self.next_word_predictions)
    }

    /// Share of committed words that are the intended ones.
    pub fn word_accuracy(&self) -> f64 {
        ratio(self.correct, self.committed)
    }

    /// Share of correctly typed words that the engine changed.
    pub fn false_correction_rate(&self) -> f64 {
        ratio(self.typed_correct_changed, self.typed_correct)
    }

    /// Share of mistyped words that the engine fixed.
    pub fn fix_rate(&self) -> f64 {
        ratio(self.typed_wrong_fixed, self.typed_wrong)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// A latency histogram in nanoseconds (1 ns to 100 s, three significant
/// digits) that serialises as its recorded buckets, so that it merges
/// exactly after a round trip through JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyHistogram(Histogram<u64>);

/// The largest latency recorded; longer ones are recorded as this.
const MAX_NANOS: u64 = 100_000_000_000;

/// Words that may run on into one another before the oldest is judged: the
/// decoder splits what was typed into at most three words.
const MAX_RUN_ON: usize = 2;

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        #[allow(clippy::expect_used)] // constant, valid bounds
        let histogram =
            Histogram::new_with_bounds(1, MAX_NANOS, 3).expect("valid histogram bounds");
        Self(histogram)
    }

    /// Records one latency.
    pub fn record(&mut self, nanos: u64) {
        self.0.saturating_record(nanos.clamp(1, MAX_NANOS));
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for bucket in other.0.iter_recorded() {
            self.0
                .saturating_record_n(bucket.value_iterated_to(), bucket.count_at_value());
        }
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The value at quantile `q` (0 to 1), in nanoseconds.
    pub fn quantile(&self, q: f64) -> u64 {
        self.0.value_at_quantile(q)
    }

    /// The largest value, in nanoseconds.
    pub fn max(&self) -> u64 {
        self.0.max()
    }

    /// The mean, in nanoseconds.
    pub fn mean(&self) -> f64 {
        self.0.mean()
    }

    /// `(highest value of the bucket, count)` for every non-empty bucket.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.0
            .iter_recorded()
            .map(|b| (b.value_iterated_to(), b.count_at_value()))
            .collect()
    }
}

impl Serialize for LatencyHistogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.buckets().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let buckets = Vec::<(u64, u64)>::deserialize(deserializer)?;
        let mut histogram = LatencyHistogram::new();
        for (value, count) in buckets {
            if value == 0 {
                return Err(serde::de::Error::custom("latency bucket of 0 ns"));
            }
            // The last bucket's highest value lies just above the maximum.
            histogram.0.saturating_record_n(value.min(MAX_NANOS), count);
        }
        Ok(histogram)
    }
}

/// A measured word that did not come out as intended, for looking at what
/// the engine gets wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mistake {
    /// The session's language.
    pub language: String,
    /// The session's noise level (`sigma`), or "unknown".
    pub noise: String,
    /// The word the user meant.
    pub word: String,
    /// What the keystrokes spelled (for ink: what was read).
    pub typed: String,
    /// What the engine committed.
    pub committed: String,
    /// `changed` (typed right, the engine changed it), `not_fixed` (typed
    /// wrong and kept), `miscorrected` (typed wrong, changed to another
    /// wrong word), or `ink` (handwriting read wrong).
    pub kind: String,
    /// Why the autocorrect committed what it did (the last decision's
    /// reason), when it decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The correction the autocorrect offered but did not apply, if it
    /// offered one (the margin fell short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered: Option<String>,
}

/// Everything a replay counted: mergeable across shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// [`TALLY_VERSION`].
    pub version: u32,
    /// Logs (files) replayed.
    pub logs: u64,
    /// Sessions replayed.
    pub sessions: u64,
    /// Events read, by type.
    pub events: BTreeMap<String, u64>,
    /// Problems, by kind ([`ProblemKind::as_str`]).
    pub problems: BTreeMap<String, u64>,
    /// The first [`MAX_EXAMPLES`] problems, as "log:line: detail".
    pub examples: Vec<String>,
    /// Events skipped with their session (a session with no pack or of
    /// another version).
    pub skipped_events: u64,
    /// Tokens not measured (swipe, pasted text, a cursor move, ink without
    /// a decoder).
    pub unmeasured_words: u64,
    /// Handwritten tokens (with an [`InkDecoder`]), by language.
    #[serde(default)]
    pub ink: BTreeMap<String, InkCounts>,
    /// All measured tokens.
    pub overall: Metrics,
    /// By language.
    pub by_language: BTreeMap<String, Metrics>,
    /// By the `sigma` of the session headers' metadata ("unknown" without).
    pub by_noise: BTreeMap<String, Metrics>,
    /// By language and noise, keyed "language sigma" (e.g. "en 0.30").
    pub by_language_noise: BTreeMap<String, Metrics>,
    /// By the length of the intended word, in characters (longer than 20
    /// counted as 20).
    pub by_word_length: BTreeMap<u32, Metrics>,
    /// Time to apply an event and get suggestions, by event type.
    pub latency: BTreeMap<String, LatencyHistogram>,
    /// Nanoseconds spent in the engine, all events.
    pub busy_nanos: u64,
    /// The first [`MAX_MISTAKES`] words typed (not picked) that came out
    /// wrong.
    #[serde(default)]
    pub mistakes: Vec<Mistake>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            version: TALLY_VERSION,
            logs: 0,
            sessions: 0,
            events: BTreeMap::new(),
            problems: BTreeMap::new(),
            examples: Vec::new(),
            skipped_events: 0,
            unmeasured_words: 0,
            ink: BTreeMap::new(),
            overall: Metrics::default(),
            by_language: BTreeMap::new(),
            by_noise: BTreeMap::new(),
            by_language_noise: BTreeMap::new(),
            by_word_length: BTreeMap::new(),
            latency: BTreeMap::new(),
            busy_nanos: 0,
            mistakes: Vec::new(),
        }
    }
}

impl Tally {
    /// Adds `other` to this tally. Merging in any grouping gives the same
    /// counts; the kept problem examples and mistakes follow the merge
    /// order.
    pub fn merge(&mut self, other: &Tally) {
        self.logs += other.logs;
        self.sessions += other.sessions;
        add_counts(&mut self.events, &other.events);
        add_counts(&mut self.problems, &other.problems);
        let room = MAX_EXAMPLES.saturating_sub(self.examples.len());
        self.examples
            .extend(other.examples.iter().take(room).cloned());
        self.skipped_events += other.skipped_events;
        self.unmeasured_words += other.unmeasured_words;
        for (language, counts) in &other.ink {
            let mine = self.ink.entry(language.clone()).or_default();
            mine.words += counts.words;
            mine.correct += counts.correct;
        }
        self.overall.add(&other.overall);
        add_metrics(&mut self.by_language, &other.by_language);
        add_metrics(&mut self.by_noise, &other.by_noise);
        add_metrics(&mut self.by_language_noise, &other.by_language_noise);
        add_metrics(&mut self.by_word_length, &other.by_word_length);
        for (kind, histogram) in &other.latency {
            self.latency
                .entry(kind.clone())
                .or_default()
                .merge(histogram);
        }
        self.busy_nanos += other.busy_nanos;
        let room = MAX_MISTAKES.saturating_sub(self.mistakes.len());
        self.mistakes
            .extend(other.mistakes.iter().take(room).cloned());
    }

    /// Total events read.
    pub fn event_count(&self) -> u64 {
        self.events.values().sum()
    }

    /// Total problems.
    pub fn problem_count(&self) -> u64 {
        self.problems.values().sum()
    }

    fn problem(&mut self, log: &str, problem: &Problem) {
        *self
            .problems
            .entry(problem.kind.as_str().to_owned())
            .or_default() += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(format!("{log}:{problem}"));
        }
    }

    fn add_token(&mut self, language: &str, noise: &str, word_length: u32, metrics: &Metrics) {
        self.overall.add(metrics);
        add_one(&mut self.by_language, language.to_owned(), metrics);
        add_one(&mut self.by_noise, noise.to_owned(), metrics);
        add_one(
            &mut self.by_language_noise,
            format!("{language} {noise}"),
            metrics,
        );
        add_one(&mut self.by_word_length, word_length.min(20), metrics);
    }
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (key, count) in from {
        *into.entry(key.clone()).or_default() += count;
    }
}

fn add_metrics<K: Ord + Clone>(into: &mut BTreeMap<K, Metrics>, from: &BTreeMap<K, Metrics>) {
    for (key, metrics) in from {
        add_one(into, key.clone(), metrics);
    }
}

fn add_one<K: Ord>(into: &mut BTreeMap<K, Metrics>, key: K, metrics: &Metrics) {
    into.entry(key).or_default().add(metrics);
}

/// Replays logs through one engine.
#[derive(Debug, Clone)]
pub struct Replayer {
    engine: Engine,
    options: ReplayOptions,
    ink: Option<Arc<dyn InkDecoder>>,
}

impl Replayer {
    /// A replayer with the packs (and language model) of `engine`.
    pub fn new(engine: Engine, options: ReplayOptions) -> Self {
        Self {
            engine,
            options,
            ink: None,
        }
    }

    /// The same replayer reading `ink` events with `decoder`.
    pub fn with_ink(self, decoder: Arc<dyn InkDecoder>) -> Self {
        Self {
            ink: Some(decoder),
            ..self
        }
    }

    /// Replays the log `input`, named `log` in problem messages, into
    /// `tally`. `progress` is called with the bytes read since its last
    /// call, every few hundred lines.
    ///
    /// Bad lines and events are counted and skipped; with
    /// [`ReplayOptions::strict`] the first one is returned as
    /// [`Error::InvalidInput`] instead (the tally then holds what was
    /// replayed up to it).
    pub fn replay(
        &self,
        log: &str,
        input: impl BufRead,
        tally: &mut Tally,
        mut progress: impl FnMut(u64),
    ) -> Result<()> {
        // Each log is one user: what their taps teach the touch model stays
        // with their log.
        let user = Replayer {
            engine: self.engine.fresh_user(),
            options: self.options,
            ink: self.ink.clone(),
        };
        let mut reader = LogReader::new(input);
        let mut current: Option<SessionReplay> = None;
        let mut skipping = false;
        let mut reported = 0u64;
        let mut any = false;
        tally.logs += 1;
        while let Some(record) = reader.next() {
            if reader.lines_read().is_multiple_of(256) {
                progress(reader.bytes_read() - reported);
                reported = reader.bytes_read();
            }
            let record = match record {
                Ok(record) => record,
                Err(problem) => {
                    self.report(log, &problem, tally)?;
                    continue;
                }
            };
            any = true;
            *tally
                .events
                .entry(record.event.type_name().to_owned())
                .or_default() += 1;
            if let Event::Session(header) = &record.event {
                if let Some(done) = current.take() {
                    done.finish(tally);
                }
                skipping = false;
                match user.open(header) {
                    Ok(session) => {
                        tally.sessions += 1;
                        current = Some(session);
                    }
                    Err(problem) => {
                        skipping = true;
                        let problem = Problem {
                            line: record.line,
                            ..problem
                        };
                        self.report(log, &problem, tally)?;
                    }
                }
                continue;
            }
            let Some(session) = current.as_mut() else {
                if skipping {
                    tally.skipped_events += 1;
                } else {
                    let problem = Problem {
                        line: record.line,
                        kind: ProblemKind::BeforeHeader,
                        detail: format!(
                            "{} event before any session header, skipped",
                            record.event.type_name()
                        ),
                    };
                    self.report(log, &problem, tally)?;
                }
                continue;
            };
            if let Err(detail) = session.apply(&record.event, tally) {
                let problem = Problem {
                    line: record.line,
                    kind: detail.0,
                    detail: detail.1,
                };
                self.report(log, &problem, tally)?;
            }
        }
        if let Some(done) = current.take() {
            done.finish(tally);
        }
        progress(reader.bytes_read() - reported);
        if !any && tally.problem_count() == 0 {
            let problem = Problem {
                line: 0,
                kind: ProblemKind::Empty,
                detail: "the log holds no events".to_owned(),
            };
            self.report(log, &problem, tally)?;
        }
        Ok(())
    }

    fn report(&self, log: &str, problem: &Problem, tally: &mut Tally) -> Result<()> {
        tally.problem(log, problem);
        if self.options.strict {
            return Err(Error::InvalidInput {
                detail: format!("{log}:{problem}"),
            });
        }
        Ok(())
    }

    /// A session for `header`, or the problem that prevents one.
    fn open(&self, header: &SessionHeader) -> std::result::Result<SessionReplay, Problem> {
        if header.version != LOG_VERSION {
            return Err(Problem {
                line: 0,
                kind: ProblemKind::Version,
                detail: format!(
                    "session header of format version {}, this replay reads version {LOG_VERSION}; session skipped",
                    header.version
                ),
            });
        }
        let options = SessionOptions {
            field: header.field,
            no_learning: header.no_learning,
            no_auto_capitals: header.no_auto_capitals,
        };
        let session = self
            .engine
            .session_with(&header.language, options)
            .map_err(|e| Problem {
                line: 0,
                kind: ProblemKind::NoPack,
                detail: format!("{e}; session skipped"),
            })?;
        let noise = header
            .metadata
            .get("sigma")
            .and_then(serde_json::Value::as_f64)
            .map_or_else(|| "unknown".to_owned(), |s| format!("{s:.2}"));
        Ok(SessionReplay {
            session,
            ink: self.ink.clone(),
            language: header.language.clone(),
            noise,
            shown: self.options.suggestions.max(3),
            k: self.options.suggestions,
            last_shown: None,
            last_time: None,
            token: None,
            run_on: Vec::new(),
            held: None,
        })
    }
}

/// One session being replayed.
struct SessionReplay {
    session: Session,
    ink: Option<Arc<dyn InkDecoder>>,
    language: String,
    noise: String,
    /// Suggestions requested after each event (at least 3, for next-word
    /// top 3).
    shown: usize,
    /// Suggestions a user sees.
    k: usize,
    /// The suggestions after the last event.
    last_shown: Option<Vec<Suggestion>>,
    last_time: Option<f64>,
    token: Option<Token>,
    /// Tokens whose words ran on into the next ones (oldest first), judged
    /// when a word is committed at last.
    run_on: Vec<Token>,
    /// The last token closed, counted when the next one closes: the
    /// commit of the word after it may still rewrite it
    /// ([`Session::revised_previous_word`]).
    held: Option<Token>,
}

/// The token being typed, from its `expect` event on.
struct Token {
    lead_chars: u64,
    word: String,
    trail_chars: u64,
    characters: u64,
    predictable: bool,
    /// Keystrokes logged since the `expect`.
    keystrokes: u64,
    /// Logged picks of something other than the word.
    other_picks: u64,
    /// Keystrokes before the word would have been picked.
    selected_at: Option<u64>,
    next_word_checked: bool,
    /// The word has not been committed yet.
    open: bool,
    picked: bool,
    /// Written as ink and read by the decoder.
    inked: bool,
    measurable: bool,
    committed: Vec<String>,
    typed: Vec<String>,
    /// The reason of the autocorrect decision at the last commit.
    decision: Option<String>,
    /// The correction that decision offered without applying it.
    offered: Option<String>,
    /// Next-word counts, added when the token closes.
    pending: Metrics,
}

impl Token {
    fn new(text: &str) -> Self {
        let (lead, word, trail) = split_token(text);
        let chars = |s: &str| s.chars().count() as u64;
        Self {
            lead_chars: chars(lead),
            word: word.to_owned(),
            trail_chars: chars(trail),
            characters: chars(text) + 1,
            predictable: !word.is_empty() && !word.chars().any(char::is_numeric),
            keystrokes: 0,
            other_picks: 0,
            selected_at: None,
            next_word_checked: false,
            open: true,
            picked: false,
            inked: false,
            measurable: true,
            committed: Vec::new(),
            typed: Vec::new(),
            decision: None,
            offered: None,
            pending: Metrics::default(),
        }
    }

    /// Looks at the suggestions shown now, before the next keystroke.
    fn check(&mut self, shown: &[Suggestion], k: usize, metrics: &mut Metrics) {
        if !self.predictable || !self.open || self.keystrokes < self.lead_chars {
            return;
        }
        if !self.next_word_checked {
            self.next_word_checked = true;
            let rank = shown.iter().take(3).position(|s| s.text == self.word);
            metrics.next_word_predictions += 1;
            metrics.next_word_top1 += u64::from(rank == Some(0));
            metrics.next_word_top3 += u64::from(rank.is_some());
        }
        if self.selected_at.is_none() && shown.iter().take(k).any(|s| s.text == self.word) {
            self.selected_at = Some(self.keystrokes);
        }
    }

    /// The token as a [`Mistake`], if it was typed (not picked) and came
    /// out wrong.
    fn mistake(&self, language: &str, noise: &str) -> Option<Mistake> {
        if !self.predictable || self.open || self.picked {
            return None;
        }
        let committed = self.committed.join(" ");
        if committed == self.word {
            return None;
        }
        let typed = self.typed.join(" ");
        let kind = if self.inked {
            "ink"
        } else if typed == self.word {
            "changed"
        } else if committed == typed {
            "not_fixed"
        } else {
            "miscorrected"
        };
        Some(Mistake {
            language: language.to_owned(),
            noise: noise.to_owned(),
            word: self.word.clone(),
            typed,
            committed,
            kind: kind.to_owned(),
            decision: self.decision.clone(),
            offered: self.offered.clone(),
        })
    }

    /// The token's counts, once it is over.
    fn close(self, mut metrics: Metrics) -> Metrics {
        metrics.characters += self.characters;
        match self.selected_at {
            Some(typed) => {
                metrics.selections += 1;
                metrics.keystrokes += typed + self.trail_chars + u64::from(self.trail_chars > 0);
            }
            None => {
                metrics.selections += self.other_picks;
                metrics.keystrokes += self.keystrokes;
            }
        }
        if !self.predictable {
            return metrics;
        }
        metrics.words += 1;
        if !self.open {
            metrics.committed += 1;
            let correct = self.committed.len() == 1 && self.committed[0] == self.word;
            metrics.correct += u64::from(correct);
            if !self.picked {
                if self.typed.len() == 1 && self.typed[0] == self.word {
                    metrics.typed_correct += 1;
                    metrics.typed_correct_changed += u64::from(self.committed != self.typed);
                } else {
                    metrics.typed_wrong += 1;
                    metrics.typed_wrong_fixed += u64::from(correct);
                }
            }
        }
        metrics
    }
}

impl SessionReplay {
    /// Applies one event; the error is the problem to report.
    fn apply(
        &mut self,
        event: &Event,
        tally: &mut Tally,
    ) -> std::result::Result<(), (ProblemKind, String)> {
        let mut out_of_order = None;
        if let Some(t) = event.time() {
            if let Some(last) = self.last_time
                && t < last
            {
                out_of_order = Some((
                    ProblemKind::OutOfOrder,
                    format!("time {t} ms is before the previous event's {last} ms"),
                ));
            }
            self.last_time = Some(t);
        }
        let mut metrics = Metrics::default();
        if let Event::Expect { text } = event {
            self.close_token(tally);
            let mut token = Token::new(text);
            let shown = match self.last_shown.take() {
                Some(shown) => shown,
                None => self.session.suggestions(self.shown),
            };
            token.check(&shown, self.k, &mut metrics);
            self.last_shown = Some(shown);
            self.token = Some(token);
            self.add_pending(metrics);
            return out_of_order.map_or(Ok(()), Err);
        }
        let before = self.session.current_word().to_owned();
        let started = Instant::now();
        let mut erase = matches!(event, Event::Backspace { .. });
        // What the ink decoder read, for an `ink` event.
        let mut read: Option<String> = None;
        let keystroke = match event {
            Event::Tap { x, y, .. } => match self.session.tap(*x, *y) {
                Ok(key) => {
                    erase = key.kind == KeyKind::Backspace;
                    !matches!(key.kind, KeyKind::Shift | KeyKind::Symbols)
                }
                Err(e) => {
                    return Err((ProblemKind::InvalidEvent, format!("tap refused: {e}")));
                }
            },
            Event::Key { key, .. } => {
                self.session.type_text(key);
                true
            }
            Event::Backspace { .. } => {
                self.session.backspace();
                true
            }
            Event::Pick { text, .. } => {
                self.session.pick(text);
                false
            }
            Event::Commit { text, .. } => {
                self.session.type_text(text);
                false
            }
            Event::Context { before, .. } => {
                self.session.set_context(before);
                false
            }
            Event::Ink { strokes } => {
                if let Some(decoder) = &self.ink {
                    let text = decoder
                        .read(&self.language, strokes, self.session.context())
                        .map_err(|e| (ProblemKind::InvalidEvent, format!("ink refused: {e}")))?;
                    // A handwriting panel inserts the word and a space.
                    self.session.type_text(&text);
                    self.session.type_text(" ");
                    read = Some(text);
                }
                false
            }
            Event::Swipe { .. } | Event::Session(_) | Event::Expect { .. } => false,
        };
        let shown = self.session.suggestions(self.shown);
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        tally.busy_nanos += nanos;
        tally
            .latency
            .entry(event.type_name().to_owned())
            .or_default()
            .record(nanos);

        if let Some(token) = self.token.as_mut() {
            let now = self.session.current_word();
            match event {
                Event::Pick { text, .. } => {
                    if token.open {
                        token.open = false;
                        token.picked = true;
                        token.committed.push(text.clone());
                        token.typed.push(before);
                    }
                    if *text == token.word && token.selected_at.is_none() {
                        token.selected_at = Some(token.keystrokes);
                    } else if *text != token.word {
                        token.other_picks += 1;
                    }
                }
                _ if erase && before.is_empty() && !now.is_empty() && !token.open => {
                    // Backspace into the committed word reopens it.
                    token.committed.pop();
                    token.typed.pop();
                    token.open = token.committed.is_empty();
                }
                _ if erase => {}
                Event::Ink { .. } if read.is_some() && token.open && before.is_empty() => {
                    let text = read.take().unwrap_or_default();
                    token.open = false;
                    token.inked = true;
                    token.committed.push(text.clone());
                    token.typed.push(text);
                }
                Event::Swipe { .. }
                | Event::Ink { .. }
                | Event::Commit { .. }
                | Event::Context { .. } => {
                    token.measurable = false;
                }
                _ if !before.is_empty() && now.is_empty() => {
                    // The word before this one, decided again: this
                    // token's own first part (the space bar hit inside
                    // it) or the token before.
                    if let Some((was, now)) = self.session.revised_previous_word() {
                        let owner = if token.committed.is_empty() {
                            self.held.as_mut()
                        } else {
                            Some(&mut *token)
                        };
                        if let Some(last) = owner.and_then(|t| t.committed.last_mut())
                            && last == was
                        {
                            *last = now.to_owned();
                        }
                    }
                    let context = self.session.context();
                    let word = last_word(context).to_owned();
                    match token.committed.last_mut() {
                        // The engine joined this word to the one before it
                        // (a space-bar tap meant for a letter), whatever
                        // that one had been corrected to.
                        Some(previous) if self.session.joined_last_word() => {
                            *previous = word;
                        }
                        _ => token.committed.push(word),
                    }
                    token.typed.push(before);
                    let decision = self.session.last_decision();
                    token.decision = decision.map(|d| d.reason.clone());
                    token.offered = decision
                        .filter(|d| d.action == crate::decode::Action::Suggested)
                        .and_then(|d| d.correction.clone());
                    token.open = false;
                    // Split again at the commit: "movie to" for "movievto",
                    // "be really mad" for "bevreallybmad".
                    let mut end = context.len() - last_word_suffix(context);
                    for run_on in self.run_on.iter_mut().rev() {
                        let before = &context[..end];
                        if last_word(before) != run_on.word {
                            break;
                        }
                        run_on.committed = vec![run_on.word.clone()];
                        end -= last_word_suffix(before);
                    }
                }
                _ => {}
            }
            if keystroke {
                token.keystrokes += 1;
            }
            token.check(&shown, self.k, &mut metrics);
        }
        self.last_shown = Some(shown);
        self.add_pending(metrics);
        out_of_order.map_or(Ok(()), Err)
    }

    /// Next-word counts are taken as they happen; they are added with the
    /// token when it closes.
    fn add_pending(&mut self, metrics: Metrics) {
        if let Some(token) = self.token.as_mut()
            && metrics != Metrics::default()
        {
            token.pending.add(&metrics);
        }
    }

    fn close_token(&mut self, tally: &mut Tally) {
        let Some(mut token) = self.token.take() else {
            return;
        };
        let typed = self.session.current_word();
        if token.open && token.predictable && !typed.is_empty() {
            // The word was never ended (the space bar was missed): what was
            // typed runs on into the next word, unless the engine splits it
            // again when a later word is committed.
            token.open = false;
            token.committed.push(format!("{typed}…"));
            token.typed.push(format!("{typed}…"));
            if self.run_on.len() == MAX_RUN_ON {
                let oldest = self.run_on.remove(0);
                self.count(oldest, tally);
            }
            self.run_on.push(token);
            return;
        }
        // The words that ran on into this one were split again at its
        // commit, or never will be.
        if let Some(held) = self.held.take() {
            self.count(held, tally);
        }
        for run_on in std::mem::take(&mut self.run_on) {
            self.count(run_on, tally);
        }
        self.held = Some(token);
    }

    fn count(&self, mut token: Token, tally: &mut Tally) {
        if !token.measurable {
            tally.unmeasured_words += 1;
            return;
        }
        if tally.mistakes.len() < MAX_MISTAKES
            && let Some(mistake) = token.mistake(&self.language, &self.noise)
        {
            tally.mistakes.push(mistake);
        }
        if token.inked {
            let counts = tally.ink.entry(self.language.clone()).or_default();
            counts.words += 1;
            counts.correct += u64::from(token.committed == [token.word.as_str()]);
            return;
        }
        let pending = std::mem::take(&mut token.pending);
        let length = token.word.chars().count() as u32;
        let metrics = token.close(pending);
        tally.add_token(&self.language, &self.noise, length, &metrics);
    }

    fn finish(mut self, tally: &mut Tally) {
        self.close_token(tally);
        if let Some(held) = self.held.take() {
            self.count(held, tally);
        }
        for run_on in std::mem::take(&mut self.run_on) {
            self.count(run_on, tally);
        }
    }
}

/// Bytes from the start of the last word of `context` to the end.
fn last_word_suffix(context: &str) -> usize {
    let word = last_word(context);
    let end = context
        .char_indices()
        .rev()
        .find(|&(_, c)| is_word_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    context.len() - (end - word.len())
}

/// The last word of `context`, before any trailing spaces and punctuation.
fn last_word(context: &str) -> &str {
    let end = context
        .char_indices()
        .rev()
        .find(|&(_, c)| is_word_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let text = &context[..end];
    let start = text
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c))
        .last()
        .map_or(end, |(i, _)| i);
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_word_skips_punctuation_and_spaces() {
        assert_eq!(last_word("I said hello, "), "hello");
        assert_eq!(last_word("don't "), "don't");
        assert_eq!(last_word(""), "");
        assert_eq!(last_word("... "), "");
    }

    #[test]
    fn histograms_merge_exactly_after_json() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        for v in [1u64, 999, 12_345, 7_000_000, 7_000_001, 99_999_999_999] {
            a.record(v);
            b.record(v * 3 % MAX_NANOS + 1);
        }
        let mut both = a.clone();
        both.merge(&b);
        let a2: LatencyHistogram =
            serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        let b2: LatencyHistogram =
            serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        let mut merged = a2;
        merged.merge(&b2);
        assert_eq!(merged.buckets(), both.buckets());
        assert_eq!(merged.count(), 12);
        assert_eq!(merged.quantile(0.99), both.quantile(0.99));
    }

    #[test]
    fn malformed_histograms_are_rejected() {
        assert!(serde_json::from_str::<LatencyHistogram>("[[0,1]]").is_err());
        assert!(serde_json::from_str::<LatencyHistogram>("[[1,2,3]]").is_err());
    }

    #[test]
    fn metrics_rates() {
        let m = Metrics {
            characters: 10,
            keystrokes: 4,
            selections: 1,
            committed: 4,
            correct: 3,
            typed_correct: 2,
            typed_correct_changed: 1,
            ..Metrics::default()
        };
        assert!((m.ksr() - 0.5).abs() < 1e-12);
        assert!((m.word_accuracy() - 0.75).abs() < 1e-12);
        assert!((m.false_correction_rate() - 0.5).abs() < 1e-12);
        assert_eq!(Metrics::default().ksr(), 0.0);
    }
}
