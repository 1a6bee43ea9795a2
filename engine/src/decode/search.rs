//! Beam search over the lexicon automaton, guided by the taps.
//!
//! A hypothesis is a path in the lexicon fst (a folded prefix of some
//! words) that has explained the first `i` observations at a cost (negative
//! log-probability, nats). From each hypothesis the search
//!
//! - **matches** observation `i` with one of its likely keys (the tap's
//!   posterior from the [`SpatialModel`]; a typed character is certain);
//! - **inserts**: treats observation `i` as a stray tap;
//! - **omits**: follows a lexicon letter no tap stands for;
//! - **transposes**: matches observations `i` and `i + 1` in swapped order.
//!
//! Edits cost fixed penalties and are limited per word; the hypotheses after
//! each observation are cut to a beam. What is left after the last
//! observation are the prefixes that explain the taps, with their costs;
//! the caller turns them into words (exact matches and completions).

use std::collections::HashMap;

use crate::decode::spatial::SpatialModel;
use crate::pack::LanguagePack;
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
}

#[derive(Debug, Clone)]
struct Hyp {
    addr: usize,
    out: u64,
    cost: f32,
    key: String,
    edits: u8,
}

/// One step of the input: the candidate folded characters and their
/// log-probabilities.
type Step = Vec<(char, f32)>;

/// The steps of `observations`: a tap's likely keys, a typed character's
/// folded form (which may be several characters, or none for an
/// apostrophe).
fn steps(model: &SpatialModel, observations: &[Observation]) -> Vec<Step> {
    let mut out = Vec::with_capacity(observations.len());
    for observation in observations {
        match *observation {
            Observation::Tap { x, y } => {
                let keys = model.keys_for(x, y);
                if !keys.is_empty() {
                    out.push(keys.iter().map(|k| (k.character, k.log_p)).collect());
                }
            }
            Observation::Char(c) => {
                let mut buffer = [0u8; 4];
                for f in fold(c.encode_utf8(&mut buffer)).chars() {
                    out.push(vec![(f, 0.0)]);
                }
            }
        }
    }
    out
}

/// Follows the bytes of `c` from `addr`.
fn walk(
    fst: &fst::raw::Fst<impl AsRef<[u8]>>,
    mut addr: usize,
    mut out: u64,
    c: char,
) -> Option<(usize, u64)> {
    let mut buffer = [0u8; 4];
    for &b in c.encode_utf8(&mut buffer).as_bytes() {
        let node = fst.node(addr);
        let t = node.transition(node.find_input(b)?);
        out = out.wrapping_add(t.out.value());
        addr = t.addr;
    }
    Some((addr, out))
}

/// The characters leaving `addr`, with where each leads.
fn children(
    fst: &fst::raw::Fst<impl AsRef<[u8]>>,
    addr: usize,
    out: u64,
) -> Vec<(char, usize, u64)> {
    let mut found = Vec::new();
    // (bytes so far, node, output)
    let mut stack: Vec<(Vec<u8>, usize, u64)> = vec![(Vec::new(), addr, out)];
    while let Some((bytes, addr, out)) = stack.pop() {
        if !bytes.is_empty()
            && let Ok(text) = std::str::from_utf8(&bytes)
        {
            if let Some(c) = text.chars().next() {
                found.push((c, addr, out));
            }
            continue;
        }
        if bytes.len() >= 4 {
            continue;
        }
        for t in fst.node(addr).transitions() {
            let mut next = bytes.clone();
            next.push(t.inp);
            stack.push((next, t.addr, out.wrapping_add(t.out.value())));
        }
    }
    found
}

/// Adds `hyp` to `layer` unless a cheaper one with the same prefix is there.
fn offer(layer: &mut HashMap<String, Hyp>, hyp: Hyp) {
    match layer.get(&hyp.key) {
        Some(old) if old.cost <= hyp.cost => {}
        _ => {
            layer.insert(hyp.key.clone(), hyp);
        }
    }
}

/// The cheapest `beam` hypotheses of a layer, cheapest first.
fn best(layer: HashMap<String, Hyp>, beam: usize) -> Vec<Hyp> {
    let mut hyps: Vec<Hyp> = layer.into_values().collect();
    hyps.sort_by(|a, b| a.cost.total_cmp(&b.cost).then_with(|| a.key.cmp(&b.key)));
    hyps.truncate(beam);
    hyps
}

/// Hypotheses that may take an omission, per layer.
const OMITTING: usize = 8;

/// The prefixes of `pack`'s lexicon that explain `observations`, cheapest
/// first.
pub fn search(
    pack: &LanguagePack,
    model: &SpatialModel,
    observations: &[Observation],
    params: &SearchParams,
) -> Vec<Prefix> {
    let steps = steps(model, observations);
    let n = steps.len();
    if n == 0 {
        return Vec::new();
    }
    let fst = pack.lexicon_fst();
    let max_edits = if n <= 4 {
        params.short_edits
    } else {
        params.long_edits
    };
    let mut layers: Vec<HashMap<String, Hyp>> = (0..=n).map(|_| HashMap::new()).collect();
    offer(
        &mut layers[0],
        Hyp {
            addr: fst.root().addr(),
            out: 0,
            cost: 0.0,
            key: String::new(),
            edits: 0,
        },
    );
    for i in 0..n {
        let mut hyps = best(std::mem::take(&mut layers[i]), params.beam);
        // A letter the user left out, before observation i.
        let omitted: Vec<Hyp> = hyps
            .iter()
            .take(OMITTING)
            .filter(|h| h.edits < max_edits)
            .flat_map(|h| {
                children(fst, h.addr, h.out)
                    .into_iter()
                    .map(move |(c, addr, out)| {
                        let mut key = h.key.clone();
                        key.push(c);
                        Hyp {
                            addr,
                            out,
                            cost: h.cost + params.omission,
                            key,
                            edits: h.edits + 1,
                        }
                    })
            })
            .collect();
        hyps.extend(omitted);
        for h in &hyps {
            for &(c, log_p) in &steps[i] {
                if let Some((addr, out)) = walk(fst, h.addr, h.out, c) {
                    let mut key = h.key.clone();
                    key.push(c);
                    offer(
                        &mut layers[i + 1],
                        Hyp {
                            addr,
                            out,
                            cost: h.cost - log_p,
                            key,
                            edits: h.edits,
                        },
                    );
                }
            }
            if h.edits >= max_edits {
                continue;
            }
            // A stray tap.
            offer(
                &mut layers[i + 1],
                Hyp {
                    cost: h.cost + params.insertion,
                    edits: h.edits + 1,
                    ..h.clone()
                },
            );
            // Two letters swapped.
            if i + 1 < n {
                for &(second, p2) in &steps[i + 1] {
                    for &(first, p1) in &steps[i] {
                        if first == second {
                            continue;
                        }
                        let Some((addr, out)) = walk(fst, h.addr, h.out, second)
                            .and_then(|(a, o)| walk(fst, a, o, first))
                        else {
                            continue;
                        };
                        let mut key = h.key.clone();
                        key.push(second);
                        key.push(first);
                        offer(
                            &mut layers[i + 2],
                            Hyp {
                                addr,
                                out,
                                cost: h.cost - p1 - p2 + params.transposition,
                                key,
                                edits: h.edits + 1,
                            },
                        );
                    }
                }
            }
        }
    }
    best(std::mem::take(&mut layers[n]), params.beam)
        .into_iter()
        .map(|h| {
            let node = fst.node(h.addr);
            let value = node
                .is_final()
                .then(|| h.out.wrapping_add(node.final_output().value()));
            Prefix {
                key: h.key,
                cost: h.cost,
                value,
                edits: h.edits,
            }
        })
        .collect()
}
