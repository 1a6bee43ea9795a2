//! `nib`: suggestions, a batch interface for evaluation scripts, pack
//! management and keystroke-savings evaluation from the command line.

mod batch;
mod commands;
mod handwriting;
mod ldp;
mod presage;
mod report;
mod typing;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// nib: on-device text prediction, from the command line.
#[derive(Debug, Parser)]
#[command(name = "nib", version, about)]
struct Cli {
    /// Directory of language packs (default: $NIB_PACKS, else .cache/packs in the repository).
    #[arg(long, global = true, env = "NIB_PACKS")]
    packs: Option<PathBuf>,
    /// Neural language model directory (default: languages/models/nib-lm-1 in the repository).
    #[arg(long, global = true, env = "NIB_LM")]
    lm: Option<PathBuf>,
    /// Rank with the n-gram model only.
    #[arg(long, global = true)]
    no_lm: bool,
    /// ONNX Runtime library (default: the pinned wheel's, fetched into .cache/sources).
    #[arg(long, global = true, env = "NIB_ORT")]
    ort: Option<PathBuf>,
    /// Weight of the neural model against the n-gram score, 0 to 1 (default 0.9).
    #[arg(long, global = true)]
    lm_weight: Option<f32>,
    /// Weight of the neural model in the autocorrect decision, 0 to 1 (default 0.3).
    #[arg(long, global = true)]
    decision_lm_weight: Option<f32>,
    /// Score a typed word the lexicon does not know with the neural model in the autocorrect
    /// decision (default true).
    #[arg(long, global = true)]
    score_typed_with_lm: Option<bool>,
    /// Weight of the neural model's probability of the next word when the
    /// word before it is decided again at the next word's commit, 0 for
    /// no revision (default 1.0).
    #[arg(long, global = true)]
    lookahead_lm_weight: Option<f32>,
    /// Best n-gram candidates the neural model rescores per call (default 8).
    #[arg(long, global = true)]
    lm_candidates: Option<usize>,
    /// Words the neural model proposes itself while a word is typed, 0 for none (default 8).
    #[arg(long, global = true)]
    lm_proposals: Option<usize>,
    /// Tokens of context the neural model reads at most (default 32).
    #[arg(long, global = true)]
    lm_context_tokens: Option<usize>,
    /// Time in milliseconds a call may spend before the neural stage is skipped (default 10).
    #[arg(long, global = true)]
    lm_budget_ms: Option<u64>,
    /// What corrects a tapped word at the space: the touch decoder, the
    /// edit-distance baseline, or nothing.
    #[arg(long, global = true, value_enum, default_value_t = commands::CorrectorArg::Spatial)]
    corrector: commands::CorrectorArg,
    /// Do not learn the user's touch offsets.
    #[arg(long, global = true)]
    no_adaptation: bool,
    /// Do not learn the user's words into the personal dictionary.
    #[arg(long, global = true)]
    no_personal: bool,
    /// Decoder tuning (see nib_engine::Config): tap spread in key widths.
    #[arg(long, global = true)]
    touch_sigma: Option<f32>,
    /// Decoder tuning: cost in nats of a stray tap or a left-out letter.
    #[arg(long, global = true)]
    edit_penalty: Option<f32>,
    /// Decoder tuning: nats a correction must win by to be applied.
    #[arg(long, global = true)]
    autocorrect_margin: Option<f32>,
    /// Decoder tuning: typed words at most this costly (centibels) are kept.
    #[arg(long, global = true)]
    keep_cost: Option<u16>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Suggest completions of a word, or the next word, after a context.
    Suggest(commands::SuggestArgs),
    /// List the installed packs: versions, sizes, sources.
    Packs(commands::PacksArgs),
    /// Build language packs from the fetched sources.
    BuildPacks(commands::BuildArgs),
    /// Keystroke savings rate over a text file.
    Ksr(commands::KsrArgs),
    /// The quick-start demo: suggestions for sample sentences and the KSR of
    /// the bundled sample texts.
    Demo(commands::DemoArgs),
    /// Simulate a typist: turn text into a typing log (JSON Lines).
    Simulate(typing::SimulateArgs),
    /// Replay typing logs through the engine: accuracy, savings, latency.
    Replay(typing::ReplayArgs),
    /// Merge partial results of `nib replay --partial` into one summary.
    Merge(typing::MergeArgs),
    /// Privacy-preserving discovery of new words: reports, aggregation,
    /// simulation.
    #[command(subcommand)]
    Ldp(ldp::LdpCommand),
    /// Recognise handwriting: JSON ink, InkML or a UNIPEN file.
    Recognize(handwriting::RecognizeArgs),
    /// Character and word error rates of handwriting recognition over a
    /// UNIPEN tree, by category and writer.
    EvalHandwriting(handwriting::EvalArgs),
    /// Draw ink as SVG with what is recognised in it.
    InkSvg(handwriting::InkSvgArgs),
}

/// Lets a closed pipe end `nib` quietly (`nib ... | head`), as it ends any
/// Unix tool, instead of `println!` panicking on the write error.
fn die_quietly_on_closed_pipes() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread starts;
    // restoring the default disposition of SIGPIPE has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    die_quietly_on_closed_pipes();
    let cli = Cli::parse();
    let setup = commands::Setup {
        packs: cli.packs.unwrap_or_else(commands::default_pack_dir),
        lm: if cli.no_lm {
            None
        } else {
            Some(cli.lm.unwrap_or_else(commands::default_lm_dir))
        },
        ort: cli.ort.unwrap_or_else(commands::default_runtime),
        lm_weight: cli.lm_weight,
        decision_lm_weight: cli.decision_lm_weight,
        score_typed_with_lm: cli.score_typed_with_lm,
        lookahead_lm_weight: cli.lookahead_lm_weight,
        lm_candidates: cli.lm_candidates,
        lm_proposals: cli.lm_proposals,
        lm_context_tokens: cli.lm_context_tokens,
        lm_budget_ms: cli.lm_budget_ms,
        corrector: cli.corrector,
        adaptation: !cli.no_adaptation,
        personal_learning: !cli.no_personal,
        tuning: commands::Tuning {
            touch_sigma: cli.touch_sigma,
            edit_penalty: cli.edit_penalty,
            autocorrect_margin: cli.autocorrect_margin,
            keep_cost: cli.keep_cost,
        },
    };
    let packs = &setup.packs;
    let result = match cli.command {
        Command::Suggest(args) => commands::suggest(&setup, args),
        Command::Packs(args) => commands::packs(packs, args),
        Command::BuildPacks(args) => commands::build_packs(packs, args),
        Command::Ksr(args) => commands::ksr(&setup, args),
        Command::Demo(args) => commands::demo(&setup, args),
        Command::Simulate(args) => typing::simulate(&setup, args),
        Command::Replay(args) => typing::replay(&setup, args),
        Command::Merge(args) => typing::merge(args),
        Command::Ldp(command) => ldp::run(command),
        Command::Recognize(args) => handwriting::recognize(&setup, args),
        Command::EvalHandwriting(args) => handwriting::eval(&setup, args),
        Command::InkSvg(args) => handwriting::ink_svg(&setup, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("nib: {err}");
            ExitCode::FAILURE
        }
    }
}
