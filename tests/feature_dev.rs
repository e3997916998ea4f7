//! feature-dev end to end: the scripts of tests/data/feature-dev/scripts/
//! (session files written by tests/data/feature-dev/gen/make_scripts.py: a
//! scripted model's turns and its agents' reports) are typed through the real
//! Claude Code CLI 2.1.328 by `orchlint record --replay`, in a copy of
//! tests/data/feature-dev/project with tests/data/plugin/feature-dev loaded.
//! The transcript the CLI writes is then checked twice: structurally (phase
//! headings, launches per message, the orchestrator's own tool calls, the
//! user's replies), independent of orchlint's verdicts, and by `orchlint
//! check` against the table [`EXPECTED`].
//!
//! The CLI is found through ORCHLINT_CLAUDE_2_1 as in tests/serve.rs: a
//! failure under CI when it is missing, a skip otherwise.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use common::{orchlint, repo};

/// The verdicts each run must get from `orchlint check`: `rule@phase` for an
/// error, `warning:rule@phase` for a warning (notes are not compared), phase
/// `-` for a finding outside any phase. Compared as sets, exactly.
///
/// Checked only when the feature-dev workflow is bundled (see
/// [`verdicts_known`]); until then only the structure is checked.
const EXPECTED: &[(&str, &[&str])] = &[
    ("clean", &[]),
    ("too-few-explorers", &["agent-count@2"]),
    ("split-reviewers", &["parallel-launch@6"]),
    ("implement-before-approval", &["approval-gate@5"]),
    ("write-before-phase-5", &["forbidden-tool@2"]),
    ("wrong-agent-type", &["agent-type@2"]),
    ("grep-before-phase-5", &["forbidden-tool@2"]),
];

/// Whether `orchlint check` can judge a feature-dev run yet.
fn verdicts_known() -> bool {
    repo().join("rules/feature-dev.toml").exists()
}

/// Extra arguments of `orchlint check` (e.g. `--workflow feature-dev`).
const CHECK_ARGS: &[&str] = &[];

/// What the transcript of each run must show, whoever judges it.
struct Shape {
    /// The phase headings (`## Phase N: Name`, anywhere in a text block) in order.
    headings: &'static str,
    /// One item per orchestrator message that launched agents:
    /// `phase:type*count`, types joined by `+` in the order launched.
    launches: &'static str,
    /// The orchestrator's Write and Edit calls, `phase:Tool`.
    edits: &'static str,
    /// The orchestrator's Bash calls, `phase:first word of the command`.
    bash: &'static str,
    /// The genuine user prompts after the command, by their start.
    replies: &'static [&'static str],
}

const ANSWERS: &str = "1. Match notes that have any of the given tags.";
const APPROVAL: &str = "Approach 2 looks right, go ahead";
const FIX: &str = "Fix the two high-severity issues";

const SHAPES: &[(&str, Shape)] = &[
    (
        "clean",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*3 4:feature-dev:code-architect*3 6:feature-dev:code-reviewer*3",
            edits: "5:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "5:python3 6:python3",
            replies: &[ANSWERS, APPROVAL, FIX],
        },
    ),
    (
        "too-few-explorers",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*1 4:feature-dev:code-architect*3 6:feature-dev:code-reviewer*3",
            edits: "5:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "5:python3 6:python3",
            replies: &[ANSWERS, APPROVAL, FIX],
        },
    ),
    (
        "split-reviewers",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*3 4:feature-dev:code-architect*3 6:feature-dev:code-reviewer*2 \
                       6:feature-dev:code-reviewer*1",
            edits: "5:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "5:python3 6:python3",
            replies: &[ANSWERS, APPROVAL, FIX],
        },
    ),
    (
        "implement-before-approval",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*3 4:feature-dev:code-architect*3 6:feature-dev:code-reviewer*3",
            edits: "5:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "5:python3 6:python3",
            // No approval: the phase-4 architects' results lead straight to phase 5.
            replies: &[ANSWERS, FIX],
        },
    ),
    (
        "write-before-phase-5",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*3 4:feature-dev:code-architect*3 6:feature-dev:code-reviewer*3",
            edits: "2:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "5:python3 6:python3",
            replies: &[ANSWERS, APPROVAL, FIX],
        },
    ),
    (
        "wrong-agent-type",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*2+general-purpose*1 4:feature-dev:code-architect*3 \
                       6:feature-dev:code-reviewer*3",
            edits: "5:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "5:python3 6:python3",
            replies: &[ANSWERS, APPROVAL, FIX],
        },
    ),
    (
        "grep-before-phase-5",
        Shape {
            headings: "1 2 3 4 5 6 7",
            launches: "2:feature-dev:code-explorer*3 4:feature-dev:code-architect*3 6:feature-dev:code-reviewer*3",
            edits: "5:Write 5:Write 5:Edit 5:Edit 6:Edit",
            bash: "2:grep 5:python3 6:python3",
            replies: &[ANSWERS, APPROVAL, FIX],
        },
    ),
];

/// The project folder the scripts were written in (make_scripts.py's CWD).
const SCRIPT_CWD: &str = "/home/dev/notes-app";

const COMMAND: &str = "/feature-dev:feature-dev Add tag filtering to the notes list command";

// --- the CLI and the run -----------------------------------------------------

/// The 2.1.328 CLI, or None to skip (a failure in CI, where it must be there).
fn claude_21() -> Option<PathBuf> {
    common::claude_cli("ORCHLINT_CLAUDE_2_1", "2.1.328", "bin/claude.exe")
}

fn script(name: &str) -> PathBuf {
    repo().join("tests/data/feature-dev/scripts").join(format!("{name}.jsonl"))
}

/// A recorded run: the temporary folder (`out/` and the project `work/`).
struct Recorded {
    dir: tempfile::TempDir,
    log: String,
}

impl Recorded {
    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The orchestrator's session file.
    fn session(&self) -> PathBuf {
        common::recorded_session(&self.out())
    }
}

/// Types a script through the CLI in a fresh copy of the project, side
/// effects allowed (the orchestrator writes code in phases 5 and 6).
fn record(name: &str, cli: &Path) -> Recorded {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    common::copy_tree(&repo().join("tests/data/feature-dev/project"), &work);
    // The script's calls name files under the project folder it was written
    // for; they are pointed at the copy, so that nothing is written elsewhere.
    let placed = dir.path().join(format!("{name}.jsonl"));
    let text = std::fs::read_to_string(script(name)).unwrap();
    assert!(text.contains(SCRIPT_CWD), "{name}: the script's folder is not {SCRIPT_CWD}");
    std::fs::write(&placed, text.replace(SCRIPT_CWD, work.to_str().unwrap())).unwrap();
    let out = dir.path().join("out");
    let plugin = repo().join("tests/data/plugin/feature-dev");
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = orchlint(&[
        "record",
        "--replay",
        placed.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--claude",
        cli.to_str().unwrap(),
        "--cwd",
        work.to_str().unwrap(),
        "--allow-side-effects",
        "--",
        "--plugin-dir",
        plugin.to_str().unwrap(),
    ]);
    let log = format!("{stdout}{stderr}");
    eprintln!("{name}: recorded in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(code, 0, "{name}: record failed:\n{log}");
    Recorded { dir, log }
}

/// Every request of the run was answered: the summary line and each line of the server's log.
fn assert_all_answered(name: &str, r: &Recorded) {
    assert!(r.log.contains(" 0 not answered"), "{name}:\n{}", r.log);
    let serve_log = std::fs::read_to_string(r.out().join("serve.log.jsonl")).unwrap();
    let mut requests = 0;
    for line in serve_log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        let status = v["status"].as_u64().unwrap_or(0);
        assert!((200..400).contains(&status), "{name}: a request was not answered: {line}");
        requests += 1;
    }
    assert!(requests > 0, "{name}: the server saw no request");
}

// --- the structure of a transcript -------------------------------------------

/// A session file read for its structure, independent of orchlint's reading.
#[derive(Debug, Default)]
struct Outline {
    /// Phase numbers of the headings, in order.
    headings: Vec<u32>,
    /// Per orchestrator message with launches: `phase:type*count[+type*count]`.
    launches: Vec<String>,
    /// `phase:Write`, `phase:Edit`.
    edits: Vec<String>,
    /// `phase:first word`.
    bash: Vec<String>,
    /// The command (`/name args`), then the genuine user prompts.
    prompts: Vec<String>,
    /// Orchestrator Read calls: (phase, path relative to the session's cwd, entry index).
    reads: Vec<(u32, String, usize)>,
    /// Agent reports by phase of the launch: (phase, report text, entry index of the result).
    reports: Vec<(u32, String, usize)>,
    /// Launches that got no result.
    unanswered_launches: usize,
}

static HEADING: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^#{1,6}\s*Phase\s+(\d+)\s*:").unwrap());

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

/// Groups launch types in order: `a*2+b*1`.
fn grouped(types: &[String]) -> String {
    let mut groups: Vec<(String, usize)> = Vec::new();
    for t in types {
        match groups.last_mut() {
            Some((last, n)) if last == t => *n += 1,
            _ => groups.push((t.clone(), 1)),
        }
    }
    groups.iter().map(|(t, n)| format!("{t}*{n}")).collect::<Vec<_>>().join("+")
}

fn outline(path: &Path) -> Outline {
    let text = std::fs::read_to_string(path).unwrap();
    let mut o = Outline::default();
    let mut phase = 0u32;
    // Launches of the open message, and launch tool_use id → phase.
    let mut message: Option<String> = None;
    let mut message_launches: Vec<String> = Vec::new();
    let mut launch_phase: HashMap<String, u32> = HashMap::new();
    let close = |o: &mut Outline, phase: u32, launches: &mut Vec<String>| {
        if !launches.is_empty() {
            o.launches.push(format!("{phase}:{}", grouped(launches)));
            launches.clear();
        }
    };
    let mut launch_message_phase = 0;
    for (index, line) in text.lines().enumerate() {
        let Ok(e) = serde_json::from_str::<Value>(line) else { continue };
        if e["isSidechain"].as_bool() == Some(true) {
            continue;
        }
        let cwd = e["cwd"].as_str().unwrap_or("").to_string();
        match e["type"].as_str() {
            Some("assistant") => {
                let id = e["message"]["id"].as_str().map(str::to_string);
                if id != message {
                    close(&mut o, launch_message_phase, &mut message_launches);
                    message = id;
                }
                for b in e["message"]["content"].as_array().into_iter().flatten() {
                    match b["type"].as_str() {
                        Some("text") => {
                            for c in HEADING.captures_iter(b["text"].as_str().unwrap_or("")) {
                                phase = c[1].parse().unwrap();
                                o.headings.push(phase);
                            }
                        }
                        Some("tool_use") => {
                            let input = &b["input"];
                            match b["name"].as_str().unwrap_or("") {
                                "Agent" | "Task" => {
                                    message_launches.push(input["subagent_type"].as_str().unwrap_or("").to_string());
                                    launch_message_phase = phase;
                                    launch_phase.insert(b["id"].as_str().unwrap_or("").to_string(), phase);
                                }
                                name @ ("Write" | "Edit" | "MultiEdit" | "NotebookEdit") => {
                                    o.edits.push(format!("{phase}:{name}"))
                                }
                                "Bash" => {
                                    let command = input["command"].as_str().unwrap_or("");
                                    o.bash.push(format!("{phase}:{}", command.split_whitespace().next().unwrap_or("")));
                                }
                                "Read" => {
                                    let file = input["file_path"].as_str().unwrap_or("");
                                    let rel = file.strip_prefix(&format!("{cwd}/")).unwrap_or(file);
                                    o.reads.push((phase, rel.to_string(), index));
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some("user") => {
                let content = &e["message"]["content"];
                let results: Vec<&Value> = content
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|b| b["type"].as_str() == Some("tool_result"))
                    .collect();
                if !results.is_empty() {
                    for r in results {
                        let id = r["tool_use_id"].as_str().unwrap_or("");
                        if let Some(p) = launch_phase.remove(id) {
                            o.reports.push((p, text_of(&r["content"]), index));
                        }
                    }
                    continue;
                }
                if e["isMeta"].as_bool() == Some(true) || e.get("origin").is_some_and(|o| o["kind"] != "human") {
                    continue;
                }
                let said = text_of(content);
                if said.contains("<command-name>") {
                    let tag = |t: &str| {
                        said.split(&format!("<{t}>"))
                            .nth(1)
                            .and_then(|s| s.split(&format!("</{t}>")).next())
                            .unwrap_or("")
                            .trim()
                            .to_string()
                    };
                    o.prompts.push(format!("{} {}", tag("command-name"), tag("command-args")));
                } else if !said.trim_start().starts_with('<') && !said.starts_with("[Request interrupted") {
                    o.prompts.push(said);
                }
            }
            _ => {}
        }
    }
    close(&mut o, launch_message_phase, &mut message_launches);
    o.unanswered_launches = launch_phase.len();
    o
}

fn joined(items: &[String]) -> String {
    items.join(" ")
}

/// Where the transcript differs from the shape the table gives, and whether
/// the orchestrator failed to read a file its phase-2 agents named (after
/// they had all returned). Empty: it has the shape.
fn mismatches(o: &Outline, shape: &Shape) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, got: String, want: &str| {
        if got != want {
            out.push(format!("{what}: got {got:?}, expected {want:?}"));
        }
    };
    let headings: Vec<String> = o.headings.iter().map(u32::to_string).collect();
    differ("phase headings", joined(&headings), shape.headings);
    let want: Vec<&str> = shape.launches.split_whitespace().collect();
    differ("launches per message", joined(&o.launches), &want.join(" "));
    differ("Write/Edit calls", joined(&o.edits), shape.edits);
    differ("Bash calls", joined(&o.bash), shape.bash);
    differ("launches without a result", o.unanswered_launches.to_string(), "0");
    differ("the command", o.prompts.first().cloned().unwrap_or_default(), COMMAND);
    let replies = o.prompts.get(1..).unwrap_or_default();
    let matching = replies.len() == shape.replies.len()
        && replies.iter().zip(shape.replies).all(|(got, want)| got.starts_with(want));
    if !matching {
        out.push(format!("user replies: got {replies:?}, expected {:?} (by their start)", shape.replies));
    }
    static FILE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^- ([\w./-]+\.\w+)\s*$").unwrap());
    let explorer_reports: Vec<&(u32, String, usize)> = o.reports.iter().filter(|(p, _, _)| *p == 2).collect();
    let Some(returned) = explorer_reports.iter().map(|(_, _, i)| *i).max() else {
        out.push("no phase-2 agent returned".into());
        return out;
    };
    let named: BTreeSet<String> = explorer_reports
        .iter()
        .flat_map(|(_, text, _)| text.lines().filter_map(|l| FILE.captures(l.trim()).map(|c| c[1].to_string())))
        .collect();
    if named.is_empty() {
        out.push("the phase-2 agents named no file".into());
    }
    let read: BTreeSet<String> =
        o.reads.iter().filter(|(p, _, i)| *p == 2 && *i > returned).map(|(_, f, _)| f.clone()).collect();
    let unread: Vec<&String> = named.difference(&read).collect();
    if !unread.is_empty() {
        out.push(format!("files the phase-2 agents named that the orchestrator did not read after them: {unread:?}"));
    }
    out
}

fn assert_shape(name: &str, what: &str, o: &Outline, shape: &Shape) {
    let wrong = mismatches(o, shape);
    assert!(wrong.is_empty(), "{name} ({what}) does not have its shape:\n  {}", wrong.join("\n  "));
}

// --- orchlint's verdicts -----------------------------------------------------

/// `check --format json` on the recorded folder: `rule@phase` / `warning:rule@phase`.
fn verdicts(projects: &Path) -> BTreeSet<String> {
    common::verdicts(projects, CHECK_ARGS)
}

fn expected(name: &str) -> BTreeSet<String> {
    let (_, want) = EXPECTED.iter().find(|(n, _)| *n == name).expect("an EXPECTED entry");
    want.iter().map(|s| s.to_string()).collect()
}

fn shape(name: &str) -> &'static Shape {
    &SHAPES.iter().find(|(n, _)| *n == name).expect("a SHAPES entry").1
}

// --- the runs ----------------------------------------------------------------

fn scenario(name: &str) {
    let shape = shape(name);
    assert_shape(name, "script", &outline(&script(name)), shape);
    let Some(cli) = claude_21() else { return };
    let r = record(name, &cli);
    assert_all_answered(name, &r);
    let session = r.session();
    let recorded = outline(&session);
    assert_shape(name, "recorded", &recorded, shape);
    // What the orchestrator wrote landed in the project (side effects allowed).
    assert!(r.work().join("notes/filters.py").is_file(), "{name}: notes/filters.py was not written");
    if verdicts_known() {
        let got = verdicts(&script(name));
        assert_eq!(got, expected(name), "{name}: orchlint check on the script");
        let got = verdicts(&r.out().join("projects"));
        assert_eq!(got, expected(name), "{name}: orchlint check on {}", session.display());
    } else {
        eprintln!("{name}: rules/feature-dev.toml is not bundled yet; verdicts not compared");
    }
}

#[test]
fn every_script_has_a_shape_and_an_expectation() {
    let scripts: BTreeSet<String> = std::fs::read_dir(repo().join("tests/data/feature-dev/scripts"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let shapes: BTreeSet<String> = SHAPES.iter().map(|(n, _)| n.to_string()).collect();
    let expectations: BTreeSet<String> = EXPECTED.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(scripts, shapes);
    assert_eq!(scripts, expectations);
}

#[test]
fn the_shapes_tell_the_scripts_apart() {
    // The structural check is not vacuous: no script has another one's shape.
    for (name, _) in SHAPES {
        let o = outline(&script(name));
        for (other, shape) in SHAPES.iter().filter(|(other, _)| other != name) {
            assert!(!mismatches(&o, shape).is_empty(), "{name} has the shape of {other}");
        }
    }
}

#[test]
fn feature_dev_clean() {
    scenario("clean");
}

#[test]
fn feature_dev_too_few_explorers() {
    scenario("too-few-explorers");
}

#[test]
fn feature_dev_split_reviewers() {
    scenario("split-reviewers");
}

#[test]
fn feature_dev_implement_before_approval() {
    scenario("implement-before-approval");
}

#[test]
fn feature_dev_write_before_phase_5() {
    scenario("write-before-phase-5");
}

#[test]
fn feature_dev_wrong_agent_type() {
    scenario("wrong-agent-type");
}

#[test]
fn feature_dev_grep_before_phase_5() {
    scenario("grep-before-phase-5");
}
