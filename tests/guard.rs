//! The guard's judgement, call by call, on the rule fixtures and the sample
//! runs: a clean run is let through at every call; each breach of a kind
//! judged before the fact is denied at its call, with the rule's message.

mod common;

use common::{fixtures, repo};
use orchlint::checks::{self, Live};
use orchlint::engine;
use orchlint::guard::{judge_call, judge_end, Pending};
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

/// The clean run recorded by Claude Code 2.1.328.
const CLEAN_2_1: &str =
    "tests/data/recordings/2.1.328-clean/-home-dev-churn-model/cd54f53c-d89b-4092-b357-82370c2b5dfc.jsonl";

#[test]
fn a_turn_that_ends_asking_the_user_is_not_told_to_go_on() {
    // The clean 2.1.328 run ends its first turn at the phase-4 question
    // ("Which approach do you prefer?", line 60) and its second at the
    // phase-6 approval question (line 79): each waits for the user's answer.
    // Told to go on, the model would answer its own question, and the
    // approach and approval gates would deny what it did next.
    let wfs = Workflows::builtin();
    let dir = repo().join("tests/data/recordings");
    let clean = std::fs::read(repo().join(CLEAN_2_1)).unwrap();
    for (line, asked) in [(60, "Which approach do you prefer?"), (79, "Do you approve this design?")] {
        let upto = upto(&clean, line);
        assert!(String::from_utf8_lossy(&upto).lines().last().unwrap().contains(asked), "line {line}");
        let (missing, runs) = judge_end(upto, &wfs, false);
        assert_eq!((missing, runs), (None, 1), "at line {line}");
    }
    // A turn that ends without a question in phase 1 has stopped.
    let stopped =
        std::fs::read(dir.join("2.1.328-clean-async/-home-dev-churn-model/072ef89e-b2ed-4fc1-b2c4-c0f29d9caa30.jsonl"))
            .unwrap();
    let upto = upto(&stopped, 32);
    assert!(String::from_utf8_lossy(&upto).lines().last().unwrap().contains("Waiting for the remaining agents"));
    let (missing, _) = judge_end(upto, &wfs, false);
    let missing = missing.expect("told to go on");
    assert!(missing.starts_with("orchlint guard: incomplete-run: the run stopped in phase 1"), "{missing}");
}

#[test]
fn a_stop_is_judged_only_once_the_turn_s_end_is_written() {
    // Claude Code writes the transcript asynchronously: a Stop hook can run
    // before the turn's last message is in it. The clean run without its
    // phase-12 summary looks stopped in phase 11; the guard waits for the
    // end of the turn and, not seeing it, says nothing.
    use orchlint::guard::{answer, hook::Answer, Mode, Options};
    let dir = tempfile::tempdir().unwrap();
    let clean = std::fs::read(repo().join(CLEAN_2_1)).unwrap();
    let opts = |state: &str| Options {
        mode: Mode::Enforce,
        workflows: Workflows::builtin(),
        force_workflow: false,
        state_dir: dir.path().join(state),
        wait: std::time::Duration::from_millis(50),
    };
    let transcript = dir.path().join("t.jsonl");
    let stop = serde_json::json!({"session_id": "s", "transcript_path": transcript, "hook_event_name": "Stop"});
    let stop = serde_json::to_vec(&stop).unwrap();
    // Up to the results of phase 11's agents: the summary is not written yet.
    std::fs::write(&transcript, upto(&clean, 125)).unwrap();
    assert_eq!(answer("stop", &stop, &opts("lagging")).unwrap(), Answer::Allow);
    let log = std::fs::read_to_string(dir.path().join("lagging/s/guard.jsonl")).unwrap();
    assert!(log.contains("not judged: the end of the turn did not show in the transcript within 50 ms"), "{log}");
    // With it, the run is complete: nothing to say either, and nothing logged.
    std::fs::write(&transcript, upto(&clean, 127)).unwrap();
    assert_eq!(answer("stop", &stop, &opts("written")).unwrap(), Answer::Allow);
    assert!(!dir.path().join("written/s/guard.jsonl").exists());
    // A turn that did stop short (the same run cut after phase 3's question-less turn) is told to go on.
    let mut short = upto(&clean, 47);
    short.extend_from_slice(
        br#"{"type":"assistant","message":{"id":"msg_x","role":"assistant","content":[{"type":"text","text":"Done for now."}],"stop_reason":"end_turn"},"uuid":"x","sessionId":"s"}"#,
    );
    short.push(b'\n');
    std::fs::write(&transcript, short).unwrap();
    match answer("stop", &stop, &opts("short")).unwrap() {
        Answer::Continue { reason } => assert!(reason.contains("stopped in phase 3"), "{reason}"),
        other => panic!("{other:?}"),
    }
}
