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
    let out = nib(&["suggest", "--lang", "en", "--batch"], &input);
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
fn unknown_language_and_missing_file_fail_with_a_message() {
    let out = nib(&["suggest", "--lang", "xx", "--word", "a"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown language \"xx\""));
    let out = nib(&["ksr", "--lang", "en", "/nonexistent/text.txt"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/text.txt"));
}
