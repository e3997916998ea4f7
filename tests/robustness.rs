//! Every input kind ends in an answer: special files are skipped with a
//! note, endless input stops at the line cap, a link loop says so, and a
//! file that cannot be read fails the check (exit 2). Each run has a
//! deadline, so a regression that hangs fails instead.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SESSION: &str =
    "fixtures/samples/2.1.39-too-few-architects/-home-dev-churn-model/801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl";

/// Runs orchlint with a deadline of 60 s; a run that takes longer is killed and fails the test.
fn run(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orchlint"));
    cmd.args(args).current_dir(common::repo()).stdout(Stdio::piped()).stderr(Stdio::piped());
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(p).unwrap()),
        None => cmd.stdin(Stdio::null()),
    };
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("orchlint {args:?} hung: killed after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
    assert!(ok, "mkfifo {}", path.display());
}

/// A project folder holding the sample session and the given extra files.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(common::repo().join(SESSION), dir.path().join("801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl")).unwrap();
    dir
}

#[test]
fn links_to_devices_and_fifos_in_a_folder_are_noted_not_read() {
    let dir = project();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.jsonl")).unwrap();
    mkfifo(&dir.path().join("fifo"));
    std::os::unix::fs::symlink(dir.path().join("fifo"), dir.path().join("tofifo.jsonl")).unwrap();
    mkfifo(&dir.path().join("pipe.jsonl"));
    let out = run(&["check", dir.path().to_str().unwrap(), "--format", "concise"], None);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("zero.jsonl:1:1: note[transcript] symbolic link not followed"), "{t}");
    assert!(t.contains("tofifo.jsonl:1:1: note[transcript] symbolic link not followed"), "{t}");
    assert!(t.contains("pipe.jsonl:1:1: note[transcript] a named pipe (FIFO), not a regular file"), "{t}");
    assert!(t.contains(":24:594: error[agent-count]"), "{t}");
}

#[test]
fn a_device_or_fifo_named_on_the_command_line_is_skipped_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero.jsonl");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let fifo = dir.path().join("x.jsonl");
    mkfifo(&fifo);
    for (path, kind) in [(&zero, "a character device"), (&fifo, "a named pipe (FIFO)")] {
        let out = run(&["check", path.to_str().unwrap(), "--format", "concise"], None);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(2), "{t}");
        assert!(t.contains(&format!("note[transcript] {kind}, not a regular file; skipped without reading it")), "{t}");
    }
}

#[test]
fn a_meta_json_sidecar_that_is_a_fifo_or_a_device_is_not_read() {
    let recording = common::repo().join("tests/data/recordings/2.1.328-clean");
    for sidecar in ["fifo", "zero"] {
        let dir = tempfile::tempdir().unwrap();
        let copy = Command::new("cp").arg("-r").arg(&recording).arg(dir.path().join("r")).status().unwrap();
        assert!(copy.success());
        let sub = dir.path().join("r/-home-dev-churn-model/cd54f53c-d89b-4092-b357-82370c2b5dfc/subagents");
        std::fs::rename(sub.join("agent-a1c9168d4529a0773.jsonl"), sub.join("agent-b0000000000000000.jsonl")).unwrap();
        std::fs::remove_file(sub.join("agent-a1c9168d4529a0773.meta.json")).unwrap();
        let meta = sub.join("agent-b0000000000000000.meta.json");
        if sidecar == "fifo" {
            mkfifo(&meta);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &meta).unwrap();
        }
        let out = run(&["check", dir.path().join("r").to_str().unwrap(), "--format", "concise"], None);
        assert_eq!(out.status.code(), Some(0), "{sidecar}: {}", text(&out));
    }
}

#[test]
fn standard_input_of_zeros_stops_at_the_line_cap() {
    let out = run(&["check", "-"], Some(Path::new("/dev/zero")));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("standard input: line 1 is longer than the 64 MiB line cap; stopped reading"), "{t}");
}

#[test]
fn a_line_over_the_cap_is_reported_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let session = std::fs::read_to_string(common::repo().join(SESSION)).unwrap();
    let mut lines: Vec<&str> = session.lines().collect();
    let long = format!("{{\"type\":\"user\",\"x\":\"{}\"}}", "a".repeat(orchlint::ingest::input::MAX_LINE));
    lines.insert(2, &long);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(lines.join("\n").as_bytes()).unwrap();
    drop(f);
    let out = run(&["check", path.to_str().unwrap(), "--format", "concise"], None);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    let said = format!(":3:1: warning[transcript] line is {} bytes long, over the 64 MiB line cap", long.len());
    assert!(t.contains(&said), "{t}");
    assert!(t.contains(":25:594: error[agent-count]"), "{t}");
}

#[test]
fn link_loops_and_dangling_links_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let looped = dir.path().join("loop.jsonl");
    std::os::unix::fs::symlink("loop.jsonl", &looped).unwrap();
    let dangling = dir.path().join("dangling.jsonl");
    std::os::unix::fs::symlink("/nowhere", &dangling).unwrap();
    let out = run(&["check", looped.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("loop.jsonl: symbolic link loop"), "{}", text(&out));
    let out = run(&["check", dangling.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("dangling.jsonl: dangling symbolic link to /nowhere"), "{}", text(&out));
}

#[test]
fn a_file_gone_before_it_is_read_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone.jsonl");
    // Named on the command line (looked at first) or listed by its folder.
    for listed in [false, true] {
        let job = orchlint::ingest::discover::Job {
            origin: orchlint::ingest::discover::Origin::File(gone.clone()),
            display: std::sync::Arc::from(gone.to_string_lossy().as_ref()),
            format: None,
            explicit: false,
            listed,
            subagents: Vec::new(),
        };
        let wf = orchlint::workflow::Workflows::builtin();
        let checked = orchlint::engine::check_job(&job, &wf, &orchlint::engine::Options::default());
        assert!(checked.unreadable);
        let d = &checked.diagnostics;
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].severity, orchlint::diagnostic::Severity::Error);
        assert!(d[0].message.starts_with("cannot read the file: "), "{}", d[0].message);
    }
}

/// A file listed by its folder is opened without looking at it first; a
/// FIFO or a folder in its place is still refused, without blocking.
#[test]
fn a_listed_file_swapped_for_a_fifo_is_refused() {
    use orchlint::ingest::input::{open_listed, OpenFailure};
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("swapped.jsonl");
    mkfifo(&fifo);
    assert!(matches!(open_listed(&fifo), Err(OpenFailure::Special("a named pipe (FIFO)"))));
    assert!(matches!(open_listed(dir.path()), Err(OpenFailure::Special("a folder"))));
    let file = dir.path().join("plain.jsonl");
    std::fs::write(&file, "{}\n").unwrap();
    assert!(open_listed(&file).is_ok());
}

/// An I/O error in the middle of a file (EIO from an LD_PRELOAD shim, when a
/// C compiler and the shared reproducers are here): exit 2, not a green check.
#[test]
fn a_read_error_mid_file_exits_2() {
    let Some(shared) = common::shared() else { return };
    let shim = shared.join("repro/robustness/fail-shim.c");
    let dir = tempfile::tempdir().unwrap();
    let so = dir.path().join("fail.so");
    let built = shim.is_file()
        && Command::new("gcc")
            .args(["-shared", "-fPIC", "-O1", "-o"])
            .arg(&so)
            .arg(&shim)
            .arg("-ldl")
            .status()
            .is_ok_and(|s| s.success());
    if !built {
        eprintln!("no gcc or no fail-shim.c; skipped");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(["check", SESSION, "--format", "concise"])
        .current_dir(common::repo())
        .env("LD_PRELOAD", &so)
        .env("FAIL_READ", "801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl")
        .env("FAIL_AFTER", "50000")
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(t.contains("error[transcript] reading stopped at line 24: Input/output error"), "{t}");
    assert!(t.contains("1 file could not be read whole"), "{t}");
}

/// The J reproducers: one-line mutations of the sample session (1 error,
/// agent-count at 24:594). Read per field, each keeps that verdict, with a
/// `transcript` warning where something was lost or repaired; J7c's line
/// is the launch itself with `"message":null`, so its launch is gone too.
#[test]
fn one_odd_line_does_not_change_the_verdict() {
    let Some(shared) = common::shared() else { return };
    let dir = shared.join("repro/robustness");
    let Ok(read) = std::fs::read_dir(&dir) else { return };
    let mut files: Vec<_> = read
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('J')))
        .collect();
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let report = common::check(&[&path], &[]);
        let errors: Vec<String> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == orchlint::diagnostic::Severity::Error)
            .map(|d| format!("{}:{}:{}", d.rule, d.line, d.column))
            .collect();
        let mut expected = vec!["agent-count:24:594".to_string()];
        if name.starts_with("J7c") {
            expected.push("agent-count:44:594".into());
        }
        assert_eq!(errors, expected, "{name}");
        let said: Vec<&str> = report
            .diagnostics
            .iter()
            .filter(|d| d.rule == "transcript" && !d.message.starts_with("orphan"))
            .map(|d| d.message.as_str())
            .collect();
        // J5 (`"todos":"x"`, read as no list) has no warning of its own yet.
        if !name.starts_with("J5") {
            assert_eq!(said.is_empty(), name.starts_with("J3"), "{name}: {said:?}");
        }
        // J7c lost its launch line, so the launch's result has no call: true, and said.
        let orphan_result = |m: &&str| m.contains("no earlier tool_use") && !name.starts_with("J7c");
        assert!(!said.iter().any(|m| m.contains("whole record") || orphan_result(m)), "{name}: {said:?}");
    }
}

/// Background agents that return through a `queued_command` attachment
/// (2.1.15x–2.1.23x, after a queue removal without content), or whose
/// return was written before their launch line, are returned, not "never
/// returned".
#[test]
fn background_returns_of_2_1_2xx_are_found_in_any_order() {
    let wfs = orchlint::workflow::Workflows::builtin();
    let sid = r#""sessionId":"s1""#;
    let launch = |id: &str, n: u32| {
        format!(
            r#"{{"type":"assistant","uuid":"a{n}",{sid},"message":{{"id":"m{n}","role":"assistant","content":[{{"type":"tool_use","id":"{id}","name":"Agent","input":{{"subagent_type":"general-purpose","prompt":"p{n}","description":"d{n}","run_in_background":true}}}}]}}}}"#
        )
    };
    let launched = |id: &str, agent: &str, n: u32| {
        format!(
            r#"{{"type":"user","uuid":"r{n}",{sid},"message":{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"{id}","content":"Async agent launched successfully.\nagentId: {agent} (use it)"}}]}},"toolUseResult":{{"status":"async_launched","agentId":"{agent}"}}}}"#
        )
    };
    let note = |agent: &str, id: &str| {
        format!(
            r#"<task-notification>\n<task-id>{agent}</task-id>\n<tool-use-id>{id}</tool-use-id>\n<status>completed</status>\n<result>done</result>\n</task-notification>"#
        )
    };
    let lines = [
        r#"{"type":"user","uuid":"u0","sessionId":"s1","message":{"role":"user","content":"start"}}"#.to_string(),
        launch("t1", 1),
        launched("t1", "aaa1", 1),
        // A queued_command attachment, with the call's id redacted: found by the agent id.
        format!(
            r#"{{"type":"attachment","uuid":"q1",{sid},"attachment":{{"type":"queued_command","prompt":"{}","commandMode":"task-notification"}}}}"#,
            note("aaa1", "REDACTED")
        ),
        launch("t2", 2),
        launched("t2", "aaa2", 2),
        // An enqueue with the notification, its removal without content,
        // then the attachment that delivers it.
        format!(r#"{{"type":"queue-operation","operation":"enqueue",{sid},"content":"{}"}}"#, note("aaa2", "t2")),
        format!(r#"{{"type":"queue-operation","operation":"remove",{sid}}}"#),
        format!(
            r#"{{"type":"attachment","uuid":"q2",{sid},"attachment":{{"type":"queued_command","prompt":"{}"}}}}"#,
            note("aaa2", "t2")
        ),
        // The removal of t3's notification comes before t3's launch line.
        format!(r#"{{"type":"queue-operation","operation":"remove",{sid},"content":"{}"}}"#, note("aaa3", "t3")),
        launch("t3", 3),
        launched("t3", "aaa3", 3),
    ];
    let bytes = (lines.join("\n") + "\n").into_bytes();
    let checked = orchlint::engine::check_memory(bytes, "t.jsonl", &wfs, &orchlint::engine::Options::default());
    let statuses: Vec<_> = checked.session.launches.iter().map(|l| (l.tool_use_id.as_str(), l.status)).collect();
    use orchlint::model::ReturnStatus::Completed;
    assert_eq!(statuses, vec![("t1", Completed), ("t2", Completed), ("t3", Completed)], "{:?}", checked.diagnostics);
}

/// Two records on one line are reported whatever their types, not only
/// when one of them is a message; a `}{` inside a string is no splice.
#[test]
fn two_records_on_one_line_are_reported_whatever_their_types() {
    let wfs = orchlint::workflow::Workflows::builtin();
    let lines = [
        r#"{"type":"user","uuid":"u0","sessionId":"s1","message":{"role":"user","content":"hi"}}"#,
        r#"{"type":"attachment","uuid":"x1","sessionId":"s1","attachment":{"type":"date"}}{"type":"attachment","uuid":"x2","sessionId":"s1","attachment":{"type":"date"}}"#,
        r#"{"type":"file-history-snapshot","messageId":"m"}{"type":"last-prompt","sessionId":"s1"}"#,
        r#"{"type":"attachment","uuid":"x3","sessionId":"s1","attachment":{"type":"file","content":"fn f() {}{}"}}"#,
    ];
    let bytes = (lines.join("\n") + "\n").into_bytes();
    let report = orchlint::engine::check_bytes(bytes, "t.jsonl", &wfs, &orchlint::engine::Options::default());
    let spliced: Vec<u32> =
        report.diagnostics.iter().filter(|d| d.message.contains("2 JSON records")).map(|d| d.line).collect();
    assert_eq!(spliced, vec![2, 3], "{:?}", report.diagnostics);
}
