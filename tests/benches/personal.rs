//! The personal dictionary: learning one committed word (journal append
//! included, in a temporary directory) and opening a store of 20,000 words.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nib_engine::personal::{Limits, PersonalStore};
use nib_tests::made_up_word;

fn bench(c: &mut Criterion) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join("learn.nibdict");
    if let Ok(store) = PersonalStore::open(&path, Limits::default()) {
        let mut n = 0u64;
        c.bench_function("personal/learn-one-word", |b| {
            b.iter(|| {
                n += 1;
                black_box(
                    store
                        .learn(&made_up_word("q", n % 30_000), None, false)
                        .ok(),
                )
            })
        });
    }
    let big = dir.path().join("big.nibdict");
    if let Ok(store) = PersonalStore::open(&big, Limits::default()) {
        for i in 0..20_000 {
            let _ = store.add(&made_up_word("q", i));
        }
    }
    c.bench_function("personal/open-20000-words", |b| {
        b.iter(|| {
            black_box(
                PersonalStore::open(&big, Limits::default())
                    .map(|s| s.len())
                    .ok(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
