use std::path::Path;

use nib_engine::pack::LanguagePack;
use nib_engine::{Engine, Error};
use nib_tests::{engine, pack_dir};

fn en_pack_bytes() -> Vec<u8> {
    std::fs::read(pack_dir().join("en.nibpack")).expect("built en pack")
}

#[test]
fn truncated_pack_is_a_typed_error_naming_the_file() {
    let bytes = en_pack_bytes();
    let dir = tempfile_dir();
    let path = dir.join("en.nibpack");
    std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let err = LanguagePack::open(&path).unwrap_err();
    assert!(matches!(err, Error::PackTruncated { .. }), "{err}");
    assert!(err.to_string().contains("en.nibpack"), "{err}");
}

#[test]
fn corrupt_and_wrong_version_packs_are_typed_errors() {
    let bytes = en_pack_bytes();
    let mut corrupt = bytes.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0xff;
    let err = LanguagePack::from_bytes(Path::new("en.nibpack"), corrupt).unwrap_err();
    assert!(matches!(err, Error::PackChecksum { .. }), "{err}");

    let mut future = bytes;
    future[8..12].copy_from_slice(&2u32.to_le_bytes());
    let err = LanguagePack::from_bytes(Path::new("en.nibpack"), future).unwrap_err();
    assert_eq!(
        err.to_string(),
        "en.nibpack has pack format version 2, this engine reads version 1"
    );
}

#[test]
fn unknown_language_lists_what_is_there() {
    let err = Engine::builder()
        .pack_dir(pack_dir(), ["xx"])
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::UnknownLanguage { .. }));
    assert!(err.to_string().contains("en, es, fr, it, pt, ru"), "{err}");
    let err = engine().session("xx").unwrap_err();
    assert!(err.to_string().contains("unknown language \"xx\""), "{err}");
}

#[test]
fn hostile_words_get_bounded_answers() {
    let engine = engine();
    let huge = "a".repeat(10_000);
    assert!(engine.suggest("en", "", &huge, 3).unwrap().is_empty());
    assert!(engine.suggest("en", &huge, "th", 3).unwrap().len() <= 3);
    assert!(
        engine
            .suggest("en", "", "\u{0}\u{7}\u{1b}", 3)
            .unwrap()
            .is_empty()
    );
    assert!(engine.suggest("en", "", "'''", 3).unwrap().is_empty());
    assert!(engine.suggest("en", "", "th", 0).unwrap().is_empty());
    let mut session = engine.session("en").unwrap();
    session.type_text(&huge);
    assert!(session.current_word().len() <= 1024);
    assert!(session.suggestions(3).is_empty());
    session.type_text(" \u{0}\u{1}hel");
    assert_eq!(session.current_word(), "hel");
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nib-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
