//! The Rust side of the bindings' per-call benchmark: the same calls that
//! the Kotlin, Swift and Python tests time (a tap on "h", then 10,000
//! `suggestions(3)`, then 10,000 `current_word`), through the FFI objects
//! and through the engine directly. The difference between a binding's
//! figure and the FFI objects' is the binding's overhead.
//!
//! ```text
//! cargo run --release -p nib-ffi --example per_call [PACK_DIR]
//! ```
#![allow(clippy::unwrap_used)] // a benchmark: failing loudly is right

use std::hint::black_box;
use std::time::Instant;

const N: u32 = 10_000;

fn per_call(mut f: impl FnMut()) -> f64 {
    for _ in 0..N / 5 {
        f();
    }
    let start = Instant::now();
    for _ in 0..N {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(N)
}

fn main() -> Result<(), nib_ffi::NibError> {
    let packs = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/packs").into());

    let engine = nib_ffi::Engine::new(packs.clone(), vec!["en".into()], Default::default())?;
    let layout = engine.layout("en".into())?;
    let h = layout.keys.iter().find(|k| k.output == "h").unwrap();
    let session = engine.session("en".into(), None)?;
    session.tap(h.x, h.y)?;
    let suggestions = per_call(|| {
        black_box(session.suggestions(Some(3)).unwrap());
    });
    let word = per_call(|| {
        black_box(session.current_word().unwrap());
    });
    println!(
        "  bench rust (nib-ffi objects): suggestions(3) after a tap {suggestions:.2} us/call; \
         current_word {word:.2} us/call ({N} calls)"
    );

    let core = nib_engine::Engine::builder()
        .pack_dir(&packs, ["en"])
        .build()
        .unwrap();
    let mut session = core.session("en").unwrap();
    session.tap(h.x, h.y).unwrap();
    let suggestions = per_call(|| {
        black_box(session.suggestions(3));
    });
    println!("  bench rust (nib-engine): suggestions(3) after a tap {suggestions:.2} us/call");
    Ok(())
}
