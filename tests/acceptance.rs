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

/// The launches of a session file and how many returned, counted without
/// orchlint: Task/Agent tool_use blocks of the main thread by id; a return
/// is a tool_result for the id that is not the news of an async launch, or
/// a `<task-notification>` naming the id (or the agent id of the launch) in
/// a user entry, a queue-operation, a queued_command attachment, or a
/// stream-json task_notification.
fn independent_count(path: &std::path::Path) -> (usize, usize) {
    use serde_json::Value;
    let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
    let mut launches: Vec<String> = Vec::new();
    let mut returned: std::collections::BTreeSet<String> = Default::default();
    let mut agent_of: std::collections::BTreeMap<String, String> = Default::default();
    let tag = |t: &str, name: &str| -> Vec<String> {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        t.match_indices(&open)
            .filter_map(|(at, _)| {
                let rest = &t[at + open.len()..];
                rest.find(&close).map(|end| rest[..end].to_string())
            })
            .collect()
    };
    for line in text.lines() {
        let Ok(Value::Object(o)) = serde_json::from_str::<Value>(line) else { continue };
        if o.get("isSidechain") == Some(&Value::Bool(true)) {
            continue;
        }
        let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
        let content = o.get("message").and_then(|m| m.get("content"));
        let mut texts: Vec<String> = Vec::new();
        match (ty, content) {
            ("assistant", Some(Value::Array(blocks))) => {
                for b in blocks {
                    let is_launch = matches!(b.get("name").and_then(Value::as_str), Some("Task" | "Agent"));
                    if b.get("type").and_then(Value::as_str) == Some("tool_use") && is_launch {
                        if let Some(id) = b.get("id").and_then(Value::as_str) {
                            if !launches.iter().any(|l| l == id) {
                                launches.push(id.to_string());
                            }
                        }
                    }
                }
            }
            ("user", Some(Value::String(s))) => texts.push(s.clone()),
            ("user", Some(Value::Array(blocks))) => {
                for b in blocks {
                    match b.get("type").and_then(Value::as_str) {
                        Some("tool_result") => {
                            let Some(id) = b.get("tool_use_id").and_then(Value::as_str) else { continue };
                            if !launches.iter().any(|l| l == id) {
                                continue;
                            }
                            let body = b.get("content").map(|c| c.to_string()).unwrap_or_default();
                            let result = o.get("toolUseResult").map(|r| r.to_string()).unwrap_or_default();
                            if body.contains("Async agent launched") || result.contains("async_launched") {
                                if let Some(at) = body.find("agentId: ") {
                                    let agent: String =
                                        body[at + 9..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                                    agent_of.insert(agent, id.to_string());
                                }
                            } else {
                                returned.insert(id.to_string());
                            }
                        }
                        Some("text") => texts.extend(b.get("text").and_then(Value::as_str).map(str::to_string)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if ty == "queue-operation" {
            texts.extend(o.get("content").and_then(Value::as_str).map(str::to_string));
        }
        if ty == "attachment" {
            let a = o.get("attachment");
            if a.and_then(|a| a.get("type")).and_then(Value::as_str) == Some("queued_command") {
                texts.extend(a.and_then(|a| a.get("prompt")).and_then(Value::as_str).map(str::to_string));
            }
        }
        if ty == "system" && o.get("subtype").and_then(Value::as_str) == Some("task_notification") {
            returned.extend(o.get("tool_use_id").and_then(Value::as_str).map(str::to_string));
        }
        for t in texts {
            returned.extend(tag(&t, "tool-use-id"));
            returned.extend(tag(&t, "task-id").iter().filter_map(|a| agent_of.get(a).cloned()));
        }
    }
    let back = launches.iter().filter(|l| returned.contains(*l)).count();
    (launches.len(), back)
}

/// Every launch of the real third-party sessions in ../shared/realworld is
/// found, and its return too, as an independent count finds them.
#[test]
fn realworld_launches_and_returns_match_an_independent_count() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED realworld_launches_and_returns_match_an_independent_count: ../shared is not here");
        return;
    };
    let wfs = Workflows::builtin();
    let opts = Options { detail: true, ..Options::default() };
    let mut compared = 0;
    let mut launches_total = 0;
    let mut differ = Vec::new();
    for entry in walkdir::WalkDir::new(shared.join("realworld")).sort_by_file_name() {
        let entry = entry.unwrap();
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy();
        if !entry.file_type().is_file() || !name.ends_with(".jsonl") || name.starts_with("agent-") {
            continue;
        }
        if p.components().any(|c| c.as_os_str() == "subagents") {
            continue;
        }
        let (launches, back) = independent_count(p);
        if launches == 0 {
            continue;
        }
        let collected = engine::collect(&[p.to_path_buf()], &wfs, &opts).unwrap();
        let ours: Vec<_> = collected.checked.iter().flat_map(|c| &c.session.launches).collect();
        let ours_back = ours
            .iter()
            .filter(|l| {
                matches!(l.status, orchlint::model::ReturnStatus::Completed | orchlint::model::ReturnStatus::Error)
            })
            .count();
        compared += 1;
        launches_total += launches;
        if (ours.len(), ours_back) != (launches, back) {
            differ.push(format!(
                "{}: independent {launches} launches, {back} returned; orchlint {}, {ours_back}",
                p.display(),
                ours.len()
            ));
        }
    }
    assert!(compared >= 5 && launches_total >= 10, "only {compared} files with {launches_total} launches");
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
