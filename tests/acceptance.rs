//! Acceptance on the shared material beside the repository (present in CI):
//! the labelled corpus of real Claude Code runs, scored by its own tool, and
//! real third-party sessions, read without a crash.

mod common;

use std::process::Command;

use common::shared;
use orchlint::engine::{self, Options};
use orchlint::ingest::discover;
use orchlint::workflow::Workflows;

#[test]
fn score_corpus_finds_every_expected_violation_without_false_errors() {
    let Some(shared) = shared() else {
        eprintln!("../shared is not here; skipped");
        return;
    };
    let corpus = shared.join("corpus");
    let tool = shared.join("tools/score-corpus");
    if !corpus.is_dir() || !tool.is_file() {
        eprintln!("../shared/corpus or its scorer is not here; skipped");
        return;
    }
    let out = Command::new("python3")
        .arg(&tool)
        .arg(env!("CARGO_BIN_EXE_orchlint"))
        .arg(&corpus)
        .output()
        .expect("python3 runs the scorer");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "score-corpus failed:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("0 false errors, 0 crashes"), "{text}");
}

#[test]
fn external_sessions_are_read_and_every_launch_is_attributed() {
    let Some(shared) = shared() else {
        eprintln!("../shared is not here; skipped");
        return;
    };
    let external = shared.join("external");
    if !external.is_dir() {
        return;
    }
    // The whole folder through the binary: exit 0 or 1 and a JSON document.
    let out = Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(["check", "--format", "json"])
        .arg(&external)
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON document");
    assert_eq!(doc["version"], 1);
    // None of them is an ml-flow run: no error, a note for each session.
    assert_eq!(doc["summary"]["errors"], 0, "{doc:#}");
    assert!(doc["summary"]["sessions_without_run"].as_u64().unwrap() >= 5);
    // The orphan without its session file is reported.
    let diags = doc["diagnostics"].as_array().unwrap();
    assert!(diags.iter().any(|d| d["rule"] == "transcript"
        && d["file"].as_str().unwrap().contains("6c2214d7")
        && d["message"].as_str().unwrap().contains("orphan")));

    // Every file, one by one, and every launch attributed with its return.
    let wf = Workflows::builtin();
    let opts = Options { detail: true, ..Options::default() };
    let discovery = discover::discover(std::slice::from_ref(&external), true).unwrap();
    let mut launches = 0;
    for job in &discovery.jobs {
        let checked = engine::check_job(job, &wf, &opts);
        for l in &checked.session.launches {
            launches += 1;
            assert!(l.returned_at.is_some(), "{}: launch {} has no return", job.display, l.tool_use_id);
        }
    }
    assert!(launches >= 10, "only {launches} launches found in the external sessions");
}
