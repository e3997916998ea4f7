//! The guard's judgement, call by call, on the rule fixtures and the sample
//! runs: a clean run is let through at every call; each breach of a kind
//! judged before the fact is denied at its call, with the rule's message.

mod common;

use common::{fixtures, repo};
use orchlint::checks::{self, Live};
use orchlint::engine;
use orchlint::guard::{judge_call, Pending};
use orchlint::model::EventKind;
use orchlint::workflow::Workflows;

/// The orchestrator's calls of a session file: (line, id, tool name, last
/// line of its message).
fn calls(bytes: &[u8], wfs: &Workflows) -> Vec<(u32, String, String, u32)> {
    let checked = engine::check_memory(bytes.to_vec(), "t", wfs, &engine::Options::default());
    checked
        .session
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolCall { id, name, message, .. } => {
                let last = checked
                    .session
                    .events
                    .iter()
                    .filter(|o| match &o.kind {
                        EventKind::ToolCall { message: m, .. } | EventKind::Text { message: m, .. } => m == message,
                        _ => false,
                    })
                    .map(|o| o.source.line)
                    .max()
                    .unwrap_or(e.source.line);
                Some((e.source.line, id.clone(), name.clone(), last))
            }
            _ => None,
        })
        .collect()
}

/// The transcript as it stands when the hooks of a message's calls run:
/// every line up to the message's last (Claude Code writes a message's
/// blocks together, then runs their hooks).
fn upto(bytes: &[u8], line: u32) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut out: String = text.lines().take(line as usize).collect::<Vec<_>>().join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.into_bytes()
}

fn judge(bytes: &[u8], call: &(u32, String, String, u32), wfs: &Workflows) -> Vec<&'static str> {
    let pending = Pending { tool_use_id: &call.1 };
    judge_call(upto(bytes, call.3), &pending, wfs, false).into_iter().map(|b| b.rule).collect()
}

fn manifest() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["fixtures"].as_array().unwrap().clone()
}

#[test]
fn a_clean_run_is_let_through_at_every_call() {
    let wfs = Workflows::builtin();
    let mut files: Vec<std::path::PathBuf> = manifest()
        .iter()
        .filter(|f| f["kind"] == "valid" && f["generation"] != "stream")
        .map(|f| fixtures().join(f["file"].as_str().unwrap()))
        .collect();
    files.push(
        repo().join("fixtures/samples/2.0.77-clean/-home-dev-churn-model/6f782855-3dd7-4729-865e-33fe784dbe49.jsonl"),
    );
    let mut judged = 0;
    for file in files {
        let bytes = std::fs::read(&file).unwrap();
        for call in calls(&bytes, &wfs) {
            let denied = judge(&bytes, &call, &wfs);
            assert!(denied.is_empty(), "{}:{}: {} denied by {denied:?}", file.display(), call.0, call.2);
            judged += 1;
        }
    }
    assert!(judged > 500, "only {judged} calls judged");
}

#[test]
fn each_breach_judged_before_the_fact_is_denied_at_its_call() {
    let wfs = Workflows::builtin();
    let mut denied_kinds = std::collections::BTreeSet::new();
    let fixtures_list = manifest();
    for f in fixtures_list.iter().filter(|f| f["kind"] == "invalid" && f["generation"] != "stream") {
        let rule = f["rule"].as_str().unwrap();
        if checks::rule(rule).map(|r| r.live()) != Some(Live::Deny) {
            continue;
        }
        let file = fixtures().join(f["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        let line = f["violation"]["line"].as_u64().unwrap() as u32;
        // The call at the violation, or the first of the message the
        // violation's text opens.
        let all = calls(&bytes, &wfs);
        let Some(call) = all.iter().find(|c| c.0 >= line) else {
            panic!("{}: no call at or after line {line}", file.display());
        };
        let denied = judge(&bytes, call, &wfs);
        assert!(
            denied.contains(&rule),
            "{}:{}: {} not denied by {rule} (got {denied:?})",
            file.display(),
            call.0,
            call.2
        );
        // Every call before it went through.
        for earlier in all.iter().filter(|c| c.0 < call.0) {
            let early = judge(&bytes, earlier, &wfs);
            assert!(!early.contains(&rule), "{}:{}: denied early by {early:?}", file.display(), earlier.0);
        }
        denied_kinds.insert(rule);
    }
    let expected: Vec<&str> = checks::RULES.iter().filter(|r| r.live() == Live::Deny).map(|r| r.id).collect();
    for kind in expected {
        assert!(denied_kinds.contains(kind), "no fixture shows {kind} denied");
    }
}

/// A call the guard denied was not made: the final transcript has no breach
/// there, only a note that the call was denied.
#[test]
fn a_denied_call_is_no_breach_in_the_transcript() {
    let wfs = Workflows::builtin();
    let file = fixtures().join("forbidden-tool/invalid-v2.1-bash-grep-phase1.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let check = |t: &str| {
        engine::check_bytes(t.as_bytes().to_vec(), "t.jsonl", &wfs, &engine::Options::default())
            .diagnostics
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.rule, d.message))
            .collect::<Vec<_>>()
    };
    assert!(check(&text).iter().any(|d| d.starts_with("18:forbidden-tool")), "{:?}", check(&text));
    // The result as Claude Code 2.1 writes a PreToolUse deny.
    let reason = "PreToolUse:Bash hook error: orchlint guard: forbidden-tool: the orchestrator ran `grep`";
    let denied = text.replacen(
        r#""type":"tool_result","content":"src/train.py:40:def train(model, data):""#,
        &format!(r#""type":"tool_result","is_error":true,"content":"{reason}""#),
        1,
    );
    assert_ne!(denied, text);
    let after = check(&denied);
    assert!(!after.iter().any(|d| d.split(':').nth(1) == Some("forbidden-tool")), "{after:?}");
    assert!(
        after
            .iter()
            .any(|d| d.starts_with("18:transcript: this Bash call was denied by a PreToolUse hook before it ran")),
        "{after:?}"
    );
    // A tool's own error is no denial.
    let failed =
        text.replacen(r#""type":"tool_result","content":"#, r#""type":"tool_result","is_error":true,"content":"#, 1);
    assert!(check(&failed).iter().any(|d| d.starts_with("18:forbidden-tool")));
}
