use nib_engine::fold;
use nib_tests::{LANGUAGES, engine};

#[test]
fn every_pack_is_large_clean_and_documented() {
    let engine = engine();
    for lang in LANGUAGES {
        let pack = engine.pack(lang).unwrap();
        let m = pack.manifest();
        assert!(m.words >= 150_000, "{lang}: only {} words", m.words);
        assert!(m.offensive_words > 0, "{lang}: no offensive words marked");
        assert!(!m.sources.is_empty() && m.sources.iter().all(|s| !s.license.is_empty()));
        assert!(
            m.sources.iter().all(|s| s.sha256.len() == 64),
            "{lang}: unpinned source"
        );
        assert_eq!(pack.layout().language, lang);
        let letters = pack.layout().letters().count();
        assert!(
            (26..=33).contains(&letters),
            "{lang}: {letters} letter keys"
        );
        // Spot-check the cleaning over a sample of ids.
        let step = (pack.word_count() / 5000).max(1);
        for id in (0..pack.word_count()).step_by(step as usize) {
            let word = pack.word(nib_engine::pack::WordId(id)).unwrap().surface;
            assert!(
                !word.chars().any(|c| c.is_numeric() || c == '.' || c == '/'),
                "{lang}: {word:?}"
            );
            assert!(!fold(word).is_empty());
        }
    }
}

#[test]
fn english_has_pairs_and_casing() {
    let engine = engine();
    let en = engine.pack("en").unwrap();
    assert!(en.manifest().pairs > 50_000);
    for (word, surface) in [
        ("i", "I"),
        ("paris", "Paris"),
        ("monday", "Monday"),
        ("the", "the"),
    ] {
        let id = en.lookup(word).unwrap();
        assert_eq!(en.word(id).unwrap().surface, surface);
    }
    let de = engine.pack("de").unwrap();
    for (word, surface) in [
        ("haus", "Haus"),
        ("strasse", "Straße"),
        ("machen", "machen"),
    ] {
        let id = de.lookup(word).unwrap();
        assert_eq!(de.word(id).unwrap().surface, surface);
    }
}

#[test]
fn french_elides_where_french_does() {
    let engine = engine();
    let fr = engine.pack("fr").unwrap();
    let listed = |word: &str| fr.exact(&fold(word)).any(|w| w.surface == word);
    for word in [
        "c'est", "l'homme", "d'être", "s'il", "qu'il", "qu'à", "d'où", "l'on",
    ] {
        assert!(listed(word), "{word} missing");
    }
    // Forms no French text has, which typing "set" or "jet" would offer.
    for word in [
        "s'et", "c'et", "l'ou", "j'il", "l'à", "d'au", "j'être", "c'être",
    ] {
        assert!(!listed(word), "{word} listed");
    }
}

#[test]
fn layouts_have_their_language_letters() {
    let engine = engine();
    let has = |lang: &str, letter: &str| {
        engine
            .pack(lang)
            .unwrap()
            .layout()
            .letters()
            .any(|k| k.output == letter)
    };
    assert!(has("es", "ñ") && has("de", "ü") && has("ru", "й") && has("fr", "a"));
    let fr = engine.pack("fr").unwrap().layout();
    assert_eq!(fr.keys[0].output, "a", "AZERTY starts with a");
    let de = engine.pack("de").unwrap().layout();
    assert!(
        de.keys.iter().position(|k| k.output == "z") < de.keys.iter().position(|k| k.output == "u")
    );
}

#[test]
fn lexicon_walks_agree_with_the_word_list() {
    let engine = engine();
    let pack = engine.pack("en").unwrap();
    let root = pack.lexicon_root();
    // A walk by characters reaches the node of the whole key, and its
    // words are the key's.
    let by_chars = "hello"
        .chars()
        .try_fold(root, |node, c| pack.lexicon_step(node, c))
        .unwrap();
    assert_eq!(Some(by_chars), pack.lexicon_next(root, "hello"));
    assert!(pack.lexicon_words(by_chars).any(|w| w.surface == "hello"));
    assert!(pack.lexicon_next(root, "qxz").is_none());
    // The children of "hel" are the letters that continue some word, each
    // leading where a step would.
    let hel = pack.lexicon_next(root, "hel").unwrap();
    let children = pack.lexicon_children(hel);
    for c in ['l', 'p', 'd'] {
        let child = children.iter().find(|(k, _)| *k == c).map(|(_, n)| *n);
        assert_eq!(child, pack.lexicon_step(hel, c), "{c}");
    }
    assert!(children.iter().all(|&(c, _)| c != 'q'));
    // Letters of several bytes are whole characters.
    let ru = engine.pack("ru").unwrap();
    let pr = ru.lexicon_next(ru.lexicon_root(), "пр").unwrap();
    let children = ru.lexicon_children(pr);
    assert!(children.iter().any(|&(c, _)| c == 'и'), "привет");
    assert!(
        children
            .iter()
            .all(|&(c, _)| c.is_alphabetic() || c == '\'')
    );
}
