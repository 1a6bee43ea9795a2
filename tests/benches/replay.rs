//! Replay throughput: a simulated typist's log of the English sample text
//! at sigma 0.3, replayed whole per iteration, with the lexicon engine alone
//! (no neural model, no touch decoder) and with the touch decoder;
//! criterion reports tap events per second.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nib_engine::typing::{Event, LogReader, ReplayOptions, Replayer, Tally, Typist, TypistConfig};

fn bench(c: &mut Criterion) {
    let engine = nib_tests::engine();
    let text = include_str!("../../bindings/cli/samples/en.txt");
    let mut log = Vec::new();
    let mut typist = Typist::new(&engine, "en", TypistConfig::default()).ok();
    if let Some(typist) = typist.as_mut() {
        let _ = typist.type_text(text, |event| -> std::io::Result<()> {
            serde_json::to_writer(&mut log, event)?;
            log.push(b'\n');
            Ok(())
        });
    }
    let taps = LogReader::new(&log[..])
        .filter_map(Result::ok)
        .filter(|r| matches!(r.event, Event::Tap { .. }))
        .count() as u64;
    let lexicon_only = nib_engine::Engine::builder()
        .config(nib_engine::Config {
            corrector: nib_engine::decode::Corrector::Off,
            ..nib_engine::Config::default()
        })
        .pack_dir(nib_tests::pack_dir(), ["en"])
        .build();
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(taps));
    let engines = [("lexicon", lexicon_only.ok()), ("decoder", Some(engine))];
    for (name, engine) in engines {
        let Some(engine) = engine else { continue };
        let replayer = Replayer::new(engine, ReplayOptions::default());
        group.bench_function(format!("en/sigma-0.3/{name}/taps"), |b| {
            b.iter(|| {
                let mut tally = Tally::default();
                let _ = replayer.replay("bench", &log[..], &mut tally, |_| {});
                black_box(tally.overall)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
