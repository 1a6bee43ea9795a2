//! `nib simulate`, `nib replay` and `nib merge`: typing logs from text,
//! replayed through the engine, and the results of many shards combined.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nib_engine::FieldType;
use nib_engine::typing::{ReplayOptions, Replayer, Tally, Typist, TypistConfig};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::commands::{Result, Setup, engine_for};
use crate::report;

/// Arguments of `nib simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Language tag (its pack's layout is tapped on).
    #[arg(long, default_value = "en")]
    lang: String,
    /// Horizontal tap noise: standard deviation in key widths.
    #[arg(long, default_value_t = 0.3)]
    sigma: f32,
    /// Vertical tap noise in key widths (default: the same as --sigma).
    #[arg(long)]
    sigma_y: Option<f32>,
    /// Systematic horizontal offset of every tap, in key widths.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    offset_x: f32,
    /// Systematic vertical offset of every tap, in key widths.
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    offset_y: f32,
    /// Probability that a letter is left out.
    #[arg(long, default_value_t = 0.0)]
    omission: f64,
    /// Probability that a neighbouring key is tapped before a letter.
    #[arg(long, default_value_t = 0.0)]
    insertion: f64,
    /// Probability that a letter is swapped with the next.
    #[arg(long, default_value_t = 0.0)]
    transposition: f64,
    /// Look at this many suggestions and pick the intended word when shown.
    #[arg(long)]
    picks: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Words per session, at least (sessions end with a sentence).
    #[arg(long, default_value_t = 40)]
    session_words: usize,
    /// Field type written in the session headers.
    #[arg(long, default_value = "text", value_parser = parse_field)]
    field: FieldType,
    /// Output file (default: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Text files to type.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

fn parse_field(text: &str) -> std::result::Result<FieldType, String> {
    serde_json::from_value(json!(text))
        .map_err(|_| format!("unknown field type {text:?} (text, email, url, password, number)"))
}

pub fn simulate(setup: &Setup, args: SimulateArgs) -> Result {
    let mut setup = setup.clone();
    // The typist only needs suggestions when it picks them.
    if args.picks.is_none() {
        setup.lm = None;
    }
    let engine = engine_for(&setup, std::slice::from_ref(&args.lang))?;
    let mut metadata = serde_json::Map::new();
    let names: Vec<String> = args
        .files
        .iter()
        .map(|f| {
            f.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        })
        .collect();
    metadata.insert("source".into(), json!(names.join(" ")));
    let config = TypistConfig {
        sigma_x: args.sigma,
        sigma_y: args.sigma_y.unwrap_or(args.sigma),
        offset_x: args.offset_x,
        offset_y: args.offset_y,
        omission: args.omission,
        insertion: args.insertion,
        transposition: args.transposition,
        picks: args.picks,
        words_per_session: args.session_words,
        seed: args.seed,
        field: args.field,
        metadata,
    };
    let mut typist = Typist::new(&engine, &args.lang, config)?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(BufWriter::new(
            File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let mut events = 0;
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        events += typist.type_text(&text, |event| -> std::io::Result<()> {
            serde_json::to_writer(&mut out, event)?;
            out.write_all(b"\n")
        })?;
    }
    out.flush()?;
    if let Some(path) = &args.output {
        eprintln!("{events} events -> {}", path.display());
    }
    Ok(())
}

/// Arguments of `nib replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Suggestions shown (k).
    #[arg(short, default_value_t = 3)]
    k: usize,
    /// Logs replayed at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write summary.json, report.html and mistakes.jsonl (the first 500
    /// words typed that came out wrong) into this directory.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Write the mergeable partial result to this file ("-": standard
    /// output, one line) for `nib merge`.
    #[arg(long)]
    partial: Option<PathBuf>,
    /// Fail at the first malformed line or refused event.
    #[arg(long)]
    strict: bool,
    /// Stroke model that reads `ink` events (default:
    /// handwriting/models/nib-hw-1); without one they are not measured.
    #[arg(long, env = "NIB_HW_MODEL")]
    hw_model: Option<PathBuf>,
    /// Do not read `ink` events (they are then not measured).
    #[arg(long)]
    no_handwriting: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Typing logs (JSON Lines; "-" reads standard input).
    #[arg(required = true)]
    logs: Vec<PathBuf>,
}

/// A replay's mergeable result: the tally and how the engine was set up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    /// Always "nib-replay-partial".
    pub format: String,
    /// Suggestions shown.
    pub k: usize,
    /// The neural model used, or "off".
    pub neural: String,
    /// The corrector ("spatial", "edit-distance", "off").
    #[serde(default)]
    pub corrector: String,
    /// The counts.
    pub tally: Tally,
}

const PARTIAL_FORMAT: &str = "nib-replay-partial";

pub fn replay(setup: &Setup, args: ReplayArgs) -> Result {
    if args.k == 0 {
        return Err("-k must be at least 1".into());
    }
    let languages = nib_engine::available_in(&setup.packs);
    if languages.is_empty() {
        return Err(format!(
            "no packs in {} (run `nib build-packs`)",
            setup.packs.display()
        )
        .into());
    }
    let engine = engine_for(setup, &languages)?;
    let neural = match engine.language_model() {
        Some(_) => setup
            .lm
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or_else(|| "on".to_owned(), |n| n.to_string_lossy().into_owned()),
        None => "off".to_owned(),
    };
    let ink = if args.no_handwriting {
        None
    } else {
        let dir = args
            .hw_model
            .clone()
            .unwrap_or_else(crate::handwriting::default_model_dir);
        match nib_handwriting::StrokeModel::shared(&dir, &setup.ort) {
            Ok(model) => Some(nib_handwriting::LogInkDecoder::new(model, &engine)),
            Err(e) => {
                eprintln!("nib: warning: ink events will not be read: {e}");
                None
            }
        }
    };
    let mut replayer = Replayer::new(
        engine,
        ReplayOptions {
            suggestions: args.k,
            strict: args.strict,
        },
    );
    if let Some(ink) = ink {
        replayer = replayer.with_ink(std::sync::Arc::new(ink));
    }
    let total_bytes: u64 = args
        .logs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::new(total_bytes).with_style(
        ProgressStyle::with_template(
            "{bar:40} {binary_bytes}/{binary_total_bytes} {msg} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build()?;
    let started = std::time::Instant::now();
    let results: Vec<std::result::Result<Tally, String>> = pool.install(|| {
        args.logs
            .par_iter()
            .map(|path| replay_one(&replayer, path, &bar))
            .collect()
    });
    bar.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let mut tally = Tally::default();
    for result in results {
        tally.merge(&result?);
    }
    for example in &tally.examples {
        eprintln!("nib: {example}");
    }
    let partial = Partial {
        format: PARTIAL_FORMAT.to_owned(),
        k: args.k,
        neural,
        corrector: clap::ValueEnum::to_possible_value(&setup.corrector)
            .map_or_else(String::new, |v| v.get_name().to_owned()),
        tally,
    };
    if let Some(path) = &args.partial {
        write_partial(path, &partial)?;
    }
    finish(
        &partial,
        Some(wall),
        args.report.as_deref(),
        args.json,
        args.partial.as_deref(),
    )
}

fn replay_one(
    replayer: &Replayer,
    path: &Path,
    bar: &ProgressBar,
) -> std::result::Result<Tally, String> {
    let mut tally = Tally::default();
    let name = path.display().to_string();
    let progress = |bytes| bar.inc(bytes);
    let result = if path == Path::new("-") {
        replayer.replay("-", std::io::stdin().lock(), &mut tally, progress)
    } else {
        let file = File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        replayer.replay(
            &name,
            BufReader::with_capacity(1 << 16, file),
            &mut tally,
            progress,
        )
    };
    result.map_err(|e| e.to_string())?;
    Ok(tally)
}

fn write_partial(path: &Path, partial: &Partial) -> Result {
    let line = serde_json::to_string(partial)?;
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        return Ok(());
    }
    std::fs::write(path, format!("{line}\n"))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Prints the summary and writes the report.
fn finish(
    partial: &Partial,
    wall: Option<f64>,
    report_dir: Option<&Path>,
    as_json: bool,
    partial_path: Option<&Path>,
) -> Result {
    let mut summary = report::summary(partial, wall);
    // Memory is a property of this process: only for a replay run here, not
    // for merged partials.
    if wall.is_some() {
        summary["timing"]["memory"] = serde_json::json!(nib_engine::memory::now());
    }
    if let Some(dir) = report_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let json_path = dir.join("summary.json");
        std::fs::write(&json_path, serde_json::to_string_pretty(&summary)? + "\n")
            .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
        let mistakes_path = dir.join("mistakes.jsonl");
        let mut mistakes = String::new();
        for mistake in &partial.tally.mistakes {
            mistakes.push_str(&serde_json::to_string(mistake)?);
            mistakes.push('\n');
        }
        std::fs::write(&mistakes_path, mistakes)
            .map_err(|e| format!("cannot write {}: {e}", mistakes_path.display()))?;
        let html_path = dir.join("report.html");
        std::fs::write(&html_path, report::html(partial, &summary)?)
            .map_err(|e| format!("cannot write {}: {e}", html_path.display()))?;
        eprintln!("report: {}", html_path.display());
    }
    // With the partial on standard output, nothing else goes there.
    if partial_path == Some(Path::new("-")) {
        return Ok(());
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", report::text(partial, &summary));
    }
    Ok(())
}

/// Arguments of `nib merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Write summary.json, report.html and mistakes.jsonl (the first 500
    /// words typed that came out wrong) into this directory.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Write the merged partial result to this file ("-": standard output).
    #[arg(long)]
    partial: Option<PathBuf>,
    /// Partial results of `nib replay --partial` (one or more per file, one
    /// per line; "-" reads standard input).
    #[arg(required = true)]
    partials: Vec<PathBuf>,
}

pub fn merge(args: MergeArgs) -> Result {
    let mut merged: Option<Partial> = None;
    for path in &args.partials {
        let name = path.display().to_string();
        let reader: Box<dyn BufRead> = if path == Path::new("-") {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(BufReader::new(
                File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?,
            ))
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| format!("{name}:{}: {e}", n + 1))?;
            if line.trim().is_empty() {
                continue;
            }
            let partial: Partial = serde_json::from_str(&line)
                .map_err(|e| format!("{name}:{}: not a replay partial result: {e}", n + 1))?;
            if partial.format != PARTIAL_FORMAT {
                return Err(format!(
                    "{name}:{}: format {:?}, expected {PARTIAL_FORMAT:?}",
                    n + 1,
                    partial.format
                )
                .into());
            }
            match merged.as_mut() {
                None => merged = Some(partial),
                Some(total) => {
                    if (total.k, &total.neural, &total.corrector)
                        != (partial.k, &partial.neural, &partial.corrector)
                    {
                        return Err(format!(
                            "{name}:{}: replayed with k = {}, neural model {:?}, corrector {:?}, the others with k = {}, {:?}, {:?}: not mergeable",
                            n + 1, partial.k, partial.neural, partial.corrector, total.k, total.neural, total.corrector
                        )
                        .into());
                    }
                    total.tally.merge(&partial.tally);
                }
            }
        }
    }
    let merged = merged.ok_or("no partial results to merge")?;
    if let Some(path) = &args.partial {
        write_partial(path, &merged)?;
    }
    finish(
        &merged,
        None,
        args.report.as_deref(),
        args.json,
        args.partial.as_deref(),
    )
}
