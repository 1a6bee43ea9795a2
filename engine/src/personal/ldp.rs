//! Privacy-preserving discovery of new words: a Count Mean Sketch with
//! local differential privacy, as in Apple's "Learning with Privacy at
//! Scale" (2017).
//!
//! **Client** ([`privatize`]): a word `d` becomes a report by choosing one of
//! `k` hash functions `h_j` at random, writing the vector `v ∈ {-1,+1}^m`
//! that is `+1` only at `h_j(d)`, and flipping every coordinate
//! independently with probability `1 / (1 + e^(ε/2))`. The report is
//! `(j, ṽ)`; the word itself never leaves the device.
//!
//! **Server** ([`Aggregator`]): each report adds
//! `k · (c_ε/2 · ṽ + 1/2)` to row `j` of a `k × m` sketch, with
//! `c_ε = (e^(ε/2) + 1) / (e^(ε/2) − 1)`; the count of a candidate word is
//! `m/(m−1) · (1/k · Σ_l M[l][h_l(d)] − n/m)`, an unbiased estimate of how
//! many of the `n` reports came from it. The server needs candidate words
//! to estimate (a dictionary of plausible new words); it learns nothing
//! about words it does not ask about, and little about those it does.
//!
//! **The guarantee**: one report is ε-locally differentially private. Two
//! words give vectors that differ in at most two coordinates (and `j` does
//! not depend on the word), each coordinate's flip changes the probability
//! of what is seen by at most a factor `e^(ε/2)`, so for any report `r` and
//! words `d`, `d'`: `P(r | d) ≤ e^ε · P(r | d')`. A device sends at most
//! one report per newly learned word (the store queues one when a word
//! first becomes a suggestion); a user who learns `w` new words in a period
//! spends at most `w · ε` of privacy budget on them, which a host bounds by
//! capping the reports it sends per day.

use rand::Rng;
use rand_distr::{Distribution, Geometric};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The report format's version.
pub const REPORT_VERSION: u32 = 1;

/// The sketch's shape and the privacy parameter, shared by the clients
/// and the aggregator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SketchParams {
    /// The privacy parameter ε of one report.
    pub epsilon: f64,
    /// Hash functions (rows of the sketch).
    pub k: u32,
    /// Buckets per row (bits of a report), a multiple of 8.
    pub m: u32,
}

impl Default for SketchParams {
    /// ε = 4, 256 hash functions, 1,024 buckets (a 128-byte report).
    fn default() -> Self {
        Self {
            epsilon: 4.0,
            k: 256,
            m: 1024,
        }
    }
}

impl SketchParams {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        let bad = |detail: String| Err(Error::InvalidInput { detail });
        if !(self.epsilon.is_finite() && self.epsilon > 0.0 && self.epsilon <= 32.0) {
            return bad(format!("epsilon {} is not in (0, 32]", self.epsilon));
        }
        if self.k == 0 || self.k > 1 << 20 {
            return bad(format!("k = {} hash functions is not in 1..=2^20", self.k));
        }
        if self.m < 16 || !self.m.is_multiple_of(8) || self.m > 1 << 20 {
            return bad(format!(
                "m = {} buckets is not a multiple of 8 in 16..=2^20",
                self.m
            ));
        }
        Ok(())
    }

    /// The probability that a coordinate is flipped.
    pub fn flip_probability(&self) -> f64 {
        1.0 / (1.0 + (self.epsilon / 2.0).exp())
    }

    fn c_epsilon(&self) -> f64 {
        let e = (self.epsilon / 2.0).exp();
        (e + 1.0) / (e - 1.0)
    }

    /// Bucket of `word` under hash function `row`.
    pub fn bucket(&self, row: u32, word: &str) -> usize {
        let mut hasher = Sha256::new();
        hasher.update(row.to_le_bytes());
        hasher.update(word.as_bytes());
        let digest = hasher.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_le_bytes(first) % u64::from(self.m)) as usize
    }
}

/// One privatized report: which hash function, and the noisy vector (bit
/// set = +1), packed little-endian in bytes and written as hex in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// The parameters it was made with.
    pub params: SketchParams,
    /// The hash function chosen.
    pub row: u32,
    /// The `m` noisy bits as `m / 4` hex digits.
    pub bits: String,
}

impl Report {
    /// The bits, checked against the parameters.
    pub fn bit_bytes(&self) -> Result<Vec<u8>> {
        let bad = |detail: String| Error::InvalidInput { detail };
        if self.version != REPORT_VERSION {
            return Err(bad(format!(
                "report version {}, this engine reads {REPORT_VERSION}",
                self.version
            )));
        }
        self.params.validate()?;
        if self.row >= self.params.k {
            return Err(bad(format!(
                "row {} of a sketch with k = {}",
                self.row, self.params.k
            )));
        }
        let bytes = hex_decode(&self.bits).ok_or_else(|| bad("bits are not hex".into()))?;
        if bytes.len() * 8 != self.params.m as usize {
            return Err(bad(format!(
                "{} bits in a report with m = {}",
                bytes.len() * 8,
                self.params.m
            )));
        }
        Ok(bytes)
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The noisy bits of `word` under hash function `row`: all bits but the
/// word's bucket clear, then each flipped with the flip probability.
/// Flips are drawn by geometric skips, so a report costs about
/// `m · p` random numbers instead of `m`.
fn noisy_bits(params: &SketchParams, row: u32, word: &str, rng: &mut impl Rng) -> Vec<u8> {
    let m = params.m as usize;
    let mut bits = vec![0u8; m / 8];
    let bucket = params.bucket(row, word);
    bits[bucket / 8] |= 1 << (bucket % 8);
    let p = params.flip_probability();
    if let Ok(skip) = Geometric::new(p) {
        let mut at = skip.sample(rng) as usize;
        while at < m {
            bits[at / 8] ^= 1 << (at % 8);
            at = at.saturating_add(1 + skip.sample(rng) as usize);
        }
    }
    bits
}

/// Turns `word` into an ε-LDP report (the client side).
pub fn privatize(params: &SketchParams, word: &str, rng: &mut impl Rng) -> Result<Report> {
    params.validate()?;
    let row = rng.random_range(0..params.k);
    Ok(Report {
        version: REPORT_VERSION,
        params: *params,
        row,
        bits: hex_encode(&noisy_bits(params, row, word, rng)),
    })
}

/// The server side: counts of set bits per row and bucket, and reports per
/// row; adding and merging are exact, so shards can be aggregated apart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregator {
    params: SketchParams,
    /// `k × m` counts of +1 bits.
    ones: Vec<u64>,
    /// Reports per row.
    rows: Vec<u64>,
}

impl Aggregator {
    /// An empty sketch.
    pub fn new(params: SketchParams) -> Result<Self> {
        params.validate()?;
        Ok(Self {
            params,
            ones: vec![0; params.k as usize * params.m as usize],
            rows: vec![0; params.k as usize],
        })
    }

    /// The parameters.
    pub fn params(&self) -> &SketchParams {
        &self.params
    }

    /// Reports added.
    pub fn reports(&self) -> u64 {
        self.rows.iter().sum()
    }

    /// Adds one report; a report made with other parameters or malformed
    /// is an error and changes nothing.
    pub fn add(&mut self, report: &Report) -> Result<()> {
        if report.params != self.params {
            return Err(Error::InvalidInput {
                detail: format!(
                    "a report made with {:?}, this sketch has {:?}",
                    report.params, self.params
                ),
            });
        }
        let bytes = report.bit_bytes()?;
        self.add_bits(report.row, &bytes);
        Ok(())
    }

    fn add_bits(&mut self, row: u32, bytes: &[u8]) {
        let m = self.params.m as usize;
        let start = row as usize * m;
        let cells = &mut self.ones[start..start + m];
        for (i, byte) in bytes.iter().enumerate() {
            let mut b = *byte;
            while b != 0 {
                let bit = b.trailing_zeros() as usize;
                cells[i * 8 + bit] += 1;
                b &= b - 1;
            }
        }
        self.rows[row as usize] += 1;
    }

    /// Privatizes `word` and adds it, without building the hex report (for
    /// simulations).
    pub fn add_word(&mut self, word: &str, rng: &mut impl Rng) {
        let row = rng.random_range(0..self.params.k);
        let bits = noisy_bits(&self.params, row, word, rng);
        self.add_bits(row, &bits);
    }

    /// Adds another sketch's counts.
    pub fn merge(&mut self, other: &Aggregator) -> Result<()> {
        if other.params != self.params {
            return Err(Error::InvalidInput {
                detail: "sketches with other parameters cannot be merged".into(),
            });
        }
        for (a, b) in self.ones.iter_mut().zip(&other.ones) {
            *a += b;
        }
        for (a, b) in self.rows.iter_mut().zip(&other.rows) {
            *a += b;
        }
        Ok(())
    }

    /// The estimated number of reports that came from `word`.
    pub fn estimate(&self, word: &str) -> f64 {
        let k = f64::from(self.params.k);
        let m = f64::from(self.params.m);
        let c = self.params.c_epsilon();
        let n = self.reports() as f64;
        let mut sum = 0.0;
        for row in 0..self.params.k {
            let reports = self.rows[row as usize] as f64;
            let ones =
                self.ones[row as usize * self.params.m as usize + self.params.bucket(row, word)];
            // Σ over the row's reports of k · (c/2 · ṽ + 1/2), ṽ = ±1.
            let minus = reports - ones as f64;
            sum += k * (c / 2.0 * (ones as f64 - minus) + reports / 2.0);
        }
        m / (m - 1.0) * (sum / k - n / m)
    }

    /// The `top` candidates by estimated count, largest first.
    pub fn top<'a>(
        &self,
        candidates: impl IntoIterator<Item = &'a str>,
        top: usize,
    ) -> Vec<(String, f64)> {
        let mut found: Vec<(String, f64)> = candidates
            .into_iter()
            .map(|w| (w.to_owned(), self.estimate(w)))
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found.truncate(top);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn reports_round_trip_and_estimates_find_the_frequent_words() {
        let params = SketchParams {
            epsilon: 4.0,
            k: 64,
            m: 256,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut sketch = Aggregator::new(params).unwrap();
        for i in 0..20_000 {
            let word = match i % 10 {
                0..=5 => "yeet",
                6..=8 => "Qorvex",
                _ => "zyntra",
            };
            let report = privatize(&params, word, &mut rng).unwrap();
            let json = serde_json::to_string(&report).unwrap();
            let back: Report = serde_json::from_str(&json).unwrap();
            sketch.add(&back).unwrap();
        }
        assert_eq!(sketch.reports(), 20_000);
        let yeet = sketch.estimate("yeet");
        let absent = sketch.estimate("never");
        assert!((yeet - 12_000.0).abs() < 1_500.0, "{yeet}");
        assert!(absent.abs() < 1_500.0, "{absent}");
        let top = sketch.top(["never", "zyntra", "yeet", "Qorvex"], 2);
        assert_eq!(top[0].0, "yeet");
        assert_eq!(top[1].0, "Qorvex");
    }

    #[test]
    fn malformed_reports_and_parameters_are_errors() {
        let params = SketchParams::default();
        let mut sketch = Aggregator::new(params).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let good = privatize(&params, "word", &mut rng).unwrap();
        for bad in [
            Report {
                bits: "zz".into(),
                ..good.clone()
            },
            Report {
                bits: good.bits[2..].into(),
                ..good.clone()
            },
            Report {
                row: params.k,
                ..good.clone()
            },
            Report {
                version: 9,
                ..good.clone()
            },
            Report {
                params: SketchParams { m: 512, ..params },
                ..good.clone()
            },
        ] {
            assert!(sketch.add(&bad).is_err(), "{bad:?}");
        }
        assert_eq!(sketch.reports(), 0);
        for epsilon in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(SketchParams { epsilon, ..params }.validate().is_err());
        }
        assert!(SketchParams { m: 12, ..params }.validate().is_err());
        assert!(SketchParams { k: 0, ..params }.validate().is_err());
    }

    #[test]
    fn the_flip_rate_matches_epsilon() {
        let params = SketchParams {
            epsilon: 2.0,
            k: 1,
            m: 4096,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let ones: u32 = (0..50)
            .map(|_| {
                noisy_bits(&params, 0, "w", &mut rng)
                    .iter()
                    .map(|b| b.count_ones())
                    .sum::<u32>()
            })
            .sum();
        let rate = f64::from(ones) / (50.0 * 4096.0);
        let p = params.flip_probability();
        assert!((rate - p).abs() < 0.01, "{rate} vs {p}");
    }
}
