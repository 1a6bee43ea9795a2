//! Handwriting latency: one word of ink end to end (features, model,
//! lexicon search), and the incremental update after a word's last stroke.
//! The design's targets are p99 ≤ 15 ms per word and ≤ 5 ms per update, on
//! one core.
#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed benchmark

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use nib_handwriting::features;
use nib_tests::{ink_fixture, recognizer};

fn handwriting(c: &mut Criterion) {
    let recognizer = recognizer();
    let (word, _) = ink_fixture("hello");
    let (line, _) = ink_fixture("line");
    c.bench_function("handwriting/features_word", |b| {
        b.iter(|| features(std::hint::black_box(&word)))
    });
    let word_features = recognizer.features(&word).unwrap();
    c.bench_function("handwriting/model_word", |b| {
        b.iter(|| {
            recognizer
                .model()
                .run(std::hint::black_box(&word_features))
                .unwrap()
        })
    });
    let log_probs = recognizer.model().run(&word_features).unwrap();
    c.bench_function("handwriting/search_word", |b| {
        b.iter(|| {
            recognizer.decode(
                std::hint::black_box(&log_probs),
                word_features.rows(),
                3,
                "",
            )
        })
    });
    c.bench_function("handwriting/word_end_to_end", |b| {
        b.iter(|| {
            recognizer
                .recognize(std::hint::black_box(&word), 3, "")
                .unwrap()
        })
    });
    c.bench_function("handwriting/line_end_to_end", |b| {
        b.iter(|| {
            recognizer
                .recognize(std::hint::black_box(&line), 3, "")
                .unwrap()
        })
    });
    // The pen lifts after the word's last stroke: everything before it was
    // added (and recognised) already.
    let (last, before) = word.strokes.split_last().unwrap();
    c.bench_function("handwriting/word_incremental_last_stroke", |b| {
        b.iter_batched(
            || {
                let mut area = recognizer.session();
                for s in before {
                    area.add_stroke(s.clone()).unwrap();
                }
                area.candidates(3).unwrap();
                area
            },
            |mut area| {
                area.add_stroke(last.clone()).unwrap();
                area.candidates(3).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(60);
    targets = handwriting
}
criterion_main!(benches);
