//! Fuzzes the personal dictionary's loader: any bytes must give a store or
//! a typed reason, and a store that loads must answer without panicking.
//!
//! Run: `cd tests/fuzz && cargo +nightly fuzz run personal_load`. Seed the
//! corpus with a real store (any `.nibdict` written by the tests).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nib_engine::personal::{Limits, PersonalStore};

fuzz_target!(|data: &[u8]| {
    if let Ok(store) = PersonalStore::from_journal_bytes(data, Limits::default(), None) {
        let _ = store.completions("a", Some("the"), 5);
        let _ = store.learn("word", Some("a"), false);
        let _ = store.export();
    }
});
