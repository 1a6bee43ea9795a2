use std::path::Path;

use nib_handwriting::{
    Error, Ink, InkError, Point, RecognizerConfig, StrokeModel, features, parse_ink,
};
use nib_tests::{hw_model_dir, ink_fixture, neural_lm, recognizer, runtime};
use proptest::prelude::*;

#[test]
fn synthetic_words_and_a_line_are_recognised_with_the_lexicon() {
    let recognizer = recognizer();
    for name in ["hello", "world", "line"] {
        let (ink, label) = ink_fixture(name);
        let r = recognizer.recognize(&ink, 3, "").unwrap();
        let best = &r.candidates[0];
        assert_eq!(best.text, label, "{name}: {:?}", r.candidates);
        assert!(best.in_lexicon);
        // Candidates come best first and are distinct.
        assert!(r.candidates.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(r.candidates.windows(2).all(|w| w[0].text != w[1].text));
    }
}

#[test]
fn the_neural_model_rescores_words_written_after_text() {
    let plain = recognizer();
    let neural = plain.with_language_model(Some(neural_lm()));
    let (ink, label) = ink_fixture("hello");
    // A word written alone: the model has nothing to add.
    let alone = neural.recognize(&ink, 3, "").unwrap();
    assert!(alone.neural);
    assert_eq!(
        alone.candidates,
        plain.recognize(&ink, 3, "").unwrap().candidates
    );
    // After text, each reading gains the weighted model score of its words.
    let context = "She looked up and said";
    let before = plain.recognize(&ink, 8, context).unwrap();
    let after = neural.recognize(&ink, 8, context).unwrap();
    assert!(after.neural && !before.neural);
    assert_eq!(after.candidates[0].text, label);
    let lm = neural_lm();
    let config = neural.config();
    for c in &after.candidates {
        let searched = before.candidates.iter().find(|b| b.text == c.text).unwrap();
        let mut left = format!("{context} ");
        let mut neural_score = 0.0;
        for token in c.text.split_whitespace() {
            let word = nib_engine::split_token(token).1;
            if word.chars().any(char::is_alphanumeric) {
                let state = lm.state(&lm.context_ids(&left)).unwrap();
                neural_score +=
                    lm.score_words(&state, &[word]).unwrap()[0].unwrap() + config.neural_word_bonus;
                left = format!("{left}{word} ");
            }
        }
        let expected = searched.score + config.neural_weight * neural_score;
        assert!((c.score - expected).abs() < 1e-3, "{c:?} {expected}");
    }
    assert!(
        after
            .candidates
            .windows(2)
            .all(|w| w[0].score >= w[1].score)
    );
}

#[test]
fn a_name_comes_through_the_out_of_vocabulary_path() {
    let recognizer = recognizer();
    let (ink, label) = ink_fixture("name");
    assert!(recognizer.pack().unwrap().lookup(&label).is_none());
    let r = recognizer.recognize(&ink, 3, "").unwrap();
    assert_eq!(r.candidates[0].text, label, "{:?}", r.candidates);
    assert!(!r.candidates[0].in_lexicon);
}

#[test]
fn without_the_lexicon_every_word_is_new() {
    let free = recognizer().with_pack(None);
    let (ink, label) = ink_fixture("hello");
    let r = free.recognize(&ink, 3, "").unwrap();
    assert_eq!(r.candidates[0].text, label);
    assert!(r.candidates.iter().all(|c| !c.in_lexicon));
}

#[test]
fn stroke_by_stroke_matches_recognition_from_scratch() {
    let recognizer = recognizer();
    // From scratch with the settings a session uses (completions of the
    // last word).
    let scratch_recognizer = recognizer.with_config(RecognizerConfig {
        decode: recognizer.session_params(),
        ..*recognizer.config()
    });
    let (ink, _) = ink_fixture("line");
    let mut area = recognizer.session();
    let mut so_far = Ink::default();
    for stroke in &ink.strokes {
        area.add_stroke(stroke.clone()).unwrap();
        so_far.strokes.push(stroke.clone());
        let incremental = area.candidates(3).unwrap();
        // Asking again without new ink gives the kept answer.
        assert_eq!(area.candidates(3).unwrap(), incremental);
        let scratch = scratch_recognizer.recognize(&so_far, 3, "").unwrap();
        assert_eq!(incremental, scratch);
    }
    // Undo and redo of the last stroke come back to the same answer.
    let last = area.undo_stroke().unwrap();
    area.add_stroke(last).unwrap();
    assert_eq!(
        area.candidates(3).unwrap(),
        scratch_recognizer.recognize(&ink, 3, "").unwrap()
    );
    area.clear();
    assert!(matches!(
        area.candidates(3),
        Err(Error::Ink(InkError::Empty))
    ));
}

#[test]
fn a_half_written_word_is_completed_in_a_session() {
    let recognizer = recognizer();
    let (ink, _) = ink_fixture("hello");
    let mut area = recognizer.session();
    // The strokes of "hello" up to the first that ends right of the middle.
    let (_, _, x_end, _) = ink.bounds().unwrap();
    let (x0, ..) = ink.bounds().unwrap();
    for stroke in &ink.strokes {
        area.add_stroke(stroke.clone()).unwrap();
        if stroke.iter().map(|p| p.x).fold(f64::MIN, f64::max) > x0 + 0.6 * (x_end - x0) {
            break;
        }
    }
    let partial = area.candidates(5).unwrap();
    assert!(
        partial.candidates.iter().any(|c| c.completion),
        "{:?}",
        partial.candidates
    );
    // Whole-ink recognition offers none.
    let whole = recognizer.recognize(&area.ink(), 5, "").unwrap();
    assert!(whole.candidates.iter().all(|c| !c.completion));
}

#[test]
fn bad_ink_is_a_typed_error() {
    let recognizer = recognizer();
    let p = |x, y, t| Point::new(x, y, t);
    let cases: Vec<(Ink, &str)> = vec![
        (Ink::default(), "empty"),
        (Ink::new(vec![vec![]]), "empty stroke"),
        (
            Ink::new(vec![vec![p(0.0, 0.0, 0.0), p(f64::NAN, 1.0, 1.0)]]),
            "NaN",
        ),
        (
            Ink::new(vec![vec![p(0.0, 0.0, 0.0), p(f64::INFINITY, 1.0, 1.0)]]),
            "infinity",
        ),
        (
            Ink::new(vec![vec![p(0.0, 0.0, 5.0), p(1.0, 1.0, 4.0)]]),
            "time backwards",
        ),
        (
            Ink::new(vec![vec![p(0.0, 0.0, 0.0), p(1e15, 1.0, 1.0)]]),
            "coordinate system",
        ),
        (
            Ink::new(vec![
                (0..50_000)
                    .map(|i| p(f64::from(i), 0.0, f64::from(i)))
                    .collect(),
            ]),
            "too many points",
        ),
    ];
    for (ink, what) in cases {
        match recognizer.recognize(&ink, 3, "") {
            Err(Error::Ink(_)) => {}
            other => panic!("{what}: {other:?}"),
        }
    }
    // A single point is valid ink: recognised, not refused.
    let dot = Ink::new(vec![vec![p(3.0, 4.0, 0.0)]]);
    assert!(recognizer.recognize(&dot, 3, "").is_ok());
    // A scribble far longer than a line is refused before the model runs.
    let scribble: Vec<Point> = (0..10_000)
        .map(|i| p(f64::from(i % 2) * 1000.0, f64::from(i) * 0.01, f64::from(i)))
        .collect();
    assert!(matches!(
        recognizer.recognize(&Ink::new(vec![scribble]), 3, ""),
        Err(Error::Ink(InkError::TooLong { .. }))
    ));
}

#[test]
fn a_damaged_model_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["SHA256SUMS", "charset.txt", "model.int8.onnx"] {
        std::fs::copy(hw_model_dir().join(f), dir.path().join(f)).unwrap();
    }
    // One flipped byte, same length.
    let path = dir.path().join("model.int8.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    match StrokeModel::load(dir.path(), &runtime()) {
        Err(Error::Model { detail, .. }) => assert!(detail.contains("checksum"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // A wrong runtime is the engine's typed error, not a crash.
    let missing = Path::new("/nonexistent/libonnxruntime.so.1.31.1");
    assert!(matches!(
        StrokeModel::load(&hw_model_dir(), missing),
        Err(Error::Engine(nib_engine::Error::Runtime { .. }))
    ));
}

#[test]
fn recognizers_of_one_model_directory_share_the_model() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["SHA256SUMS", "charset.txt", "model.int8.onnx"] {
        std::fs::copy(hw_model_dir().join(f), dir.path().join(f)).unwrap();
    }
    let config = RecognizerConfig::default();
    let load = || nib_handwriting::Recognizer::load(dir.path(), &runtime(), None, config).unwrap();
    let (first, second) = (load(), load());
    assert!(std::sync::Arc::ptr_eq(first.model(), second.model()));
    // Once nothing holds it, a model damaged on disk is read again, and refused.
    drop((first, second));
    let path = dir.path().join("model.int8.onnx");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        nib_handwriting::Recognizer::load(dir.path(), &runtime(), None, config),
        Err(Error::Model { .. })
    ));
}

#[test]
fn replay_reads_the_ink_events_of_a_log() {
    use nib_engine::typing::{Event, ReplayOptions, Replayer, Tally};
    let mut log = String::from(
        r#"{"type":"session","version":1,"language":"en","layout":"English (QWERTY)","field":"text"}"#,
    );
    log.push('\n');
    let mut expected = Vec::new();
    for name in ["hello", "world", "hello"] {
        let (ink, label) = ink_fixture(name);
        let expect = Event::Expect {
            text: label.clone(),
        };
        let written = Event::Ink {
            strokes: ink.to_log(),
        };
        for event in [expect, written] {
            log.push_str(&serde_json::to_string(&event).unwrap());
            log.push('\n');
        }
        expected.push(label);
    }
    let engine = nib_tests::engine();
    let model = recognizer().model().clone();
    let replay = |replayer: Replayer| {
        let mut tally = Tally::default();
        replayer
            .replay("ink.jsonl", log.as_bytes(), &mut tally, |_| {})
            .unwrap();
        tally
    };
    let with_ink = Replayer::new(engine.clone(), ReplayOptions::default()).with_ink(
        std::sync::Arc::new(nib_handwriting::LogInkDecoder::new(model, &engine)),
    );
    let tally = replay(with_ink);
    let ink = tally.ink["en"];
    assert_eq!((ink.words, ink.correct), (3, 3), "{:?}", tally.mistakes);
    assert_eq!(tally.overall.words, 0, "ink is not keyboard typing");
    assert_eq!(tally.unmeasured_words, 0);
    assert_eq!(tally.latency["ink"].count(), 3);
    // Without a decoder the words are not measured.
    let tally = replay(Replayer::new(engine.clone(), ReplayOptions::default()));
    assert!(tally.ink.is_empty());
    assert_eq!(tally.unmeasured_words, 3);
}

#[test]
fn the_typing_log_ink_event_is_recognised() {
    let (ink, label) = ink_fixture("world");
    let event = nib_engine::typing::Event::Ink {
        strokes: ink.to_log(),
    };
    let line = serde_json::to_string(&event).unwrap();
    let nib_engine::typing::Event::Ink { strokes } = serde_json::from_str(&line).unwrap() else {
        panic!("not an ink event: {line}");
    };
    let back = Ink::from_log(&strokes);
    // The log stores coordinates as f32: the same ink to within rounding.
    let r = recognizer().recognize(&back, 1, "").unwrap();
    assert_eq!(r.candidates[0].text, label);
    // The event line is JSON ink too.
    let (read, _) = parse_ink(line.as_bytes(), Path::new("event.json")).unwrap();
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-5 * a.abs().max(1.0);
    assert_eq!(read.point_count(), back.point_count());
    for (a, b) in read
        .strokes
        .iter()
        .flatten()
        .zip(back.strokes.iter().flatten())
    {
        assert!(
            near(a.x, b.x) && near(a.y, b.y) && a.t == b.t,
            "{a:?} {b:?}"
        );
    }
}

fn coordinate() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1000.0..1000.0f64,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(1e300),
        1 => Just(0.0),
    ]
}

fn ink() -> impl Strategy<Value = Ink> {
    let point =
        (coordinate(), coordinate(), -10.0..1000.0f64).prop_map(|(x, y, t)| Point::new(x, y, t));
    prop::collection::vec(prop::collection::vec(point, 0..40), 0..8).prop_map(Ink::new)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the ink, features and recognition return (a result or a
    /// typed error) and never panic; features are finite.
    #[test]
    fn random_ink_never_panics(ink in ink()) {
        let f = features(&ink);
        prop_assert!(f.as_slice().iter().all(|v| v.is_finite() || ink.strokes.iter().flatten().any(|p| p.x.abs() > 1e150 || p.y.abs() > 1e150)));
        let r = recognizer().recognize(&ink, 3, "");
        if ink.validate(&RecognizerConfig::default().limits).is_ok() {
            prop_assert!(
                matches!(r, Ok(_) | Err(Error::Ink(InkError::TooLong { .. }))),
                "{:?}",
                r
            );
        } else {
            prop_assert!(r.is_err());
        }
    }

    /// Random bytes in any ink format are an error or ink, never a panic.
    #[test]
    fn random_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), prefix in prop::sample::select(vec!["", "{\"strokes\":", "<ink><trace>", ".PEN_DOWN\n", "[[["])) {
        let mut data = prefix.as_bytes().to_vec();
        data.extend(&bytes);
        for name in ["ink.json", "ink.inkml"] {
            let _ = parse_ink(&data, Path::new(name));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("unipen");
        std::fs::write(&path, &data).unwrap();
        let _ = nib_handwriting::read_ink(&path);
        if let Ok(doc) = nib_handwriting::UnipenDoc::read_file(&path) {
            for s in &doc.segments {
                let _ = doc.ink(&s.delineation, true);
            }
        }
    }
}
