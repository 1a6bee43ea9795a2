use nib_engine::decode::{Action, Corrector, Observation, SearchParams, Searcher, search};
use nib_engine::{Config, Engine, Session, SuggestionKind};
use nib_tests::{LANGUAGES, engine, pack_dir};
use proptest::prelude::*;

/// The centre of the key typing `c` on `language`'s layout.
fn centre(engine: &Engine, language: &str, c: char) -> (f32, f32) {
    let layout = engine.pack(language).unwrap().layout();
    let key = layout
        .keys
        .iter()
        .find(|k| k.output == c.to_string())
        .unwrap_or_else(|| panic!("no key {c:?}"));
    (key.x, key.y)
}

/// The first key of `kind` on `language`'s layout.
fn key_of(
    engine: &Engine,
    language: &str,
    kind: nib_engine::layout::KeyKind,
) -> nib_engine::layout::Key {
    let layout = engine.pack(language).unwrap().layout();
    layout
        .keys
        .iter()
        .find(|k| k.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind:?} key"))
}

/// Taps each letter of `letters` at its key centre (shift first for a
/// capital).
pub(crate) fn tap_word(session: &mut Session, letters: &str) {
    let engine = session.engine().clone();
    let language = session.language().to_owned();
    for c in letters.chars() {
        let lower = c.to_lowercase().next().unwrap();
        if c != lower {
            let shift = key_of(&engine, &language, nib_engine::layout::KeyKind::Shift);
            session.tap(shift.x, shift.y).unwrap();
        }
        let (x, y) = centre(&engine, &language, lower);
        session.tap(x, y).unwrap();
    }
}

pub(crate) fn space(session: &mut Session) {
    let (x, y) = centre(&session.engine().clone(), session.language(), ' ');
    session.tap(x, y).unwrap();
}

fn typed(letters: &str, context: &str) -> Session {
    let mut session = engine().fresh_user().session("en").unwrap();
    session.set_context(context);
    tap_word(&mut session, letters);
    session
}

/// A fresh session in `language` after `context` with `parts` typed and
/// the space tapped: a part `long_pressed` picks is typed as text (a long
/// press or the symbols page), the others tapped at their key centres.
fn commit_parts(
    language: &str,
    context: &str,
    parts: &[&str],
    long_pressed: impl Fn(&str) -> bool,
) -> Session {
    let mut session = engine().fresh_user().session(language).unwrap();
    session.set_context(context);
    for part in parts {
        if long_pressed(part) {
            session.type_text(part);
        } else {
            tap_word(&mut session, part);
        }
    }
    space(&mut session);
    session
}

#[test]
fn typos_are_corrected_at_the_space_in_the_typed_case() {
    for (letters, context, expected) in [
        ("Teh", "", "The "),
        ("hwllo", "I said ", "I said hello "),
        ("becuase", "It rained ", "It rained because "),
        ("thsi", "I like ", "I like this "),
        ("dont", "I ", "I don't "),
        // Not the lower-case "péter" the word list also holds.
        ("petde", "I saw ", "I saw Peter "),
    ] {
        let mut session = typed(letters, context);
        space(&mut session);
        assert_eq!(
            session.context(),
            expected,
            "{letters}: {:?}",
            session.last_decision()
        );
        assert_eq!(session.last_decision().unwrap().action, Action::Applied);
    }
}

#[test]
fn known_words_are_kept() {
    for (letters, context) in [
        ("form", "Fill in the "),
        ("from", "I come "),
        ("Paris", "I love "),
    ] {
        let mut session = typed(letters, context);
        space(&mut session);
        assert_eq!(session.context(), format!("{context}{letters} "));
        let decision = session.last_decision().unwrap();
        assert_eq!(decision.action, Action::Kept, "{decision:?}");
    }
}

#[test]
fn backspace_undoes_an_autocorrection_for_the_rest_of_the_session() {
    let mut session = typed("teh", "I saw ");
    space(&mut session);
    assert_eq!(session.context(), "I saw the ");
    session.backspace();
    assert_eq!(
        (session.context(), session.current_word()),
        ("I saw ", "teh")
    );
    space(&mut session);
    assert_eq!(session.context(), "I saw teh ");
    // Typed again later in the session: still the user's word.
    tap_word(&mut session, "teh");
    space(&mut session);
    assert_eq!(session.context(), "I saw teh teh ");
    // A backspace that does not follow a correction deletes as usual.
    session.backspace();
    assert_eq!(session.current_word(), "teh");
}

#[test]
fn a_missed_space_bar_is_read_as_two_words() {
    // Left out; hit as "b" (just above the bar); and that twice: three words.
    for (context, letters, expected) in [
        ("", "iwant", "I want "),
        ("Thank you ", "verybmuch", "Thank you very much "),
        ("I would ", "likebtobgo", "I would like to go "),
        // Three missed: four words, longer than any lexicon word.
        (
            "I would ",
            "reallyblikebtobsleep",
            "I would really like to sleep ",
        ),
    ] {
        let mut session = typed(letters, context);
        space(&mut session);
        assert_eq!(session.context(), expected, "{:?}", session.last_decision());
    }
}

#[test]
fn a_missed_space_bar_splits_words_with_typos_of_their_own() {
    for (context, letters, expected) in [
        // Typos in each part: one long unknown word is the less likely
        // reading (each letter past the fourth costs it 2 nats).
        (
            "Of the 9 ",
            "vailablwbhousewz",
            "Of the 9 available houses ",
        ),
        ("I like ", "squirrelbcookiws", "I like squirrel cookies "),
        ("We ", "shouldbgoboutbtonite", "We should go out tonite "),
        // The second word in the case its own letters were typed in.
        ("Tell me ", "aboutbApples", "Tell me about Apples "),
    ] {
        let mut session = typed(letters, context);
        space(&mut session);
        assert_eq!(session.context(), expected, "{:?}", session.last_decision());
    }
    // A number typed from the symbols page, then the space missed.
    for (context, parts, expected) in [
        (
            "The price fell ",
            ["84", "bpercent"],
            "The price fell 84 percent ",
        ),
        (
            "See you at ",
            ["10:15", "bambtomorrow"],
            "See you at 10:15 am tomorrow ",
        ),
    ] {
        let session = commit_parts("en", context, &parts, |part| {
            part.starts_with(|c: char| c.is_ascii_digit())
        });
        assert_eq!(session.context(), expected, "{:?}", session.last_decision());
    }
    // A marked letter typed by a long press stays in its word ("schön",
    // not the likelier "schon" the search reads the same letters as).
    let session = commit_parts("de", "Das ist ", &["sch", "ö", "nbgesagt"], |part| {
        part == "ö"
    });
    assert_eq!(
        session.context(),
        "Das ist schön gesagt ",
        "{:?}",
        session.last_decision()
    );
}

#[test]
fn a_first_tap_meant_for_shift_is_dropped() {
    // Shift missed upwards-right: the tap typed "z", near its edge by shift.
    let engine = engine();
    let (zx, zy) = centre(&engine, "en", 'z');
    let shift = key_of(&engine, "en", nib_engine::layout::KeyKind::Shift);
    let (sx, sy) = (shift.x, shift.y);
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("Yesterday I met ");
    session
        .tap(zx + 0.4 * (sx - zx), zy + 0.4 * (sy - zy))
        .unwrap();
    tap_word(&mut session, "james");
    space(&mut session);
    assert_eq!(
        session.context(),
        "Yesterday I met James ",
        "{:?}",
        session.last_decision()
    );
    // The search drops a first tap by shift for less than one by "x".
    let (xx, xy) = centre(&engine, "en", 'x');
    let pack = engine.pack("en").unwrap();
    let model = engine.spatial_model("en").unwrap();
    let cost_without_first = |x: f32, y: f32| {
        let mut taps = vec![Observation::Tap { x, y }];
        taps.extend("james".chars().map(|c| {
            let (x, y) = centre(&engine, "en", c);
            Observation::Tap { x, y }
        }));
        search::search(pack, model, &taps, &SearchParams::default())
            .into_iter()
            .find(|p| p.key == "james")
            .map(|p| p.cost)
            .unwrap()
    };
    let by_shift = cost_without_first(zx + 0.4 * (sx - zx), zy + 0.4 * (sy - zy));
    let by_x = cost_without_first(zx + 0.4 * (xx - zx), zy + 0.4 * (xy - zy));
    assert!(by_shift + 1.0 < by_x, "{by_shift} {by_x}");

    // Read as shift, the tap asked for a capital: the correction of a
    // word the lexicon writes in lower case gets one, in the strip and at
    // the commit; a stray by "x" is only dropped.
    let typed_after = |x: f32, y: f32| {
        let mut session = engine.fresh_user().session("en").unwrap();
        session.set_context("We said ");
        session.tap(x, y).unwrap();
        tap_word(&mut session, "hello");
        let first = session.suggestions(3)[0].text.clone();
        space(&mut session);
        (first, session.context().to_owned())
    };
    let (first, committed) = typed_after(zx + 0.4 * (sx - zx), zy + 0.4 * (sy - zy));
    assert_eq!(
        (first.as_str(), committed.as_str()),
        ("Hello", "We said Hello ")
    );
    let (first, committed) = typed_after(zx + 0.4 * (xx - zx), zy + 0.4 * (xy - zy));
    assert_eq!(
        (first.as_str(), committed.as_str()),
        ("hello", "We said hello ")
    );
}

#[test]
fn a_tap_on_shift_before_a_word_may_be_its_first_letter() {
    // "zebra" with the "z" missed leftwards onto shift: "⇧ebra" types
    // "Ebra".
    let engine = engine();
    let shift = key_of(&engine, "en", nib_engine::layout::KeyKind::Shift);
    let (_, right, _, _) = shift.bounds();
    let (_, zy) = centre(&engine, "en", 'z');
    let typed = |x: f32| {
        let mut session = engine.fresh_user().session("en").unwrap();
        session.set_context("At the zoo we saw a ");
        session.tap(x, zy).unwrap();
        tap_word(&mut session, "ebra");
        let word = session.current_word().to_owned();
        let first = session.suggestions(3)[0].text.clone();
        space(&mut session);
        (
            word,
            first,
            session.context().to_owned(),
            session.last_decision().cloned(),
        )
    };
    let (word, first, context, decision) = typed(right - 0.05);
    assert_eq!(word, "Ebra");
    assert_eq!(first, "zebra", "{context:?} {decision:?}");
    assert_eq!(context, "At the zoo we saw a zebra ", "{decision:?}");
    assert!(decision.unwrap().reason.contains("shift"));
    // A tap in the middle of shift is meant: the capital stays.
    let (word, _, context, decision) = typed(shift.x);
    assert_eq!(word, "Ebra");
    assert!(context.contains(" E"), "{context:?} {decision:?}");
}

#[test]
fn a_letter_tapped_onto_the_space_bar_joins_the_two_halves() {
    let mut session = engine().fresh_user().session("en").unwrap();
    session.set_context("Tell me ");
    tap_word(&mut session, "a");
    // "b" missed downwards: the top edge of the space bar, under the b key.
    let (bx, _) = centre(&engine(), "en", 'b');
    let (_, space_y) = centre(&engine(), "en", ' ');
    session.tap(bx, space_y - 0.45).unwrap();
    assert_eq!(session.context(), "Tell me a ");
    tap_word(&mut session, "out");
    space(&mut session);
    assert_eq!(
        session.context(),
        "Tell me about ",
        "{:?}",
        session.last_decision()
    );
    assert!(session.joined_last_word());
    // A word picked after it joined nothing.
    session.pick("first");
    assert!(!session.joined_last_word());
    // A space tapped in the middle of the bar is a space.
    let mut session = engine().fresh_user().session("en").unwrap();
    session.set_context("Tell me ");
    tap_word(&mut session, "a");
    space(&mut session);
    tap_word(&mut session, "story");
    space(&mut session);
    assert_eq!(session.context(), "Tell me a story ");
    assert!(!session.joined_last_word());
}

#[test]
fn a_letter_tapped_onto_punctuation_or_enter_joins_the_two_halves() {
    let engine = engine();
    let layout = engine.pack("en").unwrap().layout().clone();
    let key = |kind: nib_engine::layout::KeyKind, output: &str| {
        layout
            .keys
            .iter()
            .find(|k| k.kind == kind && k.output == output)
            .map(|k| (k.x, k.y))
            .unwrap()
    };
    let (mx, _) = centre(&engine, "en", 'm');
    let period = key(nib_engine::layout::KeyKind::Punctuation, ".");
    let enter = key(nib_engine::layout::KeyKind::Enter, "");
    // "m" missed downwards onto the top edge of ".", then straight down
    // between "m" and enter: the word goes on after it.
    for (tap, typed_between) in [
        ((mx, period.1 - 0.45), "co."),
        ((mx + 0.6, enter.1 - 0.45), "co\n"),
    ] {
        let mut session = engine.fresh_user().session("en").unwrap();
        session.set_context("I love my ");
        tap_word(&mut session, "co");
        session.tap(tap.0, tap.1).unwrap();
        assert_eq!(session.context(), format!("I love my {typed_between}"));
        tap_word(&mut session, "puter");
        space(&mut session);
        assert_eq!(
            session.context(),
            "I love my computer ",
            "{:?}",
            session.last_decision()
        );
        assert!(session.joined_last_word());
    }
    // A period tapped in the middle of its key is a period.
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("I love my ");
    tap_word(&mut session, "co");
    session.tap(period.0, period.1).unwrap();
    tap_word(&mut session, "puter");
    space(&mut session);
    assert!(!session.joined_last_word(), "{:?}", session.last_decision());
    assert!(session.context().starts_with("I love my co."));
}

/// A tap on the top edge of backspace, under `letter` (a key of the row
/// above it), and one in its middle.
fn backspace_taps(engine: &Engine, letter: char) -> ((f32, f32), (f32, f32)) {
    let backspace = key_of(engine, "en", nib_engine::layout::KeyKind::Backspace);
    let (_, _, top, _) = backspace.bounds();
    let (x, _) = centre(engine, "en", letter);
    ((x, top + 0.1), (backspace.x, backspace.y))
}

#[test]
fn a_letter_tapped_onto_backspace_is_put_back() {
    let engine = engine();
    let (edge, middle) = backspace_taps(&engine, 'l');
    // "hello" with the second "l" missed downwards onto backspace, which
    // erased the first: "hel⌫o".
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("I said ");
    tap_word(&mut session, "hel");
    session.tap(edge.0, edge.1).unwrap();
    tap_word(&mut session, "o");
    assert_eq!(session.current_word(), "heo");
    // The strip offers it first, before the space commits it.
    assert_eq!(session.suggestions(3)[0].text, "hello");
    space(&mut session);
    let decision = session.last_decision().cloned().unwrap();
    assert_eq!(session.context(), "I said hello ", "{decision:?}");
    assert_eq!(decision.action, Action::Applied);
    assert!(decision.reason.contains("backspace"), "{decision:?}");
    // Like any autocorrection, a backspace right after it undoes it.
    session.backspace();
    assert_eq!(session.current_word(), "heo");

    // A backspace tapped in its middle is meant.
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("I said ");
    tap_word(&mut session, "hel");
    session.tap(middle.0, middle.1).unwrap();
    tap_word(&mut session, "o");
    space(&mut session);
    let decision = session.last_decision().cloned().unwrap();
    assert!(!decision.reason.contains("backspace"), "{decision:?}");

    // A word the user taught the engine is theirs, however it was typed.
    let user = engine.fresh_user();
    let mut session = user.session("en").unwrap();
    session.set_context("I said ");
    session.type_text("heo");
    session.pick("heo");
    session.set_context("I said ");
    tap_word(&mut session, "hel");
    session.tap(edge.0, edge.1).unwrap();
    tap_word(&mut session, "o");
    assert!(session.suggestions(3).iter().all(|s| s.text != "hello"));
    space(&mut session);
    assert_eq!(
        session.context(),
        "I said heo ",
        "{:?}",
        session.last_decision()
    );

    // A letter erased and typed again is the user's own correction.
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("I said ");
    tap_word(&mut session, "helx");
    session.tap(edge.0, edge.1).unwrap();
    tap_word(&mut session, "lo");
    space(&mut session);
    assert_eq!(session.context(), "I said hello ");
    assert!(
        !session
            .last_decision()
            .unwrap()
            .reason
            .contains("backspace")
    );
}

#[test]
fn a_letter_tapped_onto_backspace_after_a_space_begins_the_next_word() {
    let engine = engine();
    let (edge, _) = backspace_taps(&engine, 'l');
    // "I love you" with the "l" missed onto backspace: the space goes and
    // "I" is the current word again ("I ⌫ove").
    let mut session = engine.fresh_user().session("en").unwrap();
    tap_word(&mut session, "I");
    space(&mut session);
    session.tap(edge.0, edge.1).unwrap();
    assert_eq!((session.context(), session.current_word()), ("", "I"));
    tap_word(&mut session, "ove");
    space(&mut session);
    let decision = session.last_decision().cloned().unwrap();
    assert_eq!(session.context(), "I love ", "{decision:?}");
    assert!(decision.reason.contains("backspace"), "{decision:?}");
}

#[test]
fn a_letter_tapped_onto_backspace_after_an_autocorrection_begins_the_next_word() {
    let engine = engine();
    let (edge, middle) = backspace_taps(&engine, 'l');
    // "I love you" with a typo in "I" ("O"), corrected, and the "l" of
    // "love" missed onto backspace, which undid the correction ("O⌫ove").
    let user = engine.fresh_user();
    let mut session = user.session("en").unwrap();
    session.set_context("Yes, ");
    tap_word(&mut session, "O");
    space(&mut session);
    assert_eq!(
        session.context(),
        "Yes, I ",
        "{:?}",
        session.last_decision()
    );
    session.tap(edge.0, edge.1).unwrap();
    assert_eq!((session.context(), session.current_word()), ("Yes, ", "O"));
    tap_word(&mut session, "ove");
    space(&mut session);
    let decision = session.last_decision().cloned().unwrap();
    assert_eq!(session.context(), "Yes, I love ", "{decision:?}");
    assert!(decision.reason.contains("backspace"), "{decision:?}");
    assert!(
        !user.personal().knows("O"),
        "a typo undone by a stray tap is not taught"
    );

    // An undo tapped in the middle of backspace, then the word committed
    // as it was typed: the user's word, taught.
    let user = engine.fresh_user();
    let mut session = user.session("en").unwrap();
    session.set_context("Yes, ");
    tap_word(&mut session, "O");
    space(&mut session);
    session.tap(middle.0, middle.1).unwrap();
    assert!(!user.personal().knows("O"), "taught when committed");
    space(&mut session);
    assert_eq!(session.context(), "Yes, O ");
    assert!(user.personal().knows("O"));
}

/// A tap meant for "m" that fell onto the top edge of the full stop below
/// it, on the English layout.
fn m_on_the_full_stop(engine: &Engine) -> (f32, f32) {
    let (m_x, m_y) = centre(engine, "en", 'm');
    let (period_x, period_y) = centre(engine, "en", '.');
    let tap = (m_x.clamp(period_x - 0.4, period_x + 0.4), period_y - 0.4);
    assert!(m_y < tap.1);
    tap
}

#[test]
fn a_full_stop_tapped_after_the_space_bar_is_a_letter_of_the_bottom_row() {
    let engine = engine();
    // The "m" of "movies" fell onto the top edge of the full stop below it.
    let under_m = m_on_the_full_stop(&engine);
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("I am looking for ");
    tap_word(&mut session, "some");
    space(&mut session);
    session.tap(under_m.0, under_m.1).unwrap();
    tap_word(&mut session, "ovies");
    space(&mut session);
    assert_eq!(
        session.context(),
        "I am looking for some movies ",
        "{:?}",
        session.last_decision()
    );
    // Typed after a word the user picked, a full stop is one.
    let mut session = engine.fresh_user().session("en").unwrap();
    session.set_context("I am looking for ");
    session.pick("some");
    session.tap(under_m.0, under_m.1).unwrap();
    assert_eq!(session.context(), "I am looking for some .");
}

#[test]
fn corrections_and_completions_fill_the_strip() {
    let session = typed("hwllo", "I said ");
    let suggestions = session.suggestions(3);
    assert!(
        suggestions.iter().any(|s| s.text == "hello"),
        "{suggestions:?}"
    );
    assert!(
        suggestions
            .iter()
            .any(|s| s.kind == SuggestionKind::Correction)
    );
    // A word the lexicon cannot explain comes back verbatim.
    let session = typed("qzxq", "I said ");
    let suggestions = session.suggestions(8);
    assert!(
        suggestions
            .iter()
            .any(|s| s.kind == SuggestionKind::Verbatim && s.text == "qzxq"),
        "{suggestions:?}"
    );
}

#[test]
fn no_autocorrect_outside_text_fields_or_when_off() {
    let options = nib_engine::SessionOptions {
        field: nib_engine::FieldType::Email,
        ..nib_engine::SessionOptions::default()
    };
    let mut session = engine().fresh_user().session_with("en", options).unwrap();
    tap_word(&mut session, "teh");
    space(&mut session);
    assert_eq!(session.context(), "teh ");
    assert!(session.last_decision().is_none());

    let off = Engine::builder()
        .config(Config {
            corrector: Corrector::Off,
            ..Config::default()
        })
        .pack_dir(pack_dir(), ["en"])
        .build()
        .unwrap();
    let mut session = off.session("en").unwrap();
    tap_word(&mut session, "teh");
    space(&mut session);
    assert_eq!(session.context(), "teh ");
}

#[test]
fn the_edit_distance_baseline_takes_the_nearest_frequent_word() {
    let baseline = Engine::builder()
        .config(Config {
            corrector: Corrector::EditDistance,
            ..Config::default()
        })
        .pack_dir(pack_dir(), ["en"])
        .build()
        .unwrap();
    let mut session = baseline.session("en").unwrap();
    session.set_context("I said ");
    tap_word(&mut session, "becauze");
    space(&mut session);
    assert_eq!(session.context(), "I said because ");
    assert_eq!(
        session.last_decision().unwrap().stage,
        Corrector::EditDistance
    );
}

#[test]
fn hostile_words_cost_bounded_work_and_never_panic() {
    let mut session = engine().fresh_user().session("en").unwrap();
    let (x, y) = centre(&engine(), "en", 'a');
    for _ in 0..3_000 {
        session.tap(x, y).unwrap();
    }
    assert!(session.suggestions(3).len() <= 3);
    space(&mut session);
    assert!(session.current_word().is_empty());
}

#[test]
fn every_layout_decodes_its_own_letters() {
    for language in LANGUAGES {
        let engine = engine();
        let model = engine.spatial_model(language).unwrap();
        let layout = engine.pack(language).unwrap().layout();
        for key in layout.letters() {
            let chances = model.keys_for(key.x, key.y);
            assert_eq!(
                chances[0].character.to_string(),
                nib_engine::fold(&key.output),
                "{language} {key:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Searching tap by tap, with backspaces, finds what a search from
    /// scratch finds.
    #[test]
    fn incremental_search_equals_search_from_scratch(
        taps in proptest::collection::vec((0.0f32..10.0, 0.0f32..3.0), 1..9),
        cut in 0usize..9,
    ) {
        // A user of its own: other tests teach the shared engine offsets.
        let engine = engine().fresh_user();
        let pack = engine.pack("en").unwrap();
        let model = engine.spatial_model("en").unwrap();
        let params = SearchParams::default();
        let observations: Vec<Observation> =
            taps.iter().map(|&(x, y)| Observation::Tap { x, y }).collect();
        let mut searcher = Searcher::default();
        for n in 1..=observations.len() {
            searcher.update(pack, model, &observations[..n], &params);
        }
        // Back to a shorter word and forward again.
        let cut = cut.min(observations.len());
        searcher.update(pack, model, &observations[..cut], &params);
        searcher.update(pack, model, &observations, &params);
        let incremental = searcher.prefixes_after(pack, usize::MAX, &params);
        let scratch = search::search(pack, model, &observations, &params);
        prop_assert_eq!(incremental, scratch);
    }
}

/// One thing a user can do to a session.
#[derive(Debug, Clone)]
enum Act {
    Tap(f32, f32),
    Backspace,
    Text(String),
    Context(String),
    Pick(String),
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        6 => (-1.0f32..11.0, -1.0f32..5.0).prop_map(|(x, y)| Act::Tap(x, y)),
        1 => Just(Act::Backspace),
        1 => "[a-zé' .,]{0,6}".prop_map(Act::Text),
        1 => "[a-z ]{0,300}".prop_map(Act::Context),
        1 => "[a-z]{1,8}".prop_map(Act::Pick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the user does, the decoder and autocorrect never panic and
    /// the session stays consistent.
    #[test]
    fn sessions_with_the_decoder_never_panic(acts in proptest::collection::vec(act(), 1..120)) {
        let mut session = engine().fresh_user().session("en").unwrap();
        for act in acts {
            match act {
                Act::Tap(x, y) => {
                    let _ = session.tap(x, y);
                }
                Act::Backspace => session.backspace(),
                Act::Text(text) => session.type_text(&text),
                Act::Context(text) => session.set_context(&text),
                Act::Pick(text) => session.pick(&text),
            }
            prop_assert!(session.suggestions(3).len() <= 3);
        }
    }
}

#[test]
fn taps_on_the_edge_of_shift_or_a_second_space_are_missed_letters() {
    let engine = engine().fresh_user();
    let shift = key_of(&engine, "en", nib_engine::layout::KeyKind::Shift);
    let (shift_x, shift_y, shift_height) = (shift.x, shift.y, shift.height);
    let (a_x, _) = centre(&engine, "en", 'a');
    let mut session = engine.session("en").unwrap();
    tap_word(&mut session, "tr");
    // Just inside shift, under the "a": a missed "a", mid-word.
    let edge = shift_y - shift_height / 2.0 + 0.05;
    assert_eq!(session.tap(a_x, edge).unwrap().output, "a");
    assert_eq!(session.current_word(), "tra");
    // The middle of shift is shift, even mid-word; and so is any tap on
    // it in an acronym or at the start of a word.
    session.tap(shift_x, shift_y).unwrap();
    tap_word(&mut session, "p");
    assert_eq!(session.current_word(), "traP");
    let mut acronym = engine.session("en").unwrap();
    tap_word(&mut acronym, "S");
    acronym.tap(a_x, edge).unwrap();
    tap_word(&mut acronym, "d");
    assert_eq!(acronym.current_word(), "SD");
    // Right after a space, the space bar's edge under a letter is that
    // letter; a second space in its middle is a space.
    let space = key_of(&engine, "en", nib_engine::layout::KeyKind::Space);
    let (space_x, space_y, space_height) = (space.x, space.y, space.height);
    let (v_x, _) = centre(&engine, "en", 'v');
    let mut words = engine.session("en").unwrap();
    words.set_context("I ");
    let top = space_y - space_height / 2.0 + 0.05;
    assert_eq!(words.tap(v_x, top).unwrap().output, "v");
    assert_eq!(words.current_word(), "v");
    let mut spaces = engine.session("en").unwrap();
    spaces.set_context("I ");
    spaces.tap(space_x, space_y).unwrap();
    assert_eq!(spaces.context(), "I  ");
    assert_eq!(spaces.current_word(), "");
}

#[test]
fn accents_and_elisions_typed_are_kept() {
    for (language, parts, expected) in [
        ("it", &["c", "'", "è"][..], "c'è"),
        ("it", &["t", "è"][..], "tè"),
        ("it", &["l", "'", "unica"][..], "l'unica"),
        ("it", &["p", "o", "'"][..], "po'"),
        ("fr", &["th", "é"][..], "thé"),
        ("fr", &["pr", "e", "ss", "é"][..], "pressé"),
        // The spelling before 1996: the lexicon writes "dass" and "muss".
        ("de", &["da", "ß"][..], "daß"),
        ("de", &["mu", "ß"][..], "muß"),
    ] {
        let session = commit_parts(language, "Oui ", parts, |part| {
            !part.chars().all(|c| c.is_ascii_lowercase())
        });
        assert_eq!(
            session.context(),
            format!("Oui {expected} "),
            "{:?}",
            session.last_decision()
        );
    }
    // An apostrophe after a word that does not elide is a typo: "v'est"
    // ("v" beside "c") is corrected, not kept as an elision.
    let mut session = engine().fresh_user().session("fr").unwrap();
    session.set_context("Oui ");
    tap_word(&mut session, "v");
    session.type_text("'");
    tap_word(&mut session, "est");
    space(&mut session);
    let decision = session.last_decision().cloned().unwrap();
    assert_eq!(decision.action, Action::Applied, "{decision:?}");
    assert!(!session.context().contains("v'est"), "{decision:?}");
    // Plain letters still get the lexicon's marks.
    let mut session = engine().fresh_user().session("en").unwrap();
    session.set_context("I ");
    tap_word(&mut session, "dont");
    space(&mut session);
    assert_eq!(session.context(), "I don't ");
}

#[test]
fn a_lexicon_word_is_split_only_by_the_margin_a_correction_needs() {
    // "Dasein" is a German word (a rare one), and "das" and "ein" are
    // common: read as two words it would win by far less than the margin
    // that replacing a known word needs.
    let mut session = engine().fresh_user().session("de").unwrap();
    session.set_context("Das ist ");
    tap_word(&mut session, "Dasein");
    space(&mut session);
    assert_eq!(
        session.context(),
        "Das ist Dasein ",
        "{:?}",
        session.last_decision()
    );
    // A run-on of common words the lexicon does not know is still split.
    let mut session = engine().fresh_user().session("en").unwrap();
    session.set_context("Yes ");
    tap_word(&mut session, "iwant");
    space(&mut session);
    assert_eq!(
        session.context(),
        "Yes I want ",
        "{:?}",
        session.last_decision()
    );
}

#[test]
fn a_rare_word_typed_with_marks_is_decoded_like_any_rare_word() {
    // "añoa" and "nãi" are stray forms in the word lists; typed with the
    // marks of the words meant, they were kept as "lexicon words, marks
    // as typed".
    // ã and é have no key of their own: they are long-pressed (typed as
    // text).
    for (language, context, parts, expected) in [
        ("es", "Tengo veinte ", &["añoa"][..], "años"),
        ("pt", "Eu ", &["n", "ã", "i"][..], "não"),
        // But a rare word typed right with its marks needs the margin a
        // common word does.
        ("fr", "Alors ", &["G", "é", "n", "é", "rez"][..], "Générez"),
        ("pt", "Eu comprei um ", &["form", "ã", "o"][..], "formão"),
    ] {
        let session = commit_parts(language, context, parts, |part| part == "ã" || part == "é");
        assert_eq!(
            session.context(),
            format!("{context}{expected} "),
            "{:?}",
            session.last_decision()
        );
    }
}

#[test]
fn hyphenated_words_are_corrected_part_by_part() {
    // The lexicon lists hyphenated words without their hyphens, if at all
    // ("twentyone"); the parts are corrected as words and the hyphens the
    // user chose are kept. A letter between hyphens is meant ("-t-").
    for (language, parts, expected) in [
        ("en", &["twenry", "-", "oje"][..], "twenty-one"),
        ("fr", &["asseyez", "-", "vlus"][..], "asseyez-vous"),
        ("fr", &["diq", "-", "je"][..], "dis-je"),
        (
            "fr",
            &["murmura", "-", "t", "-", "elle"][..],
            "murmura-t-elle",
        ),
    ] {
        let session = commit_parts(language, "Ok ", parts, |part| part == "-");
        assert_eq!(
            session.context(),
            format!("Ok {expected} "),
            "{:?}",
            session.last_decision()
        );
    }
}

#[test]
fn a_hyphenated_word_is_completed_after_its_hyphen() {
    // The lexicon lists hyphenated words joined if at all: the strip
    // completes the part after the hyphen and writes the parts before.
    for (language, head, tail, expected) in [
        ("fr", "asseyez", "v", "asseyez-vous"),
        ("fr", "est", "c", "est-ce"),
        ("ru", "из", "з", "из-за"),
    ] {
        let mut session = engine().fresh_user().session(language).unwrap();
        session.set_context("Ok ");
        tap_word(&mut session, head);
        session.type_text("-");
        tap_word(&mut session, tail);
        let strip: Vec<String> = session.suggestions(3).into_iter().map(|s| s.text).collect();
        assert!(
            strip.iter().any(|s| s == expected),
            "{head}-{tail}: {strip:?}"
        );
    }
}

#[test]
fn hyphens_typed_are_kept() {
    for (language, parts, expected) in [
        ("ru", &["что", "-", "нибудь"][..], "что-нибудь"),
        ("ru", &["когда", "-", "нибудь"][..], "когда-нибудь"),
        ("pt", &["diz", "-", "se"][..], "diz-se"),
    ] {
        let session = commit_parts(language, "Ok ", parts, |part| part == "-");
        assert_eq!(
            session.context(),
            format!("Ok {expected} "),
            "{:?}",
            session.last_decision()
        );
    }
}

#[test]
fn a_word_kept_while_a_correction_was_offered_is_not_learned_by_typing_it() {
    let engine = engine();
    let user = engine.fresh_user();
    let mut session = user.session("en").unwrap();
    for _ in 0..3 {
        session.set_context("I think that ");
        tap_word(&mut session, "Dorn");
        space(&mut session);
        let decision = session.last_decision().cloned().unwrap();
        assert_eq!(decision.action, Action::Suggested, "{decision:?}");
        assert_eq!(session.context(), "I think that Dorn ");
    }
    assert!(
        !user.personal().knows("Dorn"),
        "a likely typo is not taught"
    );
    // A name nothing is offered for is learned by typing it twice.
    for _ in 0..2 {
        session.set_context("I think that ");
        tap_word(&mut session, "Bodo");
        space(&mut session);
        assert_eq!(session.last_decision().unwrap().action, Action::Kept);
    }
    assert!(user.personal().knows("Bodo"));
    // Picked, the offered-against word is the user's.
    session.set_context("I think that ");
    tap_word(&mut session, "Dorn");
    session.pick("Dorn");
    assert!(user.personal().knows("Dorn"));
}

#[test]
fn words_typed_in_capitals_are_kept() {
    for (context, word) in [
        ("We land at ", "SFO"),
        ("I live in ", "NY"),
        ("Call the ", "SMF"),
    ] {
        assert_committed("en", context, word, word);
    }
}

#[test]
fn a_stray_first_tap_does_not_decide_the_case() {
    // The space bar hit as "v" before shift: the capital is the word's.
    assert_committed("en", "I said that ", "vEverybody", "Everybody");
    // A capital "V" the word does not begin with: the word's own case.
    assert_committed("en", "That is ", "Vfunny", "funny");
}

#[test]
fn a_german_noun_typed_in_lower_case_takes_its_capital() {
    assert_committed("de", "Die Vereinten ", "nationen", "Nationen");
    assert_committed("de", "Er hatte einen ", "traum", "Traum");
    assert_committed("de", "Ich habe ", "morgen", "morgen");
    // Elsewhere a name or brand in lower case is the user's.
    assert_committed("en", "I live in ", "philadelphia", "philadelphia");
}

/// Asserts that `typed`, tapped at its keys' centres after `context` and
/// committed with the space bar, is committed as `meant`.
fn assert_committed(language: &str, context: &str, typed: &str, meant: &str) {
    let session = commit_parts(language, context, &[typed], |_| false);
    assert_eq!(
        session.context(),
        format!("{context}{meant} "),
        "{:?}",
        session.last_decision()
    );
}

#[test]
fn a_word_typed_in_lower_case_where_a_sentence_begins_takes_a_capital() {
    let engine = engine();
    let commit = |options: nib_engine::SessionOptions, context: &str, word: &str| {
        let mut session = engine.fresh_user().session_with("en", options).unwrap();
        session.set_context(context);
        tap_word(&mut session, word);
        space(&mut session);
        session
    };
    let text = nib_engine::SessionOptions::default();
    for (context, committed) in [
        ("", "The "),
        ("It was late. ", "It was late. The "),
        ("Why? ", "Why? The "),
        ("Last line\n", "Last line\nThe "),
        // An exclamation mark often ends an interjection, an ellipsis a
        // pause, inside the sentence.
        ("Oh! ", "Oh! the "),
        ("Wait... ", "Wait... the "),
        ("I saw ", "I saw the "),
    ] {
        let session = commit(text, context, "the");
        assert_eq!(
            session.context(),
            committed,
            "{:?}",
            session.last_decision()
        );
    }
    // A field that asks for no automatic capitals.
    let plain = nib_engine::SessionOptions {
        no_auto_capitals: true,
        ..text
    };
    assert_eq!(
        commit(plain, "It was late. ", "the").context(),
        "It was late. the "
    );
    // Undone by backspace, and not given again in the session.
    let mut session = commit(text, "It was late. ", "the");
    session.backspace();
    space(&mut session);
    assert_eq!(session.context(), "It was late. the ");
    session.type_text("end. ");
    tap_word(&mut session, "the");
    space(&mut session);
    assert_eq!(session.context(), "It was late. the end. the ");
}

#[test]
fn a_letter_missed_onto_the_full_stop_before_a_space_is_the_words_last_letter() {
    let engine = engine();
    let under_m = m_on_the_full_stop(&engine);
    let typed = |context: &str, before: &str, after: &str| {
        let mut session = engine.fresh_user().session("en").unwrap();
        session.set_context(context);
        tap_word(&mut session, before);
        session.tap(under_m.0, under_m.1).unwrap();
        space(&mut session);
        tap_word(&mut session, after);
        space(&mut session);
        session
    };
    let session = typed("I just came back ", "fro", "the");
    assert_eq!(session.context(), "I just came back from the ");
    // A capital after it: the sentence did end.
    let session = typed("I just came back ", "fro", "The");
    assert_eq!(session.context(), "I just came back for. The ");
}

#[test]
fn a_correction_takes_a_capital_only_where_a_sentence_surely_begins() {
    for (context, committed) in [
        ("It was late. ", "The"),
        ("Why? ", "The"),
        ("Oh! ", "the"),
        ("Wait... ", "the"),
    ] {
        assert_committed("en", context, "tge", committed);
    }
}
