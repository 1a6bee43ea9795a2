//! The `nib` binary end to end: suggest, batch mode, packs, ksr, errors.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn packs() -> PathBuf {
    std::env::var_os("NIB_PACKS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.cache/packs"))
}

fn nib(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nib"))
        .args(args)
        .env("NIB_PACKS", packs())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nib runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("nib finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn suggest_prints_json() {
    let out = nib(
        &[
            "suggest",
            "--lang",
            "en",
            "--context",
            "I live in New",
            "--word",
            "Yo",
            "--json",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(value["suggestions"][0]["text"], "York");
    assert_eq!(value["suggestions"][0]["kind"], "completion");
}

#[test]
fn batch_answers_every_line_and_survives_bad_ones() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"context\": \"Thank\", \"word\": \"\", \"k\": 2, \"id\": 7}\n");
    input.extend_from_slice(b"this is not json\n");
    input.extend_from_slice(b"{\"context\": \"\", \"word\": \"\\ud800\"}\n");
    input.extend_from_slice(b"\xff\xfe{\"word\": \"a\"}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"{\"lang\": \"xx\", \"word\": \"a\"}\n");
    let long = format!("{{\"word\": \"{}\"}}\n", "a".repeat(10_000));
    input.extend_from_slice(long.as_bytes());
    input.extend_from_slice(b"{\"word\": \"pari\"}");
    // A generous budget: the test checks that the neural stage is wired,
    // on a machine that may be busy with other tests.
    let out = nib(
        &[
            "--lm-budget-ms",
            "2000",
            "suggest",
            "--lang",
            "en",
            "--batch",
        ],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7, "one answer per non-empty line");
    assert_eq!(lines[0]["id"], 7);
    assert_eq!(lines[0]["suggestions"][0]["text"], "you");
    assert_eq!(lines[0]["suggestions"].as_array().unwrap().len(), 2);
    assert!(lines[0]["micros"].is_u64());
    // The set-up fetches ONNX Runtime and the model is in the repository.
    assert_eq!(lines[0]["neural"], "ran", "{}", lines[0]);
    assert_eq!(lines[1]["line"], 2);
    assert!(
        lines[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed request")
    );
    // A lone surrogate cannot become a Rust string: the request is rejected.
    assert!(
        lines[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed request"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3]["error"], "request is not valid UTF-8");
    assert!(
        lines[4]["error"]
            .as_str()
            .unwrap()
            .contains("unknown language \"xx\"")
    );
    assert_eq!(lines[5]["suggestions"].as_array().unwrap().len(), 0);
    assert_eq!(lines[6]["line"], serde_json::Value::Null);
    assert_eq!(lines[6]["suggestions"][0]["text"], "Paris");
}

#[test]
fn packs_lists_every_language_with_sources() {
    let out = nib(&["packs", "--json"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let packs: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let langs: Vec<&str> = packs
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["language"].as_str().unwrap())
        .collect();
    assert_eq!(langs, ["de", "en", "es", "fr", "it", "pt", "ru"]);
    assert!(
        packs[1]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["package"] == "wordfreq")
    );
}

#[test]
fn ksr_of_a_text_file() {
    let dir = std::env::temp_dir().join(format!("nib-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("text.txt");
    std::fs::write(&file, "Thank you very much for the nice evening.\n").unwrap();
    let out = nib(
        &["ksr", "--lang", "en", "--json", file.to_str().unwrap()],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["characters"], 42);
    let ksr = report["ksr"].as_f64().unwrap();
    assert!(ksr > 0.2 && ksr < 1.0, "{report}");
}

#[test]
fn ksr_types_with_another_engine_through_a_prediction_server() {
    let dir = scratch("server");
    let (server, text, log) = (
        dir.join("server.sh"),
        dir.join("text.txt"),
        dir.join("requests.log"),
    );
    std::fs::write(&text, "Thank you very much.\n").unwrap();
    // `nib ksr --json` with a prediction server of presage_predict's
    // protocol written as the shell script `body`; its argument (where
    // Presage's takes its configuration) names the request log.
    let ksr_with_server = |body: &str| {
        std::fs::write(&server, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&server, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let arg = |p: &PathBuf| p.to_str().unwrap().to_owned();
        let (log, server, text) = (arg(&log), arg(&server), arg(&text));
        nib(
            &[
                "ksr",
                "--json",
                "--presage",
                &log,
                "--presage-driver",
                &server,
                &text,
            ],
            b"",
        )
    };
    let report = |out: &Output| -> serde_json::Value {
        ok(out);
        serde_json::from_str(&stdout(out)).unwrap()
    };

    // Always the same three words, each request logged.
    let out = ksr_with_server(
        "while IFS= read -r line; do printf '%s\\n' \"$line\" >> \"$1\"; printf 'Thank\\tyou\\tvery\\n'; done",
    );
    let r = report(&out);
    // Three words selected before their first letter; "much." typed with its
    // period and the space after it.
    assert_eq!(r["characters"], 21, "{r}");
    assert_eq!(r["selections"], 3, "{r}");
    assert_eq!(r["keystrokes"], 6, "{r}");
    let requests = std::fs::read_to_string(&log).unwrap();
    let prefix = "Thank you very ";
    let expected = ["", "Thank ", "Thank you ", prefix]
        .iter()
        .map(|s| s.to_string())
        .chain(
            ["m", "mu", "muc", "much"]
                .iter()
                .map(|w| format!("{prefix}{w}")),
        )
        .collect::<Vec<_>>();
    assert_eq!(requests.lines().collect::<Vec<_>>(), expected);

    // A server that answers with bytes that are not UTF-8 (Presage works
    // on bytes) is a server whose suggestions never match.
    let r = report(&ksr_with_server(
        "while read -r line; do printf '\\377\\n'; done",
    ));
    assert_eq!(
        (r["selections"].as_u64(), r["keystrokes"].as_u64()),
        (Some(0), Some(21))
    );

    // A server that stops is an error, not a hang or a panic.
    let out = ksr_with_server("exit 3");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stopped"), "{:?} {stderr}", out.status);
}

#[test]
fn unknown_language_and_missing_file_fail_with_a_message() {
    let out = nib(&["suggest", "--lang", "xx", "--word", "a"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown language \"xx\""));
    let out = nib(&["ksr", "--lang", "en", "/nonexistent/text.txt"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/text.txt"));
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nib-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn repo(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The summary without its `timing` object, which alone may differ between
/// runs.
fn without_timing(mut summary: serde_json::Value) -> serde_json::Value {
    summary.as_object_mut().unwrap().remove("timing");
    summary
}

#[test]
fn the_bundled_sample_log_is_what_simulate_writes() {
    // The command that made bindings/cli/samples/en.typing.jsonl.
    let out = nib(
        &[
            "simulate",
            "--lang",
            "en",
            "--sigma",
            "0.3",
            "--seed",
            "7",
            &repo("bindings/cli/samples/en.txt"),
        ],
        b"",
    );
    ok(&out);
    let bundled = std::fs::read(repo("bindings/cli/samples/en.typing.jsonl")).unwrap();
    assert!(
        out.stdout == bundled,
        "the sample log is out of date: regenerate it with the command above"
    );
}

#[test]
fn replay_writes_a_deterministic_summary_and_an_html_report() {
    let dir = scratch("report");
    let sample = repo("bindings/cli/samples/en.typing.jsonl");
    let mut summaries = Vec::new();
    for run in ["a", "b"] {
        let report = dir.join(run);
        let out = nib(
            &[
                "--no-lm",
                "replay",
                "--jobs",
                "2",
                "--report",
                report.to_str().unwrap(),
                &sample,
            ],
            b"",
        );
        ok(&out);
        assert!(stdout(&out).contains("word accuracy"), "{}", stdout(&out));
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap())
                .unwrap();
        let html = std::fs::read_to_string(report.join("report.html")).unwrap();
        assert_eq!(html.matches("<svg").count(), 4, "four plots");
        assert!(html.contains("By tap noise"));
        summaries.push(summary);
    }
    assert_eq!(summaries[0]["event_count"], 548);
    assert_eq!(summaries[0]["by_noise"].as_object().unwrap().len(), 1);
    assert!(
        summaries[0]["timing"]["latency"]["tap"]["p99_us"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let (a, b) = (
        without_timing(summaries[0].clone()),
        without_timing(summaries[1].clone()),
    );
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn merged_partials_give_the_summary_of_one_run() {
    let dir = scratch("merge");
    let mut logs = Vec::new();
    for (language, sigma) in [("en", "0.2"), ("de", "0.3"), ("ru", "0.4")] {
        let log = dir.join(format!("{language}.jsonl"));
        let text = repo(&format!("bindings/cli/samples/{language}.txt"));
        let out = nib(
            &[
                "simulate",
                "--lang",
                language,
                "--sigma",
                sigma,
                "--omission",
                "0.02",
                "-o",
                log.to_str().unwrap(),
                &text,
            ],
            b"",
        );
        ok(&out);
        logs.push(log.to_str().unwrap().to_owned());
    }
    let mut args = vec!["--no-lm", "replay", "--json"];
    args.extend(logs.iter().map(String::as_str));
    let whole = nib(&args, b"");
    ok(&whole);
    let whole: serde_json::Value = serde_json::from_str(&stdout(&whole)).unwrap();

    // One shard per log, one of them through standard input and output as
    // a batch engine's pipe stage would run it.
    let mut partials = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let partial = dir.join(format!("part-{i}.json"));
        let out = if i == 0 {
            let out = nib(
                &["--no-lm", "replay", "--partial", "-", "-"],
                &std::fs::read(log).unwrap(),
            );
            std::fs::write(&partial, &out.stdout).unwrap();
            out
        } else {
            nib(
                &[
                    "--no-lm",
                    "replay",
                    "--partial",
                    partial.to_str().unwrap(),
                    log,
                ],
                b"",
            )
        };
        ok(&out);
        partials.push(partial.to_str().unwrap().to_owned());
    }
    let mut args = vec!["merge", "--json"];
    args.extend(partials.iter().rev().map(String::as_str));
    let merged = nib(&args, b"");
    ok(&merged);
    let merged: serde_json::Value = serde_json::from_str(&stdout(&merged)).unwrap();
    // The log names of problem examples differ ("-"); there are none.
    assert_eq!(whole["problem_count"], 0);
    assert_eq!(merged["logs"], 3);
    assert_eq!(
        without_timing(merged.clone()),
        without_timing(whole.clone())
    );
    assert_eq!(
        merged["timing"]["latency"]["tap"]["count"],
        whole["timing"]["latency"]["tap"]["count"]
    );

    // Partials of another k do not merge.
    let other = dir.join("other-k.json");
    ok(&nib(
        &[
            "--no-lm",
            "replay",
            "-k",
            "5",
            "--partial",
            other.to_str().unwrap(),
            &logs[0],
        ],
        b"",
    ));
    let out = nib(&["merge", &partials[0], other.to_str().unwrap()], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not mergeable"));
}

#[test]
fn bad_logs_are_reported_and_strict_mode_fails() {
    let dir = scratch("bad");
    let log = dir.join("bad.jsonl");
    std::fs::write(
        &log,
        "{\"type\":\"session\",\"version\":1,\"language\":\"en\"}\n{\"type\":\"tap\",\"x\":1\n{\"type\":\"key\",\"key\":\"a\"}\n",
    )
    .unwrap();
    let path = log.to_str().unwrap();
    let out = nib(&["--no-lm", "replay", "--json", path], b"");
    ok(&out);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["problems"]["malformed"], 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:line 2"));

    let out = nib(&["--no-lm", "replay", "--strict", path], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:line 2"));

    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let out = nib(&["--no-lm", "replay", empty.to_str().unwrap()], b"");
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no events"));

    let out = nib(&["--no-lm", "replay", "/nonexistent/log.jsonl"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/log.jsonl"));

    let out = nib(&["simulate", "--sigma=-1", path], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("tap noise"));
}

#[test]
fn replay_runs_the_neural_model_when_it_is_there() {
    let out = nib(
        &[
            "replay",
            "--json",
            &repo("bindings/cli/samples/en.typing.jsonl"),
        ],
        b"",
    );
    ok(&out);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["neural"], "nib-lm-1");
    assert!(summary["overall"]["ksr"].as_f64().unwrap() > 0.2);
}

#[test]
fn ldp_reports_simulated_and_aggregated_recover_the_top_words() {
    let dir = std::env::temp_dir().join(format!("nib-ldp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reports = dir.join("reports.jsonl");
    let candidates = dir.join("candidates.txt");
    let out = nib(
        &[
            "ldp",
            "simulate",
            "--users",
            "30000",
            "--vocabulary",
            "40",
            "--decoys",
            "40",
            "--top",
            "3",
            "--k",
            "64",
            "--m",
            "256",
            "--json",
            "--reports",
            reports.to_str().unwrap(),
            "--candidates",
            candidates.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(summary["recovered"], 3, "{summary}");
    // The same reports through the aggregator, and a device's own reports
    // from standard input added to them.
    let device = nib(
        &[
            "ldp", "report", "--k", "64", "--m", "256", "--seed", "3", "ka",
        ],
        b"",
    );
    assert!(device.status.success());
    let out = nib(
        &[
            "ldp",
            "aggregate",
            "--candidates",
            candidates.to_str().unwrap(),
            "--top",
            "3",
            "--json",
            reports.to_str().unwrap(),
            "-",
        ],
        &device.stdout,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(value["reports"], 30_001);
    let top: Vec<&str> = value["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["word"].as_str().unwrap())
        .collect();
    let truth: Vec<&str> = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_str().unwrap())
        .collect();
    assert_eq!(top, truth);
    // A broken report is an error that names its line.
    let out = nib(
        &[
            "ldp",
            "aggregate",
            "--candidates",
            candidates.to_str().unwrap(),
            "-",
        ],
        b"{\"version\":1}\n",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("-:1"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn ink(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../handwriting/testdata/ink")
        .join(format!("{name}.json"))
        .display()
        .to_string()
}

#[test]
fn recognize_reads_json_ink_and_inkml() {
    let out = nib(&["recognize", &ink("hello"), "--json", "-k", "2"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(answer["candidates"][0]["text"], "hello");
    assert_eq!(answer["candidates"].as_array().unwrap().len(), 2);
    assert_eq!(answer["label"], "hello");
    // The same ink as InkML, through the text output, without the lexicon.
    let dir = tempfile::tempdir().unwrap();
    let (strokes, _) = {
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(ink("hello")).unwrap()).unwrap();
        (doc["strokes"].clone(), ())
    };
    let traces: Vec<String> = strokes
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let points: Vec<String> = s
                .as_array()
                .unwrap()
                .iter()
                .map(|p| format!("{} {} {}", p[0], p[1], p[2]))
                .collect();
            format!("<trace>{}</trace>", points.join(", "))
        })
        .collect();
    let inkml = dir.path().join("hello.inkml");
    std::fs::write(
        &inkml,
        format!(
            "<ink xmlns=\"http://www.w3.org/2003/InkML\"><traceFormat><channel name=\"X\"/>\
             <channel name=\"Y\"/><channel name=\"T\"/></traceFormat>{}</ink>",
            traces.concat()
        ),
    )
    .unwrap();
    let out = nib(&["recognize", inkml.to_str().unwrap(), "--no-lexicon"], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.lines().nth(1).unwrap().starts_with("hello\t"),
        "{text}"
    );
    assert!(text.contains("(new word)"), "{text}");
}

#[test]
fn ink_svg_draws_the_ink_with_its_reading() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("line.svg");
    let out = nib(&["ink-svg", &ink("line"), "-o", svg.to_str().unwrap()], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(drawn.starts_with("<svg"));
    assert!(drawn.contains("see you soon"));
    assert!(
        drawn.matches("<polyline").count() >= 5,
        "one path per stroke"
    );
}

#[test]
fn recognize_reports_bad_ink() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"strokes": [[[0, 0, 5], [1, 1, 4]]]}"#).unwrap();
    let out = nib(&["recognize", bad.to_str().unwrap()], b"");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("time goes backwards"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = nib(&["eval-handwriting", dir.path().to_str().unwrap()], b"");
    assert!(!out.status.success());
}
