//! Touch decoding latency per tap (one core, word-pair model, no neural
//! model): a simulated typist's noisy taps (sigma 0.3) over the English
//! sample text; each iteration applies one tap and asks for three
//! suggestions, as a keyboard does, cycling through the log (the session
//! is reset at each session header). A tap on the space bar includes the
//! autocorrect decision.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nib_engine::typing::{Event, LogReader, Typist, TypistConfig};

fn bench(c: &mut Criterion) {
    let engine = nib_tests::engine();
    let text = include_str!("../../bindings/cli/samples/en.txt");
    let mut log = Vec::new();
    if let Ok(mut typist) = Typist::new(&engine, "en", TypistConfig::default()) {
        let _ = typist.type_text(text, |event| -> std::io::Result<()> {
            serde_json::to_writer(&mut log, event)?;
            log.push(b'\n');
            Ok(())
        });
    }
    // None: a new session.
    let events: Vec<Option<(f32, f32)>> = LogReader::new(&log[..])
        .filter_map(Result::ok)
        .filter_map(|r| match r.event {
            Event::Session(_) => Some(None),
            Event::Tap { x, y, .. } => Some(Some((x, y))),
            _ => None,
        })
        .collect();
    let Ok(mut session) = engine.session("en") else {
        return;
    };
    let mut i = 0;
    c.bench_function("decode/en/sigma-0.3/tap-and-suggest", |b| {
        b.iter(|| {
            match events[i % events.len()] {
                Some((x, y)) => {
                    let _ = session.tap(x, y);
                    black_box(session.suggestions(3));
                }
                None => session = engine.fresh_user().session("en").unwrap_or(session.clone()),
            }
            i += 1;
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
