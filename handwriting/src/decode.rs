//! CTC decoding: greedy, and a prefix beam search constrained by the
//! language pack's lexicon and scored with its word model.
//!
//! # The search
//!
//! The model gives, for every frame, log-probabilities over its classes.
//! Classes are first grouped by their **folded** form (the lexicon's search
//! key: "E", "e", "é" and "è" are one group "e"; "ß" is the group "ss"; an
//! apostrophe folds to nothing), because the lexicon is walked by folded
//! keys; a group's probability is the sum of its classes'. The standard CTC
//! prefix beam search then runs over group labels: every prefix keeps the
//! probability of its alignments ending in a blank and in a label, repeats
//! need a blank between them, and the `beam` best prefixes survive each
//! frame.
//!
//! A prefix is also a path through words. Each word is walked in the
//! lexicon fst as its letters arrive ([`LanguagePack::lexicon_next`]); a
//! letter the lexicon cannot follow turns the word into an
//! **out-of-vocabulary** word, which costs `oov_penalty` once and
//! `oov_char_penalty` per letter, so that names and new words can still be
//! written. Punctuation before a word and after a complete lexicon word is
//! allowed at `punct_penalty` each; a word that starts with a digit is a
//! **number** (digits and the punctuation of dates, times and phone
//! numbers) at `number_penalty`; a mark text rarely has ([`RARE_MARKS`])
//! costs `rare_mark_penalty` more wherever it is written. A hyphen or slash
//! after a lexicon word, a dot after a single letter, and a letter after a
//! number join the next letters as a new word without a space
//! ("well-known", "U.K.", "4pm"). The space class ends a word: a lexicon
//! word is then scored by the pack's word model (`ln(λ·P(w | previous) +
//! (1 − λ)·P(w))`, the engine's n-gram score) times `lm_weight`. The path
//! through words is a function of the labels, so merging prefixes with
//! equal labels (CTC's rule) merges equal states.
//!
//! What the user sees is recovered from the classes actually written: for
//! each letter the likeliest class inside its group at the frame it was
//! emitted. Among the surfaces of a lexicon key ("us", "US"; "cafe",
//! "café") the one written exactly wins, then the one equal but for case,
//! then the most frequent; the written case is applied to it as the
//! keyboard does (`Hello` → capitalised, `HELLO` → upper case).
//!
//! Without a pack every word is out of vocabulary at no cost: a plain CTC
//! prefix beam search, as used for "without lexicon" figures.

use std::collections::HashMap;

use nib_engine::pack::{LanguagePack, LexiconNode, WordId, WordRef};
use nib_engine::{TypedCase, apply_case, fold, is_apostrophe, split_token};

use crate::charset::{BLANK, Charset};
use crate::model::LogProbs;

/// Marks that handwritten text rarely has; the model reads stray strokes
/// as them ("bacteria\", "hurtle@", "4/10|94"), so they cost
/// [`DecodeParams::rare_mark_penalty`] more than other punctuation.
pub const RARE_MARKS: &str = "@\\|^_`{}~<>=*+[]";

/// Settings of the search. The penalties are in nats of the total score
/// (CTC log-probability plus `lm_weight` times word log-probabilities).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeParams {
    /// Prefixes kept after each frame.
    pub beam: usize,
    /// Weight of the word model against the stroke model.
    pub lm_weight: f32,
    /// Cost of a word the lexicon does not hold.
    pub oov_penalty: f32,
    /// Further cost per character of such a word.
    pub oov_char_penalty: f32,
    /// Cost of each punctuation mark before or after a word.
    pub punct_penalty: f32,
    /// Further cost of a mark that text rarely has ([`RARE_MARKS`]: `@`,
    /// `\`, `|`, braces, ...), wherever it is written, numbers included.
    pub rare_mark_penalty: f32,
    /// Cost of a number (digits with the punctuation of dates, times,
    /// phone numbers: "4/10/94", "456-7890"), which no lexicon holds.
    pub number_penalty: f32,
    /// Labels whose log-probability at a frame is this far below the
    /// frame's best are not tried there.
    pub prune: f32,
    /// Labels tried per frame at most.
    pub labels_per_frame: usize,
    /// Offer completions of a last word that is a lexicon prefix but not
    /// yet a word ("hel" → "hello"), at this cost plus `completion_char_penalty`
    /// per missing letter; `None`: no completions (whole-ink recognition).
    pub completion_penalty: Option<f32>,
    /// Cost of each letter a completion adds.
    pub completion_char_penalty: f32,
    /// Weight λ of the word-pair model against word frequency.
    pub pair_weight: f32,
}

/// The defaults were chosen on every fifth sample of the UNIPEN validation
/// writers (`nib eval-handwriting --subset tune`, see ARCHITECTURE.md): a
/// grid over `lm_weight` {0.3, 0.4, 0.5, 0.6, 0.8} × `oov_penalty` {4, 6, 8,
/// 12, 16, 20} × `oov_char_penalty` {0.5, 1, 1.5, 2}, then the beam {12, 24,
/// 48}, `punct_penalty` {0.5, 1, 2, 4} and `number_penalty` {1, 3, 6}; later
/// `rare_mark_penalty` {0, 1, 2, 3, 5, 8}, and the beam again {24, 32, 48,
/// 64} once compounds, initials and units joined words (48: 0.3 points of
/// word accuracy for ~0.5 ms more per word).
impl Default for DecodeParams {
    fn default() -> Self {
        Self {
            beam: 48,
            lm_weight: 0.5,
            oov_penalty: 6.0,
            oov_char_penalty: 1.5,
            punct_penalty: 1.0,
            rare_mark_penalty: 3.0,
            number_penalty: 1.0,
            prune: 10.0,
            labels_per_frame: 12,
            completion_penalty: None,
            completion_char_penalty: 0.5,
            pair_weight: 0.6,
        }
    }
}

/// One recognised reading of the ink.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The text.
    pub text: String,
    /// Total score (log domain; higher is better).
    pub score: f32,
    /// Whether every word of it is a lexicon word (or a number).
    pub in_lexicon: bool,
    /// Whether its last word is a completion of a word still being written.
    pub completion: bool,
}

/// Greedy CTC decoding: the best class of each frame, repeats merged,
/// blanks removed.
pub fn greedy(log_probs: &LogProbs, charset: &Charset) -> String {
    let mut out = String::new();
    let mut last = BLANK;
    for t in 0..log_probs.frames() {
        let frame = log_probs.frame(t);
        let best = frame
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(BLANK, |(i, _)| i);
        if best != last && best != BLANK {
            out.extend(charset.char(best));
        }
        last = best;
    }
    out
}

/// What a group of classes does to a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Letters: walk the lexicon.
    Letter,
    /// Digits: start or continue a number, or walk the lexicon.
    Digit,
    /// Folds to nothing (apostrophes): part of the word, not of its key.
    Silent,
    /// Punctuation around words.
    Punct,
    /// The word separator.
    Space,
}

/// The classes of a charset grouped by folded form.
#[derive(Debug, Clone)]
pub struct Groups {
    /// Folded key of each group.
    keys: Vec<String>,
    kinds: Vec<Kind>,
    /// Whether each group is one of [`RARE_MARKS`].
    rare: Vec<bool>,
    /// Group of each class (`None` for the blank).
    of_class: Vec<Option<u16>>,
    /// Classes of each group.
    members: Vec<Vec<u16>>,
}

impl Groups {
    /// Groups the classes of `charset`.
    pub fn new(charset: &Charset) -> Self {
        let mut keys: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        let mut of_class = vec![None; charset.len()];
        let mut index: HashMap<String, u16> = HashMap::new();
        for (i, slot) in of_class.iter_mut().enumerate() {
            let Some(c) = charset.char(i) else { continue };
            let mut buffer = [0u8; 4];
            let (key, kind) = if c == ' ' {
                (" ".to_owned(), Kind::Space)
            } else {
                let key = fold(c.encode_utf8(&mut buffer));
                let kind = if key.is_empty() {
                    Kind::Silent
                } else if key.chars().all(|c| c.is_ascii_digit()) {
                    Kind::Digit
                } else if key.chars().all(char::is_alphanumeric) {
                    Kind::Letter
                } else {
                    Kind::Punct
                };
                // Silent classes keep a group each (their own character), so
                // that an apostrophe is a label of its own for CTC.
                let key = if key.is_empty() { c.to_string() } else { key };
                (key, kind)
            };
            let lookup = if kind == Kind::Silent {
                format!("\0{key}")
            } else {
                key.clone()
            };
            let g = *index.entry(lookup).or_insert_with(|| {
                keys.push(key);
                kinds.push(kind);
                (keys.len() - 1) as u16
            });
            *slot = Some(g);
        }
        let mut members = vec![Vec::new(); keys.len()];
        for (class, group) in of_class.iter().enumerate() {
            if let Some(g) = group {
                members[usize::from(*g)].push(class as u16);
            }
        }
        let rare = keys
            .iter()
            .zip(&kinds)
            .map(|(key, &kind)| kind == Kind::Punct && key.chars().all(|c| RARE_MARKS.contains(c)))
            .collect();
        Self {
            keys,
            kinds,
            rare,
            of_class,
            members,
        }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no group.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Per-frame group log-probabilities and the best class inside each group.
struct Frames<'l> {
    log_probs: &'l LogProbs,
    groups: usize,
    blank: Vec<f32>,
    lp: Vec<f32>,
    best: Vec<u16>,
    /// Per frame, the groups worth trying, best first.
    tried: Vec<Vec<u16>>,
}

const NEG: f32 = f32::NEG_INFINITY;

fn lse(a: f32, b: f32) -> f32 {
    if a == NEG {
        return b;
    }
    if b == NEG {
        return a;
    }
    let m = a.max(b);
    m + ((a - m).exp() + (b - m).exp()).ln()
}

impl<'l> Frames<'l> {
    fn new(log_probs: &'l LogProbs, groups: &Groups, prune: f32, per_frame: usize) -> Self {
        let g = groups.len();
        let frames = log_probs.frames();
        let mut out = Self {
            log_probs,
            groups: g,
            blank: Vec::with_capacity(frames),
            lp: vec![NEG; frames * g],
            best: vec![0; frames * g],
            tried: Vec::with_capacity(frames),
        };
        let mut best_lp = vec![NEG; g];
        for t in 0..frames {
            let frame = log_probs.frame(t);
            out.blank.push(frame.get(BLANK).copied().unwrap_or(NEG));
            best_lp.fill(NEG);
            let row = &mut out.lp[t * g..(t + 1) * g];
            let best = &mut out.best[t * g..(t + 1) * g];
            for (class, &p) in frame.iter().enumerate() {
                let Some(Some(group)) = groups.of_class.get(class) else {
                    continue;
                };
                let gi = usize::from(*group);
                row[gi] = lse(row[gi], p);
                if p > best_lp[gi] {
                    best_lp[gi] = p;
                    best[gi] = class as u16;
                }
            }
            let top = row.iter().copied().fold(NEG, f32::max).max(out.blank[t]);
            let mut tried: Vec<u16> = (0..g as u16)
                .filter(|&gi| row[usize::from(gi)] >= top - prune)
                .collect();
            tried.sort_by(|a, b| row[usize::from(*b)].total_cmp(&row[usize::from(*a)]));
            tried.truncate(per_frame);
            out.tried.push(tried);
        }
        out
    }

    fn lp(&self, t: usize, g: u16) -> f32 {
        self.lp[t * self.groups + usize::from(g)]
    }

    fn best_class(&self, t: usize, g: u16) -> usize {
        usize::from(self.best[t * self.groups + usize::from(g)])
    }

    /// Whether the classes of `members` that are capitals carry more
    /// probability than those that are not, over frames `from..to`:
    /// `None` if the group has no case.
    fn capital(&self, charset: &Charset, members: &[u16], from: usize, to: usize) -> Option<bool> {
        let (mut upper, mut lower) = (0f32, 0f32);
        let capitals: Vec<bool> = members
            .iter()
            .map(|&c| charset.char(usize::from(c)).is_some_and(char::is_uppercase))
            .collect();
        if !capitals.contains(&true) {
            return None;
        }
        for t in from..to.min(self.log_probs.frames()) {
            let frame = self.log_probs.frame(t);
            let p = |c: u16| frame.get(usize::from(c)).map_or(0.0, |v| v.exp());
            for (&c, &capital) in members.iter().zip(&capitals) {
                if capital {
                    upper += p(c);
                } else {
                    lower += p(c);
                }
            }
        }
        Some(upper > lower)
    }
}

/// Where the current word stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    /// A prefix of lexicon keys.
    Lex(LexiconNode),
    /// A complete lexicon key followed by punctuation.
    Trail(LexiconNode),
    /// A number.
    Number,
    /// Out of vocabulary.
    Oov,
}

#[derive(Debug, Clone)]
struct Hyp {
    labels: Vec<u16>,
    pb: f32,
    pnb: f32,
    /// Text of the finished words, space-separated.
    text: String,
    in_lexicon: bool,
    /// Scores of the finished words and the current word's penalties.
    extra: f32,
    previous: Option<WordId>,
    word: Word,
    /// Characters written of the current word.
    raw: String,
    /// The current word's first letter: its group and the frames from its
    /// emission to the next label's, where its case is read.
    first: Option<(u16, usize, usize)>,
    /// Whether the current word joins the last one without a space
    /// ("well-known", "U.K.", "4pm"): see [`joins_next_word`].
    glue: bool,
    /// The lexicon word the current word's key passed just before a
    /// joining mark that the lexicon also follows ("in" of "in-"): if the
    /// next letter leaves the lexicon, the word ends there and a joined
    /// one starts.
    joined_host: Option<LexiconNode>,
}

impl Hyp {
    fn ctc(&self) -> f32 {
        lse(self.pb, self.pnb)
    }

    fn total(&self) -> f32 {
        self.ctc() + self.extra
    }
}

/// A decoder over one pack (or none), for one charset.
#[derive(Debug, Clone, Copy)]
pub struct Decoder<'a> {
    /// The lexicon and word model; `None` decodes without them.
    pub pack: Option<&'a LanguagePack>,
    /// The charset's groups.
    pub groups: &'a Groups,
    /// The charset.
    pub charset: &'a Charset,
    /// Settings.
    pub params: DecodeParams,
}

impl<'a> Decoder<'a> {
    fn start_word(&self) -> Word {
        match self.pack {
            Some(pack) => Word::Lex(pack.lexicon_root()),
            None => Word::Oov,
        }
    }

    fn oov_cost(&self) -> (f32, f32) {
        if self.pack.is_some() {
            (self.params.oov_penalty, self.params.oov_char_penalty)
        } else {
            (0.0, 0.0)
        }
    }

    fn number_cost(&self) -> f32 {
        if self.pack.is_some() {
            self.params.number_penalty
        } else {
            0.0
        }
    }

    fn punct_cost(&self) -> f32 {
        if self.pack.is_some() {
            self.params.punct_penalty
        } else {
            0.0
        }
    }

    /// The word state and extra cost after `h` writes group `g` as class
    /// `class`, its labels then being `labels`; `None` if the extension is
    /// not allowed.
    fn extend(
        &self,
        h: &Hyp,
        labels: Vec<u16>,
        g: u16,
        class: usize,
        t: usize,
        frames: &Frames<'_>,
    ) -> Option<Hyp> {
        let kind = self.groups.kinds[usize::from(g)];
        let key = &self.groups.keys[usize::from(g)];
        let mut next = Hyp {
            labels,
            pb: NEG,
            pnb: NEG,
            text: h.text.clone(),
            in_lexicon: h.in_lexicon,
            extra: h.extra,
            previous: h.previous,
            word: h.word,
            raw: String::new(),
            first: h.first,
            glue: h.glue,
            joined_host: None,
        };
        if let Some((fg, from, usize::MAX)) = next.first {
            next.first = Some((fg, from, t));
        }
        if kind == Kind::Space {
            if h.raw.is_empty() {
                return None;
            }
            self.finish(h, &mut next, frames);
            next.word = self.start_word();
            next.first = None;
            next.glue = false;
            return Some(next);
        }
        if self.pack.is_some() && self.groups.rare[usize::from(g)] {
            next.extra -= self.params.rare_mark_penalty;
        }
        let (oov, per_char) = self.oov_cost();
        next.raw = h.raw.clone();
        next.raw.extend(self.charset.char(class));
        if kind == Kind::Letter && h.first.is_none() {
            next.first = Some((g, t, usize::MAX));
        }
        let chars = next.raw.chars().count();
        let to_oov = |next: &mut Hyp, chars: usize| {
            next.word = Word::Oov;
            next.extra -= oov + per_char * chars as f32;
        };
        match (h.word, self.pack) {
            (Word::Oov, _) | (_, None) => {
                next.extra -= per_char;
            }
            (Word::Lex(node), Some(pack)) => match kind {
                Kind::Silent => {}
                Kind::Digit if node == pack.lexicon_root() => {
                    next.word = Word::Number;
                    next.extra -= self.number_cost();
                }
                Kind::Letter | Kind::Digit => match (pack.lexicon_next(node, key), h.joined_host) {
                    (Some(n), _) => next.word = Word::Lex(n),
                    (None, Some(host)) => {
                        // "in-" is a lexicon prefix ("in-house"), "in-y" is
                        // not: "In-Yung" is "In" joined to a new word.
                        let host = Hyp {
                            word: Word::Trail(host),
                            ..h.clone()
                        };
                        self.join_word(&host, &mut next, pack, g, class, t, frames);
                    }
                    (None, None) => to_oov(&mut next, chars),
                },
                Kind::Punct => {
                    if let Some(n) = pack.lexicon_next(node, key) {
                        next.word = Word::Lex(n);
                        if pack.lexicon_words(node).next().is_some() && joins_next_word(&next.raw) {
                            next.joined_host = Some(node);
                        }
                    } else if node == pack.lexicon_root() {
                        next.extra -= self.punct_cost();
                    } else if pack.lexicon_words(node).next().is_some() {
                        next.word = Word::Trail(node);
                        next.extra -= self.punct_cost();
                    } else {
                        to_oov(&mut next, chars);
                    }
                }
                Kind::Space => {}
            },
            (Word::Number, Some(pack)) => {
                // Digits, marks and punctuation continue a number; a letter
                // starts a word joined to it ("4pm", "4:30pm").
                if kind == Kind::Letter {
                    self.join_word(h, &mut next, pack, g, class, t, frames);
                }
            }
            (Word::Trail(_), Some(pack)) => match kind {
                Kind::Punct => next.extra -= self.punct_cost(),
                Kind::Letter | Kind::Digit if joins_next_word(&h.raw) => {
                    self.join_word(h, &mut next, pack, g, class, t, frames);
                }
                _ => to_oov(&mut next, chars),
            },
        }
        Some(next)
    }

    /// Ends the word of `h` and starts in `next` a word joined to it, with
    /// the letter or digit `class` of group `g` written at frame `t`.
    #[allow(clippy::too_many_arguments)]
    fn join_word(
        &self,
        h: &Hyp,
        next: &mut Hyp,
        pack: &LanguagePack,
        g: u16,
        class: usize,
        t: usize,
        frames: &Frames<'_>,
    ) {
        self.finish(h, next, frames);
        next.glue = true;
        next.raw.extend(self.charset.char(class));
        let kind = self.groups.kinds[usize::from(g)];
        next.first = (kind == Kind::Letter).then_some((g, t, usize::MAX));
        let key = &self.groups.keys[usize::from(g)];
        next.word = match pack.lexicon_next(pack.lexicon_root(), key) {
            _ if kind == Kind::Digit => {
                next.extra -= self.number_cost();
                Word::Number
            }
            Some(n) => Word::Lex(n),
            None => {
                let (oov, per_char) = self.oov_cost();
                next.extra -= oov + per_char;
                Word::Oov
            }
        };
    }

    /// Ends the current word of `h`, writing the result into `next`.
    fn finish(&self, h: &Hyp, next: &mut Hyp, frames: &Frames<'_>) {
        if !next.text.is_empty() && !h.glue {
            next.text.push(' ');
        }
        // The case of the first letter from all the frames it spans, not
        // only the one where it was emitted: capitals and small letters
        // that look alike ("O"/"o", "S"/"s") split their mass over frames.
        let mut raw = h.raw.clone();
        if let Some((g, from, to)) = h.first
            && let Some(capital) = frames.capital(
                self.charset,
                &self.groups.members[usize::from(g)],
                from,
                if to == usize::MAX {
                    frames.log_probs.frames()
                } else {
                    to
                },
            )
            && let Some((i, c)) = raw.char_indices().find(|(_, c)| c.is_alphanumeric())
        {
            let cased: String = if capital {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            raw.replace_range(i..i + c.len_utf8(), &cased);
        }
        let h = &Hyp { raw, ..h.clone() };
        let lexical = match (h.word, self.pack) {
            (Word::Lex(node) | Word::Trail(node), Some(pack)) => {
                self.lexicon_word(pack, node, &h.raw, h.previous)
            }
            _ => None,
        };
        match lexical {
            Some((text, id, log_p)) => {
                next.text.push_str(&text);
                next.extra += self.params.lm_weight * log_p;
                next.previous = Some(id);
            }
            None if self
                .pack
                .is_some_and(|p| h.word == Word::Lex(p.lexicon_root())) =>
            {
                // Punctuation standing alone ("-", "&"): its marks have paid
                // their cost; it is no new word.
                next.text.push_str(&h.raw);
                next.previous = None;
            }
            None if h.word == Word::Number => {
                // Numbers keep `in_lexicon`: they are not new words.
                next.text.push_str(&h.raw);
                next.previous = None;
            }
            None => {
                if let Word::Lex(_) = h.word
                    && self.pack.is_some()
                {
                    // A lexicon prefix that is not a word: it was out of
                    // vocabulary after all.
                    let (oov, per_char) = self.oov_cost();
                    next.extra -= oov + per_char * h.raw.chars().count() as f32;
                }
                next.text.push_str(&h.raw);
                next.in_lexicon = false;
                next.previous = None;
            }
        }
        next.raw.clear();
    }

    /// The surface written for a complete lexicon key, its id and its word
    /// log-probability.
    fn lexicon_word(
        &self,
        pack: &LanguagePack,
        node: LexiconNode,
        raw: &str,
        previous: Option<WordId>,
    ) -> Option<(String, WordId, f32)> {
        let (lead, core, _) = split_token(raw);
        // A hyphen ending a word ("In-" of "In-Yung") is trailing
        // punctuation here, though `split_token` keeps it in the word.
        let hyphens = core.len() - core.trim_end_matches('-').len();
        let (core, trail) = (
            &core[..core.len() - hyphens],
            &raw[lead.len() + core.len() - hyphens..],
        );
        let plain = |s: &str| -> String { s.chars().filter(|&c| !is_apostrophe(c)).collect() };
        let core_plain = plain(core);
        let core_lower = core_plain.to_lowercase();
        let core_capital = core.chars().next().is_some_and(char::is_uppercase);
        // The surface closest to what was written, frequency breaking ties:
        // written exactly; the same but for apostrophes, if 100 cB more
        // frequent ("weve" → "we've", but "its" stays); the same letters in
        // another case; the first letter's case agreeing; anything.
        let mut chosen: Option<(u32, bool, WordRef<'_>)> = None;
        for w in pack.lexicon_words(node) {
            let surface_plain = plain(w.surface);
            let penalty = if w.surface == core {
                0
            } else if surface_plain == core_plain {
                100
            } else if surface_plain.to_lowercase() == core_lower {
                1_000
            } else if w.surface.chars().next().is_some_and(char::is_uppercase) == core_capital {
                2_000
            } else {
                3_000
            };
            let rank = penalty + u32::from(w.cost);
            if chosen.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                chosen = Some((rank, penalty == 0, w));
            }
        }
        let (_, exact, word) = chosen?;
        let text = if exact {
            word.surface.to_owned()
        } else {
            apply_case(word.surface, TypedCase::of(core), false)
        };
        let log_p = word_log_prob(pack, &word, previous, self.params.pair_weight);
        Some((format!("{lead}{text}{trail}"), word.id, log_p))
    }

    /// The `k` best readings of `log_probs`, best first. `previous` is the
    /// word before the ink (for the pair model), if any.
    pub fn decode(&self, log_probs: &LogProbs, k: usize, previous: Option<&str>) -> Vec<Candidate> {
        let frames = Frames::new(
            log_probs,
            self.groups,
            self.params.prune,
            self.params.labels_per_frame,
        );
        let previous = previous.and_then(|w| self.pack.and_then(|p| p.lookup(w)));
        let mut beam = vec![Hyp {
            labels: Vec::new(),
            pb: 0.0,
            pnb: NEG,
            text: String::new(),
            in_lexicon: true,
            extra: 0.0,
            previous,
            word: self.start_word(),
            raw: String::new(),
            first: None,
            glue: false,
            joined_host: None,
        }];
        let width = self.params.beam.max(1);
        for t in 0..log_probs.frames() {
            let mut next: Vec<Hyp> = Vec::with_capacity(beam.len() * 4);
            // A fixed fast hasher: the keys are the search's own labels.
            let mut index: HashMap<Vec<u16>, usize, foldhash::fast::FixedState> =
                HashMap::with_capacity_and_hasher(beam.len() * 4, Default::default());
            let blank = frames.blank[t];
            for h in &beam {
                let last = h.labels.last().copied();
                // Stay: a blank, or the last label repeated.
                let stay_b = h.ctc() + blank;
                let stay_nb = last.map_or(NEG, |g| h.pnb + frames.lp(t, g));
                let slot = match index.get(&h.labels) {
                    Some(&slot) => {
                        // The labels were reached this frame by extending a
                        // shorter prefix; if staying carries more of their
                        // probability, its word state is the one to keep
                        // (where the first letter was written, for its case).
                        if lse(stay_b, stay_nb) > next[slot].ctc() {
                            next[slot].first = h.first;
                        }
                        slot
                    }
                    None => {
                        let mut s = h.clone();
                        s.pb = NEG;
                        s.pnb = NEG;
                        index.insert(h.labels.clone(), next.len());
                        next.push(s);
                        next.len() - 1
                    }
                };
                next[slot].pb = lse(next[slot].pb, stay_b);
                next[slot].pnb = lse(next[slot].pnb, stay_nb);
                for &g in &frames.tried[t] {
                    let from = if Some(g) == last { h.pb } else { h.ctc() };
                    let p = from + frames.lp(t, g);
                    if p == NEG {
                        continue;
                    }
                    let mut key = h.labels.clone();
                    key.push(g);
                    if let Some(&slot) = index.get(&key) {
                        next[slot].pnb = lse(next[slot].pnb, p);
                        continue;
                    }
                    let class = frames.best_class(t, g);
                    let Some(mut e) = self.extend(h, key.clone(), g, class, t, &frames) else {
                        continue;
                    };
                    e.pnb = p;
                    index.insert(key, next.len());
                    next.push(e);
                }
            }
            next.sort_by(|a, b| b.total().total_cmp(&a.total()));
            next.truncate(width);
            beam = next;
        }
        let mut done: Vec<Candidate> = Vec::new();
        for h in &beam {
            if h.raw.is_empty() {
                continue;
            }
            let mut end = h.clone();
            self.finish(h, &mut end, &frames);
            let score = end.total();
            match done.iter_mut().find(|c| c.text == end.text) {
                Some(c) => c.score = c.score.max(score),
                None => done.push(Candidate {
                    text: end.text,
                    score,
                    in_lexicon: end.in_lexicon,
                    completion: false,
                }),
            }
            if let (Some(penalty), Some(pack), Word::Lex(node)) =
                (self.params.completion_penalty, self.pack, h.word)
                && node != pack.lexicon_root()
            {
                for c in self.completions(pack, h, penalty) {
                    if !done.iter().any(|d| d.text == c.text) {
                        done.push(c);
                    }
                }
            }
        }
        done.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.text.cmp(&b.text))
        });
        done.truncate(k);
        done
    }
}

/// Whether a word written so far as `raw`, a lexicon word with trailing
/// punctuation, joins the next letter or digit as one token: a hyphen
/// ("well-", "In-" of "In-Yung") or a slash ("and/") ends a word of a
/// compound; a dot after one letter is an initial ("U." of "U.K.").
fn joins_next_word(raw: &str) -> bool {
    // `split_token` keeps a hyphen in the word ("In-"): look at the end.
    let Some(mark) = raw.chars().next_back() else {
        return false;
    };
    let before = &raw[..raw.len() - mark.len_utf8()];
    let (_, core, trail) = split_token(before);
    trail.is_empty()
        && match mark {
            '-' | '/' => !core.is_empty(),
            '.' => core.chars().count() == 1,
            _ => false,
        }
}

/// Completions offered per prefix.
const COMPLETIONS: usize = 2;
/// Words read under a light prefix to find its best completions.
const COMPLETION_SCAN: usize = 160;

impl Decoder<'_> {
    /// The likeliest words that complete the lexicon prefix `h` is in,
    /// scored as if written, less the completion costs.
    fn completions<'p>(&self, pack: &'p LanguagePack, h: &Hyp, penalty: f32) -> Vec<Candidate> {
        let (lead, core, _) = split_token(&h.raw);
        let prefix = fold(core);
        let mut best: Vec<WordRef<'p>> = Vec::new();
        let mut offer = |w: WordRef<'p>| {
            if w.offensive || fold(w.surface).len() <= prefix.len() {
                return;
            }
            best.push(w);
            best.sort_by_key(|w| w.cost);
            best.truncate(COMPLETIONS);
        };
        match pack.top_words(&prefix) {
            Some(top) => top.for_each(&mut offer),
            None => {
                pack.for_each_with_prefix(&prefix, COMPLETION_SCAN, &mut offer);
            }
        }
        let written = prefix.chars().count();
        best.into_iter()
            .map(|w| {
                let added = fold(w.surface).chars().count().saturating_sub(written);
                let log_p = word_log_prob(pack, &w, h.previous, self.params.pair_weight);
                let mut text = h.text.clone();
                if !text.is_empty() && !h.glue {
                    text.push(' ');
                }
                text.push_str(lead);
                text.push_str(&apply_case(w.surface, TypedCase::of(core), false));
                Candidate {
                    text,
                    score: h.total() + self.params.lm_weight * log_p
                        - penalty
                        - self.params.completion_char_penalty * added as f32,
                    in_lexicon: h.in_lexicon,
                    completion: true,
                }
            })
            .collect()
    }
}

/// `ln(λ·P(w | previous) + (1 − λ)·P(w))`, the engine's n-gram score, with
/// λ = 0 when `previous` has no pairs.
fn word_log_prob(
    pack: &LanguagePack,
    word: &WordRef<'_>,
    previous: Option<WordId>,
    pair_weight: f32,
) -> f32 {
    let unigram = 10f64.powf(-f64::from(word.cost) / 100.0);
    let (lambda, pair) = match previous.and_then(|p| pack.followers(p)) {
        Some((total, mut list)) => {
            let count = list.find(|(id, _)| *id == word.id).map_or(0, |(_, n)| n);
            (
                f64::from(pair_weight.clamp(0.0, 1.0)),
                f64::from(count) / f64::from(total.max(1)),
            )
        }
        None => (0.0, 0.0),
    };
    (lambda * pair + (1.0 - lambda) * unigram).ln() as f32
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use nib_engine::pack::{PackSpec, WordSpec, encode};
    use std::path::Path;

    fn charset() -> Charset {
        Charset::parse(
            include_str!("../train/charset.txt"),
            Path::new("charset.txt"),
        )
        .unwrap()
    }

    /// A pack of a few words (cost in centibels: lower is more frequent).
    fn pack(words: &[(&str, u16)]) -> LanguagePack {
        let layout: nib_engine::layout::Layout = serde_json::from_value(serde_json::json!({
            "name": "t", "language": "en", "width": 1.0, "height": 1.0,
            "keys": [{"kind": "letter", "output": "a", "x": 0.5, "y": 0.5, "width": 1.0, "height": 1.0}]
        }))
        .unwrap();
        let manifest: nib_engine::pack::Manifest = serde_json::from_value(serde_json::json!({
            "language": "en", "name": "English", "pack_version": "t", "words": words.len(),
            "offensive_words": 0, "pairs": 0, "casing": "as given", "sources": []
        }))
        .unwrap();
        let spec = PackSpec {
            manifest,
            layout,
            words: words
                .iter()
                .map(|&(s, cost)| WordSpec {
                    surface: s.into(),
                    cost,
                    offensive: false,
                })
                .collect(),
            pairs: vec![],
        };
        LanguagePack::from_bytes(Path::new("t.nibpack"), encode(&spec)).unwrap()
    }

    /// Log-probabilities of frames given as (character, probability) lists
    /// (`'_'` is the blank); what is left of each frame is spread evenly.
    fn frames(charset: &Charset, spec: &[&[(char, f32)]]) -> LogProbs {
        let n = charset.len();
        let mut data = Vec::new();
        for frame in spec {
            let mut p = vec![0f32; n];
            let mut left = 1.0;
            for &(c, q) in *frame {
                let i = if c == '_' {
                    BLANK
                } else {
                    charset.index(c).unwrap()
                };
                p[i] += q;
                left -= q;
            }
            for v in &mut p {
                *v = (*v + left.max(1e-6) / n as f32).ln();
            }
            data.extend(p);
        }
        LogProbs::new(n, data).unwrap()
    }

    /// One sure frame per character, blanks between.
    fn spelled(charset: &Charset, text: &str) -> LogProbs {
        let mut spec: Vec<Vec<(char, f32)>> = Vec::new();
        for c in text.chars() {
            spec.push(vec![(c, 0.97)]);
            spec.push(vec![('_', 0.97)]);
        }
        let refs: Vec<&[(char, f32)]> = spec.iter().map(Vec::as_slice).collect();
        frames(charset, &refs)
    }

    fn decoder<'a>(
        pack: Option<&'a LanguagePack>,
        groups: &'a Groups,
        charset: &'a Charset,
    ) -> Decoder<'a> {
        Decoder {
            pack,
            groups,
            charset,
            params: DecodeParams::default(),
        }
    }

    #[test]
    fn the_lexicon_settles_an_ambiguous_letter() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[("world", 300), ("would", 250)]);
        // "w?rld" where the model slightly prefers "c" to "o".
        let lp = frames(
            &charset,
            &[
                &[('w', 0.9)],
                &[('c', 0.5), ('o', 0.4)],
                &[('r', 0.9)],
                &[('l', 0.9)],
                &[('d', 0.9)],
            ],
        );
        assert_eq!(greedy(&lp, &charset), "wcrld");
        let found = decoder(Some(&pack), &groups, &charset).decode(&lp, 3, None);
        assert_eq!(found[0].text, "world");
        assert!(found[0].in_lexicon);
        let free = decoder(None, &groups, &charset).decode(&lp, 3, None);
        assert_eq!(free[0].text, "wcrld");
    }

    #[test]
    fn new_words_lines_case_and_accents() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[("see", 300), ("you", 200), ("café", 500), ("Paris", 400)]);
        let d = decoder(Some(&pack), &groups, &charset);
        // A name the lexicon lacks comes through as written.
        let name = d.decode(&spelled(&charset, "Zorvik"), 3, None);
        assert_eq!(name[0].text, "Zorvik");
        assert!(!name[0].in_lexicon);
        // Two words, the gap found at the space class.
        let line = d.decode(&spelled(&charset, "see you"), 3, None);
        assert_eq!(line[0].text, "see you");
        assert!(line[0].in_lexicon);
        // Written case is kept; the lexicon restores accents and its case.
        assert_eq!(d.decode(&spelled(&charset, "See"), 1, None)[0].text, "See");
        assert_eq!(
            d.decode(&spelled(&charset, "cafe"), 1, None)[0].text,
            "café"
        );
        assert_eq!(
            d.decode(&spelled(&charset, "paris"), 1, None)[0].text,
            "Paris"
        );
        // Punctuation after a word stays, at a small cost.
        assert_eq!(
            d.decode(&spelled(&charset, "you."), 1, None)[0].text,
            "you."
        );
        // Numbers are neither lexicon words nor new words.
        let number = d.decode(&spelled(&charset, "4/10/94"), 1, None);
        assert_eq!(number[0].text, "4/10/94");
        assert!(number[0].in_lexicon);
        // At most k candidates, even from a frame that is all but blank.
        assert!(
            d.decode(&frames(&charset, &[&[('_', 0.99)]]), 2, None)
                .len()
                <= 2
        );
    }

    #[test]
    fn a_word_being_written_is_completed_when_asked() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[("hello", 300), ("help", 350), ("helmet", 600), ("he", 200)]);
        let mut d = decoder(Some(&pack), &groups, &charset);
        let hel = spelled(&charset, "Hel");
        assert!(d.decode(&hel, 3, None).iter().all(|c| !c.completion));
        d.params.completion_penalty = Some(1.0);
        let found = d.decode(&hel, 3, None);
        let texts: Vec<&str> = found.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(&texts[..2], ["Hello", "Help"], "{found:?}");
        assert!(found[0].completion && found[0].in_lexicon);
        // A finished word beats its own completions.
        let he = d.decode(&spelled(&charset, "hello"), 1, None);
        assert_eq!(he[0].text, "hello");
        assert!(!he[0].completion);
    }

    #[test]
    fn apostrophes_come_back_when_the_lexicon_is_sure() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[("we've", 300), ("weve", 700), ("its", 300), ("it's", 250)]);
        let d = decoder(Some(&pack), &groups, &charset);
        assert_eq!(
            d.decode(&spelled(&charset, "weve"), 1, None)[0].text,
            "we've"
        );
        assert_eq!(
            d.decode(&spelled(&charset, "Weve"), 1, None)[0].text,
            "We've"
        );
        // Not 100 cB more frequent: what was written stands.
        assert_eq!(d.decode(&spelled(&charset, "its"), 1, None)[0].text, "its");
        assert_eq!(
            d.decode(&spelled(&charset, "it's"), 1, None)[0].text,
            "it's"
        );
    }

    #[test]
    fn the_case_of_a_first_letter_is_read_over_its_frames() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[("so", 300)]);
        // "S" wins the first frame narrowly, "s" holds the next two.
        let lp = frames(
            &charset,
            &[
                &[('S', 0.5), ('s', 0.45)],
                &[('s', 0.5), ('_', 0.45)],
                &[('s', 0.4), ('_', 0.55)],
                &[('o', 0.95)],
            ],
        );
        assert_eq!(greedy(&lp, &charset), "Sso");
        let found = decoder(Some(&pack), &groups, &charset).decode(&lp, 1, None);
        assert_eq!(found[0].text, "so");
    }

    #[test]
    fn marks_that_text_rarely_has_cost_more() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[("bacteria", 600)]);
        // A stray stroke after the word that the model reads as "\".
        let mut spec: Vec<Vec<(char, f32)>> = "bacteria"
            .chars()
            .flat_map(|c| [vec![(c, 0.97)], vec![('_', 0.97)]])
            .collect();
        spec.push(vec![('\\', 0.9), ('_', 0.1)]);
        let refs: Vec<&[(char, f32)]> = spec.iter().map(Vec::as_slice).collect();
        let lp = frames(&charset, &refs);
        assert_eq!(greedy(&lp, &charset), "bacteria\\");
        let mut d = decoder(Some(&pack), &groups, &charset);
        assert_eq!(d.decode(&lp, 1, None)[0].text, "bacteria");
        d.params.rare_mark_penalty = 0.0;
        assert_eq!(d.decode(&lp, 1, None)[0].text, "bacteria\\");
        // Inside a number too: "|" read where "/" is nearly as likely.
        let mut spec: Vec<Vec<(char, f32)>> = Vec::new();
        for c in "4/10".chars() {
            spec.extend([vec![(c, 0.97)], vec![('_', 0.97)]]);
        }
        spec.extend([vec![('|', 0.5), ('/', 0.45)], vec![('_', 0.97)]]);
        for c in "94".chars() {
            spec.extend([vec![(c, 0.97)], vec![('_', 0.97)]]);
        }
        let refs: Vec<&[(char, f32)]> = spec.iter().map(Vec::as_slice).collect();
        let lp = frames(&charset, &refs);
        assert_eq!(d.decode(&lp, 1, None)[0].text, "4/10|94");
        d.params.rare_mark_penalty = DecodeParams::default().rare_mark_penalty;
        assert_eq!(d.decode(&lp, 1, None)[0].text, "4/10/94");
    }

    #[test]
    fn compounds_initials_and_units_are_joined_words() {
        let charset = charset();
        let groups = Groups::new(&charset);
        let pack = pack(&[
            ("well", 300),
            ("known", 400),
            ("in", 200),
            ("in-house", 700),
            ("law", 500),
            ("pm", 600),
            ("U", 600),
            ("K", 600),
        ]);
        let d = decoder(Some(&pack), &groups, &charset);
        for (written, read) in [
            // Two lexicon words joined by a hyphen, no new word.
            ("well-known", "well-known"),
            // "in-" is a lexicon prefix ("in-house"), "in-l" is not.
            ("in-law", "in-law"),
            ("in-house", "in-house"),
            // Initials, and a unit after a number.
            ("U.K.", "U.K."),
            ("4pm", "4pm"),
            ("4:30pm", "4:30pm"),
        ] {
            let found = d.decode(&spelled(&charset, written), 1, None);
            assert_eq!(found[0].text, read, "{written}");
            assert!(found[0].in_lexicon, "{written}");
        }
        // The part after the hyphen may be a new word.
        let found = d.decode(&spelled(&charset, "In-Yung"), 1, None);
        assert_eq!(found[0].text, "In-Yung");
        assert!(!found[0].in_lexicon);
        // A dot after a whole word does not join the next letters.
        assert!(!joins_next_word("well."));
        assert!(joins_next_word("(U."));
        assert!(joins_next_word("well-"));
        assert!(!joins_next_word("-"));
    }

    #[test]
    fn adds_in_the_log_domain() {
        assert!((lse(0.5f32.ln(), 0.25f32.ln()) - 0.75f32.ln()).abs() < 1e-6);
        assert_eq!(lse(NEG, -1.0), -1.0);
    }
}
