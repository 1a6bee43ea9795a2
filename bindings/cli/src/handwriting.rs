//! `nib recognize`, `nib eval-handwriting` and `nib ink-svg`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use nib_engine::lm::NeuralLm;
use nib_engine::pack::LanguagePack;
use nib_handwriting::{
    DecodeParams, ErrorCounts, Ink, Recognition, Recognizer, RecognizerConfig, UnipenDoc, features,
    frames_for, normalise_label,
};
use plotters::prelude::*;
use serde_json::json;

use crate::commands::{Result, Setup};

/// The released stroke model in the repository.
pub fn default_model_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize()
        .unwrap_or(root)
        .join("handwriting/models/nib-hw-1")
}

/// Settings shared by the handwriting commands.
#[derive(Debug, Args, Clone)]
pub struct HwArgs {
    /// Language tag of the pack whose lexicon constrains the words.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Stroke model directory (default: handwriting/models/nib-hw-1).
    #[arg(long, env = "NIB_HW_MODEL")]
    model: Option<PathBuf>,
    /// Beam width of the search.
    #[arg(long)]
    beam: Option<usize>,
    /// Weight of the word model against the stroke model.
    #[arg(long)]
    hw_lm_weight: Option<f32>,
    /// Cost (nats) of a word the lexicon does not hold.
    #[arg(long)]
    oov_penalty: Option<f32>,
    /// Further cost (nats) per character of such a word.
    #[arg(long)]
    oov_char_penalty: Option<f32>,
    /// Cost (nats) of a punctuation mark around a word.
    #[arg(long)]
    punct_penalty: Option<f32>,
    /// Further cost (nats) of a mark text rarely has (`@`, `\`, `|`, braces, ...).
    #[arg(long)]
    rare_mark_penalty: Option<f32>,
    /// Cost (nats) of a number.
    #[arg(long)]
    number_penalty: Option<f32>,
    /// Labels more than this many nats below a frame's best are not tried.
    #[arg(long)]
    prune: Option<f32>,
    /// Labels tried per frame at most.
    #[arg(long)]
    labels_per_frame: Option<usize>,
    /// Weight of the neural language model's score of each reading (0: not used).
    #[arg(long)]
    neural_weight: Option<f32>,
    /// Nats added per word the neural model scores.
    #[arg(long)]
    neural_word_bonus: Option<f32>,
}

impl HwArgs {
    fn config(&self) -> RecognizerConfig {
        let d = DecodeParams::default();
        RecognizerConfig {
            decode: DecodeParams {
                beam: self.beam.unwrap_or(d.beam),
                lm_weight: self.hw_lm_weight.unwrap_or(d.lm_weight),
                oov_penalty: self.oov_penalty.unwrap_or(d.oov_penalty),
                oov_char_penalty: self.oov_char_penalty.unwrap_or(d.oov_char_penalty),
                punct_penalty: self.punct_penalty.unwrap_or(d.punct_penalty),
                rare_mark_penalty: self.rare_mark_penalty.unwrap_or(d.rare_mark_penalty),
                number_penalty: self.number_penalty.unwrap_or(d.number_penalty),
                prune: self.prune.unwrap_or(d.prune),
                labels_per_frame: self.labels_per_frame.unwrap_or(d.labels_per_frame),
                ..d
            },
            neural_weight: self
                .neural_weight
                .unwrap_or(RecognizerConfig::default().neural_weight),
            neural_word_bonus: self
                .neural_word_bonus
                .unwrap_or(RecognizerConfig::default().neural_word_bonus),
            ..RecognizerConfig::default()
        }
    }

    /// The recognizer with the pack's lexicon (or none).
    fn recognizer(&self, setup: &Setup, lexicon: bool) -> Result<Recognizer> {
        let pack = if lexicon {
            let path = setup.packs.join(format!(
                "{}.{}",
                self.lang,
                nib_engine::pack::PACK_EXTENSION
            ));
            Some(Arc::new(LanguagePack::open(&path)?))
        } else {
            None
        };
        let dir = self.model.clone().unwrap_or_else(default_model_dir);
        let recognizer = Recognizer::load(&dir, &setup.ort, pack, self.config())?;
        Ok(recognizer.with_language_model(neural_lm(setup)))
    }
}

/// The neural language model, unless `--no-lm`; a model that cannot be
/// loaded is reported and recognition goes on without it.
fn neural_lm(setup: &Setup) -> Option<Arc<NeuralLm>> {
    let dir = setup.lm.as_ref()?;
    match NeuralLm::load(dir, &setup.ort, 1) {
        Ok(lm) => Some(Arc::new(lm)),
        Err(e) => {
            eprintln!("nib: warning: no neural language model: {e}");
            None
        }
    }
}

/// Arguments of `nib recognize`.
#[derive(Debug, Args)]
pub struct RecognizeArgs {
    /// Ink file: JSON ink, InkML, or a UNIPEN file (each WORD or TEXT
    /// segment is recognised; all pen-down ink if it has none).
    ink: PathBuf,
    #[command(flatten)]
    hw: HwArgs,
    /// Number of candidates.
    #[arg(short, default_value_t = 3)]
    k: usize,
    /// Text before the ink (its last word informs the pair model).
    #[arg(long, default_value = "")]
    context: String,
    /// Decode without the lexicon and word model.
    #[arg(long)]
    no_lexicon: bool,
    /// For a UNIPEN file: only this delineation.
    #[arg(long)]
    segment: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// The inks of a file with their labels and names.
fn inks_of(path: &Path, segment: Option<&str>) -> Result<Vec<(String, Ink, Option<String>)>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if nib_handwriting::Format::detect(path, &bytes) != nib_handwriting::Format::Unipen {
        let (ink, label) = nib_handwriting::parse_ink(&bytes, path)?;
        return Ok(vec![(path.display().to_string(), ink, label)]);
    }
    let doc = UnipenDoc::from_bytes(&bytes, path, &nib_handwriting::unipen_root(path))?;
    for missing in &doc.missing {
        eprintln!(
            "nib: warning: {}: missing include {missing}",
            path.display()
        );
    }
    let mut out = Vec::new();
    for s in &doc.segments {
        let wanted = match segment {
            Some(d) => s.delineation == d,
            None => matches!(s.level.to_uppercase().as_str(), "WORD" | "TEXT"),
        };
        if wanted && let Some(ink) = doc.ink(&s.delineation, true) {
            out.push((s.delineation.clone(), ink, Some(s.label.clone())));
        }
    }
    if out.is_empty() && segment.is_none() {
        let (ink, label) = nib_handwriting::parse_ink(&bytes, path)?;
        out.push((path.display().to_string(), ink, label));
    }
    if out.is_empty() {
        return Err(format!("{}: no such segment", path.display()).into());
    }
    Ok(out)
}

pub fn recognize(setup: &Setup, args: RecognizeArgs) -> Result {
    let recognizer = args.hw.recognizer(setup, !args.no_lexicon)?;
    let mut out = std::io::stdout().lock();
    for (name, ink, label) in inks_of(&args.ink, args.segment.as_deref())? {
        let r = recognizer.recognize(&ink, args.k, &args.context)?;
        if args.json {
            let list: Vec<_> = r
                .candidates
                .iter()
                .map(|c| json!({"text": c.text, "score": c.score, "in_lexicon": c.in_lexicon}))
                .collect();
            writeln!(
                out,
                "{}",
                json!({"ink": name, "label": label, "candidates": list, "raw": r.raw,
                       "feature_rows": r.feature_rows})
            )?;
        } else {
            if let Some(label) = &label {
                writeln!(out, "# {name}: label {label:?}, model alone {:?}", r.raw)?;
            } else {
                writeln!(out, "# {name}: model alone {:?}", r.raw)?;
            }
            for c in &r.candidates {
                let mark = if c.in_lexicon { "" } else { "\t(new word)" };
                writeln!(out, "{}\t{:.3}{mark}", c.text, c.score)?;
            }
        }
    }
    Ok(())
}

/// Arguments of `nib eval-handwriting`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A UNIPEN tree (with data/ and include/), e.g. the unpacked
    /// train_r01_v07.
    unipen: PathBuf,
    #[command(flatten)]
    hw: HwArgs,
    /// Writers: `valid` (the model's validation writers, never trained
    /// on), `train`, or `all`.
    #[arg(long, default_value = "valid")]
    split: String,
    /// Samples: `all`, `tune` (every fifth: for choosing settings), `rest`
    /// (the other four fifths).
    #[arg(long, default_value = "all")]
    subset: String,
    /// Categories to read.
    #[arg(long, value_delimiter = ',', default_value = "6,7,8")]
    categories: Vec<String>,
    /// At most this many samples (0: all).
    #[arg(long, default_value_t = 0)]
    limit: usize,
    /// Skip the lexicon-free beam search and the lexicon search without
    /// the word model (faster).
    #[arg(long)]
    no_free_beam: bool,
    /// Per-contributor table too.
    #[arg(long)]
    by_contributor: bool,
    /// Write every sample's result as JSON Lines here.
    #[arg(long)]
    samples: Option<PathBuf>,
    /// Recognise words in context: a text file of sentences, one per line.
    /// Each word sample is given the text before one of the label's
    /// occurrences in it (not sentence-initial; the occurrences taken in
    /// turn), as if the ink were written after that text; samples whose
    /// label the file lacks are left out.
    #[arg(long)]
    contexts: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// UNIPEN categories in the order the Python reader visits them.
const CATEGORIES: [&str; 9] = ["1a", "1b", "1c", "1d", "2", "3", "6", "7", "8"];

/// The model's validation writers (handwriting/train/data.py).
pub const VALID_CONTRIBUTORS: [&str; 6] = ["apc", "ape", "int", "lou", "imp", "art"];
/// Longest line label kept (data.py).
const MAX_LINE_CHARS: usize = 60;
/// Fewer resampled points per character than this marks a block of
/// several lines under one label (data.py).
const MIN_LINE_POINTS_PER_CHAR: usize = 12;
/// Longest sample, in resampled points (data.py).
const MAX_POINTS: usize = 1600;

/// The text before each occurrence of each word (lower case) in a file of
/// sentences, first word of a sentence excepted.
struct Contexts {
    before: std::collections::HashMap<String, Vec<String>>,
}

impl Contexts {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut before: std::collections::HashMap<String, Vec<String>> = Default::default();
        for line in text.lines() {
            let mut offset = 0;
            for (n, token) in line.split_whitespace().enumerate() {
                let at = offset + line[offset..].find(token).unwrap_or(0);
                offset = at + token.len();
                let (_, word, _) = nib_engine::split_token(token);
                if n > 0 && !word.is_empty() && word.len() == token.len() {
                    before
                        .entry(word.to_lowercase())
                        .or_default()
                        .push(line[..at].to_owned());
                }
            }
        }
        Ok(Self { before })
    }

    /// A context for the `n`-th sample labelled `label`, if the file has one.
    fn for_label(&self, label: &str, n: usize) -> Option<&str> {
        let list = self.before.get(&label.to_lowercase())?;
        list.get(n % list.len()).map(String::as_str)
    }
}

/// One validation sample.
struct Sample {
    /// The text before the ink (`--contexts`), empty otherwise.
    context: String,
    contributor: String,
    category: String,
    style: String,
    label: String,
    ink: Ink,
    source: String,
}

fn level_of(category: &str) -> &'static str {
    match category {
        "6" | "7" => "WORD",
        "8" => "TEXT",
        _ => "CHARACTER",
    }
}

/// The samples of a UNIPEN tree as the training pipeline selects them:
/// segments of the category's level, not BAD, labelled, each (includes,
/// delineation, label) once, files with a missing pen-data include skipped;
/// then labels normalised and the length filters of data.py applied.
/// `charset` is the loaded model's (checked against its checksums).
fn unipen_samples(
    root: &Path,
    args: &EvalArgs,
    charset: &nib_handwriting::Charset,
) -> Result<(Vec<Sample>, BTreeMap<String, usize>)> {
    let mut samples = Vec::new();
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    // Every category is read in the Python reader's order, because a
    // segment seen once is not used again (categories 2 and 3 repeat the
    // ink of 1a-1d and of one-letter words, 7 mostly repeats 6): only the
    // requested categories give samples.
    let last = CATEGORIES
        .iter()
        .rposition(|c| args.categories.iter().any(|r| r == c))
        .ok_or("no known category requested")?;
    for category in &CATEGORIES[..=last] {
        let requested = args.categories.iter().any(|c| c == category);
        let category = &category.to_string();
        let base = root.join("data").join(category);
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        let mut contributors: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        contributors.sort();
        for contributor in contributors {
            let valid = VALID_CONTRIBUTORS.contains(&contributor.as_str());
            let wanted = match args.split.as_str() {
                "valid" => valid,
                "train" => !valid,
                _ => true,
            };
            if !wanted {
                continue;
            }
            let mut files = Vec::new();
            walk(&base.join(&contributor), &mut files);
            files.sort();
            for file in files {
                let shown = file
                    .strip_prefix(root)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                let doc = match UnipenDoc::read(&file, root) {
                    Ok(doc) => doc,
                    Err(e) => {
                        eprintln!("nib: warning: {shown}: {e}; skipped");
                        continue;
                    }
                };
                let missing: Vec<&String> = doc
                    .missing
                    .iter()
                    .filter(|m| {
                        m.split_whitespace()
                            .next()
                            .is_some_and(|n| n.to_lowercase().ends_with(".dat"))
                    })
                    .collect();
                if !missing.is_empty() {
                    eprintln!(
                        "nib: warning: {shown}: missing include {}; its {} segments skipped",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        doc.segments.len()
                    );
                    continue;
                }
                for s in &doc.segments {
                    if !s.level.eq_ignore_ascii_case(level_of(category)) {
                        continue;
                    }
                    if s.quality.eq_ignore_ascii_case("BAD") || s.label.trim().is_empty() {
                        continue;
                    }
                    let key = (doc.includes.clone(), s.delineation.clone(), s.label.clone());
                    if seen.contains(&key) {
                        continue;
                    }
                    let Some(ink) = doc.ink(&s.delineation, true) else {
                        continue;
                    };
                    seen.insert(key);
                    if !requested {
                        continue;
                    }
                    let label = normalise_label(&s.label);
                    let reason = sample_problem(&label, category, &ink, charset);
                    if let Some(reason) = reason {
                        *dropped.entry(reason.into()).or_default() += 1;
                        continue;
                    }
                    samples.push(Sample {
                        context: String::new(),
                        contributor: contributor.clone(),
                        category: category.clone(),
                        style: doc.style.to_lowercase(),
                        label,
                        ink,
                        source: format!("{shown} {}", s.delineation),
                    });
                }
            }
        }
    }
    Ok((samples, dropped))
}

/// Why data.py drops a sample, if it does.
fn sample_problem(
    label: &str,
    category: &str,
    ink: &Ink,
    charset: &nib_handwriting::Charset,
) -> Option<&'static str> {
    let Some(ids) = charset.encode(label).filter(|ids| !ids.is_empty()) else {
        return Some(if label.is_empty() {
            "empty label"
        } else {
            "label outside charset"
        });
    };
    let chars = ids.len();
    if category == "8" && chars > MAX_LINE_CHARS {
        return Some("line too long");
    }
    let n = features(ink).rows();
    if category == "8" && n < MIN_LINE_POINTS_PER_CHAR * chars {
        return Some("text block of several lines");
    }
    let repeats = ids.windows(2).filter(|w| w[0] == w[1]).count();
    if (frames_for(n) as f64) < 1.5 * (chars + repeats) as f64 || n > MAX_POINTS {
        return Some("too few or too many points for the label");
    }
    None
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// The groups a sample counts in.
fn groups_of(s: &Sample) -> Vec<String> {
    match s.category.as_str() {
        "8" => vec!["lines (8)".into()],
        c => {
            let mut g = vec!["words (6, 7)".into(), format!("words, category {c}")];
            if !s.style.is_empty() {
                g.push(format!("words, {}", s.style));
            }
            g
        }
    }
}

const MODES: [&str; 5] = [
    "model alone (greedy)",
    "no lexicon (beam)",
    "lexicon + word model",
    "lexicon, no word model",
    "lexicon + word model + neural LM",
];

pub fn eval(setup: &Setup, args: EvalArgs) -> Result {
    let started = std::time::Instant::now();
    // The full recognizer (with the neural model unless --no-lm), and the
    // same without the neural model, without the word model, without the
    // lexicon.
    let neural = args.hw.recognizer(setup, true)?;
    let (mut samples, dropped) = unipen_samples(&args.unipen, &args, neural.model().charset())?;
    match args.subset.as_str() {
        "tune" => samples = samples.into_iter().step_by(5).collect(),
        "rest" => {
            samples = samples
                .into_iter()
                .enumerate()
                .filter(|(i, _)| i % 5 != 0)
                .map(|(_, s)| s)
                .collect()
        }
        "all" => {}
        other => return Err(format!("--subset {other}: expected all, tune or rest").into()),
    }
    if let Some(path) = &args.contexts {
        let contexts = Contexts::read(path)?;
        let mut turns: BTreeMap<String, usize> = BTreeMap::new();
        samples.retain_mut(|s| {
            let turn = turns.entry(s.label.to_lowercase()).or_default();
            let found = (s.category != "8")
                .then(|| contexts.for_label(&s.label, *turn))
                .flatten();
            *turn += 1;
            found.is_some_and(|c| {
                s.context = c.to_owned();
                true
            })
        });
    }
    if args.limit > 0 {
        samples.truncate(args.limit);
    }
    if samples.is_empty() {
        return Err(format!("no samples under {}", args.unipen.display()).into());
    }
    eprintln!(
        "nib: {} samples ({} split, subset {}); dropped {dropped:?}; read in {:.1} s",
        samples.len(),
        args.split,
        args.subset,
        started.elapsed().as_secs_f64()
    );
    let lexical = neural.with_language_model(None);
    let neural = neural.language_model().is_some().then_some(neural);
    let free = lexical.with_pack(None);
    let mut flat = *lexical.config();
    flat.decode.lm_weight = 0.0;
    let lexicon_only = lexical.with_config(flat);
    let mut tally: BTreeMap<(String, usize), ErrorCounts> = BTreeMap::new();
    let mut by_contributor: BTreeMap<(String, usize), ErrorCounts> = BTreeMap::new();
    let mut sample_log = match &args.samples {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let mut timing = hdrhistogram::Histogram::<u64>::new(3)?;
    for (i, s) in samples.iter().enumerate() {
        let t0 = std::time::Instant::now();
        let f = lexical.features(&s.ink)?;
        let log_probs = lexical.model().run(&f)?;
        // Timed: what a user gets (the neural rescoring when loaded).
        let (with, rescored) = match &neural {
            Some(r) => {
                let rescored = r.decode(&log_probs, f.rows(), 3, &s.context);
                timing.record(t0.elapsed().as_micros() as u64)?;
                (
                    lexical.decode(&log_probs, f.rows(), 3, &s.context),
                    Some(rescored),
                )
            }
            None => {
                let with = lexical.decode(&log_probs, f.rows(), 3, &s.context);
                timing.record(t0.elapsed().as_micros() as u64)?;
                (with, None)
            }
        };
        let without: Option<Recognition> =
            (!args.no_free_beam).then(|| free.decode(&log_probs, f.rows(), 3, &s.context));
        let texts = |r: &Recognition| {
            r.candidates
                .iter()
                .map(|c| c.text.clone())
                .collect::<Vec<_>>()
        };
        let only: Option<Recognition> =
            (!args.no_free_beam).then(|| lexicon_only.decode(&log_probs, f.rows(), 3, &s.context));
        let results: [Option<Vec<String>>; 5] = [
            Some(vec![with.raw.clone()]),
            without.as_ref().map(texts),
            Some(texts(&with)),
            only.as_ref().map(texts),
            rescored.as_ref().map(texts),
        ];
        for (mode, result) in results.iter().enumerate() {
            let Some(list) = result else { continue };
            let refs: Vec<&str> = list.iter().map(String::as_str).collect();
            for g in groups_of(s) {
                tally.entry((g, mode)).or_default().add(&s.label, &refs);
            }
            let c = if s.category == "8" { "lines" } else { "words" };
            by_contributor
                .entry((format!("{} {c}", s.contributor), mode))
                .or_default()
                .add(&s.label, &refs);
        }
        if let Some(log) = sample_log.as_mut() {
            writeln!(
                log,
                "{}",
                json!({"source": s.source, "contributor": s.contributor, "category": s.category,
                       "context": s.context,
                       "style": s.style, "label": s.label, "greedy": with.raw,
                       "lexicon": texts(&with), "free": without.as_ref().map(texts),
                       "neural": rescored.as_ref().map(texts)})
            )?;
        }
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "nib: {} / {} samples, {:.0} s",
                i + 1,
                samples.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let rows: Vec<_> = tally
            .iter()
            .map(|((g, m), c)| {
                json!({"group": g, "mode": MODES[*m], "n": c.samples, "cer": c.cer(),
                       "wer": c.wer(), "top3": c.top3_accuracy()})
            })
            .collect();
        let contributors: Vec<_> = by_contributor
            .iter()
            .map(|((g, m), c)| {
                json!({"contributor": g, "mode": MODES[*m], "n": c.samples, "cer": c.cer(),
                       "wer": c.wer(), "top3": c.top3_accuracy()})
            })
            .collect();
        writeln!(
            out,
            "{}",
            json!({"split": args.split, "subset": args.subset, "samples": samples.len(),
                   "dropped": dropped, "settings": format!("{:?}", lexical.config().decode),
                   "groups": rows, "contributors": contributors,
                   "latency_us": {"p50": timing.value_at_quantile(0.5), "p99": timing.value_at_quantile(0.99)}})
        )?;
        return Ok(());
    }
    writeln!(out, "| group | n | decoding | CER | WER | top-3 |")?;
    writeln!(out, "| --- | ---: | --- | ---: | ---: | ---: |")?;
    let print = |out: &mut dyn Write, table: &BTreeMap<(String, usize), ErrorCounts>| -> Result {
        for ((g, m), c) in table {
            writeln!(
                out,
                "| {g} | {} | {} | {:.1} % | {:.1} % | {:.1} % |",
                c.samples,
                MODES[*m],
                100.0 * c.cer(),
                100.0 * c.wer(),
                100.0 * c.top3_accuracy()
            )?;
        }
        Ok(())
    };
    print(&mut out, &tally)?;
    if args.by_contributor {
        writeln!(out)?;
        writeln!(out, "| contributor | n | decoding | CER | WER | top-3 |")?;
        writeln!(out, "| --- | ---: | --- | ---: | ---: | ---: |")?;
        print(&mut out, &by_contributor)?;
    }
    writeln!(
        out,
        "\n{} samples in {:.0} s; features + model + lexicon search (+ neural rescoring when loaded) per sample: p50 {:.2} ms, p99 {:.2} ms; settings {:?}",
        samples.len(),
        started.elapsed().as_secs_f64(),
        timing.value_at_quantile(0.5) as f64 / 1000.0,
        timing.value_at_quantile(0.99) as f64 / 1000.0,
        lexical.config().decode
    )?;
    Ok(())
}

/// Arguments of `nib ink-svg`.
#[derive(Debug, Args)]
pub struct InkSvgArgs {
    /// Ink file (JSON ink, InkML, UNIPEN).
    ink: PathBuf,
    /// Output SVG file.
    #[arg(short, long)]
    out: PathBuf,
    #[command(flatten)]
    hw: HwArgs,
    /// For a UNIPEN file: this delineation (default: the first WORD or
    /// TEXT segment).
    #[arg(long)]
    segment: Option<String>,
    /// Only draw, do not recognise.
    #[arg(long)]
    no_recognize: bool,
}

pub fn ink_svg(setup: &Setup, args: InkSvgArgs) -> Result {
    let (name, ink, label) = inks_of(&args.ink, args.segment.as_deref())?
        .into_iter()
        .next()
        .ok_or("no ink")?;
    let mut lines = vec![name];
    if let Some(label) = &label {
        lines.push(format!("label: {label}"));
    }
    if !args.no_recognize {
        let r = args.hw.recognizer(setup, true)?.recognize(&ink, 3, "")?;
        lines.push(format!("model alone: {}", r.raw));
        let list: Vec<String> = r
            .candidates
            .iter()
            .map(|c| format!("{} ({:.1})", c.text, c.score))
            .collect();
        lines.push(format!("with lexicon: {}", list.join(", ")));
    }
    let svg = render_svg(&ink, &lines)?;
    std::fs::write(&args.out, svg)?;
    eprintln!("nib: wrote {}", args.out.display());
    Ok(())
}

/// The ink drawn in an SVG (stroke starts marked), with lines of text
/// below it.
pub fn render_svg(ink: &Ink, lines: &[String]) -> Result<String> {
    let (x0, y0, x1, y1) = ink.bounds().ok_or("the ink has no finite point")?;
    let (w, h) = ((x1 - x0).max(1e-9), (y1 - y0).max(1e-9));
    let width = 800u32;
    let scale = ((width - 40) as f64 / w).min(360.0 / h);
    let ink_height = (h * scale) as u32 + 40;
    let text_height = 24 * lines.len() as u32 + 10;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, ink_height + text_height))
            .into_drawing_area();
        root.fill(&WHITE)?;
        let at = |x: f64, y: f64| {
            (
                20 + ((x - x0) * scale) as i32,
                20 + ((y - y0) * scale) as i32,
            )
        };
        for (i, stroke) in ink.strokes.iter().enumerate() {
            let points: Vec<(i32, i32)> = stroke
                .iter()
                .filter(|p| p.x.is_finite() && p.y.is_finite())
                .map(|p| at(p.x, p.y))
                .collect();
            // Colours in turn, so that neighbouring strokes differ.
            let colour = crate::report::COLOURS[i % crate::report::COLOURS.len()];
            if let Some(&first) = points.first() {
                root.draw(&Circle::new(first, 3, colour.filled()))?;
            }
            root.draw(&PathElement::new(points, colour.stroke_width(2)))?;
        }
        for (i, line) in lines.iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (20, (ink_height + 24 * i as u32) as i32),
                ("sans-serif", 18).into_font().color(&BLACK),
            ))?;
        }
        root.present()?;
    }
    Ok(svg)
}
