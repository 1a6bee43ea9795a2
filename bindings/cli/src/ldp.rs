//! `nib ldp`: privacy-preserving discovery of new words. Devices turn
//! newly learned words into ε-LDP reports (`nib ldp report`, or the
//! engine's `take_ldp_reports`); a server estimates the frequent ones from
//! many reports (`nib ldp aggregate`); `nib ldp simulate` measures how well
//! a population's top words are recovered.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use nib_engine::personal::ldp::{Aggregator, Report, SketchParams, privatize};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Zipf};
use rayon::prelude::*;
use serde::Serialize;

use crate::commands::Result;

/// `nib ldp` subcommands.
#[derive(Debug, Subcommand)]
pub enum LdpCommand {
    /// Turn words into ε-LDP reports (JSON Lines), as a device does.
    Report(ReportArgs),
    /// Estimate how many reports came from each candidate word.
    Aggregate(AggregateArgs),
    /// Simulate a population reporting new words drawn from a Zipf
    /// distribution, and measure how well the top words are recovered.
    Simulate(SimulateArgs),
}

/// The sketch's parameters on the command line.
#[derive(Debug, Clone, Copy, Args)]
pub struct SketchArgs {
    /// Privacy parameter ε of one report.
    #[arg(long, default_value_t = 4.0)]
    epsilon: f64,
    /// Hash functions (rows of the sketch).
    #[arg(long, default_value_t = 256)]
    k: u32,
    /// Buckets per row (bits per report), a multiple of 8.
    #[arg(long, default_value_t = 1024)]
    m: u32,
}

impl SketchArgs {
    fn params(&self) -> Result<SketchParams> {
        let params = SketchParams {
            epsilon: self.epsilon,
            k: self.k,
            m: self.m,
        };
        params.validate()?;
        Ok(params)
    }
}

/// Arguments of `nib ldp report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    sketch: SketchArgs,
    /// Seed of the noise (default: from the operating system).
    #[arg(long)]
    seed: Option<u64>,
    /// The words, one report each.
    #[arg(required = true)]
    words: Vec<String>,
}

/// Arguments of `nib ldp aggregate`.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// Candidate words to estimate, one per line.
    #[arg(long)]
    candidates: PathBuf,
    /// How many of the most frequent candidates to print.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Report files, JSON Lines ("-": standard input).
    #[arg(required = true)]
    reports: Vec<PathBuf>,
}

/// Arguments of `nib ldp simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    sketch: SketchArgs,
    /// Users, one report each.
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// Distinct new words in the population.
    #[arg(long, default_value_t = 1_000)]
    vocabulary: usize,
    /// Exponent of the Zipf distribution of the words.
    #[arg(long, default_value_t = 1.1)]
    zipf: f64,
    /// Candidate words the aggregator also asks about that nobody typed.
    #[arg(long, default_value_t = 1_000)]
    decoys: usize,
    /// How many top words to recover.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Seed of the population and the noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Also write every report to this file (JSON Lines; about 300 bytes a
    /// report).
    #[arg(long)]
    reports: Option<PathBuf>,
    /// Also write the candidate words (vocabulary and decoys) to this file.
    #[arg(long)]
    candidates: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `nib ldp`.
pub fn run(command: LdpCommand) -> Result {
    match command {
        LdpCommand::Report(args) => report(args),
        LdpCommand::Aggregate(args) => aggregate(args),
        LdpCommand::Simulate(args) => simulate(args),
    }
}

fn report(args: ReportArgs) -> Result {
    let params = args.sketch.params()?;
    let mut rng = match args.seed {
        Some(seed) => ChaCha8Rng::seed_from_u64(seed),
        None => ChaCha8Rng::from_os_rng(),
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for word in &args.words {
        let report = privatize(&params, word, &mut rng)?;
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    }
    out.flush()?;
    Ok(())
}

fn read_lines(path: &Path) -> Result<Box<dyn BufRead>> {
    Ok(if path == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(BufReader::new(
            File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        ))
    })
}

/// One estimated word of the output.
#[derive(Debug, Serialize)]
struct Estimate {
    word: String,
    estimate: f64,
}

fn aggregate(args: AggregateArgs) -> Result {
    let candidates: Vec<String> = read_lines(&args.candidates)?
        .lines()
        .collect::<std::io::Result<Vec<String>>>()?
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let mut sketch: Option<Aggregator> = None;
    for path in &args.reports {
        let name = path.display().to_string();
        for (n, line) in read_lines(path)?.lines().enumerate() {
            let line = line.map_err(|e| format!("{name}:{}: {e}", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let report: Report = serde_json::from_str(&line)
                .map_err(|e| format!("{name}:{}: not an LDP report: {e}", n + 1))?;
            if sketch.is_none() {
                sketch = Some(Aggregator::new(report.params)?);
            }
            if let Some(sketch) = sketch.as_mut() {
                sketch
                    .add(&report)
                    .map_err(|e| format!("{name}:{}: {e}", n + 1))?;
            }
        }
    }
    let sketch = sketch.ok_or("no reports")?;
    let top: Vec<Estimate> = sketch
        .top(candidates.iter().map(String::as_str), args.top)
        .into_iter()
        .map(|(word, estimate)| Estimate { word, estimate })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "reports": sketch.reports(),
                "params": sketch.params(),
                "top": top,
            }))?
        );
    } else {
        println!("{} reports, {:?}", sketch.reports(), sketch.params());
        for (rank, e) in top.iter().enumerate() {
            println!("{:>3}  {:<24} {:>10.0}", rank + 1, e.word, e.estimate);
        }
    }
    Ok(())
}

/// A made-up word for `n`: syllables, distinct for distinct `n`.
fn made_up_word(mut n: usize, prefix: &str) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "zu", "mib", "ro", "tel", "qua", "vin", "do", "sha", "pex", "lu", "gor", "nif", "be",
        "xa", "yom",
    ];
    let mut word = String::from(prefix);
    loop {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break word;
        }
    }
}

/// What `nib ldp simulate --json` prints.
#[derive(Debug, Serialize)]
struct SimulationSummary {
    params: SketchParams,
    users: u64,
    vocabulary: usize,
    zipf: f64,
    decoys: usize,
    top: usize,
    /// True top words found in the estimated top.
    recovered: usize,
    /// Mean |estimate − true| / true over the true top words.
    mean_relative_error: f64,
    /// Largest estimate of a decoy (a word nobody typed).
    largest_decoy_estimate: f64,
    /// Rows: true rank, word, true count, estimate, estimated rank.
    rows: Vec<(usize, String, u64, f64, usize)>,
    seconds: f64,
}

fn simulate(args: SimulateArgs) -> Result {
    let started = std::time::Instant::now();
    let params = args.sketch.params()?;
    if args.vocabulary == 0 || args.users == 0 {
        return Err("--vocabulary and --users must be positive".into());
    }
    let words: Vec<String> = (0..args.vocabulary).map(|i| made_up_word(i, "")).collect();
    let decoys: Vec<String> = (0..args.decoys).map(|i| made_up_word(i, "w")).collect();
    let zipf = Zipf::new(args.vocabulary as f64, args.zipf).map_err(|e| format!("{e}"))?;
    // Chunks with their own generator: the same seed gives the same result
    // whatever the number of threads.
    const CHUNK: u64 = 50_000;
    let chunks: Vec<u64> = (0..args.users.div_ceil(CHUNK)).collect();
    let shards: Vec<(Aggregator, Vec<u64>, Vec<String>)> = chunks
        .par_iter()
        .map(|&chunk| -> std::result::Result<_, String> {
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed ^ (chunk << 20));
            let mut sketch = Aggregator::new(params).map_err(|e| e.to_string())?;
            let mut counts = vec![0u64; args.vocabulary];
            let mut lines = Vec::new();
            let users = CHUNK.min(args.users - chunk * CHUNK);
            for _ in 0..users {
                let index = (zipf.sample(&mut rng) as usize).clamp(1, args.vocabulary) - 1;
                counts[index] += 1;
                if args.reports.is_some() {
                    let report =
                        privatize(&params, &words[index], &mut rng).map_err(|e| e.to_string())?;
                    sketch.add(&report).map_err(|e| e.to_string())?;
                    lines.push(serde_json::to_string(&report).map_err(|e| e.to_string())?);
                } else {
                    sketch.add_word(&words[index], &mut rng);
                }
            }
            Ok((sketch, counts, lines))
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    let mut sketch = Aggregator::new(params)?;
    let mut counts = vec![0u64; args.vocabulary];
    let mut out = match &args.reports {
        Some(path) => {
            Some(BufWriter::new(File::create(path).map_err(|e| {
                format!("cannot write {}: {e}", path.display())
            })?))
        }
        None => None,
    };
    for (shard, shard_counts, lines) in &shards {
        sketch.merge(shard)?;
        for (total, c) in counts.iter_mut().zip(shard_counts) {
            *total += c;
        }
        if let Some(out) = out.as_mut() {
            for line in lines {
                writeln!(out, "{line}")?;
            }
        }
    }
    if let Some(mut out) = out {
        out.flush()?;
    }
    if let Some(path) = &args.candidates {
        let mut out = BufWriter::new(File::create(path)?);
        for word in words.iter().chain(&decoys) {
            writeln!(out, "{word}")?;
        }
        out.flush()?;
    }
    let estimates: Vec<f64> = words.par_iter().map(|w| sketch.estimate(w)).collect();
    let largest_decoy_estimate = decoys
        .par_iter()
        .map(|w| sketch.estimate(w))
        .reduce(|| f64::NEG_INFINITY, f64::max);
    let mut by_truth: Vec<usize> = (0..args.vocabulary).collect();
    by_truth.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    // The estimated ranking is over vocabulary and decoys together.
    let mut ranked: Vec<(f64, Option<usize>)> = estimates
        .iter()
        .enumerate()
        .map(|(i, &e)| (e, Some(i)))
        .collect();
    ranked.extend(decoys.iter().map(|w| (sketch.estimate(w), None)));
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut estimated_rank = vec![usize::MAX; args.vocabulary];
    for (rank, (_, index)) in ranked.iter().enumerate() {
        if let Some(i) = index {
            estimated_rank[*i] = rank + 1;
        }
    }
    let top = args.top.min(args.vocabulary);
    let truth: BTreeSet<usize> = by_truth[..top].iter().copied().collect();
    let recovered = ranked[..top]
        .iter()
        .filter(|(_, i)| i.is_some_and(|i| truth.contains(&i)))
        .count();
    let rows: Vec<(usize, String, u64, f64, usize)> = by_truth[..top]
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            (
                rank + 1,
                words[i].clone(),
                counts[i],
                estimates[i],
                estimated_rank[i],
            )
        })
        .collect();
    let mean_relative_error = rows
        .iter()
        .map(|(_, _, truth, estimate, _)| (estimate - *truth as f64).abs() / (*truth).max(1) as f64)
        .sum::<f64>()
        / top.max(1) as f64;
    let summary = SimulationSummary {
        params,
        users: args.users,
        vocabulary: args.vocabulary,
        zipf: args.zipf,
        decoys: args.decoys,
        top,
        recovered,
        mean_relative_error,
        largest_decoy_estimate,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "{} users, {} new words (Zipf {}), {} decoys, epsilon {}, k {}, m {}",
            summary.users,
            summary.vocabulary,
            summary.zipf,
            summary.decoys,
            params.epsilon,
            params.k,
            params.m
        );
        println!(
            "top {top} recovered: {recovered}/{top}; mean relative error of their counts {:.1} %; largest decoy estimate {:.0}; {:.1} s",
            100.0 * mean_relative_error,
            largest_decoy_estimate,
            summary.seconds
        );
        println!("rank  word                 true count    estimate  estimated rank");
        for (rank, word, truth, estimate, estimated) in &summary.rows {
            println!("{rank:>4}  {word:<20} {truth:>10} {estimate:>11.0} {estimated:>15}");
        }
    }
    Ok(())
}
