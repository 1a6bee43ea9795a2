//! The Rust side of the bindings' per-call benchmark: the same calls that
//! the Kotlin, Swift and Python tests time (a tap on "h", then
//! `suggestions(3)` and `current_word`, each in 5 rounds of 10,000 calls,
//! reporting the median and the fastest round), through the FFI objects
//! and through the engine directly. The difference between a binding's
//! figure and the FFI objects' is the binding's overhead.
//!
//! ```text
//! cargo run --release -p nib-ffi --example per_call [PACK_DIR]   # default: $NIB_PACKS, else .cache/packs
//! ```
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is right

use std::hint::black_box;
use std::time::Instant;

/// Median and minimum microseconds per call of `f`, over 5 rounds of `n`
/// calls, after `n / 10` calls of warm-up.
fn per_call(n: u32, mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..n / 10 {
        f();
    }
    let mut rounds: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    (rounds[2], rounds[0])
}

fn main() -> Result<(), nib_ffi::NibError> {
    let packs = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("NIB_PACKS").ok())
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/packs").into());

    let engine = nib_ffi::Engine::new(packs.clone(), vec!["en".into()], Default::default())?;
    let layout = engine.layout("en".into())?;
    let h = layout.keys.iter().find(|k| k.output == "h").unwrap();
    let session = engine.session("en".into(), None)?;
    session.tap(h.x, h.y)?;
    let n: u32 = std::env::var("NIB_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let (suggest, suggest_min) = per_call(n, || {
        black_box(session.suggestions(3).unwrap());
    });
    let (word, word_min) = per_call(n, || {
        black_box(session.current_word().unwrap());
    });
    println!(
        "  bench rust (nib-ffi objects): suggestions(3) after a tap {suggest:.2} us/call \
         (min {suggest_min:.2}); current_word {word:.2} us/call (min {word_min:.2}); \
         median of 5 x {n} calls"
    );

    let core = nib_engine::Engine::builder()
        .pack_dir(&packs, ["en"])
        .build()
        .unwrap();
    let mut session = core.session("en").unwrap();
    session.tap(h.x, h.y).unwrap();
    let (suggest, suggest_min) = per_call(n, || {
        black_box(session.suggestions(3));
    });
    println!(
        "  bench rust (nib-engine): suggestions(3) after a tap {suggest:.2} us/call \
         (min {suggest_min:.2})"
    );
    Ok(())
}
