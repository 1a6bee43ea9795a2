//! The neural language model's costs: one context step, scoring candidate
//! words against a cached context, and whole requests with rescoring (a
//! keystroke whose context and candidates are cached, a next-word request
//! after a new word, and the first letter after it), and the commit that
//! decides the word before it again.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use nib_engine::{Config, Engine};

fn bench(c: &mut Criterion) {
    let lm = nib_tests::neural_lm();
    let mut group = c.benchmark_group("lm");
    group.sample_size(30);

    // One new token on top of a cached context. The new token cycles through
    // 200 ids, more than the state cache holds, so every iteration runs the
    // model; the base context stays cached because every lookup touches it.
    let base = lm.context_ids("We are going to the station and then I would like");
    lm.state(&base).ok();
    let with = |token: u32| {
        let mut ids = base.clone();
        ids.push(token);
        ids
    };
    let mut next = 1000u32;
    let mut cycle = || {
        next = if next >= 1199 { 1000 } else { next + 1 };
        next
    };
    group.bench_function("context_step", |b| {
        b.iter(|| black_box(lm.state(&with(cycle())).ok()))
    });

    // The same step, then one and eight candidate words (one token each)
    // scored on the new state (its word memo is empty): these minus
    // `context_step` are the scoring costs; the one-word run less a
    // seventh of the difference between them is what a run costs beyond
    // its positions (`RUN_COST_IN_POSITIONS` in `engine/src/lm/model.rs`).
    group.bench_function("context_step_and_score_1_word", |b| {
        b.iter(|| {
            let state = lm.state(&with(cycle())).ok();
            black_box(state.map(|s| lm.score_words(&s, &["to"]).ok()))
        })
    });
    let words = ["to", "the", "a", "some", "that", "this", "my", "your"];
    group.bench_function("context_step_and_score_8_words", |b| {
        b.iter(|| {
            let state = lm.state(&with(cycle())).ok();
            black_box(state.map(|s| lm.score_words(&s, &words).ok()))
        })
    });

    let engine = Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["en"])
        .language_model(nib_tests::lm_dir(), nib_tests::runtime(), 1)
        .config(Config {
            lm_budget: Duration::from_secs(1),
            ..Config::default()
        })
        .build()
        .expect("engine");
    let strokes = ["", "t", "th", "tha", "than", "thank"];
    let mut i = 0;
    group.bench_function("keystroke_with_rescoring", |b| {
        b.iter(|| {
            let typed = strokes[i % strokes.len()];
            i += 1;
            black_box(engine.suggest("en", "I would like to", typed, 3).ok())
        })
    });

    // Requests after a word the model has not seen in this context: the
    // last word cycles through 200 numbers, more than the state cache
    // holds, so each next-word request extends the cached "We will meet
    // at" by that word and scores its candidates afresh, as after each
    // word a user commits; the first letter then comes on that state.
    let fresh = |n: usize| format!("We will meet at {} ", n % 200);
    let mut n = 0;
    group.bench_function("next_word_after_a_new_word", |b| {
        b.iter(|| {
            n += 1;
            black_box(engine.suggest("en", &fresh(n), "", 3).ok())
        })
    });
    // The same in a text longer than the model's 32-token window: each
    // word moves the window on, and the window before it (cached, its
    // first tokens dropped and its keys turned back) stands in for a
    // prefix, as while a user writes on.
    let words = [
        "and", "then", "we", "will", "go", "to", "the", "station", "because", "I", "would", "like",
        "a", "coffee", "with", "you", "before", "it", "leaves", "at", "noon",
    ];
    let mut text = String::from("We are going to the station because the train leaves at noon. ");
    let mut w = 0;
    group.bench_function("next_word_after_a_new_word_past_the_window", |b| {
        b.iter(|| {
            w += 1;
            text.push_str(words[w % words.len()]);
            text.push(' ');
            if text.len() > 400 {
                text.drain(..text.len() - 200);
            }
            black_box(engine.suggest("en", &text, "", 3).ok())
        })
    });
    group.bench_function("first_letter_after_a_new_word", |b| {
        b.iter_batched(
            || {
                n += 1;
                let context = fresh(n);
                engine.suggest("en", &context, "", 3).ok();
                context
            },
            |context| black_box(engine.suggest("en", &context, "t", 3).ok()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
    bench_revision(c);
}

/// The commit of a word that decides the word before it again
/// (`Config::lookahead_lm_weight`), against the same commit with the
/// revision off: "dtop" then "off", tapped on the keys' centres after a
/// context that changes every time (a number cycling through 200), so
/// that the model's caches do not hold the readings.
fn bench_revision(c: &mut Criterion) {
    let mut group = c.benchmark_group("lm");
    group.sample_size(30);
    for (name, weight) in [
        ("commit_deciding_the_word_before_again", 1.0),
        ("commit_without_revision", 0.0),
    ] {
        let engine = Engine::builder()
            .pack_dir(nib_tests::pack_dir(), ["en"])
            .language_model(nib_tests::lm_dir(), nib_tests::runtime(), 1)
            .config(Config {
                lm_budget: Duration::from_secs(1),
                lookahead_lm_weight: weight,
                ..Config::default()
            })
            .build()
            .expect("engine");
        let layout = engine.pack("en").expect("pack").layout().clone();
        let centre = |c: char| {
            let output = c.to_string();
            let key = layout
                .keys
                .iter()
                .find(|k| k.output == output)
                .expect("key");
            (key.x, key.y)
        };
        let mut n = 0;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    n += 1;
                    let mut session = engine.session("en").expect("session");
                    session.set_context(&format!("At {} can you ", n % 200));
                    for c in "dtop off".chars() {
                        let (x, y) = centre(c);
                        session.tap(x, y).expect("tap");
                    }
                    session
                },
                |mut session| {
                    let (x, y) = centre(' ');
                    black_box(session.tap(x, y).is_ok());
                    session
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
