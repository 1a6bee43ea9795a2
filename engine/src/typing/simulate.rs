//! A simulated typist: turns text into typing logs.
//!
//! The typist splits the text into whitespace-separated tokens and, for each
//! one, writes an `expect` event with the token and then the events that
//! type it followed by a space. Every character with a key on the layout is
//! a tap at the key's centre plus a systematic offset and 2-D Gaussian
//! noise (standard deviations in key widths, x and y apart); a capital is a
//! tap on shift and one on the letter; a character without a key (a digit,
//! an accented letter on another language's layout) is a `key` event, as a
//! long press or the symbols page would give it. Taps stay on the keyboard.
//!
//! Typos are drawn per letter of a word: omitted, preceded by an inserted
//! neighbouring key, or swapped with the next letter. A typist that uses
//! suggestions looks at the top `k` before each letter of a word, as the
//! engine shows them, and picks the intended word when it is there.
//!
//! Everything is drawn from one ChaCha8 generator seeded by
//! [`TypistConfig::seed`], so the same text, layout, configuration and
//! engine give the same log, byte for byte.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::{Map, Value, json};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::layout::{Key, KeyKind, Layout};
use crate::session::{FieldType, Session, SessionOptions};
use crate::text::context::split_token;
use crate::typing::log::{Event, LOG_VERSION, SessionHeader};

/// How the simulated typist types.
#[derive(Debug, Clone, PartialEq)]
pub struct TypistConfig {
    /// Standard deviation of the horizontal tap error, in key widths.
    pub sigma_x: f32,
    /// Standard deviation of the vertical tap error, in key widths.
    pub sigma_y: f32,
    /// Systematic horizontal offset of every tap, in key widths.
    pub offset_x: f32,
    /// Systematic vertical offset of every tap, in key widths.
    pub offset_y: f32,
    /// Probability that a letter of a word is left out.
    pub omission: f64,
    /// Probability that a neighbouring key is tapped before a letter.
    pub insertion: f64,
    /// Probability that a letter is swapped with the next one.
    pub transposition: f64,
    /// When set, the typist looks at this many suggestions and picks the
    /// intended word when it is shown.
    pub picks: Option<usize>,
    /// Tokens per session, at least: a session ends with the first
    /// sentence that reaches this many; each session gets its own header.
    pub words_per_session: usize,
    /// The seed of the random generator.
    pub seed: u64,
    /// The field type written in the headers.
    pub field: FieldType,
    /// Extra metadata for every header (the source text's name, say).
    pub metadata: Map<String, Value>,
}

impl Default for TypistConfig {
    fn default() -> Self {
        Self {
            sigma_x: 0.3,
            sigma_y: 0.3,
            offset_x: 0.0,
            offset_y: 0.0,
            omission: 0.0,
            insertion: 0.0,
            transposition: 0.0,
            picks: None,
            words_per_session: 40,
            seed: 1,
            field: FieldType::Text,
            metadata: Map::new(),
        }
    }
}

impl TypistConfig {
    fn validate(&self) -> Result<()> {
        let lengths = [self.sigma_x, self.sigma_y];
        if lengths.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
            return Err(Error::Config(format!(
                "tap noise must be finite and not negative, got sigma ({}, {})",
                self.sigma_x, self.sigma_y
            )));
        }
        if !(self.offset_x.is_finite() && self.offset_y.is_finite()) {
            return Err(Error::Config("tap offset must be finite".into()));
        }
        let rates = [self.omission, self.insertion, self.transposition];
        if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err(Error::Config(format!(
                "typo rates must be between 0 and 1, got {rates:?}"
            )));
        }
        if self.words_per_session == 0 {
            return Err(Error::Config("a session needs at least one word".into()));
        }
        if self.picks == Some(0) {
            return Err(Error::Config(
                "a typist that picks suggestions needs to see at least one".into(),
            ));
        }
        Ok(())
    }

    /// The metadata written in each session header.
    fn header_metadata(&self) -> Map<String, Value> {
        let mut metadata = self.metadata.clone();
        metadata.insert("sigma".into(), json!(self.sigma_x));
        metadata.insert(
            "simulator".into(),
            json!({
                "sigma": [self.sigma_x, self.sigma_y],
                "offset": [self.offset_x, self.offset_y],
                "omission": self.omission,
                "insertion": self.insertion,
                "transposition": self.transposition,
                "picks": self.picks,
                "seed": self.seed,
            }),
        );
        metadata
    }
}

/// How to enter one character.
enum Stroke<'a> {
    /// Tap these keys in turn (shift, then the letter, for a capital).
    Taps(Vec<&'a Key>),
    /// A `key` event.
    Symbol(char),
}

/// A simulated typist for one language.
#[derive(Debug)]
pub struct Typist {
    engine: Engine,
    language: String,
    config: TypistConfig,
    rng: ChaCha8Rng,
}

impl Typist {
    /// A typist using the layout of `language`'s pack in `engine`.
    pub fn new(engine: &Engine, language: &str, config: TypistConfig) -> Result<Self> {
        config.validate()?;
        engine.pack(language)?;
        Ok(Self {
            engine: engine.fresh_user(),
            language: language.to_owned(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
        })
    }

    /// Types `text`, handing each event to `emit` in order. Returns the
    /// number of events written; stops at the first error `emit` returns.
    pub fn type_text<E>(
        &mut self,
        text: &str,
        mut emit: impl FnMut(&Event) -> std::result::Result<(), E>,
    ) -> std::result::Result<u64, E> {
        let engine = self.engine.clone();
        let Ok(pack) = engine.pack(&self.language) else {
            return Ok(0);
        };
        let layout = pack.layout();
        let mut written = 0u64;
        let mut out = |event: Event| {
            written += 1;
            emit(&event)
        };
        let tokens: Vec<&str> = text.split_whitespace().collect();
        for chunk in sessions(&tokens, self.config.words_per_session) {
            let options = SessionOptions {
                field: self.config.field,
                ..SessionOptions::default()
            };
            let Ok(mut session) = engine.session_with(&self.language, options) else {
                break;
            };
            let mut clock = Clock::default();
            out(Event::Session(SessionHeader {
                version: LOG_VERSION,
                language: self.language.clone(),
                layout: Some(layout.name.clone()),
                field: self.config.field,
                no_learning: false,
                no_auto_capitals: false,
                metadata: self.config.header_metadata(),
            }))?;
            for token in chunk {
                out(Event::Expect {
                    text: (*token).to_owned(),
                })?;
                for event in self.type_token(layout, &mut session, &mut clock, token) {
                    out(event)?;
                }
            }
        }
        Ok(written)
    }

    /// The events that type `token` and the space after it, applied to
    /// `session` as they are made.
    fn type_token(
        &mut self,
        layout: &Layout,
        session: &mut Session,
        clock: &mut Clock,
        token: &str,
    ) -> Vec<Event> {
        let (lead, word, trail) = split_token(token);
        let mut events = Vec::new();
        for c in lead.chars() {
            self.type_char(layout, session, clock, c, &mut events);
        }
        let planned = self.with_typos(layout, word);
        let picks = self
            .config
            .picks
            .filter(|_| !word.is_empty() && !word.chars().any(char::is_numeric));
        let mut picked = false;
        for (i, &c) in planned.iter().enumerate() {
            if let Some(k) = picks
                && session.suggestions(k).iter().any(|s| s.text == word)
            {
                picked = true;
                break;
            }
            self.type_char(layout, session, clock, c, &mut events);
            if i + 1 == planned.len()
                && let Some(k) = picks
            {
                picked = session.suggestions(k).iter().any(|s| s.text == word);
            }
        }
        if planned.is_empty()
            && let Some(k) = picks
        {
            picked = session.suggestions(k).iter().any(|s| s.text == word);
        }
        if picked {
            session.pick(word);
            events.push(Event::Pick {
                text: word.to_owned(),
                t: Some(clock.pause(&mut self.rng)),
            });
            if !trail.is_empty() {
                // Take back the space the pick added, to type the
                // punctuation against the word.
                session.backspace();
                events.push(Event::Backspace {
                    t: Some(clock.tick(&mut self.rng)),
                });
            }
        }
        if !picked || !trail.is_empty() {
            for c in trail.chars().chain([' ']) {
                self.type_char(layout, session, clock, c, &mut events);
            }
        }
        events
    }

    /// The letters the typist will actually type for `word`.
    fn with_typos(&mut self, layout: &Layout, word: &str) -> Vec<char> {
        let chars: Vec<char> = word.chars().collect();
        let (omission, insertion, transposition) = (
            self.config.omission,
            self.config.insertion,
            self.config.transposition,
        );
        if omission + insertion + transposition == 0.0 {
            return chars;
        }
        let mut planned = Vec::with_capacity(chars.len() + 2);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if i + 1 < chars.len() && self.rng.random_bool(transposition) {
                planned.extend([chars[i + 1], c]);
                i += 2;
                continue;
            }
            i += 1;
            if self.rng.random_bool(omission) {
                continue;
            }
            if self.rng.random_bool(insertion)
                && let Some(n) = self.neighbour(layout, c)
            {
                planned.push(n);
            }
            planned.push(c);
        }
        planned
    }

    /// A letter whose key is next to `c`'s, if `c` has a key.
    fn neighbour(&mut self, layout: &Layout, c: char) -> Option<char> {
        let lower: String = c.to_lowercase().collect();
        let key = layout.letters().find(|k| k.output == lower)?;
        let near: Vec<char> = layout
            .letters()
            .filter(|k| k.output != key.output)
            .filter(|k| (k.x - key.x).hypot(k.y - key.y) <= 1.5)
            .filter_map(|k| k.output.chars().next())
            .collect();
        if near.is_empty() {
            return None;
        }
        Some(near[self.rng.random_range(0..near.len())])
    }

    /// Types one character: taps, or a `key` event.
    fn type_char(
        &mut self,
        layout: &Layout,
        session: &mut Session,
        clock: &mut Clock,
        c: char,
        events: &mut Vec<Event>,
    ) {
        match stroke_for(layout, c) {
            Stroke::Taps(keys) => {
                for key in keys {
                    let (x, y) = self.aim(layout, key);
                    // The tap lands where it lands: a neighbouring key, or
                    // shift typing nothing, is part of the simulation.
                    let _ = session.tap(x, y);
                    events.push(Event::Tap {
                        x,
                        y,
                        t: Some(clock.tick(&mut self.rng)),
                    });
                }
            }
            Stroke::Symbol(c) => {
                let key = c.to_string();
                session.type_text(&key);
                events.push(Event::Key {
                    key,
                    t: Some(clock.tick(&mut self.rng)),
                });
            }
        }
    }

    /// Where a tap meant for `key` lands, rounded to 1/1000 key width and
    /// kept on the keyboard.
    fn aim(&mut self, layout: &Layout, key: &Key) -> (f32, f32) {
        let dx: f32 = self.rng.sample(StandardNormal);
        let dy: f32 = self.rng.sample(StandardNormal);
        let x = key.x + self.config.offset_x + self.config.sigma_x * dx;
        let y = key.y + self.config.offset_y + self.config.sigma_y * dy;
        let round = |v: f32| (v * 1000.0).round() / 1000.0;
        (
            round(x.clamp(0.0, layout.width - 0.001)),
            round(y.clamp(0.0, layout.height - 0.001)),
        )
    }
}

/// The tokens cut into sessions of at least `words` tokens that end with a
/// sentence (a new text field starts a sentence), the last one shorter.
fn sessions<'t, 'a>(tokens: &'t [&'a str], words: usize) -> Vec<&'t [&'a str]> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        let ends_sentence = token.ends_with(['.', '!', '?', '…']);
        if i + 1 - start >= words && ends_sentence {
            out.push(&tokens[start..=i]);
            start = i + 1;
        }
    }
    if start < tokens.len() {
        out.push(&tokens[start..]);
    }
    out
}

/// How `c` is entered on `layout`.
fn stroke_for(layout: &Layout, c: char) -> Stroke<'_> {
    let find = |kind: KeyKind, output: &str| {
        layout
            .keys
            .iter()
            .find(|k| k.kind == kind && k.output == output)
    };
    if c == ' '
        && let Some(space) = layout.keys.iter().find(|k| k.kind == KeyKind::Space)
    {
        return Stroke::Taps(vec![space]);
    }
    let text = c.to_string();
    if let Some(key) = find(KeyKind::Letter, &text).or_else(|| find(KeyKind::Punctuation, &text)) {
        return Stroke::Taps(vec![key]);
    }
    let lower: String = c.to_lowercase().collect();
    if lower != text
        && let Some(letter) = find(KeyKind::Letter, &lower)
        && let Some(shift) = layout.keys.iter().find(|k| k.kind == KeyKind::Shift)
    {
        return Stroke::Taps(vec![shift, letter]);
    }
    Stroke::Symbol(c)
}

/// Event times: a tap every 150 ms or so, a longer pause before a pick.
#[derive(Debug, Default)]
struct Clock {
    now: f64,
}

impl Clock {
    fn advance(&mut self, rng: &mut ChaCha8Rng, mean: f64) -> f64 {
        let jitter: f64 = rng.sample(StandardNormal);
        self.now += (mean + 40.0 * jitter.abs()).round();
        self.now
    }

    fn tick(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        self.advance(rng, 150.0)
    }

    fn pause(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        self.advance(rng, 400.0)
    }
}
