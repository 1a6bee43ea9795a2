use std::path::Path;
use std::process::{Command, Stdio};

use nib_engine::Error;
use nib_engine::lm::{METRICS_FILE, MODEL_FILE, NeuralLm, TELEMETRY_OFF_VARIABLE, TOKENIZER_FILE};
use nib_tests::{lm_dir, neural_lm, runtime};

/// Total variation distance between two next-token distributions (log-probabilities).
fn total_variation(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x.exp() - y.exp()).abs())
        .sum::<f32>()
        / 2.0
}

/// The likeliest token.
fn argmax(log_probs: &[f32]) -> Option<usize> {
    (0..log_probs.len()).max_by(|&i, &j| log_probs[i].total_cmp(&log_probs[j]))
}

#[test]
fn incremental_context_matches_a_full_run() {
    // Two fresh models, so that neither shares cached states with other tests.
    let whole = NeuralLm::load(&lm_dir(), &runtime(), 1).unwrap();
    let stepwise = NeuralLm::load(&lm_dir(), &runtime(), 1).unwrap();
    let ids = whole.context_ids("We are going to the station. I would like to");
    let prefix = whole.context_ids("We are going to the station. I would");
    assert!(ids.starts_with(&prefix) && ids.len() > prefix.len());
    let full = whole.state(&ids).unwrap();
    stepwise.state(&prefix).unwrap();
    let extended = stepwise.state(&ids).unwrap();
    let (a, b) = (full.next_token_log_probs(), extended.next_token_log_probs());
    assert_eq!(argmax(a), argmax(b));
    // Dynamic int8 quantisation scales activations per call, so a run over
    // more tokens quantises slightly differently (the fp32 export agrees to
    // 1e-5). A cache bug is far larger: dropping one token of the context
    // moves most of the mass.
    let cached = total_variation(a, b);
    assert!(
        cached < 0.05,
        "cached and uncached distributions differ by {cached}"
    );
    let shorter = whole.state(&ids[..ids.len() - 1]).unwrap();
    let dropped = total_variation(a, shorter.next_token_log_probs());
    assert!(
        dropped > 4.0 * cached,
        "a dropped token moves only {dropped}"
    );
}

#[test]
fn a_window_moved_on_by_a_word_reuses_the_window_before() {
    let fresh = NeuralLm::load(&lm_dir(), &runtime(), 1).unwrap();
    let moving = NeuralLm::load(&lm_dir(), &runtime(), 1).unwrap();
    let text = "We are going to the station because the train leaves at noon and \
                I would like to have a coffee with you before";
    let before = moving.context_ids_within(text, 16);
    let after = moving.context_ids_within(&format!("{text} we"), 16);
    assert_eq!(before.len(), 16);
    let dropped = (1..16).find(|&d| after.starts_with(&before[d..])).unwrap();
    assert!(
        dropped < 16 && after.len() == 16,
        "the window moved by {dropped}"
    );
    moving.state(&before).unwrap();
    let moved = moving.state(&after).unwrap();
    let whole = fresh.state(&after).unwrap();
    let (a, b) = (whole.next_token_log_probs(), moved.next_token_log_probs());
    let apart = total_variation(a, b);
    // A state run afresh would be the same to the last bit: this one was
    // not, so the window before was reused.
    assert!(apart > 0.0, "the moved window was run afresh");
    assert_eq!(argmax(a), argmax(b));
    // The reused keys and values saw the dropped words too, so the two
    // differ a little; keys left at their old positions, or a window that
    // lost its last word, move far more of the mass.
    let shorter = fresh.state(&after[..after.len() - 1]).unwrap();
    let lost = total_variation(a, shorter.next_token_log_probs());
    assert!(
        apart < 0.1 && lost > 3.0 * apart,
        "moved {apart}, lost {lost}"
    );
}

#[test]
fn an_empty_text_after_a_long_one_runs_the_model() {
    // A long text written word by word fills the state cache with moving
    // windows (the state of "<s>" alone falls out of it); the last window
    // ends with a sentence start. An empty text is "<s>" alone: it must get
    // a state of its own, not that window's end with nothing left to run.
    let engine = engine_with_model(unhurried());
    let words = "We are going to the station because the train leaves at noon and I \
                 would like to have a coffee with you before it does and then we can \
                 talk about the trip and the people we will meet there next week.";
    let mut text = String::new();
    for word in words.split(' ') {
        text.push_str(word);
        text.push(' ');
        let (_, stages) = engine.suggest_with_stages("en", &text, "", 3).unwrap();
        assert_eq!(stages.neural, nib_engine::NeuralStage::Ran, "{text:?}");
    }
    let (suggestions, stages) = engine.suggest_with_stages("en", "", "", 3).unwrap();
    assert_eq!(stages.neural, nib_engine::NeuralStage::Ran);
    assert!(!suggestions.is_empty());
}

#[test]
fn word_scores_follow_the_context() {
    let lm = neural_lm();
    let english = lm.state(&lm.context_ids("Thank")).unwrap();
    let german = lm.state(&lm.context_ids("Ich habe keine")).unwrap();
    let s = |state, word: &str| lm.score_words(state, &[word]).unwrap()[0].unwrap();
    assert!(s(&english, "you") > s(&german, "you"));
    assert!(s(&german, "Zeit") > s(&english, "Zeit"));
    // A word is more likely than a longer word it begins, after "Thank".
    assert!(s(&english, "you") > s(&english, "young"));
    // Batched and single scoring agree.
    let batch = lm.score_words(&english, &["you", "young", "for"]).unwrap();
    let fresh = lm.state(&lm.context_ids("Thank")).unwrap();
    assert!((batch[1].unwrap() - s(&fresh, "young")).abs() < 1e-3);
}

#[test]
fn next_word_candidates_are_words() {
    let lm = neural_lm();
    let state = lm.state(&lm.context_ids("Thank")).unwrap();
    let next = lm.next_word_tokens(&state, 5);
    assert_eq!(next.len(), 5);
    assert!(next.iter().any(|(w, _)| *w == "you"), "{next:?}");
    assert!(next.windows(2).all(|p| p[0].1 >= p[1].1));
}

fn copy_model(to: &Path) {
    for file in [MODEL_FILE, TOKENIZER_FILE, METRICS_FILE] {
        std::fs::copy(lm_dir().join(file), to.join(file)).unwrap();
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nib-lm-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn corrupt_truncated_or_mismatched_models_are_typed_errors() {
    let dir = temp_dir("corrupt");
    copy_model(&dir);
    let model = std::fs::read(dir.join(MODEL_FILE)).unwrap();
    std::fs::write(dir.join(MODEL_FILE), &model[..model.len() / 2]).unwrap();
    let err = NeuralLm::load(&dir, &runtime(), 1).unwrap_err();
    assert!(matches!(err, Error::Model { .. }), "{err}");
    assert!(err.to_string().contains(MODEL_FILE), "{err}");

    copy_model(&dir);
    std::fs::write(dir.join(TOKENIZER_FILE), b"{ not json").unwrap();
    let err = NeuralLm::load(&dir, &runtime(), 1).unwrap_err();
    assert!(err.to_string().contains(TOKENIZER_FILE), "{err}");

    copy_model(&dir);
    let metrics = std::fs::read_to_string(dir.join(METRICS_FILE)).unwrap();
    let vocab = nib_tests::neural_lm().config().vocab_size;
    let wrong = metrics.replacen(&format!("\"vocab_size\": {vocab}"), "\"vocab_size\": 12", 1);
    assert_ne!(wrong, metrics, "metrics.json names the vocabulary size");
    std::fs::write(dir.join(METRICS_FILE), wrong).unwrap();
    let err = NeuralLm::load(&dir, &runtime(), 1).unwrap_err();
    assert!(err.to_string().contains("the model expects 12"), "{err}");
}

#[test]
fn a_missing_runtime_is_a_typed_error_and_the_engine_still_ranks() {
    let missing = Path::new("/nonexistent/libonnxruntime.so.1.31.1");
    let err = NeuralLm::load(&lm_dir(), missing, 1).unwrap_err();
    assert!(matches!(err, Error::Runtime { .. }), "{err}");
    let engine = nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["en"])
        .language_model(lm_dir(), missing, 1)
        .build()
        .unwrap();
    assert!(engine.language_model().is_none());
    assert!(matches!(engine.lm_error(), Some(Error::Runtime { .. })));
    let (suggestions, stages) = engine.suggest_with_stages("en", "Thank", "", 3).unwrap();
    assert_eq!(suggestions[0].text, "you");
    assert_eq!(stages.neural, nib_engine::NeuralStage::NotUsed);
}

/// An engine with the English and German packs and the model, with `config`.
fn engine_with_model(config: nib_engine::Config) -> nib_engine::Engine {
    nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["en", "de"])
        .language_model(lm_dir(), runtime(), 1)
        .config(config)
        .build()
        .unwrap()
}

/// The default settings with time enough for the model on a loaded machine.
fn unhurried() -> nib_engine::Config {
    nib_engine::Config {
        lm_budget: std::time::Duration::from_secs(5),
        ..Default::default()
    }
}

#[test]
fn the_engine_ranks_with_the_model_when_loaded() {
    let engine = engine_with_model(unhurried());
    assert!(engine.lm_error().is_none(), "{:?}", engine.lm_error());
    let (suggestions, stages) = engine
        .suggest_with_stages("de", "Ich habe keine", "", 3)
        .unwrap();
    assert_eq!(stages.neural, nib_engine::NeuralStage::Ran);
    assert_eq!(suggestions.len(), 3);
    // Forgetting a word drops the cached contexts that hold typed text.
    let lm = engine.language_model().unwrap();
    let ids = lm.context_ids("Ich habe keine");
    let cached = lm.state(&ids).unwrap();
    assert!(std::sync::Arc::ptr_eq(&cached, &lm.state(&ids).unwrap()));
    engine.forget("keine").unwrap();
    assert!(!std::sync::Arc::ptr_eq(&cached, &lm.state(&ids).unwrap()));
    let zero_budget = engine_with_model(nib_engine::Config {
        lm_budget: std::time::Duration::ZERO,
        ..Default::default()
    });
    let (_, stages) = zero_budget
        .suggest_with_stages("en", "Thank", "", 3)
        .unwrap();
    assert_eq!(stages.neural, nib_engine::NeuralStage::OverBudget);
}

#[test]
fn the_model_proposes_completions_of_the_typed_letters() {
    // No n-gram candidate is rescored: what the model adds is its own words.
    let with_proposals = |proposals: usize| {
        engine_with_model(nib_engine::Config {
            lm_candidates: 0,
            lm_proposals: proposals,
            ..unhurried()
        })
    };
    let texts = |engine: &nib_engine::Engine| -> Vec<String> {
        let (suggestions, stages) = engine
            .suggest_with_stages("en", "I would like a cup of", "c", 3)
            .unwrap();
        assert_eq!(stages.neural, nib_engine::NeuralStage::Ran);
        suggestions.into_iter().map(|s| s.text).collect()
    };
    let proposed = texts(&with_proposals(8));
    assert_eq!(proposed[0], "coffee", "{proposed:?}");
    assert!(proposed.iter().all(|w| w.starts_with('c')), "{proposed:?}");
    let ngram_only = texts(&with_proposals(0));
    assert!(!ngram_only.contains(&"coffee".to_owned()), "{ngram_only:?}");
}

#[test]
fn a_short_list_heads_a_long_one() {
    // Asking for 3 or for 40 suggestions scores the same candidates in the
    // same run: the heads agree.
    let engine = engine_with_model(unhurried());
    let cases = [
        ("en", "I would like a cup of", ""),
        ("en", "I would like a cup of", "t"),
        ("en", "Where are you", "g"),
        ("en", "She said that", "th"),
        ("de", "Ich habe keine", "Z"),
        ("de", "Wir gehen morgen", "in"),
    ];
    for (lang, context, typed) in cases {
        let head = |k: usize| -> Vec<String> {
            let (suggestions, stages) =
                engine.suggest_with_stages(lang, context, typed, k).unwrap();
            assert_eq!(stages.neural, nib_engine::NeuralStage::Ran);
            suggestions.into_iter().take(3).map(|s| s.text).collect()
        };
        assert_eq!(head(3), head(40), "{lang} {context:?} {typed:?}");
    }
}

/// The autocorrect decision's margin for `letters` tapped at the key
/// centres after `context`, and what it committed.
fn decision_margin(engine: &nib_engine::Engine, context: &str, letters: &str) -> (f32, String) {
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context(context);
    crate::decoding::tap_word(&mut session, letters);
    crate::decoding::space(&mut session);
    let decision = session.last_decision().unwrap();
    (decision.margin, session.context().to_owned())
}

#[test]
fn the_decision_scores_an_unknown_typed_word_with_the_model() {
    // Typed at the key centres, a string no lexicon word explains well is
    // kept by the unknown-word prior alone (it wins by many nats); the
    // model finds it far less likely than that prior, as it does a typo,
    // and the decoder's reading wins.
    let with = engine_with_model(unhurried());
    let without = engine_with_model(nib_engine::Config {
        score_typed_with_lm: false,
        ..unhurried()
    });
    let (margin_without, kept) = decision_margin(&without, "She said ", "qxzvkj");
    assert_eq!(kept, "She said qxzvkj ");
    assert!(margin_without < -5.0, "{margin_without}");
    let (margin_with, corrected) = decision_margin(&with, "She said ", "qxzvkj");
    assert_ne!(corrected, kept);
    assert!(margin_with > 0.0, "{margin_with}");
    // Words the lexicon knows are kept either way.
    for engine in [&with, &without] {
        let (_, text) = decision_margin(engine, "We watched it on ", "netflix");
        assert_eq!(text, "We watched it on netflix ");
    }
}

/// Set in the child process of
/// `onnx_runtime_writes_nothing_to_the_home_directory`.
const TELEMETRY_CHILD: &str = "NIB_TEST_TELEMETRY_CHILD";

/// Loads the model and scores a word; run in a child process with a fresh
/// home directory by `onnx_runtime_writes_nothing_to_the_home_directory`.
#[test]
#[ignore = "run in a child process by onnx_runtime_writes_nothing_to_the_home_directory"]
fn load_and_score_in_a_child_process() {
    if std::env::var_os(TELEMETRY_CHILD).is_none() {
        return;
    }
    let lm = NeuralLm::load(&lm_dir(), &runtime(), 1).unwrap();
    let state = lm.state(&lm.context_ids("Thank")).unwrap();
    assert!(lm.score_words(&state, &["you"]).unwrap()[0].is_some());
}

#[test]
fn onnx_runtime_writes_nothing_to_the_home_directory() {
    // Microsoft's ONNX Runtime builds write a device id and a telemetry
    // queue under ~/.cache/Microsoft unless the engine turns that off. The
    // child is a fresh process, so the library loads there for the first
    // time, as in a keyboard.
    let home = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lm::load_and_score_in_a_child_process",
            "--ignored",
            "--test-threads=1",
        ])
        .env(TELEMETRY_CHILD, "1")
        .env("HOME", home.path())
        .env_remove("XDG_CACHE_HOME")
        .env_remove(TELEMETRY_OFF_VARIABLE)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the child failed: {status}");
    let written: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(written.is_empty(), "ONNX Runtime wrote {written:?}");
}

#[test]
fn a_word_the_lexicon_lacks_is_split_only_if_the_model_agrees() {
    let engine = nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["fr", "it"])
        .language_model(lm_dir(), runtime(), 1)
        .config(unhurried())
        .build()
        .unwrap();
    // `head`, then the key `low` tapped near its bottom edge (as likely the
    // space bar below it), then `tail`, all after `context`.
    let typed = |lang: &str, context: &str, (head, low, tail): (&str, &str, &str)| {
        let mut session = engine.fresh_user().session(lang).unwrap();
        session.set_context(context);
        crate::decoding::tap_word(&mut session, head);
        let layout = engine.pack(lang).unwrap().layout().clone();
        let key = layout.keys.iter().find(|k| k.output == low).unwrap();
        session.tap(key.x, key.y + 0.4).unwrap();
        crate::decoding::tap_word(&mut session, tail);
        crate::decoding::space(&mut session);
        (
            session.context().to_owned(),
            session.last_decision().cloned(),
        )
    };
    // The word-pair model reads "De ian", two words it knows and a
    // space-bar hit; the neural model finds the name the likelier.
    let (text, decision) = typed("fr", "Avec ", ("De", "b", "ian"));
    assert_eq!(text, "Avec Debian ", "{decision:?}");
    // Where the model agrees, the taps are still read as two words.
    let (text, decision) = typed("it", "Il tempo ", ("di", "v", "ora"));
    assert_eq!(text, "Il tempo di ora ", "{decision:?}");
}

#[test]
fn letters_that_are_a_word_and_an_elision_are_the_models_call() {
    let with_model = nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["fr"])
        .language_model(lm_dir(), runtime(), 1)
        .config(unhurried())
        .build()
        .unwrap();
    let without = nib_engine::Engine::builder()
        .pack_dir(nib_tests::pack_dir(), ["fr"])
        .build()
        .unwrap();
    let typed = |engine: &nib_engine::Engine, context: &str, letters: &str| {
        let mut session = engine.fresh_user().session("fr").unwrap();
        session.set_context(context);
        crate::decoding::tap_word(&mut session, letters);
        crate::decoding::space(&mut session);
        session.context().to_owned()
    };
    // "lune" is a word, and "l'une" typed without its apostrophe.
    assert_eq!(
        typed(&with_model, "Regarde la ", "lune"),
        "Regarde la lune "
    );
    assert_eq!(
        typed(&with_model, "Il a deux filles. Il aime ", "lune"),
        "Il a deux filles. Il aime l'une "
    );
    // Without the model the lexicon's far likelier form is taken.
    assert_eq!(typed(&without, "Regarde la ", "lune"), "Regarde la l'une ");
    // Letters the model finds rarer than the elision are the elision.
    assert_eq!(typed(&with_model, "Oui ", "cest"), "Oui c'est ");
}

#[test]
fn a_common_word_typed_is_replaced_only_by_a_far_likelier_one() {
    let engine = engine_with_model(unhurried());
    for (context, typed, committed) in [
        // Real-word errors: the taps spell a common word, the text before
        // wants a neighbour of it far more.
        ("We met ", "st", "at"),
        ("What ", "id", "is"),
        // Where the word typed reads well, it stays ("one or two").
        ("It was one ", "or", "or"),
        ("He is ", "our", "our"),
    ] {
        let mut session = engine.fresh_user().session("en").unwrap();
        session.set_context(context);
        crate::decoding::tap_word(&mut session, typed);
        crate::decoding::space(&mut session);
        assert_eq!(
            session.context(),
            format!("{context}{committed} "),
            "{:?}",
            session.last_decision()
        );
    }
}

#[test]
fn a_common_word_merely_typed_before_is_weighed_but_one_taught_is_kept() {
    let engine = engine_with_model(unhurried());
    let commit = |engine: &nib_engine::Engine| {
        let mut session = engine.session("en").unwrap();
        session.set_context("We met ");
        crate::decoding::tap_word(&mut session, "st");
        crate::decoding::space(&mut session);
        session.context().to_owned()
    };
    // Typed twice before (a typo kept twice): known to the dictionary, but
    // no reason to keep it where a neighbour reads far better.
    let typed = engine.fresh_user();
    for _ in 0..2 {
        typed.personal().learn("st", None, false).unwrap();
    }
    assert!(typed.personal().knows("st"));
    assert_eq!(commit(&typed), "We met at ");
    // Picked once: the user's word.
    let taught = engine.fresh_user();
    taught.personal().learn("st", None, true).unwrap();
    assert_eq!(commit(&taught), "We met st ");
}

/// `first` and `second` tapped on their keys' centres after `context`,
/// each followed by the space bar: the text after the first word, after
/// both, and the revision the second word's commit made.
fn two_words(
    engine: &nib_engine::Engine,
    context: &str,
    first: &str,
    second: &str,
) -> (String, String, Option<(String, String)>) {
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context(context);
    crate::decoding::tap_word(&mut session, first);
    crate::decoding::space(&mut session);
    let after_first = session.context().to_owned();
    crate::decoding::tap_word(&mut session, second);
    crate::decoding::space(&mut session);
    let revised = session
        .revised_previous_word()
        .map(|(was, now)| (was.to_owned(), now.to_owned()));
    (after_first, session.context().to_owned(), revised)
}

#[test]
fn a_word_is_decided_again_once_the_next_word_is_known() {
    let engine = engine_with_model(unhurried());
    // "dtop" after "Can you" reads as "stop"; "off" after it says "drop".
    let (first, both, revised) = two_words(&engine, "Can you ", "dtop", "off");
    assert_eq!(first, "Can you stop ");
    assert_eq!(both, "Can you drop off ");
    assert_eq!(revised, Some(("stop".to_owned(), "drop".to_owned())));
    // A word kept as typed and given a capital where a sentence begins
    // is weighed again too: "of" is "Of" until "we" says "If".
    let (first, both, revised) = two_words(&engine, "Sure. ", "of", "we");
    assert_eq!(first, "Sure. Of ");
    assert_eq!(both, "Sure. If we ");
    assert_eq!(revised, Some(("Of".to_owned(), "If".to_owned())));
    // Where the next word agrees, nothing changes: "stop by".
    let (_, both, revised) = two_words(&engine, "I will ", "dtop", "by");
    assert_eq!((both.as_str(), revised), ("I will stop by ", None));
    // Turned off, the first reading stays.
    let engine = engine_with_model(nib_engine::Config {
        lookahead_lm_weight: 0.0,
        ..unhurried()
    });
    let (_, both, revised) = two_words(&engine, "Can you ", "dtop", "off");
    assert_eq!((both.as_str(), revised), ("Can you stop off ", None));
}

#[test]
fn a_replay_counts_the_word_as_the_next_words_commit_rewrote_it() {
    let engine = engine_with_model(unhurried());
    let layout = engine.pack("en").unwrap().layout().clone();
    let tap = |output: char| {
        let output = output.to_string();
        let key = layout.keys.iter().find(|k| k.output == output).unwrap();
        format!(r#"{{"type":"tap","x":{},"y":{}}}"#, key.x, key.y)
    };
    let mut lines = vec![
        r#"{"type":"session","version":1,"language":"en","field":"text"}"#.to_owned(),
        r#"{"type":"context","before":"Can you "}"#.to_owned(),
        r#"{"type":"expect","text":"drop"}"#.to_owned(),
    ];
    lines.extend("dtop ".chars().map(tap));
    lines.push(r#"{"type":"expect","text":"off"}"#.to_owned());
    lines.extend("off ".chars().map(tap));
    let mut tally = nib_engine::typing::Tally::default();
    nib_engine::typing::Replayer::new(engine, nib_engine::typing::ReplayOptions::default())
        .replay(
            "revised.jsonl",
            lines.join("\n").as_bytes(),
            &mut tally,
            |_| {},
        )
        .unwrap();
    assert_eq!(tally.overall.words, 2);
    assert_eq!(tally.overall.correct, 2, "{:?}", tally.mistakes);
}
