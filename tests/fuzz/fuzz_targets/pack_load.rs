//! Fuzzes pack loading: any bytes must give a pack or a typed error, and a
//! pack that loads must answer lookups without panicking.
//!
//! Run: `cd tests/fuzz && cargo +nightly fuzz run pack_load`. Seed the corpus
//! with a real pack (`cp ../../.cache/packs/en.nibpack corpus/pack_load/`).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nib_engine::pack::{LanguagePack, WordId};

fuzz_target!(|data: &[u8]| {
    if let Ok(pack) = LanguagePack::from_bytes(Path::new("fuzz.nibpack"), data.to_vec()) {
        let _ = pack.lookup("the");
        let _ = pack.top_words("").map(|t| t.count());
        pack.for_each_with_prefix("a", 100, |_| {});
        if let Some(id) = pack.lookup("a") {
            let _ = pack.followers(id).map(|(_, f)| f.count());
        }
        let _ = pack.word(WordId(0));
    }
});
