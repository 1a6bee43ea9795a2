//! Fuzzes the ink readers: any bytes read as JSON ink, InkML or a UNIPEN
//! label file must give ink or a typed error, and the ink must go through
//! the feature pipeline and the recogniser's checks without panicking.
//!
//! Run: `cd tests/fuzz && cargo +nightly fuzz run ink_read`. Seed the corpus
//! with the fixtures (`cp ../../handwriting/testdata/ink/*.json corpus/ink_read/`).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use nib_handwriting::{Ink, InkLimits, UnipenDoc, features, parse_ink};

fn exercise(ink: &Ink) {
    let _ = ink.validate(&InkLimits::default());
    if ink.point_count() <= 5_000 {
        let _ = features(ink);
    }
}

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz.json", "fuzz.inkml"] {
        if let Ok((ink, _)) = parse_ink(data, Path::new(name)) {
            exercise(&ink);
        }
    }
    // Includes resolve under a directory that does not exist: they are
    // reported missing, never read.
    if let Ok(doc) = UnipenDoc::from_bytes(data, Path::new("fuzz"), Path::new("/nonexistent")) {
        for segment in &doc.segments {
            if let Some(ink) = doc.ink(&segment.delineation, true) {
                exercise(&ink);
            }
        }
    }
});
