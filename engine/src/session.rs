//! A session: the state of one text field.
//!
//! The session mirrors the text before the cursor as the host reports it
//! through events: letters typed, backspace, a picked suggestion, a cursor
//! move. It keeps the current word apart from the committed context, so that
//! asking for suggestions costs no parsing of the whole field.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use std::collections::HashSet;

use crate::decode::{self, Action, Corrector, Decision, Decoder, Observation, Rivals, Searcher};
use crate::engine::Engine;
use crate::error::Result;
use crate::layout::{Key, KeyKind};
use crate::suggest::{Suggestion, SuggestionKind};
use crate::text::context::is_word_char;
use crate::text::fold::fold;

/// A personal word is predicted before any letter only when at least this
/// likely after the previous word (natural log).
const PERSONAL_PREDICTION_FLOOR: f64 = -3.0;

/// Context kept before the current word, in bytes: enough for the previous
/// words; older text does not change the prediction.
pub(crate) const CONTEXT_LIMIT: usize = 256;
/// The current word is not grown past this many bytes. A host that keeps
/// typing without a separator is not typing a word; [`Session::set_context`]
/// resynchronises.
const WORD_LIMIT: usize = 1024;

/// How close (key widths) to a letter key's edge a tap on shift or the
/// space bar must land, where that key makes no sense, to be taken for the
/// letter ([`Session::tap`]).
const STRAY_TAP: f32 = 0.3;

/// Most erasures by backspace or shift taps kept for one word's decision
/// (the latest).
const MAX_ERASURES: usize = 2;

/// What kind of text a field holds, as the host's editor reports it
/// (Android's `inputType` class and variation, iOS's `keyboardType` and
/// `isSecureTextEntry`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Ordinary text.
    #[default]
    Text,
    /// An e-mail address.
    Email,
    /// A web address.
    Url,
    /// A password or other secret: nothing typed may be learned.
    Password,
    /// Digits.
    Number,
    /// A one-time code (SMS or authenticator): nothing typed is learned.
    #[serde(rename = "one_time_code")]
    OneTimeCode,
}

/// How a text field is set up, given when its session is created
/// ([`Engine::session_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SessionOptions {
    /// The kind of field.
    pub field: FieldType,
    /// The host asked that nothing typed here be learned (Android's
    /// `IME_FLAG_NO_PERSONALIZED_LEARNING`, an incognito tab).
    pub no_learning: bool,
    /// The field wants no automatic capitals (iOS `autocapitalizationType`
    /// `.none`; on Android, an input type without
    /// `TYPE_TEXT_FLAG_CAP_SENTENCES`): a word typed in lower case at the
    /// start of a sentence stays so.
    pub no_auto_capitals: bool,
}

impl SessionOptions {
    /// Whether what is typed may be learned: not when the host forbids it,
    /// and never in a password or number field (passwords, one-time codes,
    /// PINs), whatever the flag says.
    pub fn learning_allowed(&self) -> bool {
        !self.no_learning
            && !matches!(
                self.field,
                FieldType::Password | FieldType::Number | FieldType::OneTimeCode
            )
    }
}

/// The name of a punctuation key's tap, for a decision's reason.
const PUNCTUATION: &str = "punctuation";

/// The state of one text field.
#[derive(Debug, Clone)]
pub struct Session {
    engine: Engine,
    language: String,
    options: SessionOptions,
    context: String,
    word: String,
    /// Where each character of `word` was tapped (`None`: typed as text).
    taps: Vec<Option<(f32, f32)>>,
    /// Shift was tapped: the next letter tapped is upper case.
    shift: bool,
    /// The autocorrection just applied, undone by a backspace right after.
    last_correction: Option<Undo>,
    /// Folded words the user reverted an autocorrection of: kept as typed
    /// for the rest of the session.
    reverted: HashSet<String>,
    /// The last autocorrect decision.
    last_decision: Option<Decision>,
    /// The last commit joined the word before the last space to this one.
    joined_last_word: bool,
    /// The touch decoder's search over the current word so far.
    search: SearchCache,
    /// The search of the current word read with a tap on shift before it
    /// as its first letter ([`Erased::Shift`]), kept between keystrokes
    /// as `search` is.
    shift_search: SearchCache,
    /// The word just committed by a tap on the space bar, which may have
    /// been meant for a letter: judged when the next word is committed.
    split: Option<Split>,
    /// Letters of the current word erased by taps on backspace, or lost to
    /// a tap on shift, that may have been meant for a letter: judged when
    /// the word is committed.
    erasures: Vec<Erasure>,
    /// The readings the last word's decision weighed: it is decided again
    /// when the next word is committed right after it.
    rivals: Option<Rivals>,
    /// The word before the last one committed, as it was and as the last
    /// commit rewrote it (decided again with the word after it), if it
    /// did.
    revised_previous: Option<(String, String)>,
}

/// A letter lost to a tap on a key near it that types none: backspace,
/// which erased a letter of the current word ("mi⌫k", the tap meant for
/// the "l" above backspace) or the space before it ("He ⌫ost", meant for
/// "He lost"; the word before the space became current again), or shift
/// at the start of a word ("⇧t" for "at": the "a" beside shift).
#[derive(Debug, Clone)]
struct Erasure {
    /// Where the lost letter stood in the word, in characters.
    at: usize,
    /// What was erased.
    erased: Erased,
    /// Where the key was tapped.
    tap: (f32, f32),
    /// Natural log of the probability that the tap was meant for the key.
    key_log_p: f32,
}

/// What a tap on backspace or shift did instead of typing a letter.
#[derive(Debug, Clone)]
enum Erased {
    /// Backspace erased a letter of the word, tapped there.
    Letter(char, Option<(f32, f32)>),
    /// Backspace erased the separator after the word before: the text
    /// before the cursor as it was, separator included.
    Separator(String),
    /// Shift, tapped before the word's first letter, made it a capital.
    Shift,
}

impl Erased {
    /// The key tapped, for a decision's reason.
    fn key(&self) -> &'static str {
        match self {
            Self::Letter(..) | Self::Separator(_) => "backspace",
            Self::Shift => "shift",
        }
    }
}

/// A word committed by a tap on a key that types no letter (the space
/// bar, punctuation, enter).
#[derive(Debug, Clone)]
struct Split {
    /// The context before the word.
    context_before: String,
    /// The word as committed.
    committed: String,
    /// What the commit added to the context: the word and the separator.
    tail: String,
    /// How it was typed.
    observations: Vec<Observation>,
    /// Where the separator's key was tapped.
    tap: (f32, f32),
    /// Natural log of the probability that the tap was meant for that key.
    separator_log_p: f32,
    /// The key, for the decision's reason.
    separator: &'static str,
    /// A space followed the separator: the tap may have been the word's
    /// last letter ("e. " for "em ").
    spaced: bool,
}

impl Split {
    /// `word`, a new reading of the word before the separator, in the case
    /// that word was typed in (or a sentence's first), NFC.
    fn in_its_case(&self, word: &str) -> String {
        let sentence_start = crate::text::context::begins_sentence(&self.context_before);
        let typed_case = crate::TypedCase::of(&self.committed);
        crate::apply_case(word, typed_case, sentence_start)
            .nfc()
            .collect()
    }
}

/// The decoder's search of the current word, kept between keystrokes so
/// that a new tap costs one step of it. Behind a mutex because suggestions
/// are asked for through `&self`; the session is one thread at a time, so
/// it is never contended.
#[derive(Debug, Default)]
struct SearchCache(std::sync::Mutex<Searcher>);

impl Clone for SearchCache {
    fn clone(&self) -> Self {
        let searcher = self.0.lock().map(|s| s.clone()).unwrap_or_default();
        SearchCache(std::sync::Mutex::new(searcher))
    }
}

impl SearchCache {
    fn with<T>(&self, f: impl FnOnce(&mut Searcher) -> T) -> T {
        match self.0.lock() {
            Ok(mut searcher) => f(&mut searcher),
            Err(poisoned) => {
                let mut searcher = poisoned.into_inner();
                *searcher = Searcher::default();
                f(&mut searcher)
            }
        }
    }
}

/// What undoing an autocorrection restores.
#[derive(Debug, Clone)]
struct Undo {
    typed: String,
    taps: Vec<Option<(f32, f32)>>,
    corrected: String,
}

impl Session {
    pub(crate) fn new(engine: Engine, language: String, options: SessionOptions) -> Self {
        Self {
            engine,
            language,
            options,
            context: String::new(),
            word: String::new(),
            taps: Vec::new(),
            shift: false,
            last_correction: None,
            reverted: HashSet::new(),
            last_decision: None,
            joined_last_word: false,
            search: SearchCache::default(),
            shift_search: SearchCache::default(),
            split: None,
            erasures: Vec::new(),
            rivals: None,
            revised_previous: None,
        }
    }

    /// The engine the session reads from.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The session's language.
    pub fn language(&self) -> &str {
        &self.language
    }

    /// How the field was set up. Nothing is learned yet; the personal
    /// dictionary will consult [`SessionOptions::learning_allowed`] before
    /// it records a word.
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// The word being typed.
    pub fn current_word(&self) -> &str {
        &self.word
    }

    /// The (trimmed) text before the current word.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Types `text`: letters extend the current word; anything else
    /// (space, punctuation) commits it. Control characters are ignored.
    pub fn type_text(&mut self, text: &str) {
        self.last_correction = None;
        self.split = None;
        self.type_at(text, None);
    }

    /// Types `text`, recording `at` as where each letter was tapped.
    fn type_at(&mut self, text: &str, at: Option<(f32, f32)>) {
        for c in text.chars() {
            if is_word_char(c) {
                if self.word.len() + c.len_utf8() <= WORD_LIMIT {
                    self.word.push(c);
                    self.taps.push(at);
                }
            } else if !c.is_control() || c == '\n' {
                self.commit_word();
                self.push_context(c);
            }
        }
    }

    /// A tap at `(x, y)` in layout units (see [`crate::layout`]): types the
    /// key under it as [`Session::type_text`] would, and returns that key.
    ///
    /// Letters and punctuation type their output (a letter in upper case
    /// after a tap on shift, which lasts one letter); the space bar
    /// commits the word ([`Session::commit`]); backspace deletes; enter
    /// types a line break; the symbols key changes nothing here (the host
    /// switches pages). The key is found by plain geometry
    /// ([`Layout::key_index_at`](crate::layout::Layout::key_index_at)); the
    /// spatial model that weighs nearby keys comes later. A NaN or infinite
    /// coordinate, or a tap far from every key, is
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) and changes
    /// nothing.
    pub fn tap(&mut self, x: f32, y: f32) -> Result<&Key> {
        let engine = self.engine.clone();
        let layout = engine.pack(&self.language)?.layout();
        let mut index = layout.key_index_at(x, y)?;
        if self.options.field == FieldType::Text
            && self.stray_tap(layout.keys[index].kind)
            && let Some((letter, distance)) = layout.nearest_letter(x, y)
            && distance <= STRAY_TAP
        {
            // A tap on the edge of shift or the space bar next to a letter,
            // where that key makes no sense, is the letter missed: it types
            // the letter and the decoder weighs where it landed.
            index = letter;
        }
        let key = &layout.keys[index];
        if key.kind != KeyKind::Backspace {
            self.last_correction = None;
        }
        match key.kind {
            KeyKind::Letter if self.shift => {
                self.shift = false;
                let upper: String = key.output.to_uppercase();
                self.type_at(&upper, Some((x, y)));
            }
            KeyKind::Letter => self.type_at(&key.output, Some((x, y))),
            KeyKind::Punctuation => {
                self.type_separator(&key.output, (x, y), key, PUNCTUATION);
            }
            KeyKind::Shift => self.shift_tapped((x, y), key),
            KeyKind::Backspace => self.backspace_tapped((x, y), key),
            KeyKind::Space => self.type_separator(" ", (x, y), key, "the space bar"),
            KeyKind::Enter => self.type_separator("\n", (x, y), key, "enter"),
            KeyKind::Symbols => {}
        }
        Ok(&self.engine.pack(&self.language)?.layout().keys[index])
    }

    /// Types `text` (a space, punctuation, a line break) tapped at `at`
    /// on `key`, which types no letter; if that ended a tapped word, keeps
    /// what is needed to join the word and the next one again when the tap
    /// was meant for a letter (with the spatial model's chance that it was
    /// not).
    fn type_separator(&mut self, text: &str, at: (f32, f32), key: &Key, separator: &'static str) {
        let pending =
            (self.tapped() && self.decodes()).then(|| (self.context.clone(), self.observations()));
        // A space right after punctuation that ended a tapped word: the
        // punctuation may have been the word's last letter.
        let punctuated = if text == " "
            && self.word.is_empty()
            && self
                .split
                .as_ref()
                .is_some_and(|s| !s.spaced && s.separator == PUNCTUATION)
        {
            self.split.take()
        } else {
            None
        };
        self.type_at(text, None);
        if let Some(mut split) = punctuated
            && self.context.strip_prefix(split.context_before.as_str())
                == Some(format!("{} ", split.tail).as_str())
        {
            split.tail.push(' ');
            split.spaced = true;
            self.split = Some(split);
            return;
        }
        // (When the context was trimmed meanwhile, there is no split to
        // consider: the old context is gone.)
        if let Some((context_before, observations)) = pending
            && let Some(tail) = self.context.strip_prefix(context_before.as_str())
            && let Some(committed) = tail.strip_suffix(text)
        {
            self.split = Some(Split {
                committed: committed.to_owned(),
                tail: tail.to_owned(),
                context_before,
                observations,
                tap: at,
                separator_log_p: self.spatial_log_p(at.0, at.1, key),
                separator,
                spaced: false,
            });
        }
    }

    /// The spatial model's probability (natural log) that a tap at
    /// `(x, y)` was meant for `key` rather than a letter.
    fn spatial_log_p(&self, x: f32, y: f32, key: &Key) -> f32 {
        self.engine
            .spatial_model(&self.language)
            .map_or(f32::NEG_INFINITY, |model| model.key_log_p(x, y, key))
    }

    /// Commits the current word followed by a space (the space bar, as
    /// opposed to [`Session::pick`]). A word typed with taps in a text
    /// field goes through the autocorrect decision first
    /// ([`Session::last_decision`]).
    pub fn commit(&mut self) {
        self.type_text(" ");
    }

    /// Deletes the grapheme before the cursor. Right after an
    /// autocorrection, undoes it instead: the word comes back as typed,
    /// current again, and is not corrected again in this session; once
    /// committed as it is, it is taught to the personal dictionary.
    pub fn backspace(&mut self) {
        self.split = None;
        if let Some(undo) = self.last_correction.take() {
            let trimmed = self.context.trim_end_matches(|c: char| !is_word_char(c));
            if self.word.is_empty() && trimmed.ends_with(&undo.corrected) {
                let start = trimmed.len() - undo.corrected.len();
                self.context.truncate(start);
                self.reverted.insert(fold(&undo.typed));
                // The user wants the word as typed: taught when committed
                // as it is (not when letters follow it: the tap on
                // backspace may have been meant for the next word's first).
                self.word = undo.typed;
                self.taps = undo.taps;
                self.erasures.clear();
                return;
            }
        }
        let before = self.word.chars().count();
        let target = if self.word.is_empty() {
            &mut self.context
        } else {
            &mut self.word
        };
        if let Some((at, _)) = target.grapheme_indices(true).next_back() {
            target.truncate(at);
        }
        let after = self.word.chars().count();
        self.taps
            .truncate(self.taps.len().saturating_sub(before - after));
        // A letter erased before an earlier erasure's place: the user is
        // deleting on purpose.
        // A capital from shift is gone with the first letter.
        self.erasures
            .retain(|e| e.at <= after && (after > 0 || !matches!(e.erased, Erased::Shift)));
        if self.word.is_empty() {
            // Deleting into a word of the context makes it current again.
            let start = word_start(&self.context);
            self.word = self.context.split_off(start);
            self.taps = vec![None; self.word.chars().count()];
            self.erasures.clear();
        }
    }

    /// A tap on backspace at `at`: deletes as [`Session::backspace`] does,
    /// and when it erased a tapped letter of the current word and lies
    /// near enough a letter to have been meant for it, remembers what it
    /// erased, for the word's decision to weigh
    /// ([`Decoder::unerase`](crate::decode::Decoder::unerase)).
    fn backspace_tapped(&mut self, at: (f32, f32), key: &Key) {
        let erased = if !self.decodes() {
            None
        } else if self.word.is_empty() {
            // The space (or other separator) after a word, or right after
            // an autocorrection the correction itself: undone, the typed
            // word current again, as the word before a separator is.
            self.context
                .chars()
                .last()
                .filter(|&c| !is_word_char(c) && !c.is_control())
                .map(|_| Erased::Separator(self.context.clone()))
        } else if self.last_correction.is_none() && self.tapped() {
            self.word
                .chars()
                .last()
                .zip(self.taps.last())
                .map(|(c, &tap)| Erased::Letter(c, tap))
        } else {
            None
        };
        let before = self.word.chars().count();
        self.backspace();
        let Some(erased) = erased else { return };
        let after = self.word.chars().count();
        let erased_at = match erased {
            Erased::Letter(..) if after + 1 == before => after,
            // The word before the separator is current again, whole.
            Erased::Separator(_) if before == 0 => after,
            _ => return,
        };
        self.remember_erasure(erased_at, erased, at, key);
    }

    /// A tap on shift at `at`: the next letter is a capital (a second tap
    /// takes it back). Before a word's first letter, near enough a letter
    /// to have been meant for it, it is remembered for the word's decision
    /// to weigh ("⇧t" for "at").
    fn shift_tapped(&mut self, at: (f32, f32), key: &Key) {
        self.shift = !self.shift;
        self.erasures.retain(|e| !matches!(e.erased, Erased::Shift));
        if self.shift && self.word.is_empty() && self.decodes() {
            self.remember_erasure(0, Erased::Shift, at, key);
        }
    }

    /// Remembers that a tap at `at` on `key` did `erased` at letter `at`
    /// of the word, if the tap may have been meant for a letter (likely
    /// enough for [`Decoder::unerase`] to weigh it; the others would cost
    /// every keystroke of the word a look for nothing).
    fn remember_erasure(&mut self, erased_at: usize, erased: Erased, at: (f32, f32), key: &Key) {
        let key_log_p = self.spatial_log_p(at.0, at.1, key);
        if decode::letter_log_p(key_log_p).is_some() {
            if self.erasures.len() == MAX_ERASURES {
                self.erasures.remove(0);
            }
            self.erasures.push(Erasure {
                at: erased_at,
                erased,
                tap: at,
                key_log_p,
            });
        }
    }

    /// The word read with one of the letters erased by backspace taps put
    /// back and the tap read as a letter, when that reads better than the
    /// word as typed by the margin a correction needs.
    fn unerased(&self) -> Option<Decision> {
        if self.erasures.is_empty()
            || !self.tapped()
            || !self.decodes()
            || self.reverted.contains(&fold(&self.word))
            || self.engine.personal().knows(&self.word)
        {
            return None;
        }
        let decoder = self.decoder()?;
        let typed = self.observations();
        // The word as typed, from the search kept between keystrokes.
        let typed_score = self
            .search
            .with(|searcher| decoder.typed_score(&self.word, &typed, searcher));
        let mut best: Option<(String, f32, &str)> = None;
        for erasure in &self.erasures {
            let at = erasure.at.min(typed.len());
            let (x, y) = erasure.tap;
            let tap = Observation::Tap { x, y };
            let reading = match &erasure.erased {
                Erased::Letter(c, erased) => {
                    let erased = match *erased {
                        Some((x, y)) => Observation::Tap { x, y },
                        None => Observation::Char(*c),
                    };
                    let mut restored = typed.clone();
                    restored.splice(at..at, [erased, tap]);
                    decoder
                        .unerase(
                            &self.word,
                            typed_score,
                            &restored,
                            erasure.key_log_p,
                            &mut Searcher::default(),
                        )
                        .map(|(word, margin)| {
                            let sentence_start =
                                crate::text::context::begins_sentence(&self.context);
                            let typed_case = crate::TypedCase::of(&self.word);
                            (crate::apply_case(&word, typed_case, sentence_start), margin)
                        })
                }
                // A new word needs letters typed after the tap.
                Erased::Separator(before)
                    if at < typed.len() && before.starts_with(self.context.as_str()) =>
                {
                    let split = self
                        .word
                        .char_indices()
                        .nth(at)
                        .map_or(self.word.len(), |(i, _)| i);
                    let second = &self.word[split..];
                    // The word before the separator as it was committed:
                    // the letters reopened, or the autocorrection undone.
                    let committed =
                        before[self.context.len()..].trim_end_matches(|c: char| !is_word_char(c));
                    let mut restored = vec![tap];
                    restored.extend_from_slice(&typed[at..]);
                    decoder
                        .unerase_separator(
                            &self.word,
                            typed_score,
                            (committed, before),
                            &restored,
                            erasure.key_log_p,
                        )
                        .map(|(word, margin)| {
                            let sentence_start = crate::text::context::begins_sentence(before);
                            let typed_case = crate::TypedCase::of(second);
                            let word = crate::apply_case(&word, typed_case, sentence_start);
                            (format!("{}{word}", &before[self.context.len()..]), margin)
                        })
                }
                Erased::Separator(_) => None,
                // The capital came from the tap, read as the first letter.
                Erased::Shift if self.word.starts_with(char::is_uppercase) => {
                    let mut restored = vec![tap];
                    restored.extend_from_slice(&typed);
                    self.shift_search
                        .with(|searcher| {
                            decoder.unerase(
                                &self.word,
                                typed_score,
                                &restored,
                                erasure.key_log_p,
                                searcher,
                            )
                        })
                        .map(|(word, margin)| {
                            let sentence_start =
                                crate::text::context::begins_sentence(&self.context);
                            let rest: String = self.word.chars().skip(1).collect();
                            let typed_case = crate::TypedCase::of(&rest);
                            (crate::apply_case(&word, typed_case, sentence_start), margin)
                        })
                }
                Erased::Shift => None,
            };
            if let Some((text, margin)) = reading
                && best.as_ref().is_none_or(|(_, m, _)| margin > *m)
            {
                best = Some((text, margin, erasure.erased.key()));
            }
        }
        let (correction, margin, key) = best?;
        Some(Decision {
            typed: self.word.clone(),
            correction: Some(correction),
            action: Action::Applied,
            stage: Corrector::Spatial,
            margin,
            reason: format!("{key} tapped for a letter: {margin:.2} above the word as typed"),
        })
    }

    /// Replaces the current word with `text` (a picked suggestion) followed by
    /// a space.
    pub fn pick(&mut self, text: &str) {
        self.last_correction = None;
        self.split = None;
        self.rivals = None;
        self.joined_last_word = false;
        // Picking the word typed itself is choosing it on purpose.
        let explicit = !self.word.is_empty() && fold(text) == fold(&self.word);
        self.learn_word(text, explicit);
        self.word.clear();
        self.taps.clear();
        self.erasures.clear();
        for c in text.chars().filter(|c| !c.is_control()) {
            self.push_context(c);
        }
        self.push_context(' ');
    }

    /// Resets the field: `before_cursor` is the text before the cursor.
    pub fn set_context(&mut self, before_cursor: &str) {
        let keep = trim_start_to(before_cursor, CONTEXT_LIMIT + WORD_LIMIT);
        let start = word_start(keep);
        self.context = keep[..start].to_owned();
        self.word = keep[start..].chars().take(WORD_LIMIT).collect();
        self.taps = vec![None; self.word.chars().count()];
        self.erasures.clear();
        self.last_correction = None;
        self.split = None;
        self.rivals = None;
        self.joined_last_word = false;
        self.trim_context();
    }

    /// The top `k` suggestions for the current word: completions and, for
    /// a word typed with taps, corrections the touch decoder finds (see
    /// [`crate::decode`]).
    pub fn suggestions(&self, k: usize) -> Vec<Suggestion> {
        if let Some(list) = self.hyphenated_suggestions(k) {
            return list;
        }
        let mut list = if self.tapped()
            && self.engine.config().corrector == Corrector::Spatial
            && let Some(decoder) = self.decoder()
        {
            let observations = self.observations();
            let (mut list, _) = self
                .search
                .with(|searcher| decoder.suggestions(&self.word, &observations, searcher, k));
            self.add_verbatim(&mut list, k);
            self.add_unerased(&mut list, k);
            list
        } else {
            self.engine
                .suggest(&self.language, &self.context, &self.word, k)
                .unwrap_or_default()
        };
        self.add_personal(&mut list, k);
        list
    }

    /// For a word typed with taps after a hyphen the user chose
    /// (long-pressed, not tapped), such as "asseyez-v": the touch decoder's
    /// suggestions for the part after the last hyphen, read after the text
    /// and the parts before it, each written after those parts
    /// ("asseyez-vous"), since the lexicon holds hyphenated words joined
    /// if at all. The parts before are taken as typed; the space decides
    /// them ([`crate::decode`]). `None` for any other word (a word typed
    /// without taps after its hyphen is completed so by
    /// [`Engine::suggest`]).
    fn hyphenated_suggestions(&self, k: usize) -> Option<Vec<Suggestion>> {
        // Checked first: this runs on every keystroke.
        if !self.word.contains('-')
            || self.taps.len() > crate::MAX_WORD_CHARS
            || self.engine.config().corrector != Corrector::Spatial
        {
            return None;
        }
        let chars: Vec<char> = self.word.chars().collect();
        let hyphen = (0..chars.len())
            .rev()
            .find(|&i| chars[i] == '-' && self.taps.get(i).is_some_and(Option::is_none))?;
        if hyphen == 0 || !self.taps[hyphen + 1..].iter().any(Option::is_some) {
            return None;
        }
        let head: String = chars[..=hyphen].iter().collect();
        let tail: String = chars[hyphen + 1..].iter().collect();
        let context = format!("{}{head}", self.context);
        let decoder = Decoder {
            context: &context,
            ..self.decoder()?
        };
        let observations = self.observations();
        let (list, _) = decoder.suggestions(
            &tail,
            &observations[hyphen + 1..],
            &mut Searcher::default(),
            k,
        );
        let mut list = crate::suggest::after_hyphen(&head, list);
        self.add_verbatim(&mut list, k);
        self.add_personal(&mut list, k);
        Some(list)
    }

    /// The word read with a letter erased by a backspace tap put back
    /// ([`Session::unerased`]), first: what the space will commit. (A
    /// reading as two words, after an erased space, is left to the space.)
    fn add_unerased(&self, list: &mut Vec<Suggestion>, k: usize) {
        if k == 0 || self.erasures.is_empty() {
            return;
        }
        let Some(text) = self.unerased().and_then(|d| d.correction) else {
            return;
        };
        if text.contains(char::is_whitespace) {
            return;
        }
        let score = list.first().map_or(0.0, |s| s.score);
        let key = fold(&text);
        list.retain(|s| fold(&s.text) != key);
        list.insert(
            0,
            Suggestion {
                text,
                kind: SuggestionKind::Correction,
                score,
            },
        );
        list.truncate(k);
    }

    /// The user's own words that complete the current word, placed by
    /// their score; blocked words removed.
    fn add_personal(&self, list: &mut Vec<Suggestion>, k: usize) {
        let store = self.engine.personal();
        if store.is_empty() || k == 0 {
            return;
        }
        list.retain(|s| !store.is_blocked(&s.text));
        let previous = crate::analyse_context(&self.context).previous_word;
        let kind = if self.word.is_empty() {
            SuggestionKind::Prediction
        } else {
            SuggestionKind::Completion
        };
        // Before the first letter only words that followed the previous one.
        if self.word.is_empty() && previous.is_none() {
            return;
        }
        let typed_case = crate::TypedCase::of(&self.word);
        for (word, score) in store.completions(&self.word, previous, k) {
            if self.word.is_empty() && score < PERSONAL_PREDICTION_FLOOR {
                continue;
            }
            let key = fold(&word);
            if let Some(at) = list.iter().position(|s| fold(&s.text) == key) {
                if list[at].score >= score as f32 {
                    continue;
                }
                list.remove(at);
            }
            let text = if typed_case == crate::TypedCase::Natural {
                word
            } else {
                crate::apply_case(&word, typed_case, false)
            };
            let at = list
                .iter()
                .position(|s| s.score < score as f32)
                .unwrap_or(list.len());
            list.insert(
                at,
                Suggestion {
                    text,
                    kind,
                    score: score as f32,
                },
            );
        }
        list.truncate(k);
    }

    /// Offers `word` to the personal dictionary, where this field and the
    /// configuration allow learning.
    fn learn_word(&self, word: &str, explicit: bool) {
        if !self.options.learning_allowed() || !self.engine.config().personal_learning {
            return;
        }
        let previous = crate::analyse_context(&self.context).previous_word;
        // A failed write is the store's to report; typing goes on.
        let _ = self.engine.personal().learn(word, previous, explicit);
    }

    /// The last autocorrect decision: what was typed, the correction, what
    /// was done and why.
    pub fn last_decision(&self) -> Option<&Decision> {
        self.last_decision.as_ref()
    }

    /// Whether the last word committed replaced the word before it: the
    /// tap between them on the space bar, punctuation or enter was read as
    /// a letter, and the two are one word now ("a out" → "about",
    /// "co.puter" → "computer").
    pub fn joined_last_word(&self) -> bool {
        self.joined_last_word
    }

    /// The word before the last one committed, as it was and as the last
    /// commit rewrote it when it decided that word again with the new
    /// word after it ("I ws going" → "I was going"); `None` if it did not.
    pub fn revised_previous_word(&self) -> Option<(&str, &str)> {
        self.revised_previous
            .as_ref()
            .map(|(was, now)| (was.as_str(), now.as_str()))
    }

    /// Whether a letter of the current word was tapped (and the word is
    /// short enough to decode: no lexicon word is longer than
    /// [`MAX_WORD_CHARS`](crate::MAX_WORD_CHARS)).
    fn tapped(&self) -> bool {
        self.taps.len() <= crate::MAX_WORD_CHARS && self.taps.iter().any(Option::is_some)
    }

    fn observations(&self) -> Vec<Observation> {
        self.word
            .chars()
            .zip(self.taps.iter())
            .map(|(c, tap)| match tap {
                Some((x, y)) => Observation::Tap { x: *x, y: *y },
                None => Observation::Char(c),
            })
            .collect()
    }

    fn decoder(&self) -> Option<Decoder<'_>> {
        Some(Decoder {
            pack: self.engine.pack(&self.language).ok()?,
            lm: self.engine.language_model().map(|lm| &**lm),
            config: self.engine.config(),
            model: self.engine.spatial_model(&self.language).ok()?,
            context: &self.context,
        })
    }

    /// The typed word itself, when the lexicon does not know it, placed by
    /// its score (the unknown-word probability): always offered, so that
    /// names and new words can be entered.
    fn add_verbatim(&self, list: &mut Vec<Suggestion>, k: usize) {
        let key = fold(&self.word);
        if key.is_empty() || k == 0 || list.iter().any(|s| fold(&s.text) == key) {
            return;
        }
        let known = self
            .engine
            .pack(&self.language)
            .is_ok_and(|p| p.exact(&key).next().is_some());
        if known {
            return;
        }
        let score = decode::unknown_word_log_prob(self.engine.config(), &key) as f32;
        let verbatim = Suggestion {
            text: self.word.nfc().collect(),
            kind: SuggestionKind::Verbatim,
            score,
        };
        let at = list
            .iter()
            .position(|s| s.score < score)
            .unwrap_or(list.len())
            .min(k - 1);
        list.insert(at, verbatim);
        list.truncate(k);
    }

    /// The autocorrect decision for the current word, if it may be
    /// corrected: typed with taps, in an ordinary text field, not reverted
    /// before.
    fn decide(&self) -> (Option<Decision>, Option<Rivals>) {
        let corrector = self.engine.config().corrector;
        if corrector == Corrector::Off
            || self.options.field != FieldType::Text
            || !self.tapped()
            || self.reverted.contains(&fold(&self.word))
        {
            return (None, None);
        }
        let (decision, rivals) = match self.decide_word(corrector) {
            Some((decision, rivals)) => (Some(decision), rivals),
            None => (None, None),
        };
        let decision = self.capitalised_at_sentence_start(decision, corrector);
        // Only a kept typed word is given a capital where a sentence
        // begins; it is weighed again with it at the next word ("of" kept
        // as "Of", then "we": "If we").
        let rivals = rivals.map(|mut r| {
            if let Some(d) = &decision
                && d.committed() != r.committed
            {
                r.typed.0 = d.committed().to_owned();
                r.committed = r.typed.0.clone();
            }
            r
        });
        (decision, rivals)
    }

    /// A word typed in lower case where a sentence surely begins
    /// ([`begins_sentence`](crate::text::context::begins_sentence)) and
    /// kept as typed, written with a capital (shift missed), as a
    /// keyboard's automatic capitals would have. Undone like any
    /// correction; a word reverted is not capitalised again.
    fn capitalised_at_sentence_start(
        &self,
        decision: Option<Decision>,
        corrector: Corrector,
    ) -> Option<Decision> {
        let kept = decision.as_ref().is_none_or(|d| d.committed() == self.word);
        if !kept
            || self.options.no_auto_capitals
            || !self.word.chars().next().is_some_and(char::is_lowercase)
            || crate::TypedCase::of(&self.word) != crate::TypedCase::Natural
            || !crate::text::context::begins_sentence(&self.context)
        {
            return decision;
        }
        Some(Decision {
            typed: self.word.clone(),
            correction: Some(crate::text::case::capitalise(&self.word)),
            action: Action::Applied,
            stage: corrector,
            margin: f32::INFINITY,
            reason: match decision {
                Some(d) => format!("a sentence begins ({})", d.reason),
                None => "a sentence begins".to_owned(),
            },
        })
    }

    /// Whether the current word is a word the lexicon counts common (at
    /// most `keep_cost`).
    fn common_lexicon_word(&self) -> bool {
        let key = fold(&self.word);
        let keep = self.engine.config().keep_cost;
        self.engine
            .pack(&self.language)
            .is_ok_and(|p| p.exact(&key).any(|w| w.cost <= keep))
    }

    /// The decision of `corrector` (not `Off`) for the current word, which
    /// may be corrected.
    fn decide_word(&self, corrector: Corrector) -> Option<(Decision, Option<Rivals>)> {
        // A word the user taught, or typed often and the lexicon lacks or
        // finds rare, is theirs: kept. A common word merely typed before
        // is weighed like any (a typo of a neighbour kept twice taught
        // "go" for "to").
        let personal = self.engine.personal();
        if personal.taught(&self.word)
            || (personal.knows(&self.word) && !self.common_lexicon_word())
        {
            let kept = Decision {
                typed: self.word.clone(),
                correction: None,
                action: Action::Kept,
                stage: corrector,
                margin: 0.0,
                reason: "a word of the user's personal dictionary".into(),
            };
            return Some((kept, None));
        }
        match corrector {
            Corrector::Spatial => {
                let decoder = self.decoder()?;
                let observations = self.observations();
                Some(self.search.with(|searcher| {
                    decoder.decide_with_rivals(&self.word, &observations, searcher)
                }))
            }
            Corrector::EditDistance => {
                let pack = self.engine.pack(&self.language).ok()?;
                let decision = decode::edit_distance_decision(
                    pack,
                    self.engine.config(),
                    &self.context,
                    &self.word,
                );
                Some((decision, None))
            }
            Corrector::Off => None,
        }
    }

    fn commit_word(&mut self) {
        let split = self.split.take();
        let previous_rivals = self.rivals.take();
        self.revised_previous = None;
        if self.word.is_empty() {
            return;
        }
        match &split {
            Some(split) if split.spaced => {
                self.joined_last_word = false;
                self.letter_before_space(split);
            }
            split => {
                self.joined_last_word = split.as_ref().is_some_and(|split| self.merge(split));
                if self.joined_last_word {
                    return;
                }
            }
        }
        let (decision, rivals) = match self.unerased() {
            Some(decision) => (Some(decision), None),
            None => self.decide(),
        };
        let word: String = match &decision {
            Some(d) => d.committed().nfc().collect(),
            None => self.word.nfc().collect(),
        };
        if let (Some(split), Some(previous_rivals)) = (&split, &previous_rivals) {
            self.revise_previous(split, previous_rivals, &word);
        }
        self.rivals = rivals;
        if let Some(d) = &decision
            && d.action == Action::Applied
        {
            self.last_correction = Some(Undo {
                typed: self.word.clone(),
                taps: self.taps.clone(),
                corrected: word.clone(),
            });
        }
        self.learn_offsets(&word, decision.as_ref());
        if self.reverted.contains(&fold(&word)) {
            // A word whose autocorrection was undone, committed as it was
            // typed, is what the user wants: taught explicitly.
            self.learn_word(&word, true);
        } else if decision
            .as_ref()
            .is_none_or(|d| d.action != Action::Suggested)
        {
            // A word kept while a correction was offered is likelier a
            // typo than the user's word: typing it again does not teach it
            // (picking it does), or the typo would be protected from then
            // on.
            self.learn_word(&word, false);
        }
        self.last_decision = decision;
        self.context.push_str(&word);
        self.word.clear();
        self.taps.clear();
        self.erasures.clear();
    }

    /// Whether a tap on a key of `kind` would be odd enough here to be a
    /// missed letter: shift in the middle of a lower-case word (not an
    /// acronym), the space bar right after a space, or punctuation right
    /// after the space bar ended a word.
    fn stray_tap(&self, kind: KeyKind) -> bool {
        match kind {
            KeyKind::Shift => self.word.chars().last().is_some_and(char::is_lowercase),
            KeyKind::Space => self.word.is_empty() && self.context.ends_with(' '),
            // A full stop or comma right after the space bar ended a word
            // ("for ." before the next word): the tap fell below the
            // bottom row of letters.
            KeyKind::Punctuation => {
                self.word.is_empty() && self.split.as_ref().is_some_and(|s| !s.spaced)
            }
            _ => false,
        }
    }

    /// Whether the autocorrect applies to tapped words here.
    fn decodes(&self) -> bool {
        self.engine.config().corrector == Corrector::Spatial
            && self.options.field == FieldType::Text
    }

    /// Joins the word before the last space-bar tap and the current word
    /// when they read better as one ("a out" for "about"); true if done.
    fn merge(&mut self, split: &Split) -> bool {
        if !self.tapped() || !self.decodes() {
            return false;
        }
        if self.context.strip_prefix(split.context_before.as_str()) != Some(split.tail.as_str()) {
            return false;
        }
        let Some(decoder) = self.decoder() else {
            return false;
        };
        let observations = self.observations();
        let Some((word, margin)) = decoder.merge(
            &split.context_before,
            &split.observations,
            split.tap,
            split.separator_log_p,
            &observations,
        ) else {
            return false;
        };
        let word = split.in_its_case(&word);
        self.last_decision = Some(Decision {
            typed: format!("{}{}", split.tail, self.word),
            correction: Some(word.clone()),
            action: Action::Applied,
            stage: Corrector::Spatial,
            margin,
            reason: format!(
                "{} tapped for a letter: one word, {margin:.2} above two",
                split.separator
            ),
        });
        self.context.truncate(split.context_before.len());
        self.learn_word(&word, false);
        self.context.push_str(&word);
        self.word.clear();
        self.taps.clear();
        self.erasures.clear();
        true
    }

    /// Decides the word before the last separator again now that the word
    /// after it, `next`, is committed ("I ws going": "was" or "we"?), and
    /// rewrites it when the decision changes
    /// ([`Decoder::revise`]). Only a word the decoder ranked, committed by
    /// a tap that typed no letter, with nothing changed since.
    fn revise_previous(&mut self, split: &Split, rivals: &Rivals, next: &str) {
        if !self.decodes() || rivals.committed != split.committed {
            return;
        }
        let Some(separator) = split.tail.strip_prefix(split.committed.as_str()) else {
            return;
        };
        if self.context.strip_prefix(split.context_before.as_str()) != Some(split.tail.as_str()) {
            return;
        }
        let Some(decoder) = self.decoder() else {
            return;
        };
        let Some(word) = decoder.revise(&split.context_before, rivals, separator, next) else {
            return;
        };
        if self.reverted.contains(&fold(&word)) {
            return;
        }
        let word: String = word.nfc().collect();
        let separator = separator.to_owned();
        self.context.truncate(split.context_before.len());
        self.context.push_str(&word);
        self.context.push_str(&separator);
        self.revised_previous = Some((split.committed.clone(), word));
    }

    /// Rewrites the word before punctuation and a space as one with a
    /// letter for the punctuation tap ("e. " → "em "), when the decoder
    /// finds that reading likelier with the current word after it; the
    /// current word is then decided after the rewritten text.
    fn letter_before_space(&mut self, split: &Split) {
        if !self.tapped()
            || !self.decodes()
            || crate::TypedCase::of(&self.word) != crate::TypedCase::Natural
            || self.context.strip_prefix(split.context_before.as_str()) != Some(split.tail.as_str())
        {
            return;
        }
        let Some(decoder) = self.decoder() else {
            return;
        };
        let Some(mark) = split.tail.strip_prefix(split.committed.as_str()) else {
            return;
        };
        let Some((word, _)) = decoder.letter_before_space(
            &split.context_before,
            &split.observations,
            split.tap,
            split.separator_log_p,
            mark.trim_end(),
            &self.word,
        ) else {
            return;
        };
        let word = split.in_its_case(&word);
        self.context.truncate(split.context_before.len());
        self.context.push_str(&word);
        self.context.push(' ');
        self.revised_previous = Some((split.committed.clone(), word));
    }

    /// Teaches the touch model where this user taps each key and how
    /// widely, from a word
    /// accepted as committed: a known word kept as typed, or a correction
    /// of the same length (letter for letter).
    fn learn_offsets(&self, committed: &str, decision: Option<&Decision>) {
        if !self.options.learning_allowed()
            || !self.tapped()
            || !self.engine.config().touch_adaptation
        {
            return;
        }
        let accepted = match decision {
            Some(d) => d.action == Action::Applied || d.correction.is_none(),
            None => false,
        };
        let key = fold(committed);
        if !accepted || key.chars().count() != self.taps.len() {
            return;
        }
        let (Ok(model), Ok(pack)) = (
            self.engine.spatial_model(&self.language),
            self.engine.pack(&self.language),
        ) else {
            return;
        };
        if pack.exact(&key).next().is_none() {
            return;
        }
        for (c, tap) in key.chars().zip(&self.taps) {
            if let (Some((x, y)), Some(index)) = (tap, model.key_of(c)) {
                model.learn(index, *x, *y);
            }
        }
    }

    fn push_context(&mut self, c: char) {
        self.context.push(c);
        self.trim_context();
    }

    fn trim_context(&mut self) {
        if self.context.len() > 2 * CONTEXT_LIMIT {
            let keep = trim_start_to(&self.context, CONTEXT_LIMIT).len();
            self.context.drain(..self.context.len() - keep);
        }
    }
}

/// The last at most `limit` bytes of `text`, cut at a character boundary.
fn trim_start_to(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Where the trailing word of `text` starts.
fn word_start(text: &str) -> usize {
    text.char_indices()
        .rev()
        .take_while(|&(_, c)| is_word_char(c))
        .last()
        .map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use crate::pack::{PackSpec, WordSpec, encode};
    use crate::{Error, FieldType, SessionOptions};

    /// A two-row keyboard (letters h e l o p on top; shift, space,
    /// backspace, enter below) and a pack with a few words, written to a
    /// temporary file.
    fn engine() -> (tempfile::TempDir, Engine) {
        let key = |kind, output: &str, x: f32, y: f32, width: f32| Key {
            kind,
            output: output.into(),
            x,
            y,
            width,
            height: 1.0,
            alternates: vec![],
        };
        let mut keys: Vec<Key> = "helop"
            .chars()
            .enumerate()
            .map(|(i, c)| key(KeyKind::Letter, &c.to_string(), i as f32 + 0.5, 0.5, 1.0))
            .collect();
        keys.push(key(KeyKind::Shift, "", 0.5, 1.5, 1.0));
        keys.push(key(KeyKind::Space, " ", 2.0, 1.5, 2.0));
        keys.push(key(KeyKind::Backspace, "", 3.5, 1.5, 1.0));
        keys.push(key(KeyKind::Enter, "", 4.5, 1.5, 1.0));
        let layout = Layout {
            name: "tiny".into(),
            language: "en".into(),
            width: 5.0,
            height: 2.0,
            keys,
        };
        layout.validate().unwrap();
        let words = [("hello", 300), ("help", 350), ("hell", 500), ("he", 200)]
            .into_iter()
            .map(|(w, cost)| WordSpec {
                surface: w.into(),
                cost,
                offensive: false,
            })
            .collect();
        let spec = PackSpec {
            manifest: crate::pack::tests::sample_manifest(),
            layout,
            words,
            pairs: vec![],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("en.nibpack");
        std::fs::write(&path, encode(&spec)).unwrap();
        let engine = Engine::builder().pack(path).build().unwrap();
        (dir, engine)
    }

    fn tap_all(session: &mut Session, taps: &[(f32, f32)]) {
        for &(x, y) in taps {
            session.tap(x, y).unwrap();
        }
    }

    const H: (f32, f32) = (0.5, 0.5);
    const E: (f32, f32) = (1.4, 0.6);
    const L: (f32, f32) = (2.5, 0.2);
    const SHIFT: (f32, f32) = (0.5, 1.5);
    const SPACE: (f32, f32) = (2.0, 1.5);
    const BACKSPACE: (f32, f32) = (3.5, 1.5);
    const ENTER: (f32, f32) = (4.5, 1.9);

    #[test]
    fn taps_type_keys_commit_and_delete() {
        let (_dir, engine) = engine();
        let mut session = engine.session("en").unwrap();
        tap_all(&mut session, &[H, E, L]);
        assert_eq!(session.current_word(), "hel");
        let texts: Vec<String> = session.suggestions(3).into_iter().map(|s| s.text).collect();
        assert_eq!(texts[..2], ["Hello", "Help"], "sentence start capitalises");
        assert_eq!(
            session.tap(BACKSPACE.0, BACKSPACE.1).unwrap().kind,
            KeyKind::Backspace
        );
        assert_eq!(session.current_word(), "he");
        assert_eq!(session.tap(SPACE.0, SPACE.1).unwrap().kind, KeyKind::Space);
        assert_eq!(
            (session.context(), session.current_word()),
            ("He ", ""),
            "a capital at the start of the field"
        );
        tap_all(&mut session, &[SHIFT, H, E, ENTER]);
        assert_eq!(session.context(), "He He\n", "shift lasts one letter");
        // A tap just off the keyboard's edge still finds the nearest key.
        assert_eq!(session.tap(-0.5, 0.5).unwrap().output, "h");
    }

    #[test]
    fn bad_taps_are_typed_errors_and_change_nothing() {
        let (_dir, engine) = engine();
        let mut session = engine.session("en").unwrap();
        tap_all(&mut session, &[H, E]);
        for (x, y) in [
            (f32::NAN, 0.5),
            (0.5, f32::INFINITY),
            (40.0, 0.5),
            (2.0, -9.0),
        ] {
            let err = session.tap(x, y).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        }
        assert_eq!((session.context(), session.current_word()), ("", "he"));
    }

    #[test]
    fn commit_keeps_the_word_as_typed() {
        let (_dir, engine) = engine();
        let mut session = engine.session("en").unwrap();
        session.type_text("helo");
        session.commit();
        assert_eq!((session.context(), session.current_word()), ("helo ", ""));
        assert!(
            session
                .suggestions(3)
                .iter()
                .all(|s| s.kind == crate::SuggestionKind::Prediction),
            "after a commit the next word is predicted"
        );
    }

    #[test]
    fn options_are_kept_and_passwords_never_learn() {
        let (_dir, engine) = engine();
        assert_eq!(
            engine.session("en").unwrap().options(),
            SessionOptions::default()
        );
        assert!(SessionOptions::default().learning_allowed());
        let password = SessionOptions {
            field: FieldType::Password,
            ..SessionOptions::default()
        };
        let session = engine.session_with("en", password).unwrap();
        assert_eq!(session.options().field, FieldType::Password);
        assert!(!session.options().learning_allowed());
        let incognito = SessionOptions {
            field: FieldType::Text,
            no_learning: true,
            ..SessionOptions::default()
        };
        assert!(
            !engine
                .session_with("en", incognito)
                .unwrap()
                .options()
                .learning_allowed()
        );
        assert!(engine.session_with("xx", incognito).is_err());
    }

    #[test]
    fn huge_k_does_not_reserve_memory() {
        let (_dir, engine) = engine();
        let mut session = engine.session("en").unwrap();
        session.type_text("he");
        assert_eq!(session.suggestions(usize::MAX).len(), 4);
    }

    #[test]
    fn word_start_and_trim() {
        assert_eq!(word_start("hello wor"), 6);
        assert_eq!(word_start("hello "), 6);
        assert_eq!(word_start(""), 0);
        assert_eq!(trim_start_to("ééé", 3), "é");
    }
}
