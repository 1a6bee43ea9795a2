//! Flat records and enums that cross the boundary by value, with explicit
//! conversions from and to the engine's types.
//!
//! They copy the engine's fields rather than wrap its types, so that the
//! engine carries no binding derives and the foreign surface changes only
//! when this file does.

use nib_engine::layout;

use crate::error::NibError;

/// Engine settings. Every field has a default, so `EngineConfig()` (in
/// Kotlin, Swift and Python alike) is the usual value; the engine's
/// constructor takes that when none is given.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct EngineConfig {
    /// Weight of the word-pair model against plain word frequency, in
    /// `[0, 1]`.
    #[uniffi(default = 0.6)]
    pub pair_weight: f32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        nib_engine::Config::default().into()
    }
}

impl From<nib_engine::Config> for EngineConfig {
    fn from(config: nib_engine::Config) -> Self {
        Self {
            pair_weight: config.pair_weight,
        }
    }
}

impl TryFrom<EngineConfig> for nib_engine::Config {
    type Error = NibError;

    fn try_from(config: EngineConfig) -> Result<Self, NibError> {
        if !(0.0..=1.0).contains(&config.pair_weight) {
            return Err(NibError::InvalidInput(format!(
                "pair_weight must be in [0, 1], got {}",
                config.pair_weight
            )));
        }
        Ok(Self {
            pair_weight: config.pair_weight,
            ..Self::default()
        })
    }
}

/// What an engine loads besides its packs: the user's personal dictionary
/// and the neural language model. Every field is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, uniffi::Record)]
pub struct EngineOptions {
    /// The personal dictionary's file (created if missing; its directory
    /// must exist). Without it the dictionary lives in memory only.
    #[uniffi(default = None)]
    pub personal_store: Option<String>,
    /// A 32-byte key (from the Keychain or the Keystore) that encrypts the
    /// personal dictionary's file at rest.
    #[uniffi(default = None)]
    pub personal_key: Option<Vec<u8>>,
    /// The neural language model's directory (`model.int8.onnx`,
    /// `tokenizer.json`, `metrics.json`).
    #[uniffi(default = None)]
    pub language_model: Option<String>,
    /// The ONNX Runtime 1.31 shared library the model runs on
    /// (`libonnxruntime.so`); needed with `language_model`.
    #[uniffi(default = None)]
    pub onnx_runtime: Option<String>,
    /// Threads the model may use (0 means 1).
    #[uniffi(default = 1)]
    pub lm_threads: u32,
}

/// Where a suggestion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
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

impl From<nib_engine::SuggestionKind> for SuggestionKind {
    fn from(kind: nib_engine::SuggestionKind) -> Self {
        match kind {
            nib_engine::SuggestionKind::Completion => Self::Completion,
            nib_engine::SuggestionKind::Prediction => Self::Prediction,
            nib_engine::SuggestionKind::Correction => Self::Correction,
            nib_engine::SuggestionKind::Verbatim => Self::Verbatim,
        }
    }
}

/// One suggestion, best first in the lists the session returns.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Suggestion {
    /// The text to insert in place of the current word (pass it to
    /// `Session.pick`).
    pub text: String,
    /// Where it comes from.
    pub kind: SuggestionKind,
    /// Natural log of its estimated probability; higher is better.
    pub score: f32,
}

impl From<nib_engine::Suggestion> for Suggestion {
    fn from(s: nib_engine::Suggestion) -> Self {
        Self {
            text: s.text,
            kind: s.kind.into(),
            score: s.score,
        }
    }
}

/// What kind of text a field holds. Map it from the editor: Android's
/// `EditorInfo.inputType`, iOS's `keyboardType` and `isSecureTextEntry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum FieldType {
    /// Ordinary text.
    #[default]
    Text,
    /// An e-mail address.
    Email,
    /// A web address.
    Url,
    /// A password or other secret: nothing typed is ever learned.
    Password,
    /// Digits.
    Number,
    /// A one-time code (iOS `.oneTimeCode`, Android `smsOTPCode` autofill
    /// hint): nothing typed is ever learned.
    OneTimeCode,
}

impl From<FieldType> for nib_engine::FieldType {
    fn from(field: FieldType) -> Self {
        match field {
            FieldType::Text => Self::Text,
            FieldType::Email => Self::Email,
            FieldType::Url => Self::Url,
            FieldType::Password => Self::Password,
            FieldType::Number => Self::Number,
            FieldType::OneTimeCode => Self::OneTimeCode,
        }
    }
}

impl From<nib_engine::FieldType> for FieldType {
    fn from(field: nib_engine::FieldType) -> Self {
        match field {
            nib_engine::FieldType::Text => Self::Text,
            nib_engine::FieldType::Email => Self::Email,
            nib_engine::FieldType::Url => Self::Url,
            nib_engine::FieldType::Password => Self::Password,
            nib_engine::FieldType::Number => Self::Number,
            nib_engine::FieldType::OneTimeCode => Self::OneTimeCode,
        }
    }
}

/// How a text field is set up, given when its session is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Record)]
pub struct SessionOptions {
    /// The kind of field. (No default: uniffi cannot give an enum field a
    /// default through proc-macros; pass no options for a text field.)
    pub field: FieldType,
    /// The host asks that nothing typed here be learned (Android's
    /// `IME_FLAG_NO_PERSONALIZED_LEARNING`, a private tab). Password fields
    /// never learn, whatever this says.
    #[uniffi(default = false)]
    pub no_learning: bool,
    /// The field wants no automatic capitals (iOS `autocapitalizationType`
    /// `.none`; on Android, an input type without
    /// `TYPE_TEXT_FLAG_CAP_SENTENCES`): a word typed in lower case where a
    /// sentence begins is not given a capital.
    #[uniffi(default = false)]
    pub no_auto_capitals: bool,
}

impl From<SessionOptions> for nib_engine::SessionOptions {
    fn from(options: SessionOptions) -> Self {
        Self {
            field: options.field.into(),
            no_learning: options.no_learning,
            no_auto_capitals: options.no_auto_capitals,
        }
    }
}

impl From<nib_engine::SessionOptions> for SessionOptions {
    fn from(options: nib_engine::SessionOptions) -> Self {
        Self {
            field: options.field.into(),
            no_learning: options.no_learning,
            no_auto_capitals: options.no_auto_capitals,
        }
    }
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyKind {
    /// Types a letter.
    Letter,
    /// Types a punctuation character.
    Punctuation,
    /// Shift: the next letter tapped is upper case.
    Shift,
    /// Deletes the character before the cursor.
    Backspace,
    /// The space bar: commits the word.
    Space,
    /// Enter or return.
    Enter,
    /// Switches to the symbols page (the host's job).
    Symbols,
}

impl From<layout::KeyKind> for KeyKind {
    fn from(kind: layout::KeyKind) -> Self {
        match kind {
            layout::KeyKind::Letter => Self::Letter,
            layout::KeyKind::Punctuation => Self::Punctuation,
            layout::KeyKind::Shift => Self::Shift,
            layout::KeyKind::Backspace => Self::Backspace,
            layout::KeyKind::Space => Self::Space,
            layout::KeyKind::Enter => Self::Enter,
            layout::KeyKind::Symbols => Self::Symbols,
        }
    }
}

/// One key of a layout. Units are key widths (a letter key is 1 x 1), x to
/// the right and y downward; a tap at (`x`, `y`) hits this key.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Key {
    /// What the key does.
    pub kind: KeyKind,
    /// The text it types (lower case for letters; empty for function keys).
    pub output: String,
    /// Centre, x.
    pub x: f32,
    /// Centre, y.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
    /// Long-press alternates, most common first.
    pub alternates: Vec<String>,
}

impl From<&layout::Key> for Key {
    fn from(key: &layout::Key) -> Self {
        Self {
            kind: key.kind.into(),
            output: key.output.clone(),
            x: key.x,
            y: key.y,
            width: key.width,
            height: key.height,
            alternates: key.alternates.clone(),
        }
    }
}

/// A keyboard layout: the geometry a host draws and that taps are read
/// against.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Layout {
    /// Human-readable name, e.g. "German (QWERTZ)".
    pub name: String,
    /// Language tag, e.g. "de".
    pub language: String,
    /// Width of the keyboard, in key widths.
    pub width: f32,
    /// Height of the keyboard, in key heights.
    pub height: f32,
    /// The keys.
    pub keys: Vec<Key>,
}

impl From<&layout::Layout> for Layout {
    fn from(layout: &layout::Layout) -> Self {
        Self {
            name: layout.name.clone(),
            language: layout.language.clone(),
            width: layout.width,
            height: layout.height,
            keys: layout.keys.iter().map(Key::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_and_rejects_out_of_range_weights() {
        let config = EngineConfig::default();
        assert_eq!(config.pair_weight, 0.6);
        let engine: nib_engine::Config = config.clone().try_into().unwrap();
        assert_eq!(EngineConfig::from(engine), config);
        for bad in [f32::NAN, -0.1, 1.5, f32::INFINITY] {
            let err = nib_engine::Config::try_from(EngineConfig { pair_weight: bad }).unwrap_err();
            assert!(matches!(err, NibError::InvalidInput(m) if m.contains("pair_weight")));
        }
    }

    #[test]
    fn field_types_round_trip() {
        for field in [
            FieldType::Text,
            FieldType::Email,
            FieldType::Url,
            FieldType::Password,
            FieldType::Number,
            FieldType::OneTimeCode,
        ] {
            let options = SessionOptions {
                field,
                no_learning: field == FieldType::Url,
                no_auto_capitals: field != FieldType::Text,
            };
            let engine: nib_engine::SessionOptions = options.into();
            assert_eq!(SessionOptions::from(engine), options);
        }
    }
}

/// What the autocorrect did with a committed word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CorrectionAction {
    /// The word was replaced by the correction (a backspace right after
    /// undoes it).
    Applied,
    /// A correction was likely enough to offer, not to apply.
    Suggested,
    /// The word was committed as typed.
    Kept,
}

/// The autocorrect decision for the last word committed, for a debug
/// overlay or an "undo autocorrect" affordance.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Decision {
    /// The word as typed.
    pub typed: String,
    /// The best correction, if there was one.
    pub correction: Option<String>,
    /// What was done.
    pub action: CorrectionAction,
    /// Why, in words (the stage and the margin).
    pub reason: String,
}

impl From<&nib_engine::decode::Decision> for Decision {
    fn from(d: &nib_engine::decode::Decision) -> Self {
        Self {
            typed: d.typed.clone(),
            correction: d.correction.clone(),
            action: match d.action {
                nib_engine::decode::Action::Applied => CorrectionAction::Applied,
                nib_engine::decode::Action::Suggested => CorrectionAction::Suggested,
                nib_engine::decode::Action::Kept => CorrectionAction::Kept,
            },
            reason: d.reason.clone(),
        }
    }
}

/// A committed word the engine rewrote when the next word was committed
/// (decided again with the word after it: "Can you stop" + "off" → "Can
/// you drop off").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RevisedWord {
    /// The word as it was committed.
    pub was: String,
    /// The word as it is now.
    pub now: String,
}

/// One pen sample: position in any unit (y grows downwards, as on screen)
/// and time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, uniffi::Record)]
pub struct InkPoint {
    /// Horizontal position.
    pub x: f64,
    /// Vertical position, growing downwards.
    pub y: f64,
    /// Time in milliseconds (not decreasing within a stroke).
    #[uniffi(default = 0.0)]
    pub t: f64,
}

impl From<InkPoint> for nib_handwriting::Point {
    fn from(p: InkPoint) -> Self {
        nib_handwriting::Point::new(p.x, p.y, p.t)
    }
}

/// A reading of the ink.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct InkCandidate {
    /// The text (words separated by single spaces).
    pub text: String,
    /// Score in the log domain; higher is better.
    pub score: f32,
    /// Whether every word is in the language's lexicon or a number (false:
    /// a name or a new word, spelled as written).
    pub in_lexicon: bool,
    /// Whether the last word completes one still being written (only from
    /// `InkArea.candidates`).
    pub completion: bool,
}

impl From<nib_handwriting::Candidate> for InkCandidate {
    fn from(c: nib_handwriting::Candidate) -> Self {
        Self {
            text: c.text,
            score: c.score,
            in_lexicon: c.in_lexicon,
            completion: c.completion,
        }
    }
}
