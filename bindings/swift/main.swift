// Tests of nib's Swift binding surface, run by bindings/swift/test.sh
// (compiled with the generated nib.swift into one executable): engine and
// session calls, records, enums, every error a caller can meet, closing,
// threads, hostile strings, and a small per-call benchmark. What the engine
// suggests is the engine's tests' business. Ends with "N passed, M
// failed"; exits 1 on a failure.
//
// Arguments: the pack directory, the ONNX Runtime library, the repository.

import Foundation

var passed = 0
var failed = 0

func check(_ name: String, _ condition: Bool, _ detail: Any = "") {
    if condition {
        passed += 1
    } else {
        failed += 1
        print("FAIL \(name) \(detail)")
    }
}

/// `body` must throw an error that `matches`; returns it.
@discardableResult
func raises(_ name: String, _ matches: (Error) -> Bool, _ body: () throws -> Any) -> Error? {
    do {
        let result = try body()
        check(name, false, "returned \(result)")
    } catch {
        check(name, matches(error), "threw \(error)")
        return error
    }
    return nil
}

func isPackNotFound(_ e: Error) -> Bool { if case NibError.PackNotFound = e { return true }; return false }
func isPackCorrupt(_ e: Error) -> Bool { if case NibError.PackCorrupt = e { return true }; return false }
func isUnknownLanguage(_ e: Error) -> Bool { if case NibError.UnknownLanguage = e { return true }; return false }
func isInvalidInput(_ e: Error) -> Bool { if case NibError.InvalidInput = e { return true }; return false }
func isClosed(_ e: Error) -> Bool { if case NibError.Closed = e { return true }; return false }
func isBusy(_ e: Error) -> Bool { if case NibError.Busy = e { return true }; return false }
func isModelUnavailable(_ e: Error) -> Bool { if case NibError.ModelUnavailable = e { return true }; return false }

func message(_ e: Error?) -> String {
    guard let e = e as? NibError else { return String(describing: e) }
    switch e {
    case .PackNotFound(let m), .PackCorrupt(let m), .UnknownLanguage(let m), .InvalidInput(let m),
        .Closed(let m), .Busy(let m), .PersonalStore(let m), .ModelUnavailable(let m), .Internal(let m):
        return m
    }
}

/// Runs one test; an unexpected error is one failure.
func test(_ name: String, _ body: () throws -> Void) {
    do {
        try body()
    } catch {
        failed += 1
        print("FAIL \(name) threw \(error)")
    }
}

let packs = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ".cache/packs"
let runtime = CommandLine.arguments.count > 2
    ? CommandLine.arguments[2] : ".cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1"
let repository = CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "."

func newEngine(_ languages: [String] = ["en"]) throws -> Engine {
    try Engine(packDir: packs, languages: languages, config: EngineConfig())
}

/// Key output -> centre, from the layout the engine exposes.
func centres(_ engine: Engine, _ language: String = "en") throws -> [String: (Float, Float)] {
    var at: [String: (Float, Float)] = [:]
    for key in try engine.layout(language: language).keys {
        at[key.output] = (key.x, key.y)
    }
    return at
}

func tapKey(_ session: Session, _ at: [String: (Float, Float)], _ output: String) throws -> Key {
    let (x, y) = at[output]!
    return try session.tap(x: x, y: y)
}

test("engine and layout") {
    let engine = try newEngine(["en", "de"])
    check("languages", try engine.languages() == ["de", "en"])
    let config = try engine.config()
    check("default config", config.pairWeight == 0.6, config)
    let layout = try engine.layout(language: "en")
    check("layout language", layout.language == "en")
    let kinds = Set(layout.keys.map { $0.kind })
    check("letters and space", kinds.contains(.letter) && kinds.contains(.space))
}

test("autocorrect at the space and its undo") {
    let engine = try newEngine()
    let at = try centres(engine)
    let session = try engine.session(language: "en")
    try session.setContext(beforeCursor: "I saw ")
    check("no decision yet", try session.lastDecision() == nil)
    for letter in ["t", "e", "h"] {
        _ = try tapKey(session, at, letter)
    }
    _ = try tapKey(session, at, " ")
    check("teh becomes the", try session.context() == "I saw the ")
    let decision = try session.lastDecision()
    check(
        "decision explained",
        decision?.typed == "teh" && decision?.correction == "the" && decision?.action == .applied
            && !(decision?.reason.isEmpty ?? true),
        decision as Any)
    try session.backspace()
    check("backspace undoes it", try session.context() == "I saw " && session.currentWord() == "teh")
}

test("taps type a word, then suggest and commit") {
    let engine = try newEngine()
    let at = try centres(engine)
    let session = try engine.session(language: "en")
    for letter in ["h", "e", "l"] {
        let key = try tapKey(session, at, letter)
        check("tap \(letter)", key.output == letter && key.kind == .letter, key)
    }
    check("current word", try session.currentWord() == "hel")
    let suggestions = try session.suggestions(k: 3)
    check("three suggestions", suggestions.count == 3, suggestions)
    check(
        "completions of hel",
        suggestions.allSatisfy { $0.kind == .completion && $0.text.lowercased().hasPrefix("hel") },
        suggestions)
    let scores = suggestions.map { $0.score }
    check("best first", scores == scores.sorted(by: >))
    check("three by default", try session.suggestions().count == 3)
    check("space key", try tapKey(session, at, " ").kind == .space)
    check(
        "space commits, with a capital where the field begins",
        try session.context() == "Hel " && session.currentWord() == "", try session.context())
    let predictions = try session.suggestions(k: 3)
    check(
        "predictions after space",
        !predictions.isEmpty && predictions.allSatisfy { $0.kind == .prediction }, predictions)
    try session.setContext(beforeCursor: "Nice to meet y")
    check("setContext", try session.currentWord() == "y" && session.context() == "Nice to meet ")
    try session.pick(text: "you")
    check("pick", try session.context() == "Nice to meet you ")
    try session.typeText(text: "wor")
    try session.backspace()
    check("backspace", try session.currentWord() == "wo")
    try session.commit()
    check("commit", try session.context().hasSuffix("you wo ") && session.currentWord() == "")
    check("language", try session.language() == "en")
}

test("field options reach the session") {
    let engine = try newEngine()
    let password = try engine.session(
        language: "en", options: SessionOptions(field: .password, noLearning: false))
    check("password field", try password.options().field == .password)
    check("password never learns", try !password.learningAllowed())
    let secret = try engine.session(language: "en", options: SessionOptions(field: .text, noLearning: true))
    check("noLearning kept", try secret.options().noLearning && !secret.learningAllowed())
    check("plain field learns", try engine.session(language: "en").learningAllowed())
    let otp = try engine.session(language: "en", options: SessionOptions(field: .oneTimeCode, noLearning: false))
    check("one-time code never learns", try !otp.learningAllowed())
    let at = try centres(engine)
    let plain = try engine.session(
        language: "en", options: SessionOptions(field: .text, noAutoCapitals: true))
    check("noAutoCapitals kept", try plain.options().noAutoCapitals)
    for letter in ["h", "e", "l", " "] { _ = try tapKey(plain, at, letter) }
    check("no automatic capital", try plain.context() == "hel ", try plain.context())
}

test("error cases") {
    raises("missing pack dir", isPackNotFound) {
        try Engine(packDir: "/nonexistent/nib-packs", languages: ["en"], config: EngineConfig())
    }
    let unknown = raises("unknown language", isUnknownLanguage) {
        try Engine(packDir: packs, languages: ["xx"], config: EngineConfig())
    }
    check("unknown language lists the others", message(unknown).contains("en"), message(unknown))
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("nib-swift-\(getpid())")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let garbage = String(repeating: "garbage, not a language pack", count: 10)
    try garbage.data(using: .utf8)!.write(to: tmp.appendingPathComponent("xx.nibpack"))
    let corrupt = raises("corrupt pack", isPackCorrupt) {
        try Engine(packDir: tmp.path, languages: ["xx"], config: EngineConfig())
    }
    check("corrupt pack names the file", message(corrupt).contains("xx.nibpack"), message(corrupt))
    raises("tag escaping the dir", isInvalidInput) {
        try Engine(packDir: packs, languages: ["../en"], config: EngineConfig())
    }
    raises("bad config", isInvalidInput) {
        try Engine(packDir: packs, languages: ["en"], config: EngineConfig(pairWeight: 2.0))
    }
    let engine = try newEngine()
    raises("session in unknown language", isUnknownLanguage) { try engine.session(language: "ru") }
    let session = try engine.session(language: "en")
    try session.typeText(text: "he")
    let bad: [(Float, Float)] = [(.nan, 0.5), (0.5, .infinity), (1e9, 1e9), (-50, 1)]
    for (x, y) in bad {
        raises("tap (\(x), \(y))", isInvalidInput) { try session.tap(x: x, y: y) }
    }
    check("bad taps change nothing", try session.currentWord() == "he")
}

test("personal dictionary, encrypted on disk") {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("nib-swift-personal-\(getpid())")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let path = tmp.appendingPathComponent("user.nibdict").path
    let key = Data((0..<32).map { UInt8($0) })
    func store(_ key: Data) throws -> Engine {
        try Engine.withOptions(
            packDir: packs, languages: ["en"], config: EngineConfig(),
            options: EngineOptions(personalStore: path, personalKey: key))
    }
    let engine = try store(key)
    check("store opens", try engine.personalError() == nil)
    let session = try engine.session(language: "en")
    try session.typeText(text: "meet Xylbrant and Xylbrant ")
    check("learned from typing", try engine.knowsWord(word: "Xylbrant"))
    check("added", try engine.addWord(word: "Qorvex"))
    check("secret refused", try !engine.addWord(word: "4111111111111111"))
    try engine.syncPersonal()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    check("no plaintext on disk",
          bytes.range(of: Data("Xylbrant".utf8)) == nil && bytes.range(of: Data("Qorvex".utf8)) == nil)
    let exported = try engine.exportPersonal()
    try engine.forgetWord(word: "Qorvex")
    check("forgotten", try !engine.knowsWord(word: "Qorvex"))
    try engine.importPersonal(json: exported)
    check("import restores", try engine.knowsWord(word: "Qorvex"))
    raises("bad export", isInvalidInput) { try engine.importPersonal(json: "{") }
    try engine.blockWord(word: "Xylbrant")
    try session.typeText(text: "Xyl")
    check("blocked word not suggested", try session.suggestions(k: 5).allSatisfy { $0.text != "Xylbrant" })
    try engine.enableWordReports(epsilon: 4.0, k: 256, m: 1024)
    _ = try engine.addWord(word: "Blorptang")
    let reports = try engine.takeWordReports()
    check("one report of a new word", reports.count == 1 && !reports[0].contains("Blorptang"), reports)
    let count = try engine.personalWordCount()
    engine.close()
    let wrong = try store(Data(count: 32))
    check("wrong key reported", try wrong.personalError() != nil)
    check("wrong key: nothing read", try !wrong.knowsWord(word: "Qorvex"))
    let again = try store(key)
    check("reopened with its key", try again.knowsWord(word: "Qorvex") && again.personalWordCount() == count)
    raises("short key", isInvalidInput) { try store(Data(count: 5)) }
    try again.clearPersonal()
    check("cleared", try again.personalWordCount() == 0)
}

test("neural language model") {
    let lm = repository + "/languages/models/nib-lm-1"
    let ort = runtime
    let engine = try Engine.withOptions(
        packDir: packs, languages: ["en"], config: EngineConfig(),
        options: EngineOptions(languageModel: lm, onnxRuntime: ort))
    let lmError = try engine.lmError()
    check("model loaded", try lmError == nil && engine.hasLanguageModel(), lmError ?? "")
    let session = try engine.session(language: "en")
    try session.typeText(text: "I would like to ")
    check("predictions with the model", try session.suggestions(k: 3).count == 3)
    // The next word decides the word before it again: "dtop" reads as
    // "stop" after "Can you", and "off" after it says "drop".
    let at = try centres(engine)
    let typing = try engine.session(language: "en")
    try typing.setContext(beforeCursor: "Can you ")
    for letter in ["d", "t", "o", "p", " "] {
        _ = try tapKey(typing, at, letter)
    }
    check(
        "first reading",
        try typing.context() == "Can you stop " && typing.revisedPreviousWord() == nil,
        try typing.context())
    for letter in ["o", "f", "f", " "] {
        _ = try tapKey(typing, at, letter)
    }
    check("decided again", try typing.context() == "Can you drop off ", try typing.context())
    check(
        "what changed",
        try typing.revisedPreviousWord() == RevisedWord(was: "stop", now: "drop"),
        try typing.revisedPreviousWord() as Any)
    let broken = try Engine.withOptions(
        packDir: packs, languages: ["en"], config: EngineConfig(),
        options: EngineOptions(languageModel: "/nonexistent/model", onnxRuntime: ort))
    check("broken model reported", try broken.lmError() != nil && !broken.hasLanguageModel())
    raises("model without runtime", isInvalidInput) {
        try Engine.withOptions(
            packDir: packs, languages: ["en"], config: EngineConfig(), options: EngineOptions(languageModel: lm))
    }
}

test("calls after close") {
    let engine = try newEngine()
    let session = try engine.session(language: "en")
    session.close()
    session.close()
    let calls: [(String, () throws -> Any)] = [
        ("tap", { try session.tap(x: 0.5, y: 0.5) }),
        ("typeText", { try session.typeText(text: "a") }),
        ("backspace", { try session.backspace() }),
        ("commit", { try session.commit() }),
        ("pick", { try session.pick(text: "a") }),
        ("setContext", { try session.setContext(beforeCursor: "a") }),
        ("suggestions", { try session.suggestions(k: 3) }),
        ("currentWord", { try session.currentWord() }),
    ]
    for (name, call) in calls {
        raises("\(name) after close", isClosed, call)
    }
    let other = try engine.session(language: "en")
    engine.close()
    raises("engine after close", isClosed) { try engine.session(language: "en") }
    try other.typeText(text: "th")
    check("sessions outlive their closed engine", try other.suggestions(k: 3).count == 3)
}

test("hostile strings and threads") {
    let engine = try newEngine()
    let session = try engine.session(language: "en")
    let huge = String(repeating: "a", count: 1_000_000)
        + String(repeating: "\u{0}\u{7}\u{1b}\u{202e}\u{fffd}", count: 1000)
    try session.typeText(text: huge)
    try session.setContext(beforeCursor: huge)
    try session.pick(text: huge)
    _ = try session.suggestions(k: UInt32.max)
    check("huge and control strings are accepted", true)
    // Swift strings are always valid Unicode: a lone surrogate cannot be
    // made, so there is no invalid UTF-8 to send.
    try session.setContext(beforeCursor: "")
    try session.typeText(text: "th")
    check("usable after hostile input", try session.suggestions(k: 3).count == 3)

    /// What the two threads saw; shared, so behind a lock.
    final class Tally: @unchecked Sendable {
        let lock = NSLock()
        var busy = 0
        var errors: [Error] = []
        func add(_ error: Error) {
            lock.lock()
            defer { lock.unlock() }
            if isBusy(error) { busy += 1 } else { errors.append(error) }
        }
    }
    let tally = Tally()
    let done = DispatchGroup()
    for _ in 0..<2 {
        done.enter()
        Thread.detachNewThread {
            for _ in 0..<2000 {
                do {
                    try session.typeText(text: "t")
                    _ = try session.suggestions(k: 3)
                    try session.backspace()
                } catch {
                    tally.add(error)
                }
            }
            done.leave()
        }
    }
    done.wait()
    let (busy, errors) = (tally.busy, tally.errors)
    check("two threads: only Busy", errors.isEmpty, errors.prefix(3))
    print("  threads: \(busy) Busy answers out of 12000 calls")
}

/// Median and minimum microseconds per call of `call`, over 5 rounds of `n` calls.
func timePerCall(_ n: Int, _ call: () throws -> Void) rethrows -> (Double, Double) {
    for _ in 0..<n / 10 { try call() }
    var rounds: [Double] = []
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<n { try call() }
        rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(n))
    }
    rounds.sort()
    return (rounds[2], rounds[0])
}

func benchmark() throws {
    let engine = try newEngine()
    let session = try engine.session(language: "en")
    _ = try tapKey(session, try centres(engine), "h")
    let n = Int(ProcessInfo.processInfo.environment["NIB_BENCH_CALLS"] ?? "") ?? 10_000
    let (suggest, suggestMin) = try timePerCall(n) { _ = try session.suggestions(k: 3) }
    let (word, wordMin) = try timePerCall(n) { _ = try session.currentWord() }
    print(String(
        format: "  bench swift: suggestions(3) after a tap %.2f us/call (min %.2f); currentWord %.2f us/call (min %.2f); median of 5 x %d calls",
        suggest, suggestMin, word, wordMin, n))
}

test("handwriting recognises a synthetic word") {
    let url = URL(fileURLWithPath: repository + "/handwriting/testdata/ink/hello.json")
    let doc = try JSONSerialization.jsonObject(with: try Data(contentsOf: url)) as! [String: Any]
    let label = doc["label"] as! String
    let strokes = (doc["strokes"] as! [[[Double]]]).map { stroke in
        stroke.map { InkPoint(x: $0[0], y: $0[1], t: $0[2]) }
    }
    let engine = try newEngine()
    let recognizer = try HandwritingRecognizer(
        engine: engine, language: "en", modelDir: repository + "/handwriting/models/nib-hw-1",
        runtime: runtime)
    let whole = try recognizer.recognize(strokes: strokes, k: 3)
    check("ink recognised whole", whole.first?.text == label, whole)
    let area = try recognizer.inkArea()
    raises("empty area", isInvalidInput) { try area.candidates(k: 3) }
    for stroke in strokes { try area.addStroke(points: stroke) }
    let best = try area.candidates(k: 3)
    check("ink recognised stroke by stroke", best.first?.text == whole.first?.text, best)
    check("whole-ink candidates are no completions", !whole.contains { $0.completion }, whole)
    check("a lexicon word", best.first?.inLexicon == true)
    raises("NaN point", isInvalidInput) { try area.addStroke(points: [InkPoint(x: .nan, y: 0, t: 0)]) }
    check("undo", try area.undoStroke() && area.strokeCount() == UInt32(strokes.count - 1))
    try area.clearInk()
    check("clear", try area.strokeCount() == 0)
    raises("missing model", isModelUnavailable) {
        try HandwritingRecognizer(engine: engine, language: "en", modelDir: "/nonexistent", runtime: runtime)
    }
    area.close()
    raises("area after close", isClosed) { try area.candidates(k: 1) }
}

test("benchmark", benchmark)
print("swift: \(passed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
