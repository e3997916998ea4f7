//! The rules language, kind by kind: small transcripts that must pass and
//! must fail under the bundled feature-dev workflow and under small rules
//! files written for one feature each. Each case snapshots its diagnostics.

use orchlint::checks::Selection;
use orchlint::engine::{self, Options};
use orchlint::workflow::{Workflow, Workflows, DEFAULT_RULES};
use serde_json::{json, Value};

/// A block of an assistant message.
enum Block {
    Text(&'static str),
    /// A launch of `subagent_type`.
    Launch(&'static str),
    Tool(&'static str, Value),
}
use Block::*;

/// Writes a session file in the shape of Claude Code 2.0: one line per
/// content block, lines of one API message sharing its id.
#[derive(Default)]
struct Session {
    lines: Vec<String>,
    messages: u32,
    calls: u32,
    entries: u32,
}

impl Session {
    fn entry(&mut self, mut v: Value) {
        self.entries += 1;
        v["sessionId"] = json!("11111111-2222-3333-4444-555555555555");
        v["uuid"] = json!(format!("00000000-0000-0000-0000-{:012}", self.entries));
        v["timestamp"] = json!(format!("2026-01-01T00:00:{:02}.000Z", self.entries % 60));
        v["isSidechain"] = json!(false);
        self.lines.push(v.to_string());
    }

    fn command(mut self, name: &str, args: &str) -> Self {
        let text = format!(
            "<command-message>{}</command-message>\n<command-name>{name}</command-name>\n<command-args>{args}</command-args>",
            name.trim_start_matches('/')
        );
        self.entry(json!({"type": "user", "message": {"role": "user", "content": text}}));
        self
    }

    fn user(mut self, text: &str) -> Self {
        self.entry(json!({"type": "user", "message": {"role": "user", "content": text}}));
        self
    }

    /// One API message; returns the ids of its tool calls.
    fn say(mut self, blocks: &[Block], ids: &mut Vec<String>) -> Self {
        self.messages += 1;
        let id = format!("msg_{:04}", self.messages);
        ids.clear();
        for b in blocks {
            let content = match b {
                Text(t) => json!({"type": "text", "text": t}),
                Launch(ty) => {
                    self.calls += 1;
                    ids.push(format!("toolu_{:04}", self.calls));
                    json!({"type": "tool_use", "id": ids.last().unwrap(), "name": "Task", "input": {
                        "description": format!("launch {}", self.calls),
                        "prompt": format!("task {}: explore and report the key files", self.calls),
                        "subagent_type": ty}})
                }
                Tool(name, input) => {
                    self.calls += 1;
                    ids.push(format!("toolu_{:04}", self.calls));
                    json!({"type": "tool_use", "id": ids.last().unwrap(), "name": name, "input": input})
                }
            };
            self.entry(json!({"type": "assistant", "message": {"id": id, "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5", "content": [content]}}));
        }
        self
    }

    /// Results of tool calls (an agent's report names `src/app.py`).
    fn results(mut self, ids: &[String]) -> Self {
        for id in ids {
            self.entry(json!({"type": "user", "message": {"role": "user", "content": [{"type": "tool_result",
                "tool_use_id": id, "content": [{"type": "text", "text": "Findings: src/app.py:3 holds the entry point."}]}]}}));
        }
        self
    }

    fn text(&self) -> String {
        self.lines.join("\n") + "\n"
    }
}

/// Checks a session with the bundled workflows plus the given rules texts;
/// the concise diagnostics of the selected rules (all when empty).
fn check(session: &Session, rules: &[&str], select: &[&str]) -> String {
    let mut wfs = Workflows::builtin();
    for (i, text) in rules.iter().enumerate() {
        wfs.add(Workflow::parse(text, &format!("rules-{i}.toml")).unwrap_or_else(|e| panic!("{e:?}")));
    }
    let opts = Options {
        selection: Selection { only: select.iter().map(|s| s.to_string()).collect(), ..Selection::default() },
        ..Options::default()
    };
    let report = engine::check_bytes(session.text().into_bytes(), "t.jsonl", &wfs, &opts);
    let mut out = Vec::new();
    orchlint::report::concise::render(&report, false, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("[transcript]") && !l.starts_with("Found "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The findings' `rule@line` only, for asserting what fired.
fn fired(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| {
            let rule = l.split('[').nth(1)?.split(']').next()?;
            let line = l.split(':').nth(1)?;
            Some(format!("{rule}@{line}"))
        })
        .collect()
}

// ---------------------------------------------------------------------------
// feature-dev, the bundled second workflow.

const EXPLORER: &str = "feature-dev:code-explorer";
const ARCHITECT: &str = "feature-dev:code-architect";
const REVIEWER: &str = "feature-dev:code-reviewer";

/// A feature-dev run; `breach` changes one step.
fn feature_dev(breach: &str) -> Session {
    let mut ids = Vec::new();
    let explorers: &[Block] = match breach {
        "one-explorer" => &[Launch(EXPLORER)],
        "wrong-type" => &[Launch(EXPLORER), Launch(EXPLORER), Launch("general-purpose")],
        _ => &[Launch(EXPLORER), Launch(EXPLORER)],
    };
    let mut s = Session::default()
        .command("/feature-dev:feature-dev", "Add rate limiting to the API")
        .say(
            &[Text("I'll start by understanding the request.\n\n## Phase 1: Discovery\nYou want rate limiting.")],
            &mut ids,
        )
        .say(&[Text("Understood. Now the code.\n\n## Phase 2: Codebase Exploration")], &mut ids)
        .say(explorers, &mut ids);
    let explorer_ids = ids.clone();
    s = s.results(&explorer_ids);
    if breach == "grep" {
        s = s.say(&[Tool("Bash", json!({"command": "grep -rn limiter src/"}))], &mut ids);
        let grep = ids.clone();
        s = s.results(&grep);
    }
    if breach == "write-early" {
        s = s.say(&[Tool("Write", json!({"file_path": "src/limit.py", "content": "x"}))], &mut ids);
        let write = ids.clone();
        s = s.results(&write);
    }
    s = s.say(&[Tool("Read", json!({"file_path": "src/app.py"}))], &mut ids);
    let read = ids.clone();
    s = s.results(&read).say(
        &[Text(
            "The explorers are back and I read the files.\n\n## Phase 3: Clarifying Questions\n1. Per user or per IP?",
        )],
        &mut ids,
    );
    if breach != "no-answer" {
        s = s.user("Per user, 100 requests a minute.");
    }
    s = s
        .say(&[Text("Thanks for the answers.\n\n## Phase 4: Architecture Design")], &mut ids)
        .say(&[Launch(ARCHITECT), Launch(ARCHITECT)], &mut ids);
    let architects = ids.clone();
    s = s.results(&architects);
    if breach != "no-approval" {
        s = s.say(&[Text("Approach 1 is minimal, approach 2 is clean. Which approach do you want?")], &mut ids);
        let answer = match breach {
            "not-yet" => "Not yet, wait for my colleague.",
            "notification" => {
                "<task-notification>\n<task-id>a1</task-id>\n<result>Approved: go ahead with approach 2</result>\n</task-notification>"
            }
            _ => "Approach 2 looks right.",
        };
        s = s.user(answer);
    }
    s = s
        .say(&[Text("Going with approach 2.\n\n## Phase 5: Implementation")], &mut ids)
        .say(&[Tool("Write", json!({"file_path": "src/limit.py", "content": "x"}))], &mut ids);
    let write = ids.clone();
    s = s.results(&write).say(&[Tool("Bash", json!({"command": "npm test 2>&1 | tail -20"}))], &mut ids);
    let test = ids.clone();
    s = s.results(&test).say(&[Text("It is written.\n\n## Phase 6: Quality Review")], &mut ids);
    if breach == "split-reviewers" {
        s = s.say(&[Launch(REVIEWER), Launch(REVIEWER)], &mut ids);
        let first = ids.clone();
        s = s.results(&first).say(&[Launch(REVIEWER)], &mut ids);
    } else {
        s = s.say(&[Launch(REVIEWER), Launch(REVIEWER), Launch(REVIEWER)], &mut ids);
    }
    let reviewers = ids.clone();
    s = s.results(&reviewers).say(&[Text("Two issues were found. Fix now or later?")], &mut ids);
    if breach == "fix-before-answer" {
        s = s
            .say(&[Tool("Edit", json!({"file_path": "src/limit.py", "old_string": "x", "new_string": "y"}))], &mut ids);
        let edit = ids.clone();
        s = s.results(&edit);
    }
    s.user("Fix both now.")
        .say(&[Tool("Edit", json!({"file_path": "src/limit.py", "old_string": "x", "new_string": "y"}))], &mut ids)
        .say(&[Text("Fixed.\n\n## Phase 7: Summary\nRate limiting is in.")], &mut ids)
}

#[test]
fn feature_dev_clean_run_passes() {
    let out = check(&feature_dev("clean"), &[], &[]);
    assert_eq!(out, "", "{out}");
}

#[test]
fn feature_dev_breaches_are_found() {
    let cases = [
        ("one-explorer", vec!["agent-count@4"]),
        ("wrong-type", vec!["agent-type@6"]),
        ("grep", vec!["forbidden-tool@8"]),
        ("write-early", vec!["forbidden-tool@8"]),
        ("no-answer", vec!["approval-gate@11"]),
        ("no-approval", vec!["approval-gate@17"]),
        ("not-yet", vec!["approval-gate@19"]),
        ("notification", vec!["approval-gate@19"]),
        // The first two reviewers returned before the third: no wait-for-agents.
        ("split-reviewers", vec!["parallel-launch@29"]),
        ("fix-before-answer", vec!["approval-gate@32"]),
    ];
    let mut all = String::new();
    for (breach, expected) in cases {
        let session = feature_dev(breach);
        let out = check(&session, &[], &[]);
        // DUMP=1 prints each session with line numbers instead of asserting, to write a new case.
        if std::env::var("DUMP").is_ok() {
            for (i, l) in session.text().lines().enumerate() {
                eprintln!(
                    "{breach} {}: {}",
                    i + 1,
                    &l[l.find("\"content\"").unwrap_or(0)..].chars().take(150).collect::<String>()
                );
            }
            eprintln!("{breach} => {:?}", fired(&out));
            continue;
        }
        assert_eq!(fired(&out), expected, "{breach}:\n{out}");
        all.push_str(&format!("## {breach}\n{out}\n"));
    }
    insta::assert_snapshot!("feature_dev_breaches", all);
}

// ---------------------------------------------------------------------------
// Small rules files, one feature each.

/// A three-phase audit workflow: survey (2+ scanners in parallel), audit (the
/// orchestrator edits here only, after a go-ahead), report.
const AUDIT: &str = r####"
version = 2
[workflow]
name = "audit"
commands = ["/audit"]
launch_tools = ["Task", "Agent"]
[agents]
namespace = "audit"
names = "bare"
[phases]
headers = ["### Stage {n}/{total} — {name}"]
[[phase]]
name = "Survey"
agents = { scanner = "2+" }
[[phase]]
name = "Fix"
steps = [{ agents = { fixer = "2" }, launch = "one-at-a-time" }]
[[phase]]
name = "Report"
[[gate]]
name = "go-ahead"
ask_phase = "Survey"
question = '(?i)shall I fix'
holds = { phases = ["Fix"] }
opens = ["approval"]
approve = ["yes", "go"]
negate = ["no", "not"]
[orchestrator]
shell_tools = ["Bash"]
other_shell = "allow"
[orchestrator.shell_classes]
edit = ['^sed\s+-i']
[[orchestrator.policy]]
phases = "all"
forbid = ["Edit"]
forbid_shell = ["edit"]
[[orchestrator.policy]]
phases = ["Fix"]
allow = ["Edit"]
allow_shell = ["edit"]
after_agents = true
[severity]
incomplete-run = "off"
"####;

fn audit(scanners: &[Block], fixers_together: bool, edit_early: bool) -> Session {
    let mut ids = Vec::new();
    let mut s = Session::default()
        .command("/audit", "")
        .say(&[Text("Let me begin.\n### Stage 1/3 — Survey")], &mut ids)
        .say(scanners, &mut ids);
    let scan = ids.clone();
    s = s.results(&scan).say(&[Text("Found 2 issues. Shall I fix them?")], &mut ids).user("yes, go");
    s = s.say(&[Text("### Stage 2/3 — Fix")], &mut ids);
    if edit_early {
        s = s.say(&[Tool("Edit", json!({"file_path": "a.py", "old_string": "a", "new_string": "b"}))], &mut ids);
        let e = ids.clone();
        s = s.results(&e);
    }
    if fixers_together {
        s = s.say(&[Launch("fixer"), Launch("fixer")], &mut ids);
        let f = ids.clone();
        s = s.results(&f);
    } else {
        for _ in 0..2 {
            s = s.say(&[Launch("fixer")], &mut ids);
            let f = ids.clone();
            s = s.results(&f);
        }
    }
    s.say(&[Tool("Bash", json!({"command": "sed -i s/a/b/ a.py"}))], &mut ids)
        .say(&[Text("### Stage 3/3 — Report\nAll fixed.")], &mut ids)
}

#[test]
fn a_workflow_of_ones_own_is_checked_by_its_rules_file() {
    let clean = audit(&[Launch("scanner"), Launch("scanner"), Launch("scanner"), Launch("scanner")], false, false);
    assert_eq!(check(&clean, &[AUDIT], &[]), "");
    let cases = [
        ("one scanner (MIN+)", audit(&[Launch("scanner")], false, false), vec!["agent-count@3"]),
        (
            "namespaced name where bare ones are asked",
            audit(&[Launch("audit:scanner"), Launch("scanner")], false, false),
            vec!["agent-namespace@3"],
        ),
        (
            "fixers together (one at a time)",
            audit(&[Launch("scanner"), Launch("scanner")], true, false),
            vec!["sequential-steps@11"],
        ),
        (
            "edit before the phase's agents returned",
            audit(&[Launch("scanner"), Launch("scanner")], false, true),
            vec!["forbidden-tool@10"],
        ),
    ];
    let mut all = String::new();
    for (what, session, expected) in cases {
        let out = check(&session, &[AUDIT], &[]);
        assert_eq!(fired(&out), expected, "{what}:\n{out}");
        all.push_str(&format!("## {what}\n{out}\n"));
    }
    insta::assert_snapshot!("audit_breaches", all);
}

#[test]
fn a_gate_holds_until_its_own_words_open_it() {
    let mut ids = Vec::new();
    let refused = Session::default()
        .command("/audit", "")
        .say(&[Text("### Stage 1/3 — Survey")], &mut ids)
        .say(&[Launch("scanner"), Launch("scanner")], &mut ids);
    let scan = ids.clone();
    // "lgtm" is ml-flow's approval word, not this gate's.
    let refused = refused
        .results(&scan)
        .say(&[Text("Shall I fix them?")], &mut ids)
        .user("lgtm")
        .say(&[Text("### Stage 2/3 — Fix")], &mut ids);
    let out = check(&refused, &[AUDIT], &["approval-gate"]);
    assert_eq!(fired(&out), vec!["approval-gate@9"], "{out}");
    assert!(out.contains("before the user gave the go-ahead asked for in phase 1"), "{out}");
}

#[test]
fn severity_off_and_an_absent_section_silence_a_kind() {
    let one = audit(&[Launch("scanner")], false, false);
    let off = AUDIT.replace("incomplete-run = \"off\"", "agent-count = \"off\"");
    assert_eq!(fired(&check(&one, &[&off], &[])), Vec::<String>::new());
    // audit declares no announcement format: a header in another style is no finding.
    assert!(!check(&one, &[AUDIT], &[]).contains("phase-announcement"));
}

#[test]
fn unlisted_agents_may_be_allowed() {
    let allowed = AUDIT.replace("names = \"bare\"", "names = \"bare\"\nunlisted = \"allow\"");
    let mut ids = Vec::new();
    let s = Session::default()
        .command("/audit", "")
        .say(&[Text("### Stage 1/3 — Survey")], &mut ids)
        .say(&[Launch("scanner"), Launch("scanner"), Launch("general-purpose")], &mut ids);
    assert_eq!(fired(&check(&s, &[AUDIT], &["agent-type"])), vec!["agent-type@5"]);
    assert_eq!(fired(&check(&s, &[&allowed], &["agent-type"])), Vec::<String>::new());
}

#[test]
fn each_run_is_judged_by_the_workflow_that_started_it() {
    let mut ids = Vec::new();
    let s = Session::default()
        .command("/audit", "")
        .say(&[Text("### Stage 1/3 — Survey")], &mut ids)
        .say(&[Launch("scanner")], &mut ids)
        .command("/feature-dev", "add a flag")
        .say(&[Text("## Phase 1: Discovery")], &mut ids)
        .say(&[Launch("code-explorer")], &mut ids);
    let out = check(&s, &[AUDIT], &["agent-count"]);
    // audit: one scanner is too few; feature-dev: an explorer in Discovery launches none.
    assert_eq!(fired(&out), vec!["agent-count@3", "agent-count@6"], "{out}");
    assert!(out.contains("phase 1 launched 1 scanner agent; the workflow requires 2+"), "{out}");
    assert!(out.contains("phase 1 launches no agents"), "{out}");
}

#[test]
fn a_user_file_replaces_the_bundled_workflow_of_its_name() {
    let mut ids = Vec::new();
    let s = Session::default()
        .command("/ml-flow:ml-flow", "churn")
        .say(
            &[Text("**Phase 1 of 12: Problem Analysis**\nNext: Phase 2 - Data Architecture\nAgents: ml-explorer")],
            &mut ids,
        )
        .say(&[Launch("ml-flow:ml-explorer"), Launch("ml-flow:ml-explorer"), Launch("ml-flow:ml-explorer")], &mut ids);
    assert_eq!(fired(&check(&s, &[], &["agent-count"])), vec!["agent-count@3"]);
    let three = DEFAULT_RULES.replace("ml-explorer = \"1-2\"", "ml-explorer = \"1-3\"");
    assert_eq!(fired(&check(&s, &[&three], &["agent-count"])), Vec::<String>::new());
}

#[test]
fn rules_file_mistakes_name_line_key_and_fix() {
    let cases = [
        ("version = 2", "version = 3", "version 3 is not known"),
        ("ask_phase = \"Survey\"", "ask_phase = \"Survy\"", "did you mean `Survey`?"),
        ("scanner = \"2+\"", "scanner = \"two\"", "MIN+"),
        ("forbid_shell = [\"edit\"]", "forbid_shell = [\"edits\"]", "did you mean `edit`?"),
        ("opens = [\"approval\"]", "opens = [\"approve\"]", "\"approval\""),
        ("launch = \"one-at-a-time\"", "launch = \"serial\"", "one-at-a-time"),
        ("names = \"bare\"", "names = \"plain\"", "\"namespaced\", \"bare\" or \"either\""),
        ("headers = [\"### Stage {n}/{total} — {name}\"]", "headers = [\"### Stage — {name}\"]", "{n}"),
        ("incomplete-run = \"off\"", "incomplete-run = \"loud\"", "\"off\""),
        (
            "[[orchestrator.policy]]\nphases = [\"Fix\"]",
            "[[orchestrator.policy]]\nphases = [\"Fixx\"]",
            "did you mean `Fix`?",
        ),
    ];
    let mut all = String::new();
    for (from, to, help) in cases {
        assert!(AUDIT.contains(from), "{from}");
        let text = AUDIT.replacen(from, to, 1);
        let err = Workflow::parse(&text, "audit.toml").expect_err(to);
        let line = err.line.unwrap_or_else(|| panic!("{to}: no line"));
        let wrong = to.lines().last().unwrap();
        assert!(text.lines().nth(line - 1).unwrap().contains(wrong.split(" = ").next().unwrap()), "{to}: line {line}");
        let told = format!("{} {}", err.message, err.help.clone().unwrap_or_default());
        assert!(told.contains(help), "{to}: {told}");
        all.push_str(&format!("{to}\n  line {line}: {}\n  help: {}\n", err.message, err.help.unwrap_or_default()));
    }
    insta::assert_snapshot!("rules_file_errors", all);
}

#[test]
fn going_back_for_the_fixes_the_user_asked_for_is_no_breach() {
    let mut ids = Vec::new();
    let mut s = feature_dev("clean");
    // After "Fix both now." in phase 6 (the last lines of the clean run), back to phase 5.
    s.lines.truncate(s.lines.len() - 2);
    let s = s
        .say(&[Text("Back to the code for the fixes.\n\n## Phase 5: Implementation")], &mut ids)
        .say(&[Tool("Edit", json!({"file_path": "src/limit.py", "old_string": "x", "new_string": "y"}))], &mut ids);
    let edit = ids.clone();
    let s = s
        .results(&edit)
        .say(&[Text("## Phase 6: Quality Review")], &mut ids)
        .say(&[Launch(REVIEWER), Launch(REVIEWER), Launch(REVIEWER)], &mut ids);
    let reviewers = ids.clone();
    let s = s
        .results(&reviewers)
        .say(&[Text("No issues left. Anything else?")], &mut ids)
        .user("No, that's all.")
        .say(&[Text("## Phase 7: Summary\nDone.")], &mut ids);
    assert_eq!(check(&s, &[], &[]), "");
}

#[test]
fn rules_file_details_that_are_easy_to_get_wrong() {
    // Over the maximum allowed outright.
    let capped = AUDIT.replace("scanner = \"2+\"", "scanner = \"2-3\"");
    let lenient = capped.replace("names = \"bare\"", "names = \"bare\"\nover_max = \"allow\"");
    let many = audit(&[Launch("scanner"), Launch("scanner"), Launch("scanner"), Launch("scanner")], false, false);
    assert_eq!(fired(&check(&many, &[&capped], &["agent-count"])), vec!["agent-count@3"]);
    assert_eq!(fired(&check(&many, &[&lenient], &["agent-count"])), Vec::<String>::new());
    // A template with no space before {n} finds a header with none.
    let tight = AUDIT.replace("### Stage {n}/{total} — {name}", "Stage-{n}: {name}");
    let wf = Workflow::parse(&tight, "t.toml").unwrap();
    assert_eq!(orchlint::model::text::announcements("Stage-2: Fix\nnow", &wf.detector)[0].phase, 2);
    // Agent types are compared as Claude Code compares them.
    let cased = AUDIT.replace("scanner = \"2+\"", "Scanner_Agent = \"1\"");
    let wf = Workflow::parse(&cased, "t.toml").unwrap();
    assert!(wf.knows_type("scanner-agent"));
    // A type in two steps of a phase, and an argument that needs a read without [read].
    let twice = AUDIT.replace(
        "steps = [{ agents = { fixer = \"2\" }, launch = \"one-at-a-time\" }]",
        "steps = [{ agents = { fixer = \"1\" } }, { agents = { fixer = \"1\" } }]",
    );
    let err = Workflow::parse(&twice, "t.toml").unwrap_err();
    assert!(err.message.contains("lists fixer in two steps"), "{}", err.message);
    let argument = format!("{AUDIT}\n[[argument]]\nflag = \"--scope\"\nread = \"/scopes/{{value}}.md\"\n");
    let err = Workflow::parse(&argument, "t.toml").unwrap_err();
    assert!(err.message.contains("requires a read"), "{}", err.message);
    let back =
        AUDIT.replace("negate = [\"no\", \"not\"]", "negate = [\"no\", \"not\"]\nback_to = [\"Survey\", \"Report\"]");
    let err = Workflow::parse(&back, "t.toml").unwrap_err();
    assert!(err.message.contains("names phase 1, which does not come before"), "{}", err.message);
}

#[test]
fn a_rule_that_needs_a_tool_the_session_was_not_offered_says_so() {
    let mut ids = Vec::new();
    let mut s = Session::default();
    s.lines.push(r#"{"type":"system","subtype":"init","session_id":"11111111-2222-3333-4444-555555555555","tools":["Agent","Bash","Read"]}"#.into());
    let s = s
        .command("/ml-flow:ml-flow", "churn")
        .say(
            &[Text("**Phase 1 of 12: Problem Analysis**\nNext: Phase 2 - Data Architecture\nAgents: ml-explorer")],
            &mut ids,
        )
        .say(&[Launch("ml-flow:ml-explorer")], &mut ids);
    let out = check(&s, &[], &["todo-list"]);
    assert!(
        out.contains(
            "note[todo-list] phase 1 created no todo list, but the session offered none of TodoWrite, TaskCreate"
        ),
        "{out}"
    );
    // Without an init entry the transcript does not say what was offered: a warning.
    let mut ids = Vec::new();
    let s = Session::default()
        .command("/ml-flow:ml-flow", "churn")
        .say(
            &[Text("**Phase 1 of 12: Problem Analysis**\nNext: Phase 2 - Data Architecture\nAgents: ml-explorer")],
            &mut ids,
        )
        .say(&[Launch("ml-flow:ml-explorer")], &mut ids);
    assert!(check(&s, &[], &["todo-list"]).contains("warning[todo-list] phase 1 created no todo list"));
}
