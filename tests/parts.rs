//! A long session is read and judged in parts (at its slash commands, once
//! every agent and call before one has returned), so that it is never held
//! whole: the report is, byte for byte, the report of reading each session
//! whole (which `check_collect` does, keeping the sessions for the HTML
//! timeline).

mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, fixtures, shared};
use orchlint::engine::{self, Options};
use orchlint::workflow::Workflows;

/// The trees tried: the fixtures, and the shared corpus of real-CLI runs and
/// the third-party sessions when they are there.
fn inputs() -> Vec<PathBuf> {
    let mut inputs = vec![fixtures()];
    if let Some(s) = shared() {
        inputs.extend(["corpus", "realworld", "external"].iter().map(|d| s.join(d)));
    }
    inputs
}

/// The session files of a tree: not a subagent's transcript.
fn sessions(root: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && !p.components().any(|c| c.as_os_str() == "subagents")
                && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("agent-"))
        })
        .collect()
}

/// The session's lines `copies` times over, each copy with fresh uuids and
/// call, message and request ids (the session id kept): one session that
/// ran its workflow `copies` times.
fn repeated(text: &[u8], copies: usize) -> Vec<u8> {
    (0..copies).flat_map(|copy| fresh_ids(text, copy)).collect()
}

/// Copy number `copy` of a session's lines: its uuids and call, message and
/// request ids made its own (copy 0 is the lines as they are).
fn fresh_ids(text: &[u8], copy: usize) -> Vec<u8> {
    let uuid = regex::bytes::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let ids = regex::bytes::Regex::new(r#""((?:toolu|msg|req)_[A-Za-z0-9_]+)""#).unwrap();
    let session = regex::bytes::Regex::new(r#""session_?[iI]d":"([^"]+)""#).unwrap();
    let sid = session.captures(text).map(|c| c[1].to_vec());
    let tag = format!("{copy:012x}");
    let text = uuid.replace_all(text, |c: &regex::bytes::Captures| {
        let u = &c[0];
        if copy == 0 || sid.as_deref() == Some(u) {
            u.to_vec()
        } else {
            [&u[..24], tag.as_bytes()].concat()
        }
    });
    let mut text = ids
        .replace_all(&text, |c: &regex::bytes::Captures| {
            if copy == 0 {
                c[0].to_vec()
            } else {
                [b"\"", &c[1], b"_r", tag.as_bytes(), b"\""].concat()
            }
        })
        .into_owned();
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text
}

fn json(report: &engine::Report) -> String {
    let mut out = Vec::new();
    orchlint::report::json::render(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_session_read_in_parts_has_the_report_of_the_session_read_whole() {
    let wfs = Workflows::builtin();
    let opts = Options { excerpts: true, ..Options::default() };
    let require = Options { require_run: true, ..opts.clone() };
    for input in inputs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        copy_tree(&input, &root);
        let mut runs_before = 0;
        let whole = engine::check(std::slice::from_ref(&root), &wfs, &opts).unwrap();
        runs_before += whole.summary.runs;
        for session in sessions(&root) {
            let text = std::fs::read(&session).unwrap();
            std::fs::write(&session, repeated(&text, 3)).unwrap();
        }
        for opts in [&opts, &require] {
            let in_parts = engine::check(std::slice::from_ref(&root), &wfs, opts).unwrap();
            let (mut read_whole, _) = engine::check_collect(std::slice::from_ref(&root), &wfs, opts).unwrap();
            // check_collect keeps the files in the order checked; check sorts them.
            read_whole.files.sort();
            let (a, b) = (json(&read_whole), json(&in_parts));
            if a != b {
                let diff = similar::TextDiff::from_lines(&a, &b);
                panic!("{}: read in parts differs:\n{}", input.display(), diff.unified_diff().context_radius(8));
            }
            // The copies are runs of their own (but in stream-json, which
            // records no command: one run from the first sign of the workflow).
            assert!(runs_before == 0 || in_parts.summary.runs > runs_before, "{}", input.display());
        }
    }
}

#[test]
fn a_part_is_judged_as_the_run_alone() {
    // Three runs of one fixture in one session: the second and third run's
    // diagnostics are the first's, at lines one and two copies further.
    copies_are_judged_as_the_first(3);
}

#[test]
fn a_session_of_many_batches_is_read_as_its_runs() {
    // Lines are read in batches of about 1 MiB, the next one read and
    // prepared while the one before is built: a session of 5 MiB and more
    // is read as the runs it holds, whole or in parts.
    copies_are_judged_as_the_first(COPIES_FOR_5_MIB);
}

/// Copies of the fixture below that make a session of more than 5 MiB.
const COPIES_FOR_5_MIB: u32 = 160;

/// `copies` runs of one fixture in one session have, read in parts and
/// read whole, the diagnostics of the fixture `copies` times, each copy's at
/// its lines and run.
fn copies_are_judged_as_the_first(copies: u32) {
    let wfs = Workflows::builtin();
    let opts = Options::default();
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixtures().join("agent-count/invalid-v2.1-phase4-two-architects.jsonl");
    let text = std::fs::read(&fixture).unwrap();
    let lines = text.iter().filter(|&&b| b == b'\n').count() as u32;
    let session = dir.path().join("copies.jsonl");
    std::fs::write(&session, repeated(&text, copies as usize)).unwrap();
    if copies == COPIES_FOR_5_MIB {
        assert!(std::fs::metadata(&session).unwrap().len() > 5 << 20, "more than five batches");
    }
    let one = engine::check(&[fixture], &wfs, &opts).unwrap();
    let in_parts = engine::check(std::slice::from_ref(&session), &wfs, &opts).unwrap();
    let (whole, _) = engine::check_collect(&[session], &wfs, &opts).unwrap();
    assert!(!one.diagnostics.is_empty());
    let at = |r: &engine::Report| -> Vec<(u32, Option<u32>, String)> {
        let mut at: Vec<_> =
            r.diagnostics.iter().map(|d| (d.line, d.run, format!("{} {}", d.rule, d.message))).collect();
        at.sort();
        at
    };
    let mut expected = Vec::new();
    for copy in 0..copies {
        expected.extend(at(&one).into_iter().map(|(line, run, m)| (line + copy * lines, run.map(|r| r + copy), m)));
    }
    expected.sort();
    assert_eq!(at(&in_parts), expected);
    assert_eq!(at(&whole), expected);
}

#[test]
fn a_line_reaching_back_into_a_judged_part_has_the_session_read_whole() {
    // The agents' results carry no report; their reports come as task
    // notifications after the next command. Read whole, the reports name
    // the file the orchestrator read; the part of run 1 was handed over
    // before they came, so the session is read again whole.
    let fixture = fixtures().join("read-policy/valid-v2.1-clean.jsonl");
    let text = std::fs::read_to_string(&fixture).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let blocks = |v: &serde_json::Value| v["message"]["content"].as_array().cloned().unwrap_or_default();
    let launches: Vec<String> = lines
        .iter()
        .flat_map(blocks)
        .filter(|b| b["type"] == "tool_use" && matches!(b["name"].as_str(), Some("Task" | "Agent")))
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!launches.is_empty());
    let mut reports = Vec::new();
    for line in &mut lines {
        let Some(content) = line["message"]["content"].as_array_mut() else { continue };
        for b in content.iter_mut().filter(|b| b["type"] == "tool_result") {
            let id = b["tool_use_id"].as_str().unwrap().to_string();
            if launches.contains(&id) {
                reports.push((id, b["content"].clone()));
                b["content"] = serde_json::Value::String(String::new());
            }
        }
    }
    assert_eq!(reports.len(), launches.len());
    let command = lines
        .iter()
        .find(|l| l["message"]["content"].as_str().is_some_and(|t| t.contains("<command-name>")))
        .cloned()
        .expect("a command line");
    let mut again = command.clone();
    again["uuid"] = "11111111-2222-4333-8444-555555555555".into();
    lines.push(again);
    for (i, (id, report)) in reports.iter().enumerate() {
        let report = match report {
            serde_json::Value::String(s) => s.clone(),
            other => other.as_array().into_iter().flatten().filter_map(|b| b["text"].as_str()).collect(),
        };
        let mut note = command.clone();
        note["uuid"] = format!("11111111-2222-4333-8444-{i:012}").into();
        note["message"]["content"] = format!(
            "<task-notification><tool-use-id>{id}</tool-use-id><status>completed</status><result>{report}</result></task-notification>"
        )
        .into();
        lines.push(note);
    }
    let dir = tempfile::tempdir().unwrap();
    let session = dir.path().join("late-reports.jsonl");
    let body: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&session, body.join("\n") + "\n").unwrap();
    let wfs = Workflows::builtin();
    let opts = Options::default();
    let in_parts = engine::check(std::slice::from_ref(&session), &wfs, &opts).unwrap();
    let (read_whole, _) = engine::check_collect(std::slice::from_ref(&session), &wfs, &opts).unwrap();
    assert_eq!(json(&in_parts), json(&read_whole));
    assert!(!in_parts.diagnostics.iter().any(|d| d.rule == "read-policy"), "{:#?}", in_parts.diagnostics);
    assert_eq!(in_parts.summary.runs, 2);
}

/// Session-format fixtures of every rule (no subagent folder: held in memory).
fn session_fixtures() -> Vec<Vec<u8>> {
    sessions(&fixtures())
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name.contains("-v2.1-") || name.contains("-v2.0-")) && !p.with_extension("").is_dir()
        })
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

    /// Any sequence of runs of the fixtures in one session, some of their
    /// lines written again later (results, notifications reaching back into
    /// a part already judged): read in parts, the diagnostics of reading it whole.
    #[test]
    fn any_session_read_in_parts_is_judged_as_read_whole(
        picks in proptest::collection::vec((0usize..1000, proptest::option::of(0usize..1000)), 1..6),
    ) {
        let all = session_fixtures();
        let mut text = Vec::new();
        let mut written: Vec<Vec<u8>> = Vec::new();
        let uuid = regex::bytes::Regex::new(r#""uuid":"[^"]*""#).unwrap();
        for (copy, (pick, again)) in picks.iter().enumerate() {
            for line in fresh_ids(&all[pick % all.len()], copy).split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                text.extend_from_slice(line);
                text.push(b'\n');
                written.push(line.to_vec());
            }
            // A line of an earlier run written again here, as an entry of
            // its own (another uuid): a result or a notification reaching back.
            if let Some(again) = again {
                let line = uuid.replace(&written[again % written.len()], format!(r#""uuid":"again-{copy}""#).as_bytes());
                text.extend_from_slice(&line);
                text.push(b'\n');
            }
        }
        let wfs = Workflows::builtin();
        let opts = Options::default();
        let in_parts = engine::check_bytes(text.clone(), "s.jsonl", &wfs, &opts);
        let whole = engine::check_memory(text, "s.jsonl", &wfs, &opts);
        proptest::prop_assert_eq!(format!("{:#?}", in_parts.diagnostics), format!("{:#?}", whole.diagnostics));
    }
}
