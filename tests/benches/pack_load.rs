//! Pack load time: memory-map, verify every checksum and validate one pack.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nib_engine::pack::LanguagePack;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pack_load");
    group.sample_size(30);
    for lang in ["en", "ru"] {
        let path = nib_tests::pack_dir().join(format!("{lang}.nibpack"));
        group.bench_function(lang, |b| {
            b.iter(|| black_box(LanguagePack::open(&path).ok()))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
