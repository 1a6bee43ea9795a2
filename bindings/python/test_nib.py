#!/usr/bin/env python3
"""Tests of nib's Python binding surface, with plain python3.

Run `bash bindings/generate.sh` first (or `bash bindings/python/test.sh`,
which does). Loads the generated module from $NIB_BINDINGS/python (default
.cache/bindings/python, which also holds the library) and the packs from
$NIB_PACKS (default .cache/packs). Covers the binding surface only: engine
and session calls, records, enums, every error variant a caller can meet,
closing, threads, hostile strings. What the engine suggests is the engine's
tests' business. Ends with "N passed, M failed"; exits 1 on a failure.
"""

import json
import os
import sys
import tempfile
import threading
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINDINGS = os.environ.get("NIB_BINDINGS", os.path.join(ROOT, ".cache", "bindings"))
PACKS = os.environ.get("NIB_PACKS", os.path.join(ROOT, ".cache", "packs"))
ORT = os.environ.get("NIB_ORT", os.path.join(
    ROOT, ".cache", "sources", "onnxruntime", "onnxruntime", "capi", "libonnxruntime.so.1.31.1"))
HW_MODEL = os.path.join(ROOT, "handwriting", "models", "nib-hw-1")
LM = os.path.join(ROOT, "languages", "models", "nib-lm-1")
sys.path.insert(0, os.path.join(BINDINGS, "python"))

import nib  # noqa: E402  (the generated module)

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def raises(name, error, call):
    """`call()` must raise `error`; returns the exception."""
    try:
        result = call()
    except error as e:
        check(name, True)
        return e
    except Exception as e:  # noqa: BLE001
        check(name, False, f"raised {type(e).__name__}: {e}")
        return None
    check(name, False, f"returned {result!r}")
    return None


def test(fn):
    """Runs one test; an unexpected exception is one failure."""
    try:
        fn()
    except Exception:  # noqa: BLE001
        global failed
        failed += 1
        print(f"FAIL {fn.__name__} raised:")
        traceback.print_exc()
    return fn


def new_engine(languages=("en",)):
    return nib.Engine(PACKS, list(languages), nib.EngineConfig())


def centres(engine, language="en"):
    """Key output -> centre, from the layout the engine exposes."""
    return {k.output: (k.x, k.y) for k in engine.layout(language).keys}


@test
def engine_and_layout():
    engine = new_engine(["en", "de"])
    check("languages", engine.languages() == ["de", "en"], engine.languages())
    config = engine.config()
    check("default config", abs(config.pair_weight - 0.6) < 1e-6, config)
    layout = engine.layout("en")
    check("layout language", layout.language == "en")
    kinds = {k.kind for k in layout.keys}
    check("layout has letters and space", {nib.KeyKind.LETTER, nib.KeyKind.SPACE} <= kinds)


@test
def taps_type_a_word_then_suggest_and_commit():
    engine = new_engine()
    at = centres(engine)
    session = engine.session("en")
    for letter in "hel":
        key = session.tap(*at[letter])
        check(f"tap {letter} returns its key", key.output == letter and key.kind == nib.KeyKind.LETTER)
    check("current word", session.current_word() == "hel", session.current_word())
    suggestions = session.suggestions(3)
    check("three suggestions", len(suggestions) == 3, suggestions)
    check("completions of hel",
          all(s.kind == nib.SuggestionKind.COMPLETION and s.text.lower().startswith("hel")
              for s in suggestions), suggestions)
    check("best first", [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True))
    check("three by default", len(session.suggestions()) == 3)
    key = session.tap(*at[" "])
    check("space key", key.kind == nib.KeyKind.SPACE)
    check("space commits, with a capital where the field begins",
          session.context() == "Hel " and session.current_word() == "", session.context())
    predictions = session.suggestions(3)
    check("predictions after space",
          predictions and all(s.kind == nib.SuggestionKind.PREDICTION for s in predictions), predictions)
    session.set_context("Nice to meet y")
    check("set_context", session.current_word() == "y" and session.context() == "Nice to meet ")
    session.pick("you")
    check("pick", session.context() == "Nice to meet you ")
    session.type_text("wor")
    session.backspace()
    check("backspace", session.current_word() == "wo")
    session.commit()
    check("commit", session.context().endswith("you wo ") and session.current_word() == "")
    check("language", session.language() == "en")


@test
def autocorrect_at_the_space_and_its_undo():
    engine = new_engine()
    at = centres(engine)
    session = engine.session("en")
    session.set_context("I saw ")
    check("no decision yet", session.last_decision() is None)
    for letter in "teh":
        session.tap(*at[letter])
    session.tap(*at[" "])
    check("teh becomes the", session.context() == "I saw the ", session.context())
    decision = session.last_decision()
    check("decision explained",
          decision is not None and decision.typed == "teh" and decision.correction == "the"
          and decision.action == nib.CorrectionAction.APPLIED and decision.reason, decision)
    session.backspace()
    check("backspace undoes it", session.context() == "I saw " and session.current_word() == "teh",
          (session.context(), session.current_word()))


@test
def field_options_reach_the_session():
    engine = new_engine()
    password = engine.session("en", nib.SessionOptions(field=nib.FieldType.PASSWORD, no_learning=False))
    check("password field", password.options().field == nib.FieldType.PASSWORD)
    check("password never learns", password.learning_allowed() is False)
    private = engine.session("en", nib.SessionOptions(field=nib.FieldType.TEXT, no_learning=True))
    check("no_learning kept", private.options().no_learning is True and not private.learning_allowed())
    check("plain field learns", engine.session("en").learning_allowed() is True)
    otp = engine.session("en", nib.SessionOptions(field=nib.FieldType.ONE_TIME_CODE, no_learning=False))
    check("one-time code never learns", otp.learning_allowed() is False)
    at = centres(engine)
    plain = engine.session("en", nib.SessionOptions(field=nib.FieldType.TEXT, no_auto_capitals=True))
    check("no_auto_capitals kept", plain.options().no_auto_capitals is True)
    for letter in "hel ":
        plain.tap(*at[letter])
    check("no automatic capital", plain.context() == "hel ", plain.context())


@test
def error_cases():
    raises("missing pack dir", nib.NibError.PackNotFound,
           lambda: nib.Engine("/nonexistent/nib-packs", ["en"], nib.EngineConfig()))
    e = raises("unknown language", nib.NibError.UnknownLanguage,
               lambda: nib.Engine(PACKS, ["xx"], nib.EngineConfig()))
    check("unknown language lists the others", e is not None and "en" in str(e), str(e))
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "xx.nibpack"), "wb") as f:
            f.write(b"garbage, not a language pack" * 10)
        e = raises("corrupt pack", nib.NibError.PackCorrupt,
                   lambda: nib.Engine(tmp, ["xx"], nib.EngineConfig()))
        check("corrupt pack names the file", e is not None and "xx.nibpack" in str(e), str(e))
    raises("tag escaping the dir", nib.NibError.InvalidInput,
           lambda: nib.Engine(PACKS, ["../en"], nib.EngineConfig()))
    raises("bad config", nib.NibError.InvalidInput,
           lambda: nib.Engine(PACKS, ["en"], nib.EngineConfig(pair_weight=2.0)))
    engine = new_engine()
    raises("session in unknown language", nib.NibError.UnknownLanguage, lambda: engine.session("ru"))
    session = engine.session("en")
    session.type_text("he")
    for x, y in [(float("nan"), 0.5), (0.5, float("inf")), (1e9, 1e9), (-50.0, 1.0)]:
        raises(f"tap ({x}, {y})", nib.NibError.InvalidInput, lambda: session.tap(x, y))
    check("bad taps change nothing", session.current_word() == "he")


@test
def personal_dictionary_encrypted_on_disk():
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "user.nibdict")
        key = bytes(range(32))
        def store(key):
            return nib.Engine.with_options(PACKS, ["en"], nib.EngineConfig(),
                                           nib.EngineOptions(personal_store=path, personal_key=key))
        engine = store(key)
        check("store opens", engine.personal_error() is None, engine.personal_error())
        session = engine.session("en")
        session.type_text("meet Xylbrant and Xylbrant ")
        check("learned from typing", engine.knows_word("Xylbrant"))
        check("added", engine.add_word("Qorvex") is True)
        check("secret refused", engine.add_word("4111111111111111") is False)
        engine.sync_personal()
        with open(path, "rb") as f:
            data = f.read()
        check("no plaintext on disk", b"Xylbrant" not in data and b"Qorvex" not in data)
        exported = engine.export_personal()
        engine.forget_word("Qorvex")
        check("forgotten", not engine.knows_word("Qorvex"))
        engine.import_personal(exported)
        check("import restores", engine.knows_word("Qorvex"))
        raises("bad export", nib.NibError.InvalidInput, lambda: engine.import_personal("{"))
        engine.block_word("Xylbrant")
        session.type_text("Xyl")
        check("blocked word not suggested", all(s.text != "Xylbrant" for s in session.suggestions(5)))
        engine.enable_word_reports(4.0, 256, 1024)
        engine.add_word("Blorptang")
        reports = engine.take_word_reports()
        check("one report of a new word", len(reports) == 1 and "Blorptang" not in reports[0], reports)
        count = engine.personal_word_count()
        engine.close()
        wrong = store(bytes(32))
        check("wrong key reported", wrong.personal_error() is not None)
        check("wrong key: nothing read", not wrong.knows_word("Qorvex"))
        again = store(key)
        check("reopened with its key", again.knows_word("Qorvex") and again.personal_word_count() == count)
        raises("short key", nib.NibError.InvalidInput, lambda: store(b"short"))
        again.clear_personal()
        check("cleared", again.personal_word_count() == 0)


@test
def neural_language_model():
    engine = nib.Engine.with_options(PACKS, ["en"], nib.EngineConfig(),
                                     nib.EngineOptions(language_model=LM, onnx_runtime=ORT))
    check("model loaded", engine.lm_error() is None and engine.has_language_model(), engine.lm_error())
    session = engine.session("en")
    session.type_text("I would like to ")
    check("predictions with the model", len(session.suggestions(3)) == 3)
    # The next word decides the word before it again: "dtop" reads as
    # "stop" after "Can you", and "off" after it says "drop".
    at = centres(engine)
    session = engine.session("en")
    session.set_context("Can you ")
    for letter in "dtop ":
        session.tap(*at[letter])
    check("first reading", session.context() == "Can you stop " and session.revised_previous_word() is None,
          session.context())
    for letter in "off ":
        session.tap(*at[letter])
    check("decided again", session.context() == "Can you drop off ", session.context())
    check("what changed", session.revised_previous_word() == nib.RevisedWord(was="stop", now="drop"),
          session.revised_previous_word())
    broken = nib.Engine.with_options(PACKS, ["en"], nib.EngineConfig(),
                                     nib.EngineOptions(language_model="/nonexistent/model", onnx_runtime=ORT))
    check("broken model reported", broken.lm_error() is not None and not broken.has_language_model())
    raises("model without runtime", nib.NibError.InvalidInput,
           lambda: nib.Engine.with_options(PACKS, ["en"], nib.EngineConfig(),
                                           nib.EngineOptions(language_model=LM)))


@test
def calls_after_close():
    engine = new_engine()
    session = engine.session("en")
    session.close()
    session.close()  # idempotent
    calls = {
        "tap": lambda: session.tap(0.5, 0.5),
        "type_text": lambda: session.type_text("a"),
        "backspace": session.backspace,
        "commit": session.commit,
        "pick": lambda: session.pick("a"),
        "set_context": lambda: session.set_context("a"),
        "suggestions": lambda: session.suggestions(3),
        "current_word": session.current_word,
    }
    for name, call in calls.items():
        raises(f"{name} after close", nib.NibError.Closed, call)
    other = engine.session("en")
    engine.close()
    raises("engine after close", nib.NibError.Closed, lambda: engine.session("en"))
    other.type_text("th")
    check("sessions outlive their closed engine", len(other.suggestions(3)) == 3)


@test
def hostile_strings_and_threads():
    engine = new_engine()
    session = engine.session("en")
    huge = "a" * 1_000_000 + "\x00\x07\x1b\u202e\ufffd" * 1000
    session.type_text(huge)
    session.set_context(huge)
    session.pick(huge)
    session.suggestions(2**32 - 1)
    check("huge and control strings are accepted", True)
    # A lone surrogate cannot be UTF-8: Python refuses to encode it before
    # the call, and the session is unharmed.
    raises("lone surrogate", UnicodeEncodeError, lambda: session.type_text("\ud800"))
    session.set_context("")
    session.type_text("th")
    check("usable after refused input", len(session.suggestions(3)) == 3)

    # Two threads on one session: each call succeeds or is Busy.
    errors = []
    busy = [0]

    def hammer():
        for _ in range(2000):
            try:
                session.type_text("t")
                session.suggestions(3)
                session.backspace()
            except nib.NibError.Busy:
                busy[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("two threads: only Busy", not errors, errors[:3])
    print(f"  threads: {busy[0]} Busy answers out of 12000 calls")


@test
def handwriting_recognises_a_synthetic_word():
    with open(os.path.join(ROOT, "handwriting", "testdata", "ink", "hello.json")) as f:
        doc = json.load(f)
    strokes = [[nib.InkPoint(x=p[0], y=p[1], t=p[2]) for p in s] for s in doc["strokes"]]
    engine = new_engine()
    recognizer = nib.HandwritingRecognizer(engine, "en", HW_MODEL, ORT)
    whole = recognizer.recognize(strokes, 3)
    check("ink recognised whole", whole[0].text == doc["label"], whole)
    area = recognizer.ink_area()
    raises("empty area", nib.NibError.InvalidInput, lambda: area.candidates(3))
    for stroke in strokes:
        area.add_stroke(stroke)
    best = area.candidates(3)
    check("ink recognised stroke by stroke", best[0].text == whole[0].text, best)
    check("a lexicon word, best first", best[0].in_lexicon and best[0].score >= best[-1].score)
    check("whole-ink candidates are no completions", not any(c.completion for c in whole), whole)
    raises("NaN point", nib.NibError.InvalidInput,
           lambda: area.add_stroke([nib.InkPoint(x=float("nan"), y=0.0, t=0.0)]))
    check("undo", area.undo_stroke() is True and area.stroke_count() == len(strokes) - 1)
    area.clear_ink()
    check("clear", area.stroke_count() == 0)
    raises("missing model", nib.NibError.ModelUnavailable,
           lambda: nib.HandwritingRecognizer(engine, "en", "/nonexistent", ORT))
    area.close()
    raises("area after close", nib.NibError.Closed, lambda: area.candidates(1))


def time_per_call(n, call):
    """Median and minimum microseconds per call, over 5 rounds of n calls."""
    for _ in range(n // 10):
        call()
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            call()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    rounds.sort()
    return rounds[2], rounds[0]


def benchmark():
    engine = new_engine()
    session = engine.session("en")
    session.tap(*centres(engine)["h"])
    n = int(os.environ.get("NIB_BENCH_CALLS", "10000"))
    suggest, suggest_min = time_per_call(n, lambda: session.suggestions(3))
    word, word_min = time_per_call(n, session.current_word)
    print(f"  bench python: suggestions(3) after a tap {suggest:.2f} us/call (min {suggest_min:.2f}); "
          f"current_word {word:.2f} us/call (min {word_min:.2f}); median of 5 x {n} calls")


benchmark()
print(f"python: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
