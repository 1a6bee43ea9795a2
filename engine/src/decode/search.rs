//! Beam search over the lexicon automaton, guided by the taps.
//!
//! A hypothesis is a path in the lexicon fst (a folded prefix of some
//! words) that has explained the first `i` observations at a cost (negative
//! log-probability, nats). From each hypothesis the search
//!
//! - **matches** observation `i` with one of its likely keys (the tap's
//!   posterior from the [`SpatialModel`]; a typed character is certain);
//! - **inserts**: treats observation `i` as a stray tap (cheaper for a
//!   first tap that was likely meant for shift or the space bar);
//! - **omits**: follows a lexicon letter no tap stands for;
//! - **transposes**: matches observations `i` and `i + 1` in swapped order.
//!
//! Edits cost fixed penalties and are limited per word; the hypotheses after
//! each observation are cut to a beam. What is left after the last
//! observation are the prefixes that explain the taps, with their costs;
//! the caller turns them into words (exact matches and completions).

use std::collections::HashMap;

use compact_str::CompactString;

use crate::decode::spatial::SpatialModel;
use crate::pack::{LanguagePack, LexiconNode};
use crate::text::fold::fold;

/// What is known about one character of the current word.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Observation {
    /// A tap at (x, y), layout units.
    Tap {
        /// Horizontal position.
        x: f32,
        /// Vertical position.
        y: f32,
    },
    /// A character entered without coordinates (typed text, a long press).
    Char(char),
}

/// Penalties (nats) and limits of the search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchParams {
    /// Hypotheses kept after each observation.
    pub beam: usize,
    /// Cost of a stray tap.
    pub insertion: f32,
    /// Cost of a letter with no tap.
    pub omission: f32,
    /// Cost of two letters typed in swapped order.
    pub transposition: f32,
    /// Edits allowed in a word of up to four letters.
    pub short_edits: u8,
    /// Edits allowed in a longer word.
    pub long_edits: u8,
}

impl Default for SearchParams {
    fn default() -> Self {
        Self {
            beam: 48,
            insertion: 5.0,
            omission: 5.0,
            transposition: 4.5,
            short_edits: 1,
            long_edits: 2,
        }
    }
}

/// A folded prefix the taps may stand for.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix {
    /// The folded prefix.
    pub key: String,
    /// Negative log-probability of the observations given the prefix.
    pub cost: f32,
    /// The lexicon value, when the prefix is itself a word key.
    pub value: Option<u64>,
    /// Edits used.
    pub edits: u8,
    /// Whether the first tap was read as a tap meant for shift (a stray
    /// that typed a letter beside it): the word was meant with a capital.
    pub shifted: bool,
}

#[derive(Debug, Clone)]
struct Hyp {
    node: LexiconNode,
    cost: f32,
    /// Inline up to 24 bytes: extending a hypothesis allocates nothing.
    key: CompactString,
    edits: u8,
    shifted: bool,
}

/// One step of the input: the candidate folded characters and their
/// log-probabilities, and the cost of reading it as a stray tap.
#[derive(Debug, Clone)]
struct Step {
    keys: Vec<(char, f32)>,
    stray: f32,
    /// A first tap likelier meant for shift than for the space bar, and
    /// cheaper as a stray for it.
    shift: bool,
}

/// How likely (natural log) a word is to start with a tap on shift, or on
/// the space bar after punctuation: a tap that typed a letter there and
/// was likely meant for either is a stray at this cost plus its own.
const WORD_START_NON_LETTER_LOG_P: f32 = -2.3;

/// The steps of the observation that comes after `searched` steps: a tap's
/// likely keys, a typed character's folded form (which may be several
/// characters, or none for an apostrophe). A tap that starts the word and
/// may have been meant for shift or the space bar is a cheaper stray.
fn steps(
    model: &SpatialModel,
    observation: Observation,
    searched: usize,
    params: &SearchParams,
) -> Vec<Step> {
    match observation {
        Observation::Tap { x, y } => {
            let keys = model.keys_for(x, y);
            if keys.is_empty() {
                return Vec::new();
            }
            let mut stray = params.insertion;
            let mut shift = false;
            if searched == 0 {
                let either = model.space_or_shift_log_p(x, y);
                let meant = either + WORD_START_NON_LETTER_LOG_P;
                // Shift's share is over half of the two's.
                shift = -meant < stray && either > model.space_log_p(x, y) + std::f32::consts::LN_2;
                stray = stray.min(-meant);
            }
            vec![Step {
                keys: keys.iter().map(|k| (k.character, k.log_p)).collect(),
                stray,
                shift,
            }]
        }
        Observation::Char(c) => {
            let mut buffer = [0u8; 4];
            fold(c.encode_utf8(&mut buffer))
                .chars()
                .map(|f| Step {
                    keys: vec![(f, 0.0)],
                    stray: params.insertion,
                    shift: false,
                })
                .collect()
        }
    }
}

/// A layer of hypotheses, one per prefix. A prefix is identified by its
/// lexicon node (the fst node and the output summed along its path: the
/// lexicon's values are unique per key, so two prefixes never share both).
/// (A fast fixed hasher: the keys are the search's own numbers, and
/// SipHash was a tenth of a keystroke.)
type Layer = HashMap<LexiconNode, Hyp, foldhash::fast::FixedState>;

/// An empty layer with room for a typical one.
fn new_layer() -> Layer {
    HashMap::with_capacity_and_hasher(256, foldhash::fast::FixedState::default())
}

/// Adds `hyp` to `layer` unless a cheaper one with the same prefix is there.
fn offer(layer: &mut Layer, hyp: Hyp) {
    match layer.entry(hyp.node) {
        std::collections::hash_map::Entry::Occupied(mut old) => {
            if hyp.cost < old.get().cost {
                old.insert(hyp);
            }
        }
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(hyp);
        }
    }
}

/// The cheapest `beam` hypotheses of a layer, cheapest first.
fn best(layer: Layer, beam: usize) -> Vec<Hyp> {
    let mut hyps: Vec<Hyp> = layer.into_values().collect();
    let order = |a: &Hyp, b: &Hyp| a.cost.total_cmp(&b.cost).then_with(|| a.key.cmp(&b.key));
    if hyps.len() > beam && beam > 0 {
        hyps.select_nth_unstable_by(beam - 1, order);
        hyps.truncate(beam);
    }
    hyps.sort_by(order);
    hyps
}

/// Hypotheses that may take an omission, per layer.
const OMITTING: usize = 8;

/// Hypotheses that may take a swap, per layer.
const SWAPPING: usize = 16;

/// The likeliest keys of each of two taps tried in swapped order.
const SWAP_KEYS: usize = 3;

/// An incremental search: observations are pushed one at a time (and
/// popped on backspace), and each push costs one layer of work, so typing
/// one more letter does not search the whole word again.
#[derive(Debug, Clone, Default)]
pub struct Searcher {
    observations: Vec<Observation>,
    steps: Vec<Step>,
    /// The hypotheses after each number of steps, as offered.
    layers: Vec<Layer>,
    /// Layer `i` cut to the beam and extended with omissions, once step `i`
    /// was pushed (kept for the swaps that step `i + 1` allows).
    pruned: Vec<Vec<Hyp>>,
    /// Edits allowed, fixed by the first push of the word.
    max_edits: u8,
}

impl Searcher {
    /// The observations searched so far.
    pub fn observations(&self) -> &[Observation] {
        &self.observations
    }

    /// Brings the search to `observations`, reusing the layers of the
    /// longest common prefix with what was searched before.
    pub fn update(
        &mut self,
        pack: &LanguagePack,
        model: &SpatialModel,
        observations: &[Observation],
        params: &SearchParams,
    ) {
        let common = self
            .observations
            .iter()
            .zip(observations)
            .take_while(|(a, b)| a == b)
            .count();
        // The search allows the edits of a long word; `prefixes_after`
        // holds short words to fewer.
        let edits = params.short_edits.max(params.long_edits);
        if edits != self.max_edits || common < self.observations.len() {
            // A typed character may fold to several steps: undoing one
            // observation is not undoing one step, so start afresh.
            *self = Searcher {
                max_edits: edits,
                ..Searcher::default()
            };
        }
        let start = self.observations.len();
        for observation in &observations[start..] {
            self.observations.push(*observation);
            for step in steps(model, *observation, self.steps.len(), params) {
                self.push_step(pack, step, params);
            }
        }
    }

    fn push_step(&mut self, pack: &LanguagePack, step: Step, params: &SearchParams) {
        if self.layers.is_empty() {
            let mut root = new_layer();
            offer(
                &mut root,
                Hyp {
                    node: pack.lexicon_root(),
                    cost: 0.0,
                    key: CompactString::default(),
                    edits: 0,
                    shifted: false,
                },
            );
            self.layers.push(root);
        }
        let i = self.steps.len();
        self.steps.push(step);
        self.layers.push(new_layer());
        let max_edits = self.max_edits;
        // Swaps of the previous step with this one.
        if i >= 1 {
            let (before, current) = (&self.steps[i - 1], &self.steps[i]);
            let mut swapped = Vec::new();
            let swappable = self.pruned[i - 1]
                .iter()
                .filter(|h| h.edits < max_edits)
                .take(SWAPPING);
            for h in swappable {
                for &(second, p2) in current.keys.iter().take(SWAP_KEYS) {
                    for &(first, p1) in before.keys.iter().take(SWAP_KEYS) {
                        if first == second {
                            continue;
                        }
                        let Some(node) = pack
                            .lexicon_step(h.node, second)
                            .and_then(|n| pack.lexicon_step(n, first))
                        else {
                            continue;
                        };
                        let mut key = h.key.clone();
                        key.push(second);
                        key.push(first);
                        swapped.push(Hyp {
                            node,
                            cost: h.cost - p1 - p2 + params.transposition,
                            key,
                            edits: h.edits + 1,
                            shifted: h.shifted,
                        });
                    }
                }
            }
            for hyp in swapped {
                offer(&mut self.layers[i + 1], hyp);
            }
        }
        // Layer i is complete: cut it, add left-out letters, extend it.
        let mut hyps = best(std::mem::take(&mut self.layers[i]), params.beam);
        let omitted: Vec<Hyp> = hyps
            .iter()
            .take(OMITTING)
            .filter(|h| h.edits < max_edits)
            .flat_map(|h| {
                pack.lexicon_children(h.node)
                    .into_iter()
                    .map(move |(c, node)| {
                        let mut key = h.key.clone();
                        key.push(c);
                        Hyp {
                            node,
                            cost: h.cost + params.omission,
                            key,
                            edits: h.edits + 1,
                            shifted: h.shifted,
                        }
                    })
            })
            .collect();
        hyps.extend(omitted);
        let mut next = std::mem::take(&mut self.layers[i + 1]);
        for h in &hyps {
            for &(c, log_p) in &self.steps[i].keys {
                if let Some(node) = pack.lexicon_step(h.node, c) {
                    let mut key = h.key.clone();
                    key.push(c);
                    offer(
                        &mut next,
                        Hyp {
                            node,
                            cost: h.cost - log_p,
                            key,
                            edits: h.edits,
                            shifted: h.shifted,
                        },
                    );
                }
            }
            if h.edits < max_edits {
                // A stray tap.
                offer(
                    &mut next,
                    Hyp {
                        cost: h.cost + self.steps[i].stray,
                        edits: h.edits + 1,
                        shifted: h.shifted || self.steps[i].shift,
                        ..h.clone()
                    },
                );
            }
        }
        self.layers[i + 1] = next;
        self.pruned.push(hyps);
    }

    /// The prefixes that explain all the steps (`n` past the end) or the
    /// first `n` (only the last layer is kept, so an earlier `n` finds
    /// nothing), cheapest first.
    pub fn prefixes_after(
        &self,
        pack: &LanguagePack,
        n: usize,
        params: &SearchParams,
    ) -> Vec<Prefix> {
        let n = n.min(self.steps.len());
        let Some(layer) = self.layers.get(n) else {
            return Vec::new();
        };
        if self.steps.is_empty() {
            return Vec::new();
        }
        let allowed = if n <= 4 {
            params.short_edits
        } else {
            params.long_edits
        };
        let within: Layer = layer
            .iter()
            .filter(|(_, h)| h.edits <= allowed)
            .map(|(k, h)| (*k, h.clone()))
            .collect();
        best(within, params.beam)
            .into_iter()
            .map(|h| {
                let value = pack.lexicon_value(h.node);
                Prefix {
                    key: h.key.into_string(),
                    cost: h.cost,
                    value,
                    edits: h.edits,
                    shifted: h.shifted,
                }
            })
            .collect()
    }

    /// Steps searched (one per tap or folded character).
    pub fn steps(&self) -> usize {
        self.steps.len()
    }
}

/// The prefixes of `pack`'s lexicon that explain `observations`, cheapest
/// first (a search from scratch).
pub fn search(
    pack: &LanguagePack,
    model: &SpatialModel,
    observations: &[Observation],
    params: &SearchParams,
) -> Vec<Prefix> {
    let mut searcher = Searcher::default();
    searcher.update(pack, model, observations, params);
    searcher.prefixes_after(pack, usize::MAX, params)
}
