use nib_tests::engine;

fn texts(session: &nib_engine::Session) -> Vec<String> {
    session.suggestions(3).into_iter().map(|s| s.text).collect()
}

#[test]
fn typing_tracks_word_and_context() {
    let engine = engine();
    let mut session = engine.session("en").unwrap();
    session.type_text("I live in New Yo");
    assert_eq!(session.current_word(), "Yo");
    assert_eq!(session.context(), "I live in New ");
    assert_eq!(texts(&session).first().map(String::as_str), Some("York"));
    session.pick("York");
    assert_eq!(session.current_word(), "");
    assert_eq!(session.context(), "I live in New York ");
    session.type_text("and thank ");
    assert_eq!(texts(&session).first().map(String::as_str), Some("you"));
}

#[test]
fn backspace_is_grapheme_aware_and_reopens_words() {
    let engine = engine();
    let mut session = engine.session("fr").unwrap();
    // "é" typed as e + combining acute is one grapheme.
    session.type_text("cafe\u{301}");
    session.backspace();
    assert_eq!(session.current_word(), "caf");
    session.type_text("é ");
    assert_eq!(session.current_word(), "");
    session.backspace();
    session.backspace();
    assert_eq!(
        session.current_word(),
        "caf",
        "deleting into a word makes it current again"
    );
    for _ in 0..10 {
        session.backspace();
    }
    assert_eq!((session.context(), session.current_word()), ("", ""));
}

#[test]
fn decomposed_input_is_normalised() {
    let engine = engine();
    let mut session = engine.session("de").unwrap();
    session.type_text("das ist u\u{308}ber");
    assert!(texts(&session).contains(&"über".to_string()));
    session.type_text(" ");
    assert_eq!(
        session.context(),
        "das ist über ",
        "committed words are NFC"
    );
}

#[test]
fn set_context_resynchronises() {
    let engine = engine();
    let mut session = engine.session("en").unwrap();
    session.type_text("garbage that will be replaced");
    session.set_context("Hello. Nice to meet y");
    assert_eq!(session.current_word(), "y");
    assert_eq!(session.context(), "Hello. Nice to meet ");
    assert!(texts(&session).contains(&"you".to_string()));
}

#[test]
fn sessions_are_independent_and_usable_across_threads() {
    let engine = engine();
    let handles: Vec<_> = ["en", "de", "ru"]
        .into_iter()
        .map(|lang| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let mut session = engine.session(lang).unwrap();
                for _ in 0..50 {
                    session.type_text("a");
                    let _ = session.suggestions(3);
                    session.backspace();
                }
                session.current_word().to_owned()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), "");
    }
}
