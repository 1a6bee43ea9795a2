//! The subcommands.

use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use nib_engine::Engine;
use nib_engine::eval::{KsrReport, keystroke_savings, keystroke_savings_with};
use nib_languages::{BuildInputs, RECIPES};
use serde_json::json;

use crate::presage::Presage;

/// The commands' result.
pub type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

/// The repository root this binary was built from.
fn repository() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `.cache/packs` in the repository.
pub fn default_pack_dir() -> PathBuf {
    repository().join(".cache/packs")
}

/// `languages/models/nib-lm-1` in the repository.
pub fn default_lm_dir() -> PathBuf {
    repository().join("languages/models/nib-lm-1")
}

/// The ONNX Runtime library that `languages/fetch.py` unpacks.
pub fn default_runtime() -> PathBuf {
    repository().join(".cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1")
}

/// Where the engine's data comes from.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The pack directory.
    pub packs: PathBuf,
    /// The neural model directory, unless disabled.
    pub lm: Option<PathBuf>,
    /// The ONNX Runtime library.
    pub ort: PathBuf,
    /// Overrides the neural model's weight.
    pub lm_weight: Option<f32>,
    /// Weight of the neural model in the autocorrect decision.
    pub decision_lm_weight: Option<f32>,
    /// Overrides whether the decision scores unknown typed words with the model.
    pub score_typed_with_lm: Option<bool>,
    /// Overrides the weight of the next word when a word is decided again.
    pub lookahead_lm_weight: Option<f32>,
    /// Overrides the number of n-gram candidates the model rescores.
    pub lm_candidates: Option<usize>,
    /// Overrides the number of words the model proposes while typing.
    pub lm_proposals: Option<usize>,
    /// Overrides the context the model reads, in tokens.
    pub lm_context_tokens: Option<usize>,
    /// Overrides the neural stage's budget, in milliseconds.
    pub lm_budget_ms: Option<u64>,
    /// The autocorrect.
    pub corrector: CorrectorArg,
    /// Learn touch offsets.
    pub adaptation: bool,
    /// Learn the user's words.
    pub personal_learning: bool,
    /// Decoder settings overriding the defaults.
    pub tuning: Tuning,
}

/// Decoder settings given on the command line, for tuning on validation
/// logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuning {
    /// `Config::touch_sigma`.
    pub touch_sigma: Option<f32>,
    /// `Config::edit_penalty`.
    pub edit_penalty: Option<f32>,
    /// `Config::autocorrect_margin`.
    pub autocorrect_margin: Option<f32>,
    /// `Config::keep_cost`.
    pub keep_cost: Option<u16>,
}

/// `--corrector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CorrectorArg {
    /// The touch decoder (spatial model, edits, language models).
    Spatial,
    /// The baseline: nearest lexicon word by edit distance.
    EditDistance,
    /// No autocorrect.
    Off,
}

impl From<CorrectorArg> for nib_engine::decode::Corrector {
    fn from(arg: CorrectorArg) -> Self {
        match arg {
            CorrectorArg::Spatial => Self::Spatial,
            CorrectorArg::EditDistance => Self::EditDistance,
            CorrectorArg::Off => Self::Off,
        }
    }
}

fn engine(setup: &Setup, language: &str) -> Result<Engine> {
    engine_for(setup, &[language])
}

/// An engine with the packs of `languages` (and the neural model, unless
/// disabled).
pub fn engine_for<S: AsRef<str>>(setup: &Setup, languages: &[S]) -> Result<Engine> {
    let mut config = nib_engine::Config::default();
    if let Some(weight) = setup.lm_weight {
        config.lm_weight = weight;
    }
    if let Some(weight) = setup.decision_lm_weight {
        config.decision_lm_weight = weight;
    }
    if let Some(on) = setup.score_typed_with_lm {
        config.score_typed_with_lm = on;
    }
    config.lm_candidates = setup.lm_candidates.unwrap_or(config.lm_candidates);
    config.lookahead_lm_weight = setup
        .lookahead_lm_weight
        .unwrap_or(config.lookahead_lm_weight);
    config.lm_proposals = setup.lm_proposals.unwrap_or(config.lm_proposals);
    config.lm_context_tokens = setup.lm_context_tokens.unwrap_or(config.lm_context_tokens);
    if let Some(ms) = setup.lm_budget_ms {
        config.lm_budget = std::time::Duration::from_millis(ms);
    }
    config.corrector = setup.corrector.into();
    config.touch_adaptation = setup.adaptation;
    config.personal_learning = setup.personal_learning;
    let tuning = setup.tuning;
    config.touch_sigma = tuning.touch_sigma.unwrap_or(config.touch_sigma);
    config.edit_penalty = tuning.edit_penalty.unwrap_or(config.edit_penalty);
    config.autocorrect_margin = tuning
        .autocorrect_margin
        .unwrap_or(config.autocorrect_margin);
    config.keep_cost = tuning.keep_cost.unwrap_or(config.keep_cost);
    let mut builder = Engine::builder()
        .config(config)
        .pack_dir(&setup.packs, languages.iter().map(AsRef::as_ref));
    if let Some(lm) = &setup.lm {
        builder = builder.language_model(lm, &setup.ort, 1);
    }
    let engine = builder.build()?;
    if let Some(e) = engine.lm_error() {
        eprintln!("nib: ranking without the neural model: {e}");
    }
    Ok(engine)
}

/// Arguments of `nib suggest`.
#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Language tag.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Text before the current word.
    #[arg(long, default_value = "")]
    context: String,
    /// Letters of the current word typed so far.
    #[arg(long, default_value = "")]
    word: String,
    /// Number of suggestions.
    #[arg(short, default_value_t = 3)]
    k: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Read JSON Lines requests from stdin (see bindings/cli/BATCH.md).
    #[arg(long)]
    batch: bool,
}

pub fn suggest(setup: &Setup, args: SuggestArgs) -> Result {
    let engine = engine(setup, &args.lang)?;
    if args.batch {
        let stdin = std::io::stdin().lock();
        let stdout = std::io::BufWriter::new(std::io::stdout().lock());
        return Ok(crate::batch::run(
            &engine, &args.lang, args.k, stdin, stdout,
        )?);
    }
    let suggestions = engine.suggest(&args.lang, &args.context, &args.word, args.k)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<_> = suggestions
            .iter()
            .map(|s| json!({"text": s.text, "kind": s.kind.as_str(), "score": s.score}))
            .collect();
        writeln!(out, "{}", json!({ "suggestions": list }))?;
    } else {
        for s in &suggestions {
            writeln!(out, "{}\t{}\t{:.3}", s.text, s.kind.as_str(), s.score)?;
        }
    }
    Ok(())
}

/// Arguments of `nib packs`.
#[derive(Debug, Args)]
pub struct PacksArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn packs(packs: &Path, args: PacksArgs) -> Result {
    let languages = nib_engine::available_in(packs);
    if languages.is_empty() {
        return Err(format!("no packs in {} (run `nib build-packs`)", packs.display()).into());
    }
    let mut out = std::io::stdout().lock();
    let mut listed = Vec::new();
    for language in &languages {
        let pack = nib_engine::pack::LanguagePack::open(
            &packs.join(format!("{language}.{}", nib_engine::pack::PACK_EXTENSION)),
        )?;
        let m = pack.manifest();
        if args.json {
            listed.push(json!({
                "language": m.language, "name": m.name, "version": m.pack_version,
                "format": nib_engine::pack::FORMAT_VERSION, "bytes": pack.size(),
                "words": m.words, "offensive_words": m.offensive_words, "pairs": m.pairs,
                "layout": pack.layout().name, "casing": m.casing, "sources": m.sources,
                "path": pack.path(),
            }));
            continue;
        }
        writeln!(
            out,
            "{} {} v{} (format {}): {:.1} MB, {} words ({} offensive), {} pairs, layout {}",
            m.language,
            m.name,
            m.pack_version,
            nib_engine::pack::FORMAT_VERSION,
            pack.size() as f64 / 1e6,
            m.words,
            m.offensive_words,
            m.pairs,
            pack.layout().name
        )?;
        for s in &m.sources {
            writeln!(
                out,
                "    {}:{} {} [{}] {}",
                s.registry, s.package, s.version, s.license, s.used_for
            )?;
        }
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?;
    }
    Ok(())
}

/// Arguments of `nib build-packs`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Languages to build (default: all).
    #[arg(long = "lang")]
    languages: Vec<String>,
    /// Directory of fetched sources (default: .cache/sources in the repository).
    #[arg(long)]
    sources: Option<PathBuf>,
    /// Threads (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn build_packs(packs: &Path, args: BuildArgs) -> Result {
    let mut inputs = BuildInputs::in_repository(&repository());
    if let Some(sources) = args.sources {
        inputs.sources = nib_languages::SourceCache::new(sources);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = std::time::Instant::now();
    let mut failed = 0;
    for (language, result) in nib_languages::build_packs(&args.languages, &inputs, packs, threads) {
        match result {
            Ok(r) => println!(
                "{language}: {} words ({} offensive), {} pairs, {:.1} MB in {:.1} s -> {}",
                r.words,
                r.offensive_words,
                r.pairs,
                r.bytes as f64 / 1e6,
                r.seconds,
                r.path.display()
            ),
            Err(e) => {
                failed += 1;
                eprintln!("{language}: {e}");
            }
        }
    }
    println!("built in {:.1} s", started.elapsed().as_secs_f64());
    if failed > 0 {
        return Err(format!("{failed} pack(s) failed").into());
    }
    Ok(())
}

/// Arguments of `nib ksr`.
#[derive(Debug, Args)]
pub struct KsrArgs {
    /// Language tag.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Number of suggestions shown.
    #[arg(short, default_value_t = 3)]
    k: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Type the text with Presage instead of nib, by the same protocol:
    /// Presage's configuration file (`languages/lm/presage.sh` writes one per
    /// language; its SUGGESTIONS at least k).
    #[arg(long, requires = "presage_driver")]
    presage: Option<PathBuf>,
    /// The program that serves Presage's predictions
    /// (`languages/lm/presage_predict.cpp`, built by `presage.sh`).
    #[arg(long, requires = "presage")]
    presage_driver: Option<PathBuf>,
    /// Text files to type.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn ksr(setup: &Setup, args: KsrArgs) -> Result {
    let mut presage = match (&args.presage, &args.presage_driver) {
        (Some(config), Some(driver)) => Some(Presage::start(driver, config)?),
        _ => None,
    };
    let engine = match presage {
        None => Some(engine(setup, &args.lang)?),
        Some(_) => None,
    };
    if let Some(engine) = &engine {
        engine.pack(&args.lang)?;
    }
    let mut suggest = |before: &str, typed: &str, shown: usize| -> Result<Vec<String>> {
        match (&engine, &mut presage) {
            (Some(engine), _) => Ok(engine
                .suggest(&args.lang, before, typed, shown)?
                .into_iter()
                .map(|s| s.text)
                .collect()),
            (None, Some(presage)) => presage.suggest(before, typed),
            (None, None) => Err("no predictor".into()),
        }
    };
    let loaded = nib_engine::memory::now();
    let mut total = KsrReport::default();
    // Nanoseconds per suggestion request, 1 ns to 10 s, 3 significant
    // digits: all requests, then those before a word's first letter (next
    // word) and those after a letter (completion).
    let histogram = || hdrhistogram::Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3);
    let (mut all, mut next_word, mut completion) = (histogram()?, histogram()?, histogram()?);
    for file in &args.files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let report = keystroke_savings_with(&text, args.k, &mut suggest, |d, before_letters| {
            let nanos = d.as_nanos().min(u128::from(u64::MAX)) as u64;
            all.saturating_record(nanos);
            let part = if before_letters {
                &mut next_word
            } else {
                &mut completion
            };
            part.saturating_record(nanos);
        })?;
        total.add(&report);
    }
    // Stops the server and gives SIGPIPE back its default (see
    // `Presage::start`): printing below meets a closed pipe as any other
    // `nib` command does.
    drop(presage);
    let summary = |h: &hdrhistogram::Histogram<u64>| {
        let micros = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        json!({
            "requests": h.len(), "p50_us": micros(0.5), "p95_us": micros(0.95),
            "p99_us": micros(0.99), "max_us": h.max() as f64 / 1000.0,
        })
    };
    if args.json {
        let mut report = ksr_json(&args.lang, args.k, &total);
        report["latency"] = summary(&all);
        report["latency"]["next_word"] = summary(&next_word);
        report["latency"]["completion"] = summary(&completion);
        if engine.is_some() {
            report["memory"] = json!({"after_load": loaded, "end": nib_engine::memory::now()});
        }
        println!("{report}");
        return Ok(());
    }
    print_ksr(&args.lang, args.k, &total)?;
    for (name, h) in [
        ("all requests", &all),
        ("next word (before a letter)", &next_word),
        ("completion (after a letter)", &completion),
    ] {
        let micros = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
        println!(
            "{}: {name}: {} requests, latency p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
            args.lang,
            h.len(),
            micros(0.5),
            micros(0.95),
            micros(0.99),
            h.max() as f64 / 1000.0
        );
    }
    if let (Some(_), Some(loaded), Some(end)) = (&engine, loaded, nib_engine::memory::now()) {
        println!(
            "{}: memory after loading: {loaded}; at the end: {end}",
            args.lang
        );
    }
    Ok(())
}

fn ksr_json(language: &str, k: usize, r: &KsrReport) -> serde_json::Value {
    json!({"lang": language, "k": k, "ksr": r.ksr(), "characters": r.characters,
           "keystrokes": r.keystrokes, "selections": r.selections, "words": r.words,
           "predicted_before_typing": r.predicted_before_typing,
           "next_word_top1": r.next_word_top1_accuracy(), "next_word_top3": r.next_word_top3_accuracy()})
}

fn print_ksr(language: &str, k: usize, r: &KsrReport) -> Result {
    println!(
        "{language}: KSR {:.1} % (k = {k}): {} characters, {} keys + {} selections, {} words, {} predicted before the first letter; next word top-1 {:.1} %, top-3 {:.1} %",
        100.0 * r.ksr(),
        r.characters,
        r.keystrokes,
        r.selections,
        r.words,
        r.predicted_before_typing,
        100.0 * r.next_word_top1_accuracy(),
        100.0 * r.next_word_top3_accuracy()
    );
    Ok(())
}

/// Arguments of `nib demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Languages (default: every installed pack).
    #[arg(long = "lang")]
    languages: Vec<String>,
}

/// Sample texts written for nib's demo, one per language.
const SAMPLES: &[(&str, &str)] = &[
    ("en", include_str!("../samples/en.txt")),
    ("de", include_str!("../samples/de.txt")),
    ("fr", include_str!("../samples/fr.txt")),
    ("es", include_str!("../samples/es.txt")),
    ("it", include_str!("../samples/it.txt")),
    ("pt", include_str!("../samples/pt.txt")),
    ("ru", include_str!("../samples/ru.txt")),
];

pub fn demo(setup: &Setup, args: DemoArgs) -> Result {
    let languages = if args.languages.is_empty() {
        RECIPES.iter().map(|r| r.language.to_owned()).collect()
    } else {
        args.languages
    };
    for language in &languages {
        let engine = engine(setup, language)?;
        let sample = SAMPLES
            .iter()
            .find(|(l, _)| l == language)
            .map_or("", |(_, t)| t);
        println!("== {language}");
        if let Some(first) = sample.lines().find(|l| !l.trim().is_empty()) {
            let words: Vec<&str> = first.split_whitespace().collect();
            let cut = words.len() / 2;
            let context = format!("{} ", words[..cut].join(" "));
            let next = words.get(cut).copied().unwrap_or("");
            let typed: String = next.chars().take(2).collect();
            for word in ["", typed.as_str()] {
                let shown: Vec<String> = engine
                    .suggest(language, &context, word, 3)?
                    .into_iter()
                    .map(|s| s.text)
                    .collect();
                println!("  {context:?} + {word:?} -> {}", shown.join(" | "));
            }
        }
        let report = keystroke_savings(&engine, language, sample, 3)?;
        print!("  sample text ");
        print_ksr(language, 3, &report)?;
    }
    Ok(())
}
