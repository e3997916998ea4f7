//! The CI surface: fail levels, output files, several reports in one run,
//! `orchlint.toml` (found upward; severities, exclusions, suppressions,
//! errors), baselines, shell completions and the man page.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::repo;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_in(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CI", "true")
        .stdin(Stdio::null())
        .output()
        .expect("orchlint runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A project folder holding a copy of one fixture, to put an orchlint.toml beside.
fn project(fixture: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let name = Path::new(fixture).file_name().unwrap().to_str().unwrap().to_string();
    std::fs::copy(repo().join("fixtures/transcripts").join(fixture), dir.path().join(&name)).unwrap();
    (dir, name)
}

const TWO_ARCHITECTS: &str = "agent-count/invalid-v2.1-phase4-two-architects.jsonl";
const FOUR_ARCHITECTS: &str = "agent-count/invalid-v2.1-phase4-four-architects.jsonl";
const TWO_ARCHITECTS_SESSION: &str = "invalid-v2.1-phase4-two-architects.jsonl";

#[test]
fn fail_levels_decide_the_exit_status() {
    let (dir, file) = project(FOUR_ARCHITECTS); // a warning (more architects than asked), no error
    let d = dir.path();
    assert_eq!(run_in(d, &["check", &file, "--isolated", "--format", "concise"]).code, 0);
    assert_eq!(run_in(d, &["check", &file, "--isolated", "--fail-level", "warning"]).code, 1);
    let (dir, file) = project(TWO_ARCHITECTS); // an error
    let d = dir.path();
    assert_eq!(run_in(d, &["check", &file, "--isolated"]).code, 1);
    assert_eq!(run_in(d, &["check", &file, "--isolated", "--fail-level", "never"]).code, 0);
    assert_eq!(run_in(d, &["check", &file, "--isolated", "--exit-zero"]).code, 0);
}

#[test]
fn output_file_and_several_reports_in_one_run() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let out = run_in(
        d,
        &[
            "check",
            &file,
            "--isolated",
            "--format",
            "json",
            "--output",
            "out.json",
            "--report",
            "sarif=out.sarif",
            "--report",
            "junit=out.xml",
            "--report",
            "jsonl=out.jsonl",
            "--report",
            "github=-",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    // Only the github report went to standard output.
    assert!(out.stdout.starts_with("::error file="), "{}", out.stdout);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out.json")).unwrap()).unwrap();
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.sarif")).unwrap()).unwrap();
    assert_eq!(json["diagnostics"][0]["rule"], "agent-count");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "agent-count");
    assert!(std::fs::read_to_string(d.join("out.xml")).unwrap().contains("<testsuites"));
    assert_eq!(std::fs::read_to_string(d.join("out.jsonl")).unwrap().lines().count(), 2);
    let bad = run_in(d, &["check", &file, "--isolated", "--report", "pdf=x.pdf"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown format `pdf`"), "{}", bad.stderr);
}

#[test]
fn html_report_is_written() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let out = run_in(d, &["report", &file, "--isolated", "-o", "timeline.html"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(d.join("timeline.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("agent-count"), "{}", &html[..200.min(html.len())]);
    let out = run_in(d, &["check", &file, "--isolated", "--format", "html", "-o", "check.html"]);
    assert_eq!(out.code, 1);
    assert!(std::fs::read_to_string(d.join("check.html")).unwrap().contains("agent-count"));
}

#[test]
fn config_is_found_upward_and_sets_severity_fail_level_and_exclusions() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let sub = d.join("deeper/still");
    std::fs::create_dir_all(&sub).unwrap();
    let path = d.join(&file);
    let path = path.to_str().unwrap();
    // agent-count as a warning: no error left.
    std::fs::write(d.join("orchlint.toml"), "[severity]\nagent-count = \"warning\"\n").unwrap();
    let out = run_in(&sub, &["check", path, "--format", "concise"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("warning[agent-count]"), "{}", out.stdout);
    // ... and failing on warnings.
    std::fs::write(d.join("orchlint.toml"), "fail-level = \"warning\"\n[severity]\nagent-count = \"warning\"\n")
        .unwrap();
    assert_eq!(run_in(&sub, &["check", path]).code, 1);
    // Off.
    std::fs::write(d.join("orchlint.toml"), "[severity]\nagent-count = \"off\"\n").unwrap();
    let out = run_in(&sub, &["check", path, "--format", "concise"]);
    assert!(!out.stdout.contains("agent-count") || !out.stdout.contains("[agent-count]"), "{}", out.stdout);
    assert_eq!(out.code, 0);
    // --isolated ignores it.
    assert_eq!(run_in(&sub, &["check", path, "--isolated"]).code, 1);
    // Excluded paths are not checked.
    std::fs::write(d.join("orchlint.toml"), "exclude = [\"invalid-*.jsonl\"]\n").unwrap();
    let out = run_in(d, &["check", ".", "--format", "concise"]);
    assert_eq!(out.code, 0, "nothing left to check: {}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("nothing to check"), "{}", out.stderr);
    // Relative to the config's folder: from a subfolder the same pattern still applies.
    let out = run_in(&sub, &["check", path, "--format", "concise"]);
    assert!(out.stderr.contains("nothing to check"), "{}", out.stderr);
}

#[test]
fn config_errors_name_the_key_and_a_fix() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    std::fs::write(d.join("orchlint.toml"), "fail-level = \"error\"\n[severity]\nagent-cuont = \"off\"\n").unwrap();
    let out = run_in(d, &["check", &file]);
    assert_eq!(out.code, 2);
    insta::assert_snapshot!(out.stderr.replace(d.to_str().unwrap(), "TMP"));
    std::fs::write(d.join("orchlint.toml"), "[[suppress]]\nsession = \"s\"\nrule = \"agent-count\"\n").unwrap();
    let out = run_in(d, &["check", &file]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("needs a reason"), "{}", out.stderr);
}

#[test]
fn suppressions_leave_findings_out_and_unused_ones_are_reported() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let session = first_session_id(&d.join(&file));
    let toml = format!(
        "[[suppress]]\nsession = \"{session}\"\nrule = \"agent-count\"\nphase = 4\nreason = \"known: the fixture launches two\"\n\n[[suppress]]\nsession = \"{session}\"\nrule = \"capsule\"\nreason = \"nothing to suppress\"\n"
    );
    std::fs::write(d.join("orchlint.toml"), toml).unwrap();
    let out = run_in(d, &["check", &file, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["summary"]["suppressed"], 1);
    assert!(json["diagnostics"].as_array().unwrap().iter().all(|d| d["rule"] != "agent-count"));
    assert!(out.stderr.contains("orchlint.toml:7: the suppression of capsule"), "{}", out.stderr);
    // Without a baseline, the concise summary names only what was suppressed.
    let concise = run_in(d, &["check", &file, "--format", "concise"]);
    assert!(concise.stdout.ends_with("Left out 1 finding suppressed.\n"), "{}", concise.stdout);
    // A suppression of another phase does not match.
    std::fs::write(
        d.join("orchlint.toml"),
        format!("[[suppress]]\nsession = \"{session}\"\nrule = \"agent-count\"\nphase = 5\nreason = \"x\"\n"),
    )
    .unwrap();
    assert_eq!(run_in(d, &["check", &file]).code, 1);
}

fn first_session_id(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let at = text.find("\"sessionId\":\"").unwrap() + 13;
    text[at..at + 36].to_string()
}

#[test]
fn baseline_fails_only_on_new_findings_and_survives_moved_lines() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let out = run_in(d, &["check", &file, "--isolated", "--write-baseline", "baseline.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("wrote 1 finding to the baseline"), "{}", out.stderr);
    let out = run_in(d, &["check", &file, "--isolated", "--baseline", "baseline.json", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["summary"]["baselined"], 1);
    let human = run_in(d, &["check", &file, "--isolated", "--baseline", "baseline.json"]);
    assert!(human.stdout.contains("left out: 1 finding in the baseline"), "{}", human.stdout);
    // Lines moved (an unknown entry inserted at the top): still baselined.
    let text = std::fs::read_to_string(d.join(&file)).unwrap();
    std::fs::write(d.join(&file), format!("{{\"type\":\"future-entry\",\"x\":1}}\n{text}")).unwrap();
    assert_eq!(run_in(d, &["check", &file, "--isolated", "--baseline", "baseline.json"]).code, 0);
    // A new finding fails.
    let text = std::fs::read_to_string(d.join(&file)).unwrap();
    let broken = text.replacen("\"subagent_type\":\"ml-flow:ml-explorer\"", "\"subagent_type\":\"ml-explorer\"", 1);
    assert_ne!(broken, text);
    std::fs::write(d.join(&file), broken).unwrap();
    let out = run_in(d, &["check", &file, "--isolated", "--baseline", "baseline.json", "--format", "concise"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("[agent-namespace]") && !out.stdout.contains("[agent-count]"), "{}", out.stdout);
    // A file that is not a baseline.
    std::fs::write(d.join("bad.json"), "[1,2]").unwrap();
    let out = run_in(d, &["check", &file, "--isolated", "--baseline", "bad.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("is not a baseline file"), "{}", out.stderr);
    let _ = TWO_ARCHITECTS_SESSION;
}

#[test]
fn completions_and_man_page() {
    let out = run_in(&repo(), &["completions", "bash"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("orchlint") && out.stdout.contains("--fail-level"), "{}", &out.stdout[..200]);
    let out = run_in(&repo(), &["man"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH orchlint"), "{}", &out.stdout[..200]);
}

#[test]
fn every_finding_has_a_fingerprint_independent_of_how_paths_are_spelled() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.jsonl"), "{\"foo\":1}\n").unwrap();
    std::fs::write(d.join("b.jsonl"), "{\"bar\":2}\n").unwrap();
    for p in ["pA", "pB"] {
        std::fs::create_dir(d.join(p)).unwrap();
    }
    let orphan = "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hi\"}}\n";
    std::fs::write(d.join("pA/agent-x1.jsonl"), orphan).unwrap();
    std::fs::write(d.join("pB/agent-x2.jsonl"), orphan).unwrap();
    let prints = |dir: &Path, args: &[&str]| -> Vec<String> {
        let out = run_in(dir, &[&["check", "--isolated", "--format", "jsonl"], args].concat());
        out.stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    let files = prints(d, &["a.jsonl", "b.jsonl"]);
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.len() == 16) && files[0] != files[1], "{files:?}");
    let orphans = prints(d, &["pA", "pB"]);
    assert!(orphans.len() == 2 && orphans[0] != orphans[1], "{orphans:?}");
    // Another spelling, another report format: the same fingerprints.
    assert_eq!(prints(d, &["./pA", "./pB"]), orphans);
    assert_eq!(prints(d, &["pA", "pB", "--report", "html=t.html"]), orphans);
}

#[test]
fn inputs_given_twice_are_checked_once() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    for args in [vec![".", "./"], vec![".", file.as_str()]] {
        let out = run_in(d, &[&["check", "--isolated", "--format", "json"], &args[..]].concat());
        let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(json["summary"]["transcripts"], 1, "{args:?}");
        assert_eq!(json["summary"]["errors"], 1, "{args:?}");
    }
}

#[test]
fn overlapping_suppressions_are_all_used_and_others_sessions_are_not_unused() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let session = first_session_id(&d.join(&file));
    let toml = format!(
        "[[suppress]]\nsession = \"{session}\"\nrule = \"agent-count\"\nphase = 4\nreason = \"a\"\n\n[[suppress]]\nsession = \"{session}\"\nrule = \"agent-count\"\nreason = \"b\"\n\n[[suppress]]\nsession = \"another-session\"\nrule = \"agent-count\"\nreason = \"c\"\n"
    );
    std::fs::write(d.join("orchlint.toml"), toml).unwrap();
    let out = run_in(d, &["check", &file]);
    assert_eq!(out.code, 0);
    assert!(!out.stderr.contains("matched no finding"), "{}", out.stderr);
}

/// A suppression of a session that no folder checked holds (its file gone
/// from the corpus) is named after a check of folders, as a note that does
/// not fail the check; a check of single files says nothing of it.
#[test]
fn a_suppression_of_a_session_gone_from_the_folders_checked_is_noted() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    let toml = "[[suppress]]\nsession = \"gone-session\"\nrule = \"agent-count\"\nreason = \"the run was deleted\"\n";
    std::fs::write(d.join("orchlint.toml"), toml).unwrap();
    let folder = ".";
    let out = run_in(d, &["check", folder, "--format", "concise"]);
    assert_eq!(out.code, 1, "the fixture's own error still fails: {}", out.stderr);
    assert!(
        out.stderr.contains(
            "orchlint.toml:1: the suppression of agent-count names session gone-session, which is in none of the folders checked"
        ),
        "{}",
        out.stderr
    );
    let single = run_in(d, &["check", &file, "--format", "concise"]);
    assert!(!single.stderr.contains("gone-session"), "{}", single.stderr);
    let other_rule = run_in(d, &["check", folder, "--select", "phase-order"]);
    assert!(!other_rule.stderr.contains("gone-session"), "a rule that did not run: {}", other_rule.stderr);
}

#[test]
fn everything_excluded_is_not_an_error() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    std::fs::write(d.join("orchlint.toml"), "exclude = [\"invalid-*.jsonl\"]\n").unwrap();
    let out = run_in(d, &["check", &file]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("nothing to check"), "{}", out.stderr);
}

#[test]
fn inspect_leaves_out_what_the_config_excludes() {
    let (dir, file) = project(TWO_ARCHITECTS);
    let d = dir.path();
    std::fs::create_dir(d.join("archive")).unwrap();
    std::fs::copy(repo().join("fixtures/transcripts").join(FOUR_ARCHITECTS), d.join("archive/old.jsonl")).unwrap();
    let inspected = |args: &[&str]| {
        let out = run_in(d, args);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        out
    };
    let files = |out: &Out| -> Vec<String> {
        let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        let sessions = doc.get("sessions").and_then(|s| s.as_array()).cloned().unwrap_or_default();
        let mut files: Vec<String> = sessions
            .iter()
            .filter_map(|s| s.get("file").and_then(|f| f.as_str()))
            .map(|f| f.trim_start_matches("./").to_string())
            .collect();
        files.sort();
        files
    };
    assert_eq!(files(&inspected(&["inspect", ".", "--format", "json"])), ["archive/old.jsonl", file.as_str()]);
    std::fs::write(d.join("orchlint.toml"), "exclude = [\"archive/**\"]\n").unwrap();
    assert_eq!(files(&inspected(&["inspect", ".", "--format", "json"])), [file.as_str()]);
    // --isolated ignores the config.
    assert_eq!(files(&inspected(&["inspect", ".", "--isolated", "--format", "json"])).len(), 2);
    // Everything excluded: said, as `check` says it, and not an error.
    let out = inspected(&["inspect", "archive/old.jsonl"]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("nothing to check: every path given is excluded"), "{}", out.stderr);
}

#[test]
fn transcript_severity_applies_to_input_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A conversation, then a damaged line.
    let text = std::fs::read_to_string(repo().join("fixtures/transcripts").join(TWO_ARCHITECTS)).unwrap();
    let first = text.lines().find(|l| l.contains("\"type\":\"user\"")).unwrap();
    std::fs::write(d.join("s.jsonl"), format!("{first}\n{{\"type\":\"user\",\"sessionId\":\"s\"\n")).unwrap();
    assert_eq!(run_in(d, &["check", "s.jsonl", "--isolated"]).code, 0);
    std::fs::write(d.join("orchlint.toml"), "[severity]\ntranscript = \"error\"\n").unwrap();
    let out = run_in(d, &["check", "s.jsonl", "--format", "concise"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("error[transcript]"), "{}", out.stdout);
}

#[test]
fn require_run_in_the_config() {
    // A session with conversation but no invocation of a workflow.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(repo().join("fixtures/transcripts").join(TWO_ARCHITECTS)).unwrap();
    let first = text.lines().find(|l| l.contains("\"type\":\"user\"")).unwrap();
    let plain = first.replace("/ml-flow:ml-flow", "/other").replace("ml-flow", "other");
    std::fs::write(d.join("s.jsonl"), format!("{plain}\n")).unwrap();
    assert_eq!(run_in(d, &["check", "s.jsonl", "--isolated"]).code, 0);
    std::fs::write(d.join("orchlint.toml"), "require-run = true\n").unwrap();
    let out = run_in(d, &["check", "s.jsonl", "--format", "concise"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("error[transcript] no workflow run in this session"), "{}", out.stdout);
}
