//! Completion latency per keystroke: every prefix of every word of a sample
#![allow(missing_docs)] // criterion_group! generates undocumented functions
//! text, with the text before it as context, one call per iteration.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nib_engine::Engine;

const TEXT: &str = "I would like to thank you for your help with the move last weekend. \
    Are you coming to the meeting on Monday? We are going to Paris in the summer and \
    I can't wait to see the city again. Please send me the report before the end of the day.";

/// `(context, typed)` for every keystroke of the text.
fn keystrokes(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut context = String::new();
    for word in text.split_whitespace() {
        let letters: String = word
            .chars()
            .filter(|c| c.is_alphabetic() || *c == '\'')
            .collect();
        for n in 0..=letters.chars().count() {
            out.push((context.clone(), letters.chars().take(n).collect()));
        }
        context.push_str(word);
        context.push(' ');
    }
    out
}

fn bench(c: &mut Criterion) {
    let engine: Engine = nib_tests::engine();
    for lang in ["en", "de", "ru"] {
        let text = match lang {
            "de" => {
                "Ich freue mich schon sehr auf das Wochenende mit der ganzen Familie in Berlin."
            }
            "ru" => "Большое спасибо за помощь, завтра утром мы пойдём на рынок за фруктами.",
            _ => TEXT,
        };
        let strokes = keystrokes(text);
        let mut i = 0;
        c.bench_function(&format!("complete/{lang}/keystroke"), |b| {
            b.iter(|| {
                let (context, typed) = &strokes[i % strokes.len()];
                i += 1;
                black_box(engine.suggest(lang, context, typed, 3).ok())
            })
        });
    }
    let mut session = engine.session("en").ok();
    c.bench_function("session/en/type-letter-and-suggest", |b| {
        b.iter(|| {
            if let Some(session) = session.as_mut() {
                session.set_context("I would like to ");
                session.type_text("t");
                black_box(session.suggestions(3));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
