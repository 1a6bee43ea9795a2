use nib_engine::personal::{Learned, Limits, PersonalStore};
use nib_engine::{Engine, FieldType, SessionOptions};
use nib_tests::{engine, made_up_word, pack_dir};
use proptest::prelude::*;

fn store() -> PersonalStore {
    PersonalStore::in_memory(Limits::default())
}

#[test]
fn a_word_is_suggested_after_two_commits_or_one_explicit_choice() {
    let store = store();
    assert_eq!(
        store.learn("Qorvex", None, false).unwrap(),
        Learned::Pending
    );
    assert!(!store.knows("Qorvex"));
    assert_eq!(
        store.learn("Qorvex", None, false).unwrap(),
        Learned::Suggestible
    );
    assert!(store.knows("qorvex"));
    assert_eq!(store.add("Zyntra").unwrap(), Learned::Suggestible);
    let found = store.completions("qo", None, 3);
    assert_eq!(found[0].0, "Qorvex");
}

#[test]
fn secrets_are_never_learned_in_any_field() {
    let store = store();
    for secret in [
        "4111111111111111",
        "06123456",
        "alice@example.com",
        "sk-live1234567890abcdef",
        "Hunter2!x",
    ] {
        assert!(
            matches!(
                store.learn(secret, None, false).unwrap(),
                Learned::Refused(_)
            ),
            "{secret}"
        );
        assert!(
            matches!(
                store.learn(secret, None, false).unwrap(),
                Learned::Refused(_)
            ),
            "{secret}"
        );
    }
    assert!(store.is_empty());
    // An address the user adds on purpose is kept.
    assert_eq!(
        store.add("alice@example.com").unwrap(),
        Learned::Suggestible
    );
}

fn learner() -> Engine {
    engine().fresh_user()
}

#[test]
fn fields_that_must_not_learn_do_not() {
    for (field, no_learning) in [
        (FieldType::Password, false),
        (FieldType::Number, false),
        (FieldType::OneTimeCode, false),
        (FieldType::Text, true),
    ] {
        let engine = learner();
        let options = SessionOptions {
            field,
            no_learning,
            ..SessionOptions::default()
        };
        let mut session = engine.session_with("en", options).unwrap();
        session.type_text("Qorvex Qorvex Qorvex ");
        assert!(engine.personal().is_empty(), "{field:?} {no_learning}");
    }
    let engine = learner();
    let mut session = engine.session("en").unwrap();
    session.type_text("Qorvex Qorvex ");
    assert!(engine.personal().knows("Qorvex"));
    session.type_text("Qo");
    assert_eq!(session.suggestions(3)[0].text, "Qorvex");
}

#[test]
fn learned_pairs_shape_the_next_word() {
    let engine = learner();
    let mut session = engine.session("en").unwrap();
    for _ in 0..3 {
        session.type_text("see Qorvex tomorrow. ");
    }
    session.type_text("see ");
    let texts: Vec<String> = session.suggestions(3).into_iter().map(|s| s.text).collect();
    assert!(texts.contains(&"Qorvex".to_owned()), "{texts:?}");
}

#[test]
fn block_hides_and_forget_removes_every_trace_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user.nibdict");
    let engine = Engine::builder()
        .pack_dir(pack_dir(), ["en"])
        .personal_store(&path)
        .build()
        .unwrap();
    let mut session = engine.session("en").unwrap();
    session.type_text("meet Qorvex and Zyntra soon, Qorvex and Zyntra. ");
    engine.personal().sync().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("Qorvex"));
    engine.personal().block("Zyntra").unwrap();
    session.type_text("Zy");
    assert!(session.suggestions(5).iter().all(|s| s.text != "Zyntra"));
    session.set_context("");
    engine.forget("Qorvex").unwrap();
    assert!(!engine.personal().knows("Qorvex"));
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes)
            .to_lowercase()
            .contains("qorvex"),
        "no trace on disk"
    );
    // Reopened, the store has what was acknowledged and nothing forgotten.
    drop(session);
    drop(engine);
    let engine = Engine::builder()
        .pack_dir(pack_dir(), ["en"])
        .personal_store(&path)
        .build()
        .unwrap();
    assert!(engine.personal_error().is_none());
    assert!(engine.personal().is_blocked("Zyntra"));
    assert!(!engine.personal().knows("Qorvex"));
    assert!(engine.personal().knows("and"));
}

#[test]
fn a_damaged_store_is_kept_aside_and_the_engine_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user.nibdict");
    std::fs::write(&path, b"definitely not a dictionary").unwrap();
    let engine = Engine::builder()
        .pack_dir(pack_dir(), ["en"])
        .personal_store(&path)
        .build()
        .unwrap();
    let err = engine.personal_error().expect("reported");
    assert!(err.to_string().contains("damaged"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("damaged"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&kept[0])).unwrap(),
        b"definitely not a dictionary"
    );
    let mut session = engine.session("en").unwrap();
    session.type_text("Qorvex Qorvex ");
    assert!(engine.personal().knows("Qorvex"));
}

#[test]
fn personal_words_are_never_autocorrected_and_undo_teaches() {
    let engine = learner();
    let layout = engine.pack("en").unwrap().layout().clone();
    let tap = |session: &mut nib_engine::Session, word: &str| {
        for c in word.chars() {
            let key = layout
                .keys
                .iter()
                .find(|k| k.output == c.to_string())
                .unwrap();
            session.tap(key.x, key.y).unwrap();
        }
    };
    let mut session = engine.session("en").unwrap();
    session.set_context("I saw ");
    tap(&mut session, "teh ");
    assert_eq!(session.context(), "I saw the ");
    session.backspace(); // undo: the user wants "teh"
    assert!(!engine.personal().knows("teh"), "taught once committed");
    tap(&mut session, " ");
    assert!(engine.personal().knows("teh"));
    tap(&mut session, "teh ");
    assert!(
        session.context().ends_with("teh teh "),
        "{}",
        session.context()
    );
}

#[test]
fn the_store_stays_bounded() {
    let store = PersonalStore::in_memory(Limits {
        capacity: 100,
        ..Limits::default()
    });
    for i in 0..1_000 {
        store.learn(&made_up_word("word", i), None, false).unwrap();
    }
    assert!(store.len() <= 100);
}

#[test]
fn learning_on_one_thread_while_reading_on_another() {
    let engine = learner();
    let reader = engine.clone();
    let writer = std::thread::spawn(move || {
        let mut session = engine.session("en").unwrap();
        for i in 0..300 {
            session.type_text(&format!("{} ", made_up_word("Qor", i)));
        }
    });
    let mut session = reader.session("en").unwrap();
    for _ in 0..300 {
        session.set_context("Qo");
        assert!(session.suggestions(3).len() <= 3);
    }
    writer.join().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Export then import gives the same store; learn then forget leaves
    /// nothing of the word.
    #[test]
    fn export_import_is_the_identity_and_forget_forgets(
        words in proptest::collection::vec("[a-z]{3,9}", 1..40),
        explicit in proptest::collection::vec(any::<bool>(), 40),
    ) {
        let learned = store();
        let mut previous: Option<String> = None;
        for (i, w) in words.iter().enumerate() {
            learned.learn(w, previous.as_deref(), explicit[i % explicit.len()]).unwrap();
            previous = Some(w.clone());
        }
        let export = learned.export();
        let json = serde_json::to_string(&export).unwrap();
        let copy = store();
        copy.import(&serde_json::from_str(&json).unwrap()).unwrap();
        prop_assert_eq!(copy.export(), export);
        let victim = &words[0];
        learned.forget(victim).unwrap();
        let after = serde_json::to_string(&learned.export()).unwrap();
        prop_assert!(!after.contains(&format!("\"{victim}\"")), "{}", after);
    }
}

#[test]
fn new_words_become_ldp_reports_only_when_opted_in() {
    use nib_engine::personal::ldp::{Aggregator, SketchParams};
    let engine = learner();
    let mut session = engine.session("en").unwrap();
    session.type_text("Qorvex Qorvex ");
    assert!(engine.personal().take_ldp_reports().unwrap().is_empty());
    let params = SketchParams::default();
    engine.enable_ldp(params).unwrap();
    // Known words and words seen once are not reported; a new word is
    // reported once, when it becomes a suggestion.
    session.type_text("the the Zyntra Xylbrant Xylbrant Xylbrant ");
    let reports = engine.personal().take_ldp_reports().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let json = serde_json::to_string(&reports[0]).unwrap();
    assert!(!json.contains("Xylbrant"));
    let mut sketch = Aggregator::new(params).unwrap();
    sketch.add(&reports[0]).unwrap();
    assert!(engine.personal().take_ldp_reports().unwrap().is_empty());
    // A forgotten word's pending report goes with it.
    session.type_text("Zyntra ");
    engine.forget("Zyntra").unwrap();
    assert!(engine.personal().take_ldp_reports().unwrap().is_empty());
    engine.personal().disable_ldp().unwrap();
    session.type_text("Blorptang Blorptang ");
    assert!(engine.personal().take_ldp_reports().unwrap().is_empty());
}

#[test]
fn concurrent_learners_reach_the_disk_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("user.nibdict");
    let store = std::sync::Arc::new(PersonalStore::open(&path, Limits::default()).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t: u64| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..200u64 {
                    store.learn("Qorvex", None, false).unwrap();
                    store
                        .learn(&made_up_word("Zyn", t * 1000 + i), Some("Qorvex"), false)
                        .unwrap();
                }
            })
        })
        .collect();
    for _ in 0..200 {
        let _ = store.completions("qo", Some("Qorvex"), 3);
    }
    for thread in threads {
        thread.join().unwrap();
    }
    let in_memory = store.export();
    drop(store);
    let reopened = PersonalStore::open(&path, Limits::default()).unwrap();
    assert_eq!(
        reopened.export(),
        in_memory,
        "the file holds the latest state"
    );
    assert_eq!(reopened.len(), 801);
}
