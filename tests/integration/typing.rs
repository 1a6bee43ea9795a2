use nib_engine::eval::keystroke_savings;
use nib_engine::typing::{
    Event, LogReader, ProblemKind, ReplayOptions, Replayer, Tally, Typist, TypistConfig,
};
use nib_tests::{LANGUAGES, engine};

/// The demo's sample text of `language`.
fn sample(language: &str) -> String {
    let path = format!(
        "{}/../bindings/cli/samples/{language}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap()
}

fn simulate(language: &str, text: &str, config: TypistConfig) -> Vec<u8> {
    simulate_with(&engine(), language, text, config)
}

fn simulate_with(
    engine: &nib_engine::Engine,
    language: &str,
    text: &str,
    config: TypistConfig,
) -> Vec<u8> {
    let mut typist = Typist::new(engine, language, config).unwrap();
    let mut log = Vec::new();
    typist
        .type_text(text, |event| -> std::io::Result<()> {
            serde_json::to_writer(&mut log, event)?;
            log.push(b'\n');
            Ok(())
        })
        .unwrap();
    log
}

fn replay_with(log: &[u8], options: ReplayOptions) -> Tally {
    let mut tally = Tally::default();
    Replayer::new(engine(), options)
        .replay("test.jsonl", log, &mut tally, |_| {})
        .unwrap();
    tally
}

fn replay(log: &[u8]) -> Tally {
    replay_with(log, ReplayOptions::default())
}

/// Taps on the key centres, no typos, one session.
fn exact() -> TypistConfig {
    TypistConfig {
        sigma_x: 0.0,
        sigma_y: 0.0,
        words_per_session: usize::MAX,
        ..TypistConfig::default()
    }
}

/// The shipped packs with autocorrect off, so that taps type what they hit.
fn literal_engine() -> nib_engine::Engine {
    let config = nib_engine::Config {
        corrector: nib_engine::decode::Corrector::Off,
        personal_learning: false,
        ..nib_engine::Config::default()
    };
    nib_engine::Engine::builder()
        .config(config)
        .pack_dir(nib_tests::pack_dir(), LANGUAGES)
        .build()
        .unwrap()
}

#[test]
fn replay_of_exact_taps_measures_what_keystroke_savings_measures() {
    let literal = literal_engine();
    for language in LANGUAGES {
        let text = sample(language);
        let expected = keystroke_savings(&literal, language, &text, 3).unwrap();
        for picks in [None, Some(3)] {
            let log = simulate_with(&literal, language, &text, TypistConfig { picks, ..exact() });
            let mut tally = Tally::default();
            Replayer::new(literal.clone(), ReplayOptions::default())
                .replay("exact.jsonl", &log[..], &mut tally, |_| {})
                .unwrap();
            let got = tally.overall;
            let what = format!("{language}, picks {picks:?}");
            assert_eq!(got.characters, expected.characters, "{what}");
            assert_eq!(got.keystrokes, expected.keystrokes, "{what}");
            assert_eq!(got.selections, expected.selections, "{what}");
            assert_eq!(got.words, expected.words, "{what}");
            assert_eq!(
                (got.next_word_top1, got.next_word_top3),
                (expected.next_word_top1, expected.next_word_top3),
                "{what}"
            );
            if picks.is_none() {
                assert_eq!(got.correct, got.words, "{what}: exact taps type every word");
                assert_eq!(got.typed_correct, got.words, "{what}");
            }
        }
    }
}

#[test]
fn simulation_is_deterministic_for_a_seed() {
    let text = sample("de");
    let config = TypistConfig {
        sigma_x: 0.3,
        sigma_y: 0.25,
        omission: 0.02,
        insertion: 0.02,
        transposition: 0.02,
        seed: 42,
        ..TypistConfig::default()
    };
    let first = simulate("de", &text, config.clone());
    assert_eq!(first, simulate("de", &text, config.clone()));
    let other = simulate("de", &text, TypistConfig { seed: 43, ..config });
    assert_ne!(first, other);
}

#[test]
fn tap_noise_and_typos_lower_word_accuracy() {
    let text = sample("en");
    let accuracy = |config: TypistConfig| replay(&simulate("en", &text, config)).overall;
    let clean = accuracy(exact());
    let noisy = accuracy(TypistConfig {
        sigma_x: 0.45,
        sigma_y: 0.45,
        ..exact()
    });
    let omitting = accuracy(TypistConfig {
        omission: 1.0,
        ..exact()
    });
    assert_eq!(clean.word_accuracy(), 1.0);
    // Noise this large costs words even after the decoder (about one in
    // five on this sample).
    assert!(noisy.word_accuracy() < 0.9, "{noisy:?}");
    assert!(noisy.typed_wrong > 0);
    // With every letter left out, no word of more than one letter is typed.
    assert!(omitting.correct < omitting.words / 4, "{omitting:?}");
    // The decoder fixes some of the typos.
    assert!(noisy.typed_wrong_fixed > 0, "{noisy:?}");
}

#[test]
fn offsets_move_taps_onto_the_neighbouring_keys() {
    let text = "rest rest rest";
    let log = simulate(
        "en",
        text,
        TypistConfig {
            offset_x: 1.0,
            ..exact()
        },
    );
    let tally = replay(&log);
    assert_eq!(tally.overall.correct, 0, "every key is one to the right");
    let taps = LogReader::new(&log[..])
        .filter_map(Result::ok)
        .filter(|r| matches!(r.event, Event::Tap { .. }))
        .count();
    assert_eq!(taps, 15);
}

#[test]
fn shards_merge_into_the_tally_of_one_run() {
    let mut shards = Vec::new();
    for (i, language) in ["en", "fr", "ru"].into_iter().enumerate() {
        let config = TypistConfig {
            sigma_x: 0.1 * (i + 2) as f32,
            sigma_y: 0.1 * (i + 2) as f32,
            seed: i as u64,
            words_per_session: 25,
            ..TypistConfig::default()
        };
        let log = simulate(language, &sample(language), config);
        shards.push(log);
    }
    // One run over all the logs (each log is one user, as `nib replay`
    // replays files), against shards merged in another order.
    let mut one = Tally::default();
    let replayer = Replayer::new(engine(), ReplayOptions::default());
    for (i, shard) in shards.iter().enumerate() {
        replayer
            .replay(&format!("log{i}.jsonl"), &shard[..], &mut one, |_| {})
            .unwrap();
    }
    let mut merged = Tally::default();
    for shard in shards.iter().rev() {
        merged.merge(&replay(shard));
    }
    assert_eq!(merged.overall, one.overall);
    assert_eq!(merged.by_language, one.by_language);
    assert_eq!(merged.by_noise, one.by_noise);
    assert_eq!(merged.by_language_noise, one.by_language_noise);
    assert_eq!(merged.by_word_length, one.by_word_length);
    assert_eq!(merged.events, one.events);
    assert_eq!(merged.sessions, one.sessions);
    assert_eq!(merged.logs, 3);
    assert_eq!(one.by_language.len(), 3);
    assert_eq!(one.by_noise.len(), 3);
    let counts = |t: &Tally| -> Vec<(String, u64)> {
        t.latency
            .iter()
            .map(|(k, h)| (k.clone(), h.count()))
            .collect()
    };
    assert_eq!(counts(&merged), counts(&one));
    // Round trip of a tally through JSON (a partial result file).
    let json = serde_json::to_string(&merged).unwrap();
    let back: Tally = serde_json::from_str(&json).unwrap();
    assert_eq!(back, merged);
}

#[test]
fn replay_is_deterministic_apart_from_timings() {
    let log = simulate(
        "es",
        &sample("es"),
        TypistConfig {
            picks: Some(3),
            ..TypistConfig::default()
        },
    );
    let strip = |mut t: Tally| {
        t.latency.clear();
        t.busy_nanos = 0;
        t
    };
    assert_eq!(strip(replay(&log)), strip(replay(&log)));
}

fn problems(log: &str) -> Tally {
    replay(log.as_bytes())
}

#[test]
fn bad_lines_are_counted_with_their_line_numbers_and_skipped() {
    let log = concat!(
        "{\"type\":\"tap\",\"x\":1,\"y\":1}\n",
        "{\"type\":\"session\",\"version\":1,\"language\":\"en\",\"device\":\"ignored\"}\n",
        "{\"type\":\"expect\",\"text\":\"On\"}\n",
        "this is not JSON\n",
        "{\"type\":\"tap\",\"x\":8.5,\"y\":0.5,\"t\":10}\n",
        "{\"type\":\"hover\",\"x\":1}\n",
        "{\"type\":\"tap\",\"x\":1e30,\"y\":0.5,\"t\":20}\n",
        "{\"type\":\"tap\",\"x\":7.0,\"y\":2.5,\"t\":5}\n",
        "{\"type\":\"tap\",\"x\":5.5,\"y\":3.5,\"t\":30}\n",
        "{\"type\":\"tap\",\"x\":",
    );
    let tally = problems(log);
    let count = |kind: ProblemKind| tally.problems.get(kind.as_str()).copied().unwrap_or(0);
    assert_eq!(count(ProblemKind::BeforeHeader), 1);
    assert_eq!(count(ProblemKind::Malformed), 2);
    assert_eq!(count(ProblemKind::UnknownType), 1);
    assert_eq!(count(ProblemKind::InvalidEvent), 1);
    assert_eq!(count(ProblemKind::OutOfOrder), 1);
    let lines: Vec<&str> = tally
        .examples
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            "test.jsonl:line 1",
            "test.jsonl:line 4",
            "test.jsonl:line 6",
            "test.jsonl:line 7",
            "test.jsonl:line 8",
            "test.jsonl:line 10"
        ]
    );
    assert!(
        tally.examples[5].contains("truncated"),
        "{:?}",
        tally.examples
    );
    // The word was still typed and measured: "o" (8.5, 0.5), "n", space,
    // with a capital at the start of the field.
    assert_eq!(tally.overall.words, 1);
    assert_eq!(tally.overall.correct, 1);
}

#[test]
fn sessions_without_a_pack_or_of_another_version_are_skipped_whole() {
    let log = concat!(
        "{\"type\":\"session\",\"version\":1,\"language\":\"xx\"}\n",
        "{\"type\":\"expect\",\"text\":\"hi\"}\n",
        "{\"type\":\"key\",\"key\":\"h\"}\n",
        "{\"type\":\"session\",\"version\":2,\"language\":\"en\"}\n",
        "{\"type\":\"key\",\"key\":\"h\"}\n",
        "{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n",
        "{\"type\":\"expect\",\"text\":\"hi\"}\n",
        "{\"type\":\"key\",\"key\":\"h\"}\n",
        "{\"type\":\"key\",\"key\":\"i\"}\n",
        "{\"type\":\"key\",\"key\":\" \"}\n",
    );
    let tally = problems(log);
    assert_eq!(tally.problems.get("no_pack"), Some(&1));
    assert_eq!(tally.problems.get("version"), Some(&1));
    assert!(tally.examples[0].contains("\"xx\""), "{:?}", tally.examples);
    assert_eq!(tally.skipped_events, 3);
    assert_eq!(tally.sessions, 1);
    assert_eq!(tally.overall.words, 1);
}

#[test]
fn empty_logs_say_so_and_strict_replay_stops_at_the_first_problem() {
    let tally = problems("");
    assert_eq!(tally.problems.get("empty"), Some(&1));
    let tally = problems("\n\n");
    assert_eq!(tally.problems.get("empty"), Some(&1));

    let log = "{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n{\"type\":\"tap\",\"x\":\"NaN\",\"y\":0}\n";
    let mut tally = Tally::default();
    let strict = ReplayOptions {
        strict: true,
        ..ReplayOptions::default()
    };
    let err = Replayer::new(engine(), strict)
        .replay("bad.jsonl", log.as_bytes(), &mut tally, |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("bad.jsonl:line 2"), "{err}");
}

#[test]
fn swipes_ink_and_pasted_text_leave_their_words_unmeasured() {
    let log = concat!(
        "{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n",
        "{\"type\":\"expect\",\"text\":\"hi\"}\n",
        "{\"type\":\"swipe\",\"points\":[[5.5,1.5,0],[7.5,0.5,80]]}\n",
        "{\"type\":\"expect\",\"text\":\"you\"}\n",
        "{\"type\":\"ink\",\"strokes\":[[[0,0,0],[1,1,10]]]}\n",
        "{\"type\":\"expect\",\"text\":\"all\"}\n",
        "{\"type\":\"commit\",\"text\":\"all \"}\n",
        "{\"type\":\"expect\",\"text\":\"ok\"}\n",
        "{\"type\":\"key\",\"key\":\"o\"}\n",
        "{\"type\":\"key\",\"key\":\"k\"}\n",
        "{\"type\":\"key\",\"key\":\" \"}\n",
    );
    let tally = problems(log);
    assert_eq!(tally.unmeasured_words, 3);
    assert_eq!(tally.overall.words, 1);
    assert_eq!(tally.problem_count(), 0, "{:?}", tally.examples);
}

#[test]
fn a_missed_space_runs_the_word_into_the_next() {
    let log = concat!(
        "{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n",
        "{\"type\":\"expect\",\"text\":\"in\"}\n",
        "{\"type\":\"key\",\"key\":\"i\"}\n",
        "{\"type\":\"key\",\"key\":\"n\"}\n",
        "{\"type\":\"expect\",\"text\":\"it\"}\n",
        "{\"type\":\"key\",\"key\":\"i\"}\n",
        "{\"type\":\"key\",\"key\":\"t\"}\n",
        "{\"type\":\"key\",\"key\":\" \"}\n",
    );
    let tally = problems(log);
    assert_eq!(tally.overall.committed, 2);
    assert_eq!(tally.overall.correct, 0);
    assert_eq!(tally.overall.typed_wrong, 2);
}

#[test]
fn words_run_together_count_as_typed_when_the_decoder_splits_them_again() {
    // "like to go" with both spaces tapped as "b": the decoder reads
    // "likebtobgo" as three words at the last space, and each counts.
    let layout = engine().pack("en").unwrap().layout().clone();
    let tap = |c: char| {
        let key = layout.keys.iter().find(|k| k.output == c.to_string());
        let key = key.unwrap_or_else(|| panic!("no key {c:?}"));
        format!("{{\"type\":\"tap\",\"x\":{},\"y\":{}}}\n", key.x, key.y)
    };
    let mut log = String::from("{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n");
    log.push_str("{\"type\":\"context\",\"before\":\"I would \"}\n");
    for (word, end) in [("like", 'b'), ("to", 'b'), ("go", ' ')] {
        log.push_str(&format!("{{\"type\":\"expect\",\"text\":\"{word}\"}}\n"));
        word.chars()
            .chain([end])
            .for_each(|c| log.push_str(&tap(c)));
    }
    let tally = problems(&log);
    assert_eq!(tally.overall.committed, 3, "{:?}", tally.mistakes);
    assert_eq!(tally.overall.correct, 3, "{:?}", tally.mistakes);
}

#[test]
fn backspace_into_a_committed_word_reopens_it() {
    let log = concat!(
        "{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n",
        "{\"type\":\"expect\",\"text\":\"in\"}\n",
        "{\"type\":\"key\",\"key\":\"i\"}\n",
        "{\"type\":\"key\",\"key\":\"m\"}\n",
        "{\"type\":\"key\",\"key\":\" \"}\n",
        "{\"type\":\"backspace\"}\n",
        "{\"type\":\"backspace\"}\n",
        "{\"type\":\"key\",\"key\":\"n\"}\n",
        "{\"type\":\"key\",\"key\":\" \"}\n",
    );
    let tally = problems(log);
    assert_eq!(tally.overall.correct, 1, "{:?}", tally.overall);
    assert_eq!(tally.overall.typed_correct, 1);
    assert_eq!(tally.overall.keystrokes, 7);
}

/// The JSON Schema in the repository.
fn schema() -> jsonschema::Validator {
    let path = format!(
        "{}/../engine/schema/typing-log-v1.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn simulated_logs_and_the_bundled_sample_follow_the_schema() {
    let validator = schema();
    let bundled = std::fs::read(format!(
        "{}/../bindings/cli/samples/en.typing.jsonl",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let simulated = simulate(
        "fr",
        &sample("fr"),
        TypistConfig {
            picks: Some(3),
            transposition: 0.1,
            ..TypistConfig::default()
        },
    );
    let mut types = std::collections::BTreeSet::new();
    for log in [bundled, simulated] {
        for line in String::from_utf8(log).unwrap().lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Err(e) = validator.validate(&value) {
                panic!("{line}: {e}");
            }
            types.insert(value["type"].as_str().unwrap().to_owned());
        }
    }
    for expected in ["session", "expect", "tap", "key", "pick", "backspace"] {
        assert!(types.contains(expected), "{types:?}");
    }
    for bad in [
        r#"{"type":"tap","x":1}"#,
        r#"{"type":"session","version":2,"language":"en"}"#,
        r#"{"type":"expect","text":"two words"}"#,
        r#"{"type":"swipe","points":[[1,2]]}"#,
    ] {
        let value: serde_json::Value = serde_json::from_str(bad).unwrap();
        assert!(!validator.is_valid(&value), "{bad} should not validate");
    }
}

#[test]
fn words_that_come_out_wrong_are_listed() {
    let sample = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../bindings/cli/samples/en.typing.jsonl"),
    )
    .unwrap();
    let tally = replay(&sample);
    let wrong = tally.overall.committed - tally.overall.correct;
    assert!(!tally.mistakes.is_empty(), "the sample has typos left");
    assert!(tally.mistakes.len() as u64 <= wrong);
    for m in &tally.mistakes {
        assert_ne!(m.word, m.committed, "{m:?}");
        assert!(
            ["changed", "not_fixed", "miscorrected"].contains(&m.kind.as_str()),
            "{m:?}"
        );
        assert_eq!(m.language, "en");
        // A correction is listed as offered only where it was not applied.
        if let Some(offered) = &m.offered {
            assert!(m.decision.as_deref().unwrap().contains("offered"), "{m:?}");
            assert_ne!(offered, &m.committed, "{m:?}");
        }
    }
    // Each says why the autocorrect committed what it did.
    assert!(
        tally.mistakes.iter().any(|m| m
            .decision
            .as_deref()
            .is_some_and(|reason| reason.contains("margin"))),
        "{:?}",
        tally.mistakes
    );
    // Merged tallies keep them in order, up to the cap.
    let mut merged = tally.clone();
    merged.merge(&tally);
    assert_eq!(merged.mistakes.len(), 2 * tally.mistakes.len());
    assert_eq!(merged.mistakes[..tally.mistakes.len()], tally.mistakes[..]);
}

#[test]
fn a_correction_offered_but_not_applied_is_listed_with_the_mistake() {
    // "Dorn", tapped on its keys' centres after "I think that", is kept
    // while "Form" is offered (see the decoding tests): meant here as
    // "Form", it is a mistake that lists the offer.
    let engine = engine();
    let layout = engine.pack("en").unwrap().layout().clone();
    let key = |output: &str| {
        let key = layout.keys.iter().find(|k| k.output == output).unwrap();
        format!(r#"{{"type":"tap","x":{},"y":{}}}"#, key.x, key.y)
    };
    let shift = layout
        .keys
        .iter()
        .find(|k| k.kind == nib_engine::layout::KeyKind::Shift)
        .unwrap();
    let mut lines = vec![
        r#"{"type":"session","version":1,"language":"en","field":"text"}"#.to_owned(),
        r#"{"type":"context","before":"I think that "}"#.to_owned(),
        r#"{"type":"expect","text":"Form"}"#.to_owned(),
        format!(r#"{{"type":"tap","x":{},"y":{}}}"#, shift.x, shift.y),
    ];
    lines.extend(["d", "o", "r", "n", " "].map(key));
    let tally = replay(lines.join("\n").as_bytes());
    let mistake = tally.mistakes.first().expect("one mistake");
    assert_eq!(
        (mistake.committed.as_str(), mistake.offered.as_deref()),
        ("Dorn", Some("Form")),
        "{mistake:?}"
    );
    assert!(mistake.decision.as_deref().unwrap().contains("offered"));
}

#[test]
fn a_session_header_can_ask_for_no_automatic_capitals() {
    let log = |header: &str, expected: &str| {
        format!(
            concat!(
                "{{\"type\":\"session\",\"version\":1,\"language\":\"en\"{}}}\n",
                "{{\"type\":\"expect\",\"text\":\"{}\"}}\n",
                "{{\"type\":\"tap\",\"x\":8.5,\"y\":0.5,\"t\":10}}\n",
                "{{\"type\":\"tap\",\"x\":7.0,\"y\":2.5,\"t\":20}}\n",
                "{{\"type\":\"tap\",\"x\":5.5,\"y\":3.5,\"t\":30}}\n",
            ),
            header, expected
        )
    };
    for (header, expected) in [("", "On"), (",\"no_auto_capitals\":true", "on")] {
        let tally = problems(&log(header, expected));
        assert_eq!(tally.overall.words, 1, "{header}");
        assert_eq!(tally.overall.correct, 1, "{header}: {:?}", tally.mistakes);
    }
}
