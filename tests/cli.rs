//! The command line as a user runs it: exit status, stdout and stderr
//! snapshotted together for each format and subcommand.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{fixtures, repo};

/// Runs orchlint in the repository root and renders status + stdout + stderr.
fn run(args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orchlint"));
    cmd.args(args).current_dir(repo()).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("orchlint runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const TWO_ARCHITECTS: &str = "fixtures/transcripts/agent-count/invalid-v2.1-phase4-two-architects.jsonl";
const CLEAN: &str = "fixtures/transcripts/agent-count/valid-v2.0-clean.jsonl";

#[test]
fn check_human() {
    insta::assert_snapshot!(run(&["check", TWO_ARCHITECTS], None));
}

#[test]
fn check_concise() {
    insta::assert_snapshot!(run(&["check", TWO_ARCHITECTS, "--format", "concise"], None));
}

#[test]
fn check_json() {
    let out = run(&["check", TWO_ARCHITECTS, "--format", "json"], None);
    insta::assert_snapshot!(out);
}

#[test]
fn check_clean_exits_zero() {
    insta::assert_snapshot!(run(&["check", CLEAN, "--format", "concise"], None));
}

#[test]
fn check_fixture_folder() {
    insta::assert_snapshot!(run(&["check", "fixtures/transcripts/approval-gate", "--format", "concise"], None));
}

#[test]
fn check_select_and_ignore() {
    let only = run(&["check", TWO_ARCHITECTS, "--format", "concise", "--select", "incomplete-run"], None);
    assert!(only.starts_with("exit: 0"), "{only}");
    assert!(!only.contains("[agent-count]"), "{only}");
    let without = run(&["check", TWO_ARCHITECTS, "--format", "concise", "--ignore", "agent-count"], None);
    assert!(without.starts_with("exit: 0") && !without.contains("[agent-count]"), "{without}");
}

#[test]
fn check_stdin_stream_json() {
    let bytes = std::fs::read(fixtures().join("agent-count/invalid-stream-phase4-two-architects.jsonl")).unwrap();
    insta::assert_snapshot!(run(&["check", "-", "--format", "concise"], Some(&bytes)));
}

#[test]
fn check_unknown_rule_is_usage_error() {
    insta::assert_snapshot!(run(&["check", CLEAN, "--select", "agent-cuont"], None));
}

#[test]
fn check_missing_path_is_exit_2() {
    insta::assert_snapshot!(run(&["check", "no/such/dir"], None));
}

#[test]
fn check_folder_without_transcripts_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let out = run(&["check", dir.path().to_str().unwrap()], None);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert!(out.contains("no transcripts found"), "{out}");
}

#[test]
fn check_with_malformed_rules_file_names_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let text = orchlint::workflow::DEFAULT_RULES.replace("ml-architect = \"3\"", "ml-architect = 3");
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, text).unwrap();
    let out = run(&["check", CLEAN, "--rules", path.to_str().unwrap()], None);
    let out = out.replace(dir.path().to_str().unwrap(), "TMP");
    insta::assert_snapshot!(out);
}

#[test]
fn check_with_a_rules_file_of_another_workflow() {
    // A second workflow needs a new rules file, not new Rust: rename the
    // namespace and the agent count changes the verdicts.
    let dir = tempfile::tempdir().unwrap();
    let text = orchlint::workflow::DEFAULT_RULES.replace("ml-architect = \"3\"", "ml-architect = \"2\"");
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, text).unwrap();
    let out = run(&["check", TWO_ARCHITECTS, "--format", "concise", "--rules", path.to_str().unwrap()], None);
    assert!(!out.contains("[agent-count]"), "{out}");
}

#[test]
fn explain_prints_the_rule_doc() {
    let out = run(&["explain", "approval-gate"], None);
    let doc = std::fs::read_to_string(repo().join("docs/rules/approval-gate.md")).unwrap();
    assert_eq!(out, format!("exit: 0\n--- stdout\n{doc}--- stderr\n"));
}

#[test]
fn explain_unknown_rule() {
    insta::assert_snapshot!(run(&["explain", "nope"], None));
}

#[test]
fn rules_lists_every_rule() {
    insta::assert_snapshot!(run(&["rules"], None));
}

#[test]
fn inspect_human() {
    insta::assert_snapshot!(run(
        &["inspect", "fixtures/transcripts/wait-for-agents/invalid-v2.1-phase3-while-phase2-outstanding.jsonl"],
        None
    ));
}

#[test]
fn inspect_json() {
    insta::assert_snapshot!(run(
        &[
            "inspect",
            "fixtures/transcripts/parallel-launch/invalid-v2.0-phase7-one-at-a-time.jsonl",
            "--format",
            "json"
        ],
        None
    ));
}

#[test]
fn no_arguments_is_usage_error() {
    let out = run(&[], None);
    assert!(out.starts_with("exit: 2"), "{out}");
}

#[test]
fn serve_and_record_usage_shows_the_two_ways_of_answering() {
    // --allow-side-effects and --upstream are not alternatives to --replay.
    insta::assert_snapshot!(run(&["serve"], None));
    let out = run(&["record", "--out", "x"], None);
    assert!(out.contains("Usage: orchlint record --out <DIR> <--replay <TRANSCRIPT>|--agents <CASSETTE>>"), "{out}");
}

#[test]
fn counts_of_one_are_singular() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let out = run(&["report", TWO_ARCHITECTS, "--isolated", "-o", html.to_str().unwrap()], None);
    assert!(out.contains("(1 workflow run, 1 error)"), "{out}");
    let cassette = dir.path().join("c.json");
    let one = "fixtures/transcripts/agent-count/invalid-v2.1-phase4-two-architects.jsonl";
    let out = run(&["cassette", "extract", one, "-o", cassette.to_str().unwrap()], None);
    assert!(!out.contains(" 1 entries"), "{out}");
}

/// Every file of a sample folder, relative to the repository, sorted.
fn sample_files(dir: &str, filter: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out: Vec<String> = walkdir(repo().join(dir))
        .into_iter()
        .map(|p| p.strip_prefix(repo()).unwrap().display().to_string())
        .filter(|p| filter(p))
        .collect();
    out.sort();
    out
}

fn walkdir(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walkdir(path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_file_that_is_no_transcript_is_one_diagnostic_and_exit_2() {
    insta::assert_snapshot!(run(
        &["check", "tests/data/not-a-transcript.toml", "--isolated", "--format", "concise"],
        None
    ));
}

#[test]
fn an_empty_file_checks_nothing_and_exits_2() {
    insta::assert_snapshot!(run(&["check", "-", "--isolated", "--format", "concise"], Some(b"")));
}

/// A stream-json run in which the model never started the workflow.
const IGNORED_WORKFLOW: &str = concat!(
    r#"{"type":"system","subtype":"init","cwd":"/home/dev/p","session_id":"2c12c58b-5314-4b17-970c-2c80b6caffdc","tools":["Task","Read"],"model":"claude-opus-5-5"}"#,
    "\n",
    r#"{"type":"assistant","message":{"id":"msg_0","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"Here is a quick answer instead."}],"stop_reason":null},"parent_tool_use_id":null,"session_id":"2c12c58b-5314-4b17-970c-2c80b6caffdc"}"#,
    "\n",
    r#"{"type":"result","subtype":"success","is_error":false,"result":"Here is a quick answer instead.","session_id":"2c12c58b-5314-4b17-970c-2c80b6caffdc"}"#,
    "\n"
);

#[test]
fn require_run_makes_a_run_that_did_not_happen_an_error() {
    let input = IGNORED_WORKFLOW.as_bytes();
    let args = ["check", "-", "--isolated", "--format", "concise"];
    let plain = run(&args, Some(input));
    assert!(plain.starts_with("exit: 0"), "{plain}");
    let required = run(&[&args[..], &["--require-run"]].concat(), Some(input));
    let forced = run(&[&args[..], &["--require-run", "--workflow", "ml-flow"]].concat(), Some(input));
    insta::assert_snapshot!(format!("{required}\n{forced}"));
}

#[test]
fn subagent_files_named_with_their_session_attach_to_it_in_any_order() {
    // 2.0.x: sibling agent files, named before their session files.
    let dir = "fixtures/samples/2.0.77-clean";
    let agents = sample_files(dir, |p| p.contains("/agent-"));
    let sessions = sample_files(dir, |p| !p.contains("/agent-"));
    assert!(agents.len() > 30 && sessions.len() == 3);
    let files: Vec<&str> = agents.iter().chain(&sessions).map(String::as_str).collect();
    let out = run(&[&["check", "--isolated", "--format", "concise", "--"][..], &files].concat(), None);
    assert!(!out.contains("subagent transcript"), "{out}");
    // 2.1.x: `<session>/subagents/` files, named after and before the session.
    let dir = "fixtures/samples/2.1.39-too-few-architects";
    let agents = sample_files(dir, |p| p.contains("/subagents/"));
    let session = sample_files(dir, |p| !p.contains("/subagents/"));
    for files in [[&session[..], &agents[..]].concat(), [&agents[..], &session[..]].concat()] {
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        let out = run(&[&["check", "--isolated", "--format", "json", "--"][..], &files].concat(), None);
        assert!(!out.contains("subagent transcript"), "{out}");
        assert!(out.contains(&format!("\"subagent_files\": {}", agents.len())), "{out}");
    }
    // Named alone, it says which session file to check.
    let out = run(&["check", "--isolated", "--format", "concise", &agents[0]], None);
    assert!(out.contains("this is a subagent transcript of 801217df-37c2-4273-9a93-79b6ac1c7a4a.jsonl"), "{out}");
}

#[test]
fn empty_files_are_not_sessions() {
    // The 2.0.77 sample folder holds one session and two empty session files.
    let out = run(&["check", "fixtures/samples/2.0.77-clean", "--isolated", "--format", "junit"], None);
    assert_eq!(out.matches("<testsuite ").count(), 1, "{out}");
    let out = run(&["check", "fixtures/samples/2.0.77-clean", "--isolated"], None);
    assert!(out.contains("checked 1 transcript (") && out.contains("skipped 2 files with nothing to check"), "{out}");
}

#[test]
fn did_you_mean_for_explain_select_and_fault() {
    let out = run(&["explain", "agent-cuont"], None);
    assert!(out.starts_with("exit: 2") && out.contains("did you mean `agent-count`?"), "{out}");
    let out = run(&["check", CLEAN, "--select", "agent-cuont"], None);
    assert!(out.starts_with("exit: 2") && out.contains("did you mean `agent-count`?"), "{out}");
    let out = run(&["replay", CLEAN, "--fault", "ml-architect:timout"], None);
    assert!(out.starts_with("exit: 2") && out.contains("did you mean `timeout`?"), "{out}");
    let out = run(&["replay", CLEAN, "--isolated", "--fault", "ml-archtect#2:timeout"], None);
    assert!(out.starts_with("exit: 2") && out.contains("did you mean `ml-architect#2`?"), "{out}");
}

#[test]
fn record_without_a_claude_cli_is_one_error_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out =
        run(&["record", "--replay", CLEAN, "--out", out_dir.to_str().unwrap(), "--claude", "/no/such/claude"], None);
    insta::assert_snapshot!(out.replace(out_dir.to_str().unwrap(), "OUT"));
    assert!(!out_dir.exists(), "nothing is written");
}

#[test]
fn top_level_help_has_examples_and_exit_statuses() {
    let out = run(&["--help"], None);
    assert!(out.contains("Examples:\n  orchlint check ~/.claude/projects"), "{out}");
    assert!(out.contains("Exit status: 0 clean, 1 findings"), "{out}");
}

#[test]
fn explain_all_prints_every_rule() {
    let out = run(&["explain", "--all"], None);
    assert!(out.starts_with("exit: 0"), "{out}");
    for rule in orchlint::checks::RULES {
        assert!(out.contains(rule.doc), "{} missing", rule.id);
    }
}

#[test]
fn statistics_count_findings_per_rule() {
    insta::assert_snapshot!(run(
        &["check", "fixtures/transcripts/approval-gate", "--isolated", "--format", "concise", "--statistics"],
        None
    ));
}

#[test]
fn concise_output_is_coloured_on_request() {
    let out = run(&["check", TWO_ARCHITECTS, "--isolated", "--format", "concise", "--color", "always"], None);
    assert!(out.contains("\x1b[1;31merror\x1b[0m[agent-count]"), "{out}");
    let out = run(&["check", TWO_ARCHITECTS, "--isolated", "--format", "concise", "--color", "never"], None);
    assert!(!out.contains('\x1b'), "{out}");
}

/// The man pages: orchlint(1) with its options, examples and exit statuses;
/// a page per subcommand, nested ones too; all of them written to a folder.
#[test]
fn man_pages_cover_every_subcommand_with_options_and_exit_statuses() {
    let top = run(&["man"], None);
    assert!(top.starts_with("exit: 0"), "{top}");
    for section in [".SH OPTIONS", ".SH SUBCOMMANDS", ".SH EXAMPLES", ".SH \"EXIT STATUS\"", ".SH \"SEE ALSO\""] {
        assert!(top.contains(section), "orchlint(1) has no {section}");
    }
    assert!(top.contains("orchlint\\-check(1)"), "orchlint(1) names the check page: {top}");

    let check = run(&["man", "check"], None);
    assert!(check.starts_with("exit: 0"), "{check}");
    assert!(check.contains(".TH orchlint-check 1"), "{check}");
    assert!(check.contains("\\-\\-require\\-run"), "the check page lists its options: {check}");
    assert!(check.contains("findings at or above the fail level"), "{check}");

    let nested = run(&["man", "cassette", "extract"], None);
    assert!(nested.starts_with("exit: 0") && nested.contains(".TH orchlint-cassette-extract 1"), "{nested}");
    let diff = run(&["man", "diff"], None);
    assert!(diff.contains("the runs differ"), "diff's own exit statuses: {diff}");

    let wrong = run(&["man", "chek"], None);
    assert!(wrong.starts_with("exit: 2") && wrong.contains("did you mean `orchlint man check`?"), "{wrong}");

    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man", "--dir", dir.path().to_str().unwrap()], None);
    assert!(out.starts_with("exit: 0"), "{out}");
    let mut written: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    written.sort();
    for page in ["orchlint.1", "orchlint-check.1", "orchlint-cassette-extract.1", "orchlint-rules-show.1"] {
        assert!(written.iter().any(|w| w == page), "{page} not written: {written:?}");
    }
    // Every page orchlint(1) points to exists.
    for name in top.split(|c: char| c.is_whitespace() || c == ',').filter(|w| w.starts_with("orchlint\\-")) {
        let file = format!("{}.1", name.trim_end_matches("(1)").trim_end_matches("(1).").replace("\\-", "-"));
        assert!(written.contains(&file), "orchlint(1) names {name}, not written: {written:?}");
    }
}

/// A text log named `.jsonl` (with JSON printed between its lines) is no
/// transcript: one diagnostic, not one a line; in a folder it is skipped.
#[test]
fn a_text_log_named_jsonl_is_one_diagnostic_not_one_a_line() {
    let out = run(&["check", "tests/data/text-log.jsonl", "--isolated", "--format", "concise"], None);
    assert!(out.starts_with("exit: 2"), "{out}");
    assert!(
        out.contains("text-log.jsonl:1:1: warning[transcript] not a Claude Code transcript: none of its 12 lines is a transcript entry; skipped"),
        "{out}"
    );
    assert_eq!(out.matches("[transcript]").count(), 1, "{out}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("tests/data/text-log.jsonl"), dir.path().join("log.jsonl")).unwrap();
    std::fs::copy(repo().join(TWO_ARCHITECTS), dir.path().join("run.jsonl")).unwrap();
    let out = run(&["check", dir.path().to_str().unwrap(), "--isolated", "--format", "concise"], None);
    assert!(!out.contains("log.jsonl"), "{out}");
    assert!(out.contains("skipped 1 file with nothing to check") || !out.contains("not valid JSON"), "{out}");
}

/// A subagent transcript under another name than `agent-<id>.jsonl` is said
/// to be one, with the name that would attach it; not dropped in silence.
#[test]
fn a_subagent_file_under_another_name_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"type":"user","uuid":"u1","parentUuid":null,"sessionId":"s-1","isSidechain":true,"agentId":"a1b2","message":{"role":"user","content":"look at the code"}}"#,
        r#"{"type":"assistant","uuid":"u2","parentUuid":"u1","sessionId":"s-1","isSidechain":true,"agentId":"a1b2","message":{"id":"m1","role":"assistant","content":[{"type":"text","text":"done"}]}}"#,
    ];
    std::fs::write(dir.path().join("child.jsonl"), lines.join("\n") + "\n").unwrap();
    let out =
        run(&["check", dir.path().join("child.jsonl").to_str().unwrap(), "--isolated", "--format", "concise"], None);
    assert!(
        out.contains("warning[transcript] a subagent transcript (agent a1b2 of session s-1) under another name than agent-a1b2.jsonl"),
        "{out}"
    );
    assert!(out.starts_with("exit: 2"), "nothing else was checked: {out}");
}

/// `inspect` on a subagent transcript alone shows what it says about itself
/// (agent, session, prompt, tools) and where its launch is.
#[test]
fn inspect_shows_a_subagent_transcript_given_alone() {
    let out = run(
        &["inspect", "fixtures/samples/2.0.77-clean/-home-dev-churn-model/agent-a079382.jsonl", "--isolated"],
        None,
    );
    assert!(out.starts_with("exit: 0"), "{out}");
    assert!(out.contains("subagent transcript fixtures/samples/2.0.77-clean/-home-dev-churn-model/agent-a079382.jsonl (agent a079382, of session "), "{out}");
    assert!(out.contains("its launch is in the session file "), "{out}");
    let json = run(
        &[
            "inspect",
            "fixtures/samples/2.0.77-clean/-home-dev-churn-model/agent-a079382.jsonl",
            "--isolated",
            "--format",
            "json",
        ],
        None,
    );
    assert!(json.contains(r#""agent_id": "a079382""#), "{json}");
}
