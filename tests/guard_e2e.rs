//! `orchlint guard` end to end, with the real Claude Code CLI and a scripted
//! model. For each scenario: a copy of a test plugin gets the guard's hooks
//! (`orchlint guard install --plugin COPY --state-dir STATE --orchlint
//! <this orchlint>`), then `orchlint record --replay SCRIPT
//! --allow-side-effects` types the script through the CLI (serve answers the
//! orchestrator's turns from the script, turn by turn, and its agents from
//! their reports; side effects are allowed so that a forbidden Bash or Write
//! reaches the hooks). Then, for the session the CLI wrote:
//!
//! - the guard's log (`STATE/<session>/guard.jsonl`) holds exactly the
//!   decisions expected: a denial of each call the script's model was to be
//!   denied (rule and message), a Stop reminder where one is expected, and
//!   nothing else;
//! - what the model received: the CLI's transcript has each denied call's
//!   `tool_result` with `is_error` and the guard's reason, as that version
//!   words it (2.1: `PreToolUse:TOOL hook error: REASON`, 2.0.x: the reason);
//!   a subagent's denied call, in that agent's transcript;
//! - the story went on as scripted: the transcript's texts, calls (that ran),
//!   denied calls, user prompts, notifications and Stop feedback in order
//!   ([`Scenario::story`]; every denial, prompt, notification and reminder
//!   of the run is named there), and the agent whose call was denied made
//!   its next turn, its report ([`Scenario::agent_story`]);
//! - `orchlint check` on the final transcript gives [`Scenario::check`]:
//!   where the guard prevented the breach, no finding of it; and, where
//!   [`Scenario::undenied`] names them, with the denied calls' results made
//!   ordinary ones, check finds the breaches (the test cannot pass because
//!   check misses them).
//!
//! A script may give an agent turns of its own (its transcript in
//! `scripts/NAME/subagents/`, as Claude Code 2.1 keeps one): serve answers
//! that agent turn by turn, and the CLI runs its tool calls, hooks included.
//!
//! The scripts are tests/data/guard/scripts (see its README); the clean run is
//! the 2.1.328 recording of tests/data/recordings. Claude Code 2.1.328
//! (ORCHLINT_CLAUDE_2_1) and 2.0.77 (ORCHLINT_CLAUDE_2_0) are required under
//! CI, as in tests/serve.rs; 2.1.332 (ORCHLINT_CLAUDE_2_1_332) is tested where
//! it is installed. 2.0.x runs background agents differently (its `-p` does
//! not wait for them), so the notification scenario runs on 2.1 only.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use common::{orchlint, repo};

/// One real-CLI run at a time: the runs are timed (the guard waits up to a
/// second for the transcript; serve holds a background agent up to 10 s) and
/// the machine's cores are few.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cli {
    V2_1_328,
    V2_1_332,
    V2_0_77,
}

impl Cli {
    fn path(self) -> Option<PathBuf> {
        match self {
            Cli::V2_1_328 => common::claude_cli("ORCHLINT_CLAUDE_2_1", "2.1.328", "bin/claude.exe"),
            Cli::V2_1_332 => common::claude_cli_if_present("ORCHLINT_CLAUDE_2_1_332", "2.1.332", "bin/claude.exe"),
            Cli::V2_0_77 => common::claude_cli("ORCHLINT_CLAUDE_2_0", "2.0.77", "cli.js"),
        }
    }

    /// The `tool_result` text of a call a PreToolUse hook denied with `reason`.
    fn denial(self, tool: &str, reason: &str) -> String {
        match self {
            Cli::V2_0_77 => reason.to_string(),
            _ => format!("PreToolUse:{tool} hook error: {reason}"),
        }
    }
}

struct Scenario {
    name: &'static str,
    /// The session file the model's turns and the agents' reports come from.
    script: &'static str,
    /// The test plugin under tests/data/plugin.
    plugin: &'static str,
    /// The project the run works in (copied), and the folder the script names for it.
    project: Option<(&'static str, &'static str)>,
    /// The denials, in the order of the script's denied calls (the
    /// orchestrator's, then its agents'): rule and message as the guard
    /// logs them.
    denied: &'static [(&'static str, &'static str)],
    /// The reason of the one Stop reminder expected.
    reminded: Option<&'static str>,
    /// The run in order (a subsequence of the transcript's events, see
    /// [`events`]): `text:S` a text of the orchestrator containing S,
    /// `call:TOOL[:TYPE]` a call that ran, `denied:TOOL[:TYPE]` a call a hook
    /// denied, `user:S` a user prompt starting with S, `notification` a
    /// background agent's notification, `reminded` a Stop hook's feedback.
    /// Denials, prompts, notifications and feedback are never skipped over.
    story: &'static [&'static str],
    /// The story of the agent whose call was denied (its transcript's events,
    /// as [`Scenario::story`]: the launch prompt, the denied call, its report),
    /// when the script has an agent's call denied.
    agent_story: &'static [&'static str],
    /// `orchlint check` on the final transcript (`rule@phase`, `warning:rule@phase`).
    check: &'static [&'static str],
    /// `orchlint check` on the final transcripts with each denied call's
    /// result made an ordinary one (the call as if the guard had let it
    /// run): the breaches the guard prevented are found there. Not asserted
    /// when empty.
    undenied: &'static [&'static str],
}

const ENGINEER_BEFORE_APPROVAL: &str =
    "an ml-engineer agent was launched without asking the user for the design approval in phase 6";
const ENGINEER_AFTER_NOTIFICATION: &str =
    "an ml-engineer agent was launched before the user gave the design approval asked for in phase 6";

const EXPLORER_SED: &str =
    "the ml-explorer agent ran `sed -i 's/window_days=30/window_days=60/' src/churn/features.py` \
     (edit) through Bash; explorers, architects, data scientists and reviewers are read-only: they report, and the \
     engineer agents change code";

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "clean",
        script: "tests/data/recordings/2.1.328-clean/-home-dev-churn-model/cd54f53c-d89b-4092-b357-82370c2b5dfc.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[],
        reminded: None,
        story: &[
            "text:**Phase 1 of 12",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 4 of 12",
            "call:Agent:ml-flow:ml-architect",
            "text:Which approach do you prefer?",
            "user:Go with the pragmatic approach.",
            "text:**Phase 5 of 12",
            "text:Do you approve this design?",
            "user:Yes, I approve this design.",
            "text:**Phase 7 of 12",
            "call:Agent:ml-flow:ml-engineer",
            "call:Agent:ml-flow:ml-engineer",
            "call:Agent:ml-flow:ml-engineer",
            "text:**Phase 12 of 12",
        ],
        agent_story: &[],
        check: &[],
        undenied: &[],
    },
    Scenario {
        name: "grep-first",
        script: "tests/data/guard/scripts/ml-flow-grep-first.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[(
            "forbidden-tool",
            "the orchestrator ran `grep -rn \"churn\" src/` (explore) through Bash; exploring and editing code is the \
             agents' work (phase 1)",
        )],
        reminded: None,
        story: &[
            "text:**Phase 1 of 12",
            "text:Let me look at the code myself first.",
            "denied:Bash",
            "text:Delegating the search to an explorer instead.",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 2 of 12",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 4 of 12",
            "text:Which approach do you prefer?",
        ],
        agent_story: &[],
        check: &[],
        undenied: &[],
    },
    Scenario {
        name: "wrong-type-in-parallel",
        script: "tests/data/guard/scripts/ml-flow-wrong-type-in-parallel.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[("agent-type", "phase 2 launched an `ml-flow:data-scientist` agent; phase 2 launches ml-explorer")],
        reminded: None,
        story: &[
            "text:**Phase 2 of 12",
            // One message: the first and third launch, the second is denied.
            "call:Agent:ml-flow:ml-explorer",
            "denied:Agent:ml-flow:data-scientist",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 3 of 12",
            "call:Agent:ml-flow:data-scientist",
            "text:Which approach do you prefer?",
        ],
        agent_story: &[],
        check: &[],
        undenied: &[],
    },
    Scenario {
        name: "explorer-edits",
        script: "tests/data/guard/scripts/ml-flow-explorer-edits.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[("agent-tool", EXPLORER_SED)],
        reminded: None,
        story: &[
            "text:**Phase 1 of 12",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 2 of 12",
            // The second explorer's own call is denied; it reports, and its
            // launch returns as the other two do.
            "call:Agent:ml-flow:ml-explorer",
            "call:Agent:ml-flow:ml-explorer",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 3 of 12",
            "text:**Phase 4 of 12",
            "text:Which approach do you prefer?",
        ],
        agent_story: &[
            "user:PHASE-2 ml-explorer task 2:",
            "text:fixing it while I am here.",
            "denied:Bash",
            "text:[ml-explorer] phase 2 task 2: findings",
        ],
        check: &[],
        undenied: &["agent-tool@2"],
    },
    Scenario {
        name: "explorer-edits-beside-a-data-scientist",
        script: "tests/data/guard/scripts/ml-flow-explorer-edits-beside-a-data-scientist.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[("agent-tool", EXPLORER_SED)],
        reminded: None,
        story: &[
            "text:**Phase 2 of 12",
            "call:Agent:ml-flow:ml-explorer",
            "call:Agent:ml-flow:ml-explorer",
            "call:Agent:ml-flow:ml-explorer",
            "text:**Phase 3 of 12",
            // The explorer's own call is denied (2.0.x: told from the
            // data-scientist by its transcript); it reports.
            "call:Agent:ml-flow:ml-explorer",
            "call:Agent:ml-flow:data-scientist",
            "text:**Phase 4 of 12",
            "text:Which approach do you prefer?",
        ],
        agent_story: &[
            "user:PHASE-3 ml-explorer task 1:",
            "text:fixing it while I am here.",
            "denied:Bash",
            "text:[ml-explorer] phase 3 task 1: findings",
        ],
        check: &[],
        undenied: &["agent-tool@3"],
    },
    Scenario {
        name: "engineers-before-approval",
        script: "tests/data/guard/scripts/ml-flow-engineers-before-approval.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[
            ("approval-gate", ENGINEER_BEFORE_APPROVAL),
            ("approval-gate", ENGINEER_BEFORE_APPROVAL),
            ("approval-gate", ENGINEER_BEFORE_APPROVAL),
        ],
        reminded: None,
        story: &[
            "text:Which approach do you prefer?",
            "user:Go with the gradient-boosted approach.",
            "text:**Phase 6 of 12",
            "denied:Agent:ml-flow:ml-engineer",
            "denied:Agent:ml-flow:ml-engineer",
            "denied:Agent:ml-flow:ml-engineer",
            "text:I should not start without your go-ahead. Do you approve this design?",
            "user:Yes, I approve this design.",
            "text:**Phase 7 of 12",
            "call:Agent:ml-flow:ml-engineer",
            "call:Agent:ml-flow:ml-engineer",
            "call:Agent:ml-flow:ml-engineer",
            "text:**Phase 12 of 12",
        ],
        agent_story: &[],
        check: &[],
        undenied: &[],
    },
    Scenario {
        name: "notification-before-approval",
        script: "tests/data/guard/scripts/ml-flow-notification-before-approval.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[
            ("approval-gate", ENGINEER_AFTER_NOTIFICATION),
            ("approval-gate", ENGINEER_AFTER_NOTIFICATION),
            ("approval-gate", ENGINEER_AFTER_NOTIFICATION),
        ],
        reminded: None,
        story: &[
            "user:Go with the gradient-boosted approach.",
            "text:**Phase 5 of 12",
            // The second data-scientist runs in the background.
            "call:Agent:ml-flow:data-scientist",
            "call:Agent:ml-flow:data-scientist",
            "text:Do you approve this design?",
            // Its notification, before any answer of the user's: not an approval.
            "notification",
            "text:The last report is in; starting the implementation.",
            "denied:Agent:ml-flow:ml-engineer",
            "denied:Agent:ml-flow:ml-engineer",
            "denied:Agent:ml-flow:ml-engineer",
            "text:the design stands. Do you approve this design?",
            "user:Yes, I approve this design.",
            "text:**Phase 7 of 12",
            "call:Agent:ml-flow:ml-engineer",
            "call:Agent:ml-flow:ml-engineer",
            "call:Agent:ml-flow:ml-engineer",
            "text:**Phase 12 of 12",
        ],
        // Phase 6 was announced before the background agent returned: a text,
        // which no hook can hold back.
        agent_story: &[],
        check: &["wait-for-agents@6"],
        undenied: &[],
    },
    Scenario {
        name: "stops-early",
        script: "tests/data/guard/scripts/ml-flow-stops-early.jsonl",
        plugin: "ml-flow",
        project: None,
        denied: &[],
        reminded: Some(
            "orchlint guard: incomplete-run: the run stopped in phase 2 (Data Architecture) before reaching phase 12. \
             Phase 12: \"When complete: ML development finished!\"",
        ),
        story: &[
            "text:**Phase 2 of 12",
            "text:That is enough for today.",
            "reminded",
            "text:Going on with the workflow.\n\n**Phase 3 of 12",
            "call:Agent:ml-flow:data-scientist",
            "text:**Phase 4 of 12",
            // A question: the run waits for the user, no second reminder.
            "text:Which approach do you prefer?",
        ],
        agent_story: &[],
        check: &[],
        undenied: &[],
    },
    Scenario {
        name: "feature-dev-write-before-approval",
        script: "tests/data/guard/scripts/feature-dev-write-before-approval.jsonl",
        plugin: "feature-dev",
        project: Some(("tests/data/feature-dev/project", "/home/dev/notes-app")),
        denied: &[(
            "approval-gate",
            "the orchestrator called Write without asking the user for the approval of an approach in phase 4",
        )],
        reminded: None,
        story: &[
            "user:1. Match notes that have any of the given tags.",
            "text:## Phase 4: Architecture Design",
            "call:Agent:feature-dev:code-architect",
            "text:I'll go ahead with Approach 2 now.",
            "denied:Write",
            "text:I should not write code before you pick an approach.",
            "user:Approach 2 looks right, go ahead",
            "text:## Phase 5: Implementation",
            "call:Write",
            "call:Edit",
            "text:## Phase 6: Quality Review",
            "user:Fix the two high-severity issues",
            "text:## Phase 7: Summary",
        ],
        agent_story: &[],
        check: &[],
        undenied: &[],
    },
];

fn scenario(name: &str) -> &'static Scenario {
    SCENARIOS.iter().find(|s| s.name == name).expect("a scenario")
}

// --- the transcript ----------------------------------------------------------

/// One thing of the session, in order, as [`Scenario::story`] names it.
#[derive(Debug, Clone)]
struct Event {
    said: String,
    /// For a denied call: its id and the text its result holds.
    denied: Option<(String, String)>,
}

/// The text of a message content or tool_result content.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

/// The session's events: the orchestrator's texts and calls (with how their
/// results went), the user's prompts, notifications, Stop feedback.
fn events(session: &Path) -> Vec<Event> {
    events_of(session, false)
}

/// The events of a session file's own conversation (`sidechain` false) or
/// of an agent's transcript (true: its launch prompt, texts and calls).
fn events_of(session: &Path, sidechain: bool) -> Vec<Event> {
    let text = std::fs::read_to_string(session).unwrap();
    let entries: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let mut results: HashMap<String, (bool, String)> = HashMap::new();
    for e in &entries {
        for b in e["message"]["content"].as_array().into_iter().flatten() {
            if b["type"] == "tool_result" {
                let id = b["tool_use_id"].as_str().unwrap_or("").to_string();
                results.insert(id, (b["is_error"].as_bool() == Some(true), text_of(&b["content"])));
            }
        }
    }
    let mut out = Vec::new();
    let event = |said: String| Event { said, denied: None };
    for e in entries.iter().filter(|e| e["isSidechain"].as_bool().unwrap_or(false) == sidechain) {
        match e["type"].as_str() {
            Some("assistant") => {
                for b in e["message"]["content"].as_array().into_iter().flatten() {
                    match b["type"].as_str() {
                        Some("text") => out.push(event(format!("text:{}", b["text"].as_str().unwrap_or("")))),
                        Some("tool_use") => {
                            let name = match b["name"].as_str().unwrap_or("") {
                                "Task" => "Agent",
                                other => other,
                            };
                            let what = match b["input"]["subagent_type"].as_str() {
                                Some(t) => format!("{name}:{t}"),
                                None => name.to_string(),
                            };
                            let id = b["id"].as_str().unwrap_or("").to_string();
                            match results.get(&id) {
                                Some((true, said)) if said.contains("orchlint guard: ") => {
                                    out.push(Event { said: format!("denied:{what}"), denied: Some((id, said.clone())) })
                                }
                                Some((false, _)) => out.push(event(format!("call:{what}"))),
                                Some((true, _)) => out.push(event(format!("failed:{what}"))),
                                None => out.push(event(format!("unanswered:{what}"))),
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some("user") => {
                let content = &e["message"]["content"];
                let Some(said) = content.as_str() else { continue };
                if said.starts_with("Stop hook feedback:\n") {
                    out.push(event(format!("reminded:{said}")));
                } else if said.starts_with("<task-notification>") {
                    out.push(event("notification".into()));
                } else if e["isMeta"].as_bool() != Some(true) && !said.starts_with('<') {
                    out.push(event(format!("user:{said}")));
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether an event is one the story must name (never skipped over).
fn pinned(e: &Event) -> bool {
    ["denied:", "user:", "notification", "reminded"].iter().any(|p| e.said.starts_with(p))
}

fn matches(pattern: &str, e: &Event) -> bool {
    if let Some(s) = pattern.strip_prefix("text:") {
        return e.said.strip_prefix("text:").is_some_and(|t| t.contains(s));
    }
    if let Some(s) = pattern.strip_prefix("user:") {
        return e.said.strip_prefix("user:").is_some_and(|t| t.starts_with(s));
    }
    if pattern == "reminded" {
        return e.said.starts_with("reminded:");
    }
    e.said == pattern
}

/// Where the events differ from the story: None when the story is a
/// subsequence of them that skips no pinned event.
fn story_mismatch(events: &[Event], story: &[&str]) -> Option<String> {
    let mut i = 0;
    for (k, pattern) in story.iter().enumerate() {
        loop {
            let Some(e) = events.get(i) else {
                return Some(format!("story item {k} `{pattern}` not found after event {i}"));
            };
            i += 1;
            if matches(pattern, e) {
                break;
            }
            if pinned(e) {
                return Some(format!("story item {k} `{pattern}`: event {} `{}` comes first", i - 1, short(&e.said)));
            }
        }
    }
    events[i..].iter().find(|e| pinned(e)).map(|e| format!("after the story: `{}`", short(&e.said)))
}

fn short(s: &str) -> String {
    let s: String = s.chars().take(160).collect();
    s.replace('\n', "\\n")
}

// --- the run -----------------------------------------------------------------

/// The agent transcripts of a session file, by name: `<session>/subagents/agent-*.jsonl`
/// (2.1) and the `agent-*.jsonl` beside it (2.0.x).
fn agent_files(session: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [session.with_extension("").join("subagents"), session.parent().unwrap().to_path_buf()] {
        for e in std::fs::read_dir(&dir).into_iter().flatten() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("agent-") && name.ends_with(".jsonl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The denied calls of a session (a script or a run): (id, the text of
/// their result), the orchestrator's in order, then its agents' (by
/// transcript file).
fn denied_calls(session: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = events(session).into_iter().filter_map(|e| e.denied).collect();
    for file in agent_files(session) {
        out.extend(events_of(&file, true).into_iter().filter_map(|e| e.denied));
    }
    out
}

/// The denied calls of a script: (id, the text of the result the CLI is to
/// write, 2.1's wording), in order.
fn scripted_denials(script: &Path) -> Vec<(String, String)> {
    denied_calls(script)
}

/// The agent transcript of a session that holds a denied call, and its events.
fn denied_agent(session: &Path) -> Option<(PathBuf, Vec<Event>)> {
    agent_files(session)
        .into_iter()
        .map(|f| {
            let events = events_of(&f, true);
            (f, events)
        })
        .find(|(_, events)| events.iter().any(|e| e.denied.is_some()))
}

/// Checks an agent's story against its transcript's events; panics saying where they differ.
fn agent_story(ctx: &str, session: &Path, story: &[&str]) {
    match denied_agent(session) {
        None if story.is_empty() => {}
        Some((file, got)) if !story.is_empty() => {
            if let Some(wrong) = story_mismatch(&got, story) {
                let all: Vec<String> =
                    got.iter().enumerate().map(|(i, e)| format!("{i}: {}", short(&e.said))).collect();
                panic!("{ctx}: the agent of {}: {wrong}\nits events:\n{}", file.display(), all.join("\n"));
            }
        }
        found => panic!("{ctx}: the agent transcript with a denied call: {:?}", found.map(|(f, _)| f)),
    }
}

/// `check` on a copy of a session (its file, its `<session>/` folder and
/// the agent files beside it) where each denied call's result is made an
/// ordinary one, without error (as if the guard had let the call run).
fn verdicts_undenied(session: &Path, ids: &[String]) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("project");
    let stem = session.with_extension("");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(session, copy.join(session.file_name().unwrap())).unwrap();
    if stem.is_dir() {
        common::copy_tree(&stem, &copy.join(stem.file_name().unwrap()));
    }
    for f in agent_files(session).into_iter().filter(|f| f.parent() == session.parent()) {
        std::fs::copy(&f, copy.join(f.file_name().unwrap())).unwrap();
    }
    let mut made = 0;
    for e in walkdir::WalkDir::new(&copy) {
        let e = e.unwrap();
        if !e.file_name().to_string_lossy().ends_with(".jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        let mut changed = false;
        let mut lines = Vec::new();
        for line in text.lines() {
            if !ids.iter().any(|id| line.contains(&format!("\"tool_use_id\":\"{id}\""))) {
                lines.push(line.to_string());
                continue;
            }
            let mut entry: Value = serde_json::from_str(line).unwrap();
            for b in entry["message"]["content"].as_array_mut().into_iter().flatten() {
                if b["type"] == "tool_result" && ids.iter().any(|id| b["tool_use_id"] == id.as_str()) {
                    let block = b.as_object_mut().unwrap();
                    block.remove("is_error");
                    block.insert("content".into(), Value::String(String::new()));
                    made += 1;
                    changed = true;
                }
            }
            if let Some(entry) = entry.as_object_mut().filter(|e| e.get("toolUseResult").is_some_and(Value::is_string))
            {
                let ran = serde_json::json!({"stdout": "", "stderr": "", "interrupted": false, "isImage": false});
                entry.insert("toolUseResult".into(), ran);
            }
            lines.push(entry.to_string());
        }
        if changed {
            std::fs::write(e.path(), lines.join("\n") + "\n").unwrap();
        }
    }
    assert_eq!(made, ids.len(), "{}: the results of the denied calls {ids:?}", session.display());
    common::verdicts(&copy, &[])
}

/// Installs the guard into a copy of the plugin: the command's report and the hooks files.
fn install(plugin: &Path, state: &Path) {
    let bin = env!("CARGO_BIN_EXE_orchlint");
    let (code, out, err) = orchlint(&[
        "guard",
        "install",
        "--plugin",
        plugin.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--orchlint",
        bin,
    ]);
    assert_eq!(code, 0, "guard install: {out}{err}");
    let p = plugin.display();
    let expected = format!(
        "wrote {p}/hooks/hooks.json: orchlint guard on PreToolUse, Stop (timeout 10 s; a failing PreToolUse hook blocks \
         the call on Claude Code 2.1)\n\
         wrote {p}/hooks/orchlint-guard-2.1.json: orchlint guard on PostToolBatch (Claude Code 2.1 only; 2.0.x skips \
         this file)\n\
         wrote {p}/.claude-plugin/plugin.json: it names hooks/orchlint-guard-2.1.json\n"
    );
    assert_eq!(err, expected, "what guard install said");
    assert_eq!(out, "");
    let read =
        |rel: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(plugin.join(rel)).unwrap()).unwrap() };
    let command = |event: &str| format!("{bin} guard --mode enforce --state-dir {} {event}", state.display());
    let hooks = read("hooks/hooks.json");
    let pre = &hooks["hooks"]["PreToolUse"][0];
    assert_eq!(pre["matcher"], "*");
    assert_eq!(pre["hooks"][0]["command"], command("pre-tool-use"));
    assert_eq!(pre["hooks"][0]["onFailure"], "block");
    assert_eq!(hooks["hooks"]["Stop"][0]["hooks"][0]["command"], command("stop"));
    assert!(hooks["hooks"].get("PostToolBatch").is_none(), "2.0.x would ignore the whole file: {hooks}");
    let batch = read("hooks/orchlint-guard-2.1.json");
    assert_eq!(batch["hooks"]["PostToolBatch"][0]["hooks"][0]["command"], command("post-tool-batch"));
    assert_eq!(read(".claude-plugin/plugin.json")["hooks"], "./hooks/orchlint-guard-2.1.json");
}

/// The decisions of the guard's log, as `event decision rule tool_use_id message-or-note`.
fn decisions(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// `check` on the recorded projects with the denied calls (their tool_use
/// and result lines) left out: what check gives once ingest reads a call a
/// PreToolUse hook denied as not made.
fn verdicts_without(out: &Path, session: &Path, ids: &[String]) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("projects");
    common::copy_tree(&out.join("projects"), &copy);
    let target = copy.join(session.strip_prefix(out.join("projects")).unwrap());
    let text = std::fs::read_to_string(&target).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            !ids.iter()
                .any(|id| l.contains(&format!("\"id\":\"{id}\"")) || l.contains(&format!("\"tool_use_id\":\"{id}\"")))
        })
        .collect();
    std::fs::write(&target, kept.join("\n") + "\n").unwrap();
    common::verdicts(&copy, &[])
}

fn run(name: &str, cli: Cli) {
    let s = scenario(name);
    let script = repo().join(s.script);
    let planned = scripted_denials(&script);
    assert_eq!(planned.len(), s.denied.len(), "{name}: the script's denied calls and the scenario's");
    let Some(claude) = cli.path() else { return };
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("plugin");
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    common::copy_tree(&repo().join("tests/data/plugin").join(s.plugin), &plugin);
    install(&plugin, &state);

    let mut args: Vec<String> = vec!["record".into(), "--replay".into()];
    match s.project {
        Some((project, named)) => {
            // The script's calls name files under the folder it was written
            // for; they are pointed at a copy of the project.
            let work = dir.path().join("work");
            common::copy_tree(&repo().join(project), &work);
            let placed = dir.path().join("script.jsonl");
            let text = std::fs::read_to_string(&script).unwrap();
            assert!(text.contains(named), "{name}: the script's folder is not {named}");
            std::fs::write(&placed, text.replace(named, work.to_str().unwrap())).unwrap();
            args.extend([placed.display().to_string(), "--cwd".into(), work.display().to_string()]);
        }
        None => args.push(script.display().to_string()),
    }
    args.extend(["--allow-side-effects".into(), "--out".into(), out.display().to_string()]);
    args.extend(["--claude".into(), claude.display().to_string(), "--".into(), "--plugin-dir".into()]);
    args.push(plugin.display().to_string());
    let started = std::time::Instant::now();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = orchlint(&args);
    let said = format!("{stdout}{stderr}");
    eprintln!("{name} on {cli:?}: recorded in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(code, 0, "{name} on {cli:?}: record failed:\n{said}");
    assert!(said.contains(" 0 not answered"), "{name} on {cli:?}:\n{said}");

    let session = common::recorded_session(&out);
    let id = session.file_stem().unwrap().to_string_lossy().into_owned();
    let ctx = format!("{name} on {cli:?} ({})", session.display());
    // The guard ran in this session: it keeps a mirror of the transcript.
    assert!(state.join(&id).join("mirror.jsonl").is_file(), "{ctx}: the guard kept no state for the session");

    // (a) The guard's log: the denials and the reminder expected, nothing else.
    let log = decisions(&state.join(&id).join("guard.jsonl"));
    let shown = || log.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    let mut expected: BTreeSet<(String, String, String)> = BTreeSet::new();
    for ((call, _), (rule, message)) in planned.iter().zip(s.denied) {
        expected.insert((call.clone(), rule.to_string(), message.to_string()));
    }
    let mut denials = BTreeSet::new();
    let mut reminders = Vec::new();
    for d in &log {
        let field = |k: &str| d[k].as_str().unwrap_or("").to_string();
        match (field("event").as_str(), field("decision").as_str()) {
            ("PreToolUse", "deny") => {
                assert!(denials.insert((field("tool_use_id"), field("rule"), field("message"))), "{ctx}: twice: {d}");
            }
            ("Stop", "continue") => reminders.push(field("note")),
            _ => panic!("{ctx}: a decision not expected: {d}\nthe log:\n{}", shown()),
        }
    }
    assert_eq!(denials, expected, "{ctx}: the denials logged\nthe log:\n{}", shown());
    assert_eq!(reminders, s.reminded.iter().map(|r| r.to_string()).collect::<Vec<_>>(), "{ctx}: Stop reminders");

    // (b) What the model received for each denied call.
    let got = events(&session);
    let received: HashMap<String, String> = denied_calls(&session).into_iter().collect();
    for ((call, scripted), (rule, message)) in planned.iter().zip(s.denied) {
        let tool = scripted.strip_prefix("PreToolUse:").and_then(|t| t.split_once(' ')).map(|(t, _)| t).unwrap();
        let reason = scripted.split_once(" hook error: ").map(|(_, r)| r).unwrap();
        assert!(
            reason.starts_with(&format!("orchlint guard: {rule}: {message}")),
            "{ctx}: the script's reason {reason}"
        );
        let Some(text) = received.get(call) else {
            panic!("{ctx}: {call} has no tool_result with is_error and the guard's reason");
        };
        assert_eq!(text, &cli.denial(tool, reason), "{ctx}: what the model read for {call}");
    }
    assert_eq!(received.len(), planned.len(), "{ctx}: calls denied: {:?}", received.keys());
    if let Some(reason) = s.reminded {
        let feedback = format!("reminded:Stop hook feedback:\n{reason}");
        assert!(got.iter().any(|e| e.said == feedback), "{ctx}: no Stop feedback with the guard's reason");
    }

    // (c) The story: the model's next turns (which comply) ran.
    if let Some(wrong) = story_mismatch(&got, s.story) {
        let all: Vec<String> = got.iter().enumerate().map(|(i, e)| format!("{i}: {}", short(&e.said))).collect();
        panic!("{ctx}: {wrong}\nthe events:\n{}", all.join("\n"));
    }
    // The agent whose call was denied went on: its next turn, its report.
    agent_story(&ctx, &session, s.agent_story);

    // (d) orchlint check on the final transcript.
    let verdicts = common::verdicts(&out.join("projects"), &[]);
    let want: BTreeSet<String> = s.check.iter().map(|v| v.to_string()).collect();
    if verdicts != want {
        let ids: Vec<String> = planned.iter().map(|(id, _)| id.clone()).collect();
        let without = verdicts_without(&out, &session, &ids);
        panic!(
            "{ctx}: orchlint check on the final transcript gives {verdicts:?}, expected {want:?}.\n\
             With the calls the hooks denied left out (as ingest is to read a call whose result is a PreToolUse \
             hook's denial: not made), it gives {without:?}{}",
            if without == want { ", as expected: only the denied calls are still counted" } else { "" }
        );
    }
    // (e) Not vacuous: with the denied calls' results made ordinary ones,
    // check finds the breaches the guard prevented.
    if !s.undenied.is_empty() {
        let ids: Vec<String> = planned.iter().map(|(id, _)| id.clone()).collect();
        let want: BTreeSet<String> = s.undenied.iter().map(|v| v.to_string()).collect();
        assert_eq!(verdicts_undenied(&session, &ids), want, "{ctx}: check with the denials made ordinary results");
    }
}

#[test]
fn every_script_has_a_scenario() {
    // Script files; a script's agent transcripts are in a folder of its name.
    let scripts: BTreeSet<String> = std::fs::read_dir(repo().join("tests/data/guard/scripts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".jsonl"))
        .collect();
    let named: BTreeSet<String> = SCENARIOS
        .iter()
        .filter_map(|s| s.script.strip_prefix("tests/data/guard/scripts/"))
        .map(str::to_string)
        .collect();
    assert_eq!(scripts, named);
    for s in SCENARIOS {
        let planned = scripted_denials(&repo().join(s.script));
        assert_eq!(planned.len(), s.denied.len(), "{}: the script's denied calls and the scenario's", s.name);
        // The script reads as the run: its own events tell the story.
        assert_eq!(story_mismatch(&events(&repo().join(s.script)), s.story), None, "{}: the script", s.name);
        agent_story(s.name, &repo().join(s.script), s.agent_story);
        // What the guard prevents is there to find: the script with its
        // denials made ordinary results breaks the rule, as it is, not.
        if !s.undenied.is_empty() {
            let script = repo().join(s.script);
            let ids: Vec<String> = planned.iter().map(|(id, _)| id.clone()).collect();
            let want: BTreeSet<String> = s.undenied.iter().map(|v| v.to_string()).collect();
            assert_eq!(verdicts_undenied(&script, &ids), want, "{}: the script, its denials made ordinary", s.name);
            let want: BTreeSet<String> = s.check.iter().map(|v| v.to_string()).collect();
            assert_eq!(common::verdicts(&script, &[]), want, "{}: the script as it is", s.name);
        }
    }
}

macro_rules! e2e {
    ($($test:ident: $scenario:literal on $cli:ident;)*) => {
        $(
            #[test]
            fn $test() {
                run($scenario, Cli::$cli);
            }
        )*
    };
}

e2e! {
    clean_on_2_1_328: "clean" on V2_1_328;
    clean_on_2_1_332: "clean" on V2_1_332;
    clean_on_2_0_77: "clean" on V2_0_77;
    grep_first_on_2_1_328: "grep-first" on V2_1_328;
    grep_first_on_2_1_332: "grep-first" on V2_1_332;
    grep_first_on_2_0_77: "grep-first" on V2_0_77;
    wrong_type_in_parallel_on_2_1_328: "wrong-type-in-parallel" on V2_1_328;
    wrong_type_in_parallel_on_2_1_332: "wrong-type-in-parallel" on V2_1_332;
    wrong_type_in_parallel_on_2_0_77: "wrong-type-in-parallel" on V2_0_77;
    explorer_edits_on_2_1_328: "explorer-edits" on V2_1_328;
    explorer_edits_on_2_1_332: "explorer-edits" on V2_1_332;
    explorer_edits_on_2_0_77: "explorer-edits" on V2_0_77;
    explorer_edits_beside_a_data_scientist_on_2_1_328: "explorer-edits-beside-a-data-scientist" on V2_1_328;
    explorer_edits_beside_a_data_scientist_on_2_1_332: "explorer-edits-beside-a-data-scientist" on V2_1_332;
    explorer_edits_beside_a_data_scientist_on_2_0_77: "explorer-edits-beside-a-data-scientist" on V2_0_77;
    engineers_before_approval_on_2_1_328: "engineers-before-approval" on V2_1_328;
    engineers_before_approval_on_2_1_332: "engineers-before-approval" on V2_1_332;
    engineers_before_approval_on_2_0_77: "engineers-before-approval" on V2_0_77;
    notification_before_approval_on_2_1_328: "notification-before-approval" on V2_1_328;
    notification_before_approval_on_2_1_332: "notification-before-approval" on V2_1_332;
    stops_early_on_2_1_328: "stops-early" on V2_1_328;
    stops_early_on_2_1_332: "stops-early" on V2_1_332;
    stops_early_on_2_0_77: "stops-early" on V2_0_77;
    feature_dev_write_before_approval_on_2_1_328: "feature-dev-write-before-approval" on V2_1_328;
    feature_dev_write_before_approval_on_2_1_332: "feature-dev-write-before-approval" on V2_1_332;
    feature_dev_write_before_approval_on_2_0_77: "feature-dev-write-before-approval" on V2_0_77;
}
