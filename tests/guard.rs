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
    judge_call(upto(bytes, call.3), &pending, wfs, false).found.into_iter().map(|b| b.rule).collect()
}

fn manifest() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    m["fixtures"].as_array().unwrap().clone()
}

/// The PreToolUse inputs Claude Code 2.1 gives the hook for each call of
/// the agent whose transcript is `agent_file` (with its `.meta.json`), in a
/// session whose file is `session`: (line, hook input).
fn agent_hook_inputs(session: &std::path::Path, agent_file: &std::path::Path) -> Vec<(u32, Vec<u8>)> {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(agent_file.with_extension("meta.json")).unwrap()).unwrap();
    let text = std::fs::read_to_string(agent_file).unwrap();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        for block in entry["message"]["content"].as_array().into_iter().flatten() {
            if block["type"] != "tool_use" {
                continue;
            }
            let input = serde_json::json!({
                "session_id": "s", "transcript_path": session, "hook_event_name": "PreToolUse",
                "prompt_id": "p", "agent_id": entry["agentId"], "agent_type": meta["agentType"],
                "tool_name": block["name"], "tool_input": block["input"], "tool_use_id": block["id"],
            });
            out.push((i as u32 + 1, serde_json::to_vec(&input).unwrap()));
        }
    }
    out
}

#[test]
fn an_agents_calls_are_let_through_where_its_policy_allows_them() {
    use orchlint::guard::{answer, hook::Answer};
    let mut judged = 0;
    for f in manifest().iter().filter(|f| f["kind"] == "valid") {
        let session = fixtures().join(f["file"].as_str().unwrap());
        for sub in f["subagents"].as_array().into_iter().flatten() {
            let dir = tempfile::tempdir().unwrap();
            let agent_file = fixtures().join(sub.as_str().unwrap());
            let text = std::fs::read_to_string(&agent_file).unwrap();
            for (at, input) in agent_hook_inputs(&session, &agent_file) {
                let got = answer("PreToolUse", &input, &options(dir.path())).unwrap();
                // A call whose result is the guard's denial is denied again; the rest run.
                let id = serde_json::from_slice::<serde_json::Value>(&input).unwrap()["tool_use_id"].clone();
                let denied = text.lines().any(|l| {
                    l.contains(&format!("\"tool_use_id\":{id}")) && l.contains("hook error: orchlint guard: agent-tool")
                });
                match got {
                    Answer::Deny { reason } if denied => assert!(reason.contains("agent-tool"), "{reason}"),
                    Answer::Allow if !denied => {}
                    other => panic!("{sub}:{at}: {other:?}"),
                }
                judged += 1;
            }
        }
    }
    // Explorers' Grep, Read and Bash grep, an engineer's Edit and sed -i, and
    // the Write whose result is the guard's denial.
    assert!(judged >= 5, "only {judged} agent calls judged");
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
        if let Some(sub) = f["violation"]["file"].as_str() {
            // An agent's call: judged through the hook, as Claude Code 2.1 asks
            // (the agent named in the input), each call of the agent in order.
            let line = f["violation"]["line"].as_u64().unwrap() as u32;
            let dir = tempfile::tempdir().unwrap();
            let mut seen = false;
            for (at, input) in agent_hook_inputs(&file, &fixtures().join(sub)) {
                let answer = orchlint::guard::answer("PreToolUse", &input, &options(dir.path())).unwrap();
                match answer {
                    orchlint::guard::hook::Answer::Deny { reason } if at == line => {
                        assert!(reason.starts_with(&format!("orchlint guard: {rule}: ")), "{sub}:{at}: {reason}");
                        seen = true;
                    }
                    orchlint::guard::hook::Answer::Allow if at != line => {}
                    other => panic!("{sub}:{at}: {other:?}"),
                }
            }
            assert!(seen, "{sub}:{line}: no call judged there");
            denied_kinds.insert(rule);
            continue;
        }
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

fn orchlint(args: &[&str], stdin: &[u8], dir: &std::path::Path) -> (i32, String, String) {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// One hook call as Claude Code makes it: the deny JSON on standard output,
/// exit 0, the decision in the session's log; a clean call prints nothing.
#[test]
fn a_hook_call_answers_in_the_hooks_json() {
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(fixtures().join("forbidden-tool/invalid-v2.1-bash-grep-phase1.jsonl")).unwrap();
    let upto: String = src.lines().take(18).map(|l| format!("{l}\n")).collect();
    let transcript = dir.path().join("s.jsonl");
    std::fs::write(&transcript, upto).unwrap();
    let state = dir.path().join("state");
    let input = serde_json::json!({
        "session_id": "s-1", "transcript_path": transcript, "cwd": dir.path(), "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "grep -rn 'def train' src/"}, "tool_use_id": "toolu_88373a0003_0",
    });
    let args = ["guard", "pre-tool-use", "--isolated", "--state-dir", state.to_str().unwrap(), "--wait-ms", "0"];
    let (code, out, err) = orchlint(&args, input.to_string().as_bytes(), dir.path());
    assert_eq!(code, 0, "{err}");
    let answer: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], "deny");
    let reason = answer["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap();
    assert!(
        reason.starts_with("orchlint guard: forbidden-tool: the orchestrator ran `grep -rn 'def train' src/`"),
        "{reason}"
    );
    assert!(reason.contains("NEVER explore code yourself"), "the help is in the reason: {reason}");
    let log = std::fs::read_to_string(state.join("s-1/guard.jsonl")).unwrap();
    assert!(log.contains(r#""decision":"deny""#) && log.contains(r#""rule":"forbidden-tool""#), "{log}");

    // warn lets it run and tells the model; audit only logs (each with a
    // state of its own: a call the log says was denied is not made).
    let (warn_state, audit_state) = (dir.path().join("warn"), dir.path().join("audit"));
    let mut warn = args.to_vec();
    warn[4] = warn_state.to_str().unwrap();
    warn.extend(["--mode", "warn"]);
    let (_, out, _) = orchlint(&warn, input.to_string().as_bytes(), dir.path());
    assert!(out.contains(r#""additionalContext":"orchlint guard: forbidden-tool"#), "{out}");
    let mut audit = args.to_vec();
    audit[4] = audit_state.to_str().unwrap();
    audit.extend(["--mode", "audit"]);
    let (code, out, _) = orchlint(&audit, input.to_string().as_bytes(), dir.path());
    assert_eq!((code, out.as_str()), (0, ""));

    // A subagent's call is not judged; a broken input lets the call through.
    let mut sub = input.clone();
    sub["agent_id"] = "a1".into();
    let (code, out, _) = orchlint(&args, sub.to_string().as_bytes(), dir.path());
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, err) = orchlint(&args, b"not json", dir.path());
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("cannot judge this call, so it is let through"), "{err}");
}

#[test]
fn install_writes_the_hooks_once_and_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("plugin");
    std::fs::create_dir_all(&plugin).unwrap();
    let p = plugin.to_str().unwrap();
    let (code, out, err) = orchlint(&["guard", "install", "--plugin", p, "--dry-run", "--isolated"], b"", dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(!plugin.join("hooks/hooks.json").exists());
    // The files as they would be written: `PATH:` then its JSON, one after the other.
    let hooks_json = out.split("\n\n").next().and_then(|f| f.split_once(":\n")).map(|(_, json)| json).unwrap();
    let planned: serde_json::Value = serde_json::from_str(hooks_json).unwrap();
    let pre = &planned["hooks"]["PreToolUse"][0]["hooks"][0];
    assert!(pre["command"].as_str().unwrap().ends_with(" guard --mode enforce pre-tool-use"), "{pre}");
    assert_eq!((pre["timeout"].as_u64(), pre["onFailure"].as_str()), (Some(10), Some("block")));
    for _ in 0..2 {
        let (code, _, err) = orchlint(&["guard", "install", "--plugin", p, "--isolated"], b"", dir.path());
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("hooks/hooks.json: orchlint guard on PreToolUse, Stop")
                && err.contains("orchlint-guard-2.1.json: orchlint guard on PostToolBatch"),
            "{err}"
        );
    }
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plugin.join("hooks/hooks.json")).unwrap()).unwrap();
    assert_eq!(written["hooks"]["PreToolUse"].as_array().unwrap().len(), 1, "installed twice, written once");
    let (code, out, _) = orchlint(&["guard", "--explain", "--isolated"], b"", dir.path());
    assert_eq!(code, 0);
    assert!(out.contains("workflow ml-flow") && out.contains("Denied before the call runs"), "{out}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 2\n").unwrap();
    let (code, _, err) =
        orchlint(&["guard", "pre-tool-use", "--isolated", "--rules", bad.to_str().unwrap()], b"{}", dir.path());
    assert_eq!(code, 2, "an invalid rules file is an error, not a silent pass: {err}");
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
        let missing = judge_end(upto, &wfs, false).found;
        assert_eq!(missing, None, "at line {line}");
    }
    // A turn that ends without a question in phase 1 has stopped.
    let stopped =
        std::fs::read(dir.join("2.1.328-clean-async/-home-dev-churn-model/072ef89e-b2ed-4fc1-b2c4-c0f29d9caa30.jsonl"))
            .unwrap();
    let upto = upto(&stopped, 32);
    assert!(String::from_utf8_lossy(&upto).lines().last().unwrap().contains("Waiting for the remaining agents"));
    let missing = judge_end(upto, &wfs, false).found;
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

/// The guard's options for a test, with its state under `dir`.
fn options(dir: &std::path::Path) -> orchlint::guard::Options {
    orchlint::guard::Options {
        mode: orchlint::guard::Mode::Enforce,
        workflows: Workflows::builtin(),
        force_workflow: false,
        state_dir: dir.to_path_buf(),
        wait: std::time::Duration::from_millis(50),
    }
}

#[test]
fn every_call_of_a_breaching_message_is_denied_and_a_denied_call_was_not_made() {
    // Phase 6 of this script launches three ml-engineers in one message,
    // without asking for the approval. approval-gate reports the breach
    // once, at the first launch; the hooks of the three run at the same
    // time, so none can see the others denied: each takes the calls before
    // it that the guard denies as not made.
    use orchlint::guard::{answer, hook::Answer};
    let wfs = Workflows::builtin();
    // The script as the model wrote it, without the denials' results the
    // run later got (check reads a denied call as not made).
    let script =
        std::fs::read_to_string(repo().join("tests/data/guard/scripts/ml-flow-engineers-before-approval.jsonl"))
            .unwrap()
            .lines()
            .filter(|l| !l.contains(" hook error: "))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .into_bytes();
    let all = calls(&script, &wfs);
    let engineers: Vec<_> = all.iter().filter(|c| c.1.contains("0009_")).collect();
    assert_eq!(engineers.len(), 3, "{all:?}");
    for call in &engineers {
        assert_eq!(judge(&script, call, &wfs), ["approval-gate"], "{}", call.1);
    }
    // Through the hook, with the decisions logged: denied, the three were not
    // made, so PostToolBatch tells nothing of them (agent-count would count
    // three ml-engineers in phase 6), and a second try in the next message
    // is denied too (the gate's one report was at the denied launch).
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.jsonl");
    let hook = |event: &str, extra: serde_json::Value| {
        let mut input = serde_json::json!({"session_id": "s", "transcript_path": transcript, "hook_event_name": event});
        input.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        answer(event, &serde_json::to_vec(&input).unwrap(), &options(dir.path())).unwrap()
    };
    std::fs::write(&transcript, upto(&script, engineers[2].3)).unwrap();
    for call in &engineers {
        match hook("PreToolUse", serde_json::json!({"tool_name": "Agent", "tool_use_id": call.1})) {
            Answer::Deny { reason } => assert!(reason.starts_with("orchlint guard: approval-gate: "), "{reason}"),
            other => panic!("{}: {other:?}", call.1),
        }
    }
    // The results the CLI writes for the three denials.
    std::fs::write(&transcript, upto(&script, engineers[2].3 + 3)).unwrap();
    let batch: Vec<_> =
        engineers.iter().map(|c| serde_json::json!({"tool_name": "Agent", "tool_use_id": c.1})).collect();
    assert_eq!(hook("PostToolBatch", serde_json::json!({"tool_calls": batch})), Answer::Allow);
    let mut retry = upto(&script, engineers[2].3 + 3);
    retry.extend_from_slice(
        br#"{"type":"assistant","message":{"id":"msg_retry","role":"assistant","content":[{"type":"tool_use","id":"toolu_retry","name":"Agent","input":{"description":"again","prompt":"Implement the model.","subagent_type":"ml-flow:ml-engineer"}}],"stop_reason":"tool_use"},"uuid":"r","sessionId":"s"}"#,
    );
    retry.push(b'\n');
    std::fs::write(&transcript, retry).unwrap();
    match hook("PreToolUse", serde_json::json!({"tool_name": "Agent", "tool_use_id": "toolu_retry"})) {
        Answer::Deny { reason } => assert!(reason.starts_with("orchlint guard: approval-gate: "), "{reason}"),
        other => panic!("the second try: {other:?}"),
    }
    let log = std::fs::read_to_string(dir.path().join("s/guard.jsonl")).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains(r#""decision":"deny""#)).count(), 4, "{log}");
    assert!(!log.contains(r#""decision":"report""#), "{log}");
}

/// A session file with a second run after `first`: the lines of `first`
/// with fresh ids (uuids, tool_use, message and request ids), then `second`.
fn two_runs(first: &[u8], second: &[u8]) -> Vec<u8> {
    let session = regex::bytes::Regex::new(r#""sessionId":"([0-9a-f-]{36})""#).unwrap();
    let sid = |b: &[u8]| session.captures(b).map(|c| c[1].to_vec());
    let keep = sid(second);
    let uuid = regex::bytes::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let fresh = uuid.replace_all(first, |c: &regex::bytes::Captures| {
        if sid(first).as_deref() == Some(&c[0]) {
            keep.clone().unwrap_or_else(|| c[0].to_vec())
        } else {
            [b"eeee".as_slice(), &c[0][4..]].concat()
        }
    });
    let ids = regex::bytes::Regex::new(r#""((?:toolu|msg|req)_[A-Za-z0-9_]+)""#).unwrap();
    let mut out = ids.replace_all(&fresh, &b"\"${1}_earlier\""[..]).into_owned();
    out.extend_from_slice(second);
    out
}

/// The guard judges a call on its mirror of the transcript: only what the
/// checks read (the results of ordinary tools by their ids), and only the
/// last run once a later one started. Through the hook, call after call as
/// Claude Code would run it, every decision is the one the whole transcript
/// gives, on the fixtures of every kind judged before the fact, alone and
/// after an earlier run in the same session.
#[test]
fn the_mirror_judges_every_call_as_the_whole_transcript_does() {
    use orchlint::guard::{answer, hook::Answer};
    let wfs = Workflows::builtin();
    let files: Vec<std::path::PathBuf> = manifest()
        .iter()
        .filter(|f| f["generation"] != "stream")
        .filter(|f| {
            f["kind"] == "valid" || checks::rule(f["rule"].as_str().unwrap_or("")).map(|r| r.live()) == Some(Live::Deny)
        })
        .map(|f| fixtures().join(f["file"].as_str().unwrap()))
        .collect();
    let earlier = std::fs::read(repo().join(
        "fixtures/samples/2.1.39-too-few-architects/-home-dev-churn-model/801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl",
    ))
    .unwrap();
    let (mut judged, mut breaches, mut cut) = (0, 0, 0);
    for file in &files {
        let alone = std::fs::read(file).unwrap();
        for bytes in [alone.clone(), two_runs(&earlier, &alone)] {
            let dir = tempfile::tempdir().unwrap();
            let transcript = dir.path().join("t.jsonl");
            let opts = orchlint::guard::Options { mode: orchlint::guard::Mode::Warn, ..options(dir.path()) };
            for call in calls(&bytes, &wfs) {
                let whole = judge(&bytes, &call, &wfs);
                std::fs::write(&transcript, upto(&bytes, call.3)).unwrap();
                let input = serde_json::json!({
                    "session_id": "s", "transcript_path": transcript, "hook_event_name": "PreToolUse",
                    "tool_name": call.2, "tool_use_id": call.1, "prompt_id": "p",
                });
                let got = match answer("PreToolUse", &serde_json::to_vec(&input).unwrap(), &opts).unwrap() {
                    Answer::Allow => None,
                    Answer::Context { text, .. } => {
                        Some(text.strip_prefix("orchlint guard: ").unwrap().split(':').next().unwrap().to_string())
                    }
                    other => panic!("{other:?}"),
                };
                assert_eq!(
                    got.as_deref(),
                    whole.first().copied(),
                    "{}:{} ({} bytes): {} {}",
                    file.display(),
                    call.0,
                    bytes.len(),
                    call.2,
                    call.1
                );
                judged += 1;
                breaches += usize::from(got.is_some());
            }
            let mirror = std::fs::read(dir.path().join("s/mirror.jsonl")).unwrap();
            cut += usize::from(mirror.len() * 2 < bytes.len());
        }
    }
    assert!(
        judged > 1000 && breaches > 20 && cut > 20,
        "{judged} calls judged, {breaches} breaches, {cut} mirrors cut"
    );
}

/// In audit mode the guard lets a breach run and logs it; `check
/// --guard-log` reads the log beside the transcript and says, at the call,
/// what the guard found live. A log naming a call the session does not hold,
/// or a line that is no decision, is said too.
#[test]
fn check_reads_the_audit_log_beside_the_transcript() {
    use orchlint::guard::{answer, hook::Answer};
    let wfs = Workflows::builtin();
    let file = fixtures().join("forbidden-tool/invalid-v2.1-bash-grep-phase1.jsonl");
    let bytes = std::fs::read(&file).unwrap();
    let session = "973623c0-3dc2-4c7a-838e-9212a0c635ed";
    let dir = tempfile::tempdir().unwrap();
    let transcript = dir.path().join("t.jsonl");
    let opts = orchlint::guard::Options { mode: orchlint::guard::Mode::Audit, ..options(dir.path()) };
    for call in calls(&bytes, &wfs) {
        std::fs::write(&transcript, upto(&bytes, call.3)).unwrap();
        let input = serde_json::json!({
            "session_id": session, "transcript_path": transcript, "hook_event_name": "PreToolUse",
            "tool_name": call.2, "tool_use_id": call.1, "prompt_id": "p",
        });
        assert_eq!(answer("PreToolUse", &serde_json::to_vec(&input).unwrap(), &opts).unwrap(), Answer::Allow);
    }
    let log = dir.path().join(session).join("guard.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().filter(|l| l.contains(r#""decision":"audit""#)).count(), 1, "{text}");
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    use std::io::Write as _;
    writeln!(f, r#"{{"session_id":"{session}","event":"PreToolUse","tool_use_id":"toolu_gone","decision":"audit","rule":"forbidden-tool","message":"m"}}"#).unwrap();
    writeln!(f, "not a decision").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(["check", "--isolated", "--format", "concise"])
        .arg(&file)
        .arg("--guard-log")
        .arg(&log)
        .output()
        .unwrap();
    let shown = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(&log.display().to_string(), "STATE/guard.jsonl")
            .replace(&file.display().to_string(), "t.jsonl")
    };
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(format!("stdout:\n{}\nstderr:\n{}", shown(&out.stdout), shown(&out.stderr)));
    // Without the log, no word of it.
    let plain = std::process::Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(["check", "--isolated", "--format", "concise"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("orchlint guard"));
}

/// Claude Code 2.0.x names no agent in a hook's input: a call that is not in
/// the session file while foreground agents run is one of theirs, of their
/// type when they are all of one type, else of the agent whose transcript
/// beside the session holds the call (matched to its launch by the prompt).
#[test]
fn on_2_0_an_agents_call_is_judged_by_the_type_of_the_running_agent_that_made_it() {
    use orchlint::guard::{answer, hook::Answer};
    // Only data-scientists are read-only here, so which agent made the call matters.
    let rules = orchlint::workflow::DEFAULT_RULES.replace(
        r#"agents = ["ml-explorer", "ml-architect", "data-scientist", "ml-reviewer"]"#,
        r#"agents = ["data-scientist"]"#,
    );
    let wf = orchlint::workflow::Workflow::parse(&rules, "ml-flow.toml").unwrap();
    let text = std::fs::read_to_string(fixtures().join("agent-count/valid-v2.0-clean.jsonl")).unwrap();
    // Up to phase 3's launch message (an ml-explorer and a data-scientist, foreground), before their results.
    let upto_launch = text.lines().take(22).map(|l| format!("{l}\n")).collect::<String>();
    assert!(
        upto_launch.contains("PHASE-3 data-scientist task 2")
            && !text.lines().nth(22).unwrap().contains("\"type\":\"assistant\"")
    );
    let prompt = |agent: &str, n: u32| {
        format!("PHASE-3 {agent} task {n}: do the risk assessment work and report key files with line numbers.")
    };
    let agent_file = |dir: &std::path::Path, id: &str, prompt: &str, call: &str| {
        let lines = [
            serde_json::json!({"type": "user", "isSidechain": true, "agentId": id, "sessionId": "s",
                "message": {"role": "user", "content": prompt}}),
            serde_json::json!({"type": "assistant", "isSidechain": true, "agentId": id, "sessionId": "s",
                "message": {"id": "m", "role": "assistant", "content": [{"type": "tool_use", "id": call, "name": "Write",
                    "input": {"file_path": "notes.py", "content": "x"}}]}}),
        ];
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.join(format!("agent-{id}.jsonl")), body).unwrap();
    };
    let ask = |dir: &std::path::Path, call: &str| {
        let transcript = dir.join("session.jsonl");
        std::fs::write(&transcript, &upto_launch).unwrap();
        let input = serde_json::json!({"session_id": "s", "transcript_path": transcript, "hook_event_name": "PreToolUse",
            "tool_name": "Write", "tool_input": {"file_path": "notes.py", "content": "x"}, "tool_use_id": call});
        let opts = orchlint::guard::Options { workflows: Workflows::only(wf.clone()), ..options(&dir.join("state")) };
        answer("PreToolUse", &serde_json::to_vec(&input).unwrap(), &opts).unwrap()
    };
    // Two types run and no transcript holds the call: not judged.
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(ask(dir.path(), "toolu_sub_1"), Answer::Allow);
    let log = std::fs::read_to_string(dir.path().join("state/s/guard.jsonl")).unwrap();
    assert!(log.contains("its agent type or workflow run is not known"), "{log}");
    // The data-scientist's transcript holds it: denied by its policy.
    let dir = tempfile::tempdir().unwrap();
    agent_file(dir.path(), "a1", &prompt("ml-explorer", 1), "toolu_other");
    agent_file(dir.path(), "a2", &prompt("data-scientist", 2), "toolu_sub_2");
    match ask(dir.path(), "toolu_sub_2") {
        Answer::Deny { reason } => {
            assert!(reason.starts_with("orchlint guard: agent-tool: the data-scientist agent called Write"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // The ml-explorer's: let through.
    let dir = tempfile::tempdir().unwrap();
    agent_file(dir.path(), "a1", &prompt("ml-explorer", 1), "toolu_sub_3");
    assert_eq!(ask(dir.path(), "toolu_sub_3"), Answer::Allow);
}
