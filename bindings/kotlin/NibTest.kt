// Tests of nib's Kotlin binding surface on the JVM (JNA), run by
// bindings/kotlin/test.sh: engine and session calls, records, enums, every
// error a caller can meet, closing, threads, hostile strings, and a small
// per-call benchmark. What the engine suggests is the engine's tests'
// business. Ends with "N passed, M failed"; exits 1 on a failure.
//
// Arguments: the pack directory.

import java.io.File
import java.nio.charset.CharacterCodingException
import java.nio.file.Files
import kotlin.system.exitProcess
import nib.*

var passed = 0
var failed = 0

fun check(name: String, condition: Boolean, detail: Any? = "") {
    if (condition) passed++ else {
        failed++
        println("FAIL $name $detail")
    }
}

/** `block` must throw a [T]; returns it. */
inline fun <reified T : Throwable> raises(name: String, block: () -> Any?): T? {
    try {
        val result = block()
        check(name, false, "returned $result")
    } catch (e: Throwable) {
        if (e is T) {
            check(name, true)
            return e
        }
        check(name, false, "threw ${e::class.qualifiedName}: ${e.message}")
    }
    return null
}

/** Runs one test; an unexpected exception is one failure. */
fun test(name: String, body: () -> Unit) {
    try {
        body()
    } catch (e: Throwable) {
        failed++
        println("FAIL $name threw ${e::class.qualifiedName}: ${e.message}")
        e.printStackTrace()
    }
}

lateinit var packs: String

/** The strokes and label of a JSON ink fixture (no JSON library on the
 * classpath: the format is fixed, `"strokes":[[[x,y,t],...],...]`). */
fun readInk(path: String): Pair<List<List<InkPoint>>, String> {
    val text = File(path).readText()
    val label = Regex("\"label\":\"([^\"]*)\"").find(text)!!.groupValues[1]
    val number = "(-?[0-9.eE+-]+)"
    // Split between strokes after the closing brackets, so every point keeps
    // its opening one.
    val point = Regex("\\[$number,$number,$number")
    val strokes = text.substringAfter("\"strokes\":").split("]],[").map { stroke ->
        point.findAll(stroke).map {
            val (x, y, t) = it.destructured
            InkPoint(x.toDouble(), y.toDouble(), t.toDouble())
        }.toList()
    }
    return strokes to label
}

fun newEngine(vararg languages: String = arrayOf("en")) = Engine(packs, languages.toList(), EngineConfig())

/** Key output -> centre, from the layout the engine exposes. */
fun centres(engine: Engine, language: String = "en"): Map<String, Pair<Float, Float>> =
    engine.layout(language).keys.associate { it.output to (it.x to it.y) }

fun Session.tapKey(at: Map<String, Pair<Float, Float>>, output: String): Key {
    val (x, y) = at.getValue(output)
    return tap(x, y)
}

fun main(args: Array<String>) {
    packs = args.getOrElse(0) { ".cache/packs" }

    test("engine and layout") {
        newEngine("en", "de").use { engine ->
            check("languages", engine.languages() == listOf("de", "en"), engine.languages())
            val config = engine.config()
            check("default config", config.pairWeight == 0.6f, config)
            val layout = engine.layout("en")
            check("layout language", layout.language == "en")
            val kinds = layout.keys.map { it.kind }.toSet()
            check("letters and space", kinds.containsAll(listOf(KeyKind.LETTER, KeyKind.SPACE)))
        }
    }

    test("autocorrect at the space and its undo") {
        val engine = newEngine()
        val at = centres(engine)
        engine.session("en").use { session ->
            session.setContext("I saw ")
            check("no decision yet", session.lastDecision() == null)
            for (letter in listOf("t", "e", "h")) session.tapKey(at, letter)
            session.tapKey(at, " ")
            check("teh becomes the", session.context() == "I saw the ", session.context())
            val decision = session.lastDecision()
            check(
                "decision explained",
                decision != null && decision.typed == "teh" && decision.correction == "the" &&
                    decision.action == CorrectionAction.APPLIED && decision.reason.isNotEmpty(),
                decision,
            )
            session.backspace()
            check(
                "backspace undoes it",
                session.context() == "I saw " && session.currentWord() == "teh",
                session.currentWord(),
            )
        }
    }

    test("taps type a word, then suggest and commit") {
        val engine = newEngine()
        val at = centres(engine)
        engine.session("en").use { session ->
            for (letter in listOf("h", "e", "l")) {
                val key = session.tapKey(at, letter)
                check("tap $letter", key.output == letter && key.kind == KeyKind.LETTER, key)
            }
            check("current word", session.currentWord() == "hel", session.currentWord())
            val suggestions = session.suggestions(3u)
            check("three suggestions", suggestions.size == 3, suggestions)
            check(
                "completions of hel",
                suggestions.all { it.kind == SuggestionKind.COMPLETION && it.text.lowercase().startsWith("hel") },
                suggestions,
            )
            check("best first", suggestions.map { it.score } == suggestions.map { it.score }.sortedDescending())
            check("three by default", session.suggestions().size == 3)
            check("space key", session.tapKey(at, " ").kind == KeyKind.SPACE)
            check(
                "space commits, with a capital where the field begins",
                session.context() == "Hel " && session.currentWord() == "",
                session.context(),
            )
            val predictions = session.suggestions(3u)
            check(
                "predictions after space",
                predictions.isNotEmpty() && predictions.all { it.kind == SuggestionKind.PREDICTION },
                predictions,
            )
            session.setContext("Nice to meet y")
            check("setContext", session.currentWord() == "y" && session.context() == "Nice to meet ")
            session.pick("you")
            check("pick", session.context() == "Nice to meet you ")
            session.typeText("wor")
            session.backspace()
            check("backspace", session.currentWord() == "wo")
            session.commit()
            check("commit", session.context().endsWith("you wo ") && session.currentWord() == "")
            check("language", session.language() == "en")
        }
    }

    test("field options reach the session") {
        val engine = newEngine()
        val password = engine.session("en", SessionOptions(field = FieldType.PASSWORD))
        check("password field", password.options().field == FieldType.PASSWORD)
        check("password never learns", !password.learningAllowed())
        val private = engine.session("en", SessionOptions(FieldType.TEXT, noLearning = true))
        check("noLearning kept", private.options().noLearning && !private.learningAllowed())
        check("plain field learns", engine.session("en").learningAllowed())
        val otp = engine.session("en", SessionOptions(FieldType.ONE_TIME_CODE, false))
        check("one-time code never learns", !otp.learningAllowed())
        val at = centres(engine)
        engine.session("en", SessionOptions(FieldType.TEXT, noAutoCapitals = true)).use { plain ->
            check("noAutoCapitals kept", plain.options().noAutoCapitals)
            for (letter in listOf("h", "e", "l", " ")) plain.tapKey(at, letter)
            check("no automatic capital", plain.context() == "hel ", plain.context())
        }
    }

    test("error cases") {
        raises<NibException.PackNotFound>("missing pack dir") {
            Engine("/nonexistent/nib-packs", listOf("en"), EngineConfig())
        }
        val unknown = raises<NibException.UnknownLanguage>("unknown language") {
            Engine(packs, listOf("xx"), EngineConfig())
        }
        check("unknown language lists the others", unknown?.message?.contains("en") == true, unknown?.message)
        val tmp = Files.createTempDirectory("nib-kotlin").toFile()
        try {
            File(tmp, "xx.nibpack").writeBytes("garbage, not a language pack".repeat(10).toByteArray())
            val corrupt = raises<NibException.PackCorrupt>("corrupt pack") {
                Engine(tmp.path, listOf("xx"), EngineConfig())
            }
            check("corrupt pack names the file", corrupt?.message?.contains("xx.nibpack") == true, corrupt?.message)
        } finally {
            tmp.deleteRecursively()
        }
        raises<NibException.InvalidInput>("tag escaping the dir") { Engine(packs, listOf("../en"), EngineConfig()) }
        raises<NibException.InvalidInput>("bad config") {
            Engine(packs, listOf("en"), EngineConfig(pairWeight = 2.0f))
        }
        val engine = newEngine()
        raises<NibException.UnknownLanguage>("session in unknown language") { engine.session("ru") }
        val session = engine.session("en")
        session.typeText("he")
        for ((x, y) in listOf(Float.NaN to 0.5f, 0.5f to Float.POSITIVE_INFINITY, 1e9f to 1e9f, -50f to 1f)) {
            raises<NibException.InvalidInput>("tap ($x, $y)") { session.tap(x, y) }
        }
        check("bad taps change nothing", session.currentWord() == "he")
        // Every error is a NibException, so one catch covers them all.
        raises<NibException>("one base class") { session.tap(Float.NaN, Float.NaN) }
    }

    test("personal dictionary, encrypted on disk") {
        val tmp = Files.createTempDirectory("nib-kotlin-personal").toFile()
        try {
            val path = File(tmp, "user.nibdict").path
            val key = ByteArray(32) { it.toByte() }
            fun store(key: ByteArray) =
                Engine.withOptions(packs, listOf("en"), EngineConfig(), EngineOptions(personalStore = path, personalKey = key))
            val engine = store(key)
            check("store opens", engine.personalError() == null, engine.personalError())
            val session = engine.session("en")
            session.typeText("meet Xylbrant and Xylbrant ")
            check("learned from typing", engine.knowsWord("Xylbrant"))
            check("added", engine.addWord("Qorvex"))
            check("secret refused", !engine.addWord("4111111111111111"))
            engine.syncPersonal()
            val bytes = String(File(path).readBytes(), Charsets.ISO_8859_1)
            check("no plaintext on disk", !bytes.contains("Xylbrant") && !bytes.contains("Qorvex"))
            val exported = engine.exportPersonal()
            engine.forgetWord("Qorvex")
            check("forgotten", !engine.knowsWord("Qorvex"))
            engine.importPersonal(exported)
            check("import restores", engine.knowsWord("Qorvex"))
            raises<NibException.InvalidInput>("bad export") { engine.importPersonal("{") }
            engine.blockWord("Xylbrant")
            session.typeText("Xyl")
            check("blocked word not suggested", session.suggestions(5u).none { it.text == "Xylbrant" })
            engine.enableWordReports(4.0, 256u, 1024u)
            engine.addWord("Blorptang")
            val reports = engine.takeWordReports()
            check("one report of a new word", reports.size == 1 && !reports[0].contains("Blorptang"), reports)
            val count = engine.personalWordCount()
            engine.closeEngine()
            val wrong = store(ByteArray(32))
            check("wrong key reported", wrong.personalError() != null)
            check("wrong key: nothing read", !wrong.knowsWord("Qorvex"))
            val again = store(key)
            check("reopened with its key", again.knowsWord("Qorvex") && again.personalWordCount() == count)
            raises<NibException.InvalidInput>("short key") { store(ByteArray(5)) }
            again.clearPersonal()
            check("cleared", again.personalWordCount() == 0uL)
        } finally {
            tmp.deleteRecursively()
        }
    }

    test("neural language model") {
        val lm = File("languages/models/nib-lm-1").absolutePath
        val ort = System.getenv("NIB_ORT")
            ?: File(".cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1").absolutePath
        val engine = Engine.withOptions(packs, listOf("en"), EngineConfig(), EngineOptions(languageModel = lm, onnxRuntime = ort))
        check("model loaded", engine.lmError() == null && engine.hasLanguageModel(), engine.lmError())
        val session = engine.session("en")
        session.typeText("I would like to ")
        check("predictions with the model", session.suggestions(3u).size == 3)
        // The next word decides the word before it again: "dtop" reads as
        // "stop" after "Can you", and "off" after it says "drop".
        val at = centres(engine)
        engine.session("en").use { typing ->
            typing.setContext("Can you ")
            for (letter in listOf("d", "t", "o", "p", " ")) typing.tapKey(at, letter)
            check(
                "first reading",
                typing.context() == "Can you stop " && typing.revisedPreviousWord() == null,
                typing.context())
            for (letter in listOf("o", "f", "f", " ")) typing.tapKey(at, letter)
            check("decided again", typing.context() == "Can you drop off ", typing.context())
            check(
                "what changed",
                typing.revisedPreviousWord() == RevisedWord(was = "stop", now = "drop"),
                typing.revisedPreviousWord())
        }
        val broken = Engine.withOptions(
            packs, listOf("en"), EngineConfig(), EngineOptions(languageModel = "/nonexistent/model", onnxRuntime = ort))
        check("broken model reported", broken.lmError() != null && !broken.hasLanguageModel())
        raises<NibException.InvalidInput>("model without runtime") {
            Engine.withOptions(packs, listOf("en"), EngineConfig(), EngineOptions(languageModel = lm))
        }
    }

    test("handwriting recognises a synthetic word") {
        val ort = System.getenv("NIB_ORT")
            ?: ".cache/sources/onnxruntime/onnxruntime/capi/libonnxruntime.so.1.31.1"
        val model = "handwriting/models/nib-hw-1"
        val (strokes, label) = readInk("handwriting/testdata/ink/hello.json")
        newEngine().use { engine ->
            HandwritingRecognizer(engine, "en", model, ort).use { recognizer ->
                val whole = recognizer.recognize(strokes, 3u)
                check("ink recognised whole", whole[0].text == label, whole)
                recognizer.inkArea().use { area ->
                    raises<NibException.InvalidInput>("empty area") { area.candidates(3u) }
                    for (stroke in strokes) area.addStroke(stroke)
                    val best = area.candidates(3u)
                    check("ink recognised stroke by stroke", best[0].text == whole[0].text, best)
                    check("whole-ink candidates are no completions", whole.none { it.completion }, whole)
                    check("a lexicon word", best[0].inLexicon)
                    raises<NibException.InvalidInput>("NaN point") {
                        area.addStroke(listOf(InkPoint(Double.NaN, 0.0, 0.0)))
                    }
                    check("undo", area.undoStroke() && area.strokeCount() == (strokes.size - 1).toUInt())
                    area.clearInk()
                    check("clear", area.strokeCount() == 0u)
                    area.closeArea()
                    raises<NibException.Closed>("area after close") { area.candidates(1u) }
                }
                raises<NibException.ModelUnavailable>("missing model") {
                    HandwritingRecognizer(engine, "en", "/nonexistent", ort)
                }
            }
        }
    }

    test("calls after close") {
        val engine = newEngine()
        val session = engine.session("en")
        session.closeSession()
        session.closeSession()
        val calls: Map<String, () -> Any?> = mapOf(
            "tap" to { session.tap(0.5f, 0.5f) },
            "typeText" to { session.typeText("a") },
            "backspace" to { session.backspace() },
            "commit" to { session.commit() },
            "pick" to { session.pick("a") },
            "setContext" to { session.setContext("a") },
            "suggestions" to { session.suggestions(3u) },
            "currentWord" to { session.currentWord() },
        )
        for ((name, call) in calls) raises<NibException.Closed>("$name after close") { call() }
        val other = engine.session("en")
        engine.closeEngine()
        raises<NibException.Closed>("engine after close") { engine.session("en") }
        other.typeText("th")
        check("sessions outlive their closed engine", other.suggestions(3u).size == 3)
        // AutoCloseable.close() frees the handle itself.
        other.close()
        raises<IllegalStateException>("destroyed handle") { other.currentWord() }
    }

    test("hostile strings and threads") {
        val engine = newEngine()
        val session = engine.session("en")
        val huge = "a".repeat(1_000_000) + "\u0000\u0007\u001b\u202e\ufffd".repeat(1000)
        session.typeText(huge)
        session.setContext(huge)
        session.pick(huge)
        session.suggestions(UInt.MAX_VALUE)
        check("huge and control strings are accepted", true)
        // A lone surrogate is not UTF-16 text; the binding's encoder refuses
        // it before the call, and the session is unharmed.
        raises<CharacterCodingException>("lone surrogate") { session.typeText("\uD800") }
        session.setContext("")
        session.typeText("th")
        check("usable after refused input", session.suggestions(3u).size == 3)

        var busy = 0
        val errors = java.util.Collections.synchronizedList(mutableListOf<Throwable>())
        val threads = List(2) {
            Thread {
                var mine = 0
                repeat(2000) {
                    try {
                        session.typeText("t")
                        session.suggestions(3u)
                        session.backspace()
                    } catch (e: NibException.Busy) {
                        mine++
                    } catch (e: Throwable) {
                        errors.add(e)
                    }
                }
                synchronized(errors) { busy += mine }
            }
        }
        threads.forEach { it.start() }
        threads.forEach { it.join() }
        check("two threads: only Busy", errors.isEmpty(), errors.take(3))
        println("  threads: $busy Busy answers out of 12000 calls")
    }

    benchmark()
    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}

/** Median and minimum microseconds per call of `call`, over 5 rounds of `n` calls. */
fun timePerCall(n: Int, call: () -> Unit): Pair<Double, Double> {
    repeat(n) { call() } // JIT warm-up
    val rounds = List(5) {
        val start = System.nanoTime()
        repeat(n) { call() }
        (System.nanoTime() - start) / 1e3 / n
    }.sorted()
    return rounds[2] to rounds[0]
}

fun benchmark() {
    val engine = newEngine()
    val session = engine.session("en")
    session.tapKey(centres(engine), "h")
    val n = System.getenv("NIB_BENCH_CALLS")?.toIntOrNull() ?: 10_000
    val (suggest, suggestMin) = timePerCall(n) { session.suggestions(3u) }
    val (word, wordMin) = timePerCall(n) { session.currentWord() }
    println(
        "  bench kotlin: suggestions(3) after a tap %.2f us/call (min %.2f); currentWord %.2f us/call (min %.2f); median of 5 x %d calls"
            .format(suggest, suggestMin, word, wordMin, n),
    )
}
