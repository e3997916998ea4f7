//! A third workflow, written by someone who read only docs/rules-language.md:
//! tests/data/toy-workflow/incident-triage.toml and its runs, with the verdicts
//! expected from the guide (expected.json, `rule@LINE` of every error and
//! warning). NOTES.md says where an expectation was changed after a run, and why.

mod common;

use std::collections::BTreeMap;

use common::{orchlint, repo};

#[test]
fn a_workflow_written_from_the_guide_gets_the_verdicts_the_guide_promises() {
    let dir = repo().join("tests/data/toy-workflow");
    let expected: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let runs: Vec<String> = std::fs::read_dir(dir.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    assert!(runs.len() >= 7, "a clean run and six breaches at least");
    let mut problems = Vec::new();
    for run in &runs {
        let Some(want) = expected.get(run) else {
            problems.push(format!("{run}: not in expected.json"));
            continue;
        };
        let rules = dir.join("incident-triage.toml");
        let path = dir.join("runs").join(run);
        let (code, stdout, stderr) = orchlint(&[
            "check",
            "--isolated",
            "--rules",
            rules.to_str().unwrap(),
            path.to_str().unwrap(),
            "--format",
            "json",
            "--exit-zero",
        ]);
        assert_eq!(code, 0, "{run}: {stderr}");
        let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let mut got: Vec<String> = doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["severity"] != "note")
            .map(|d| format!("{}@{}", d["rule"].as_str().unwrap(), d["line"]))
            .collect();
        got.sort();
        let mut want = want.clone();
        want.sort();
        if got != want {
            problems.push(format!("{run}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_guide_example_and_the_toy_workflow_are_valid_rules_files() {
    let file = repo().join("tests/data/toy-workflow/incident-triage.toml");
    let (code, stdout, stderr) = orchlint(&["rules", "check", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("workflow incident-triage"), "{stdout}");
    // The complete example of docs/rules-language.md compiles as printed.
    let guide = std::fs::read_to_string(repo().join("docs/rules-language.md")).unwrap();
    let start = guide.find("## A complete small example").unwrap();
    let block = &guide[start..];
    let toml_start = block.find("```toml\n").unwrap() + 8;
    let toml_end = toml_start + block[toml_start..].find("\n```").unwrap();
    orchlint::workflow::Workflow::parse(&block[toml_start..toml_end], "guide example")
        .unwrap_or_else(|e| panic!("the guide's example does not compile: {e:?}"));
}

/// The verdicts of `orchlint check --rules incident-triage.toml PATH`:
/// `severity:rule@phase` of every error and warning, sorted.
fn verdicts(path: &std::path::Path) -> Vec<String> {
    let rules = repo().join("tests/data/toy-workflow/incident-triage.toml");
    let (code, stdout, stderr) = orchlint(&[
        "check",
        "--isolated",
        "--rules",
        rules.to_str().unwrap(),
        path.to_str().unwrap(),
        "--format",
        "json",
        "--exit-zero",
    ]);
    assert_eq!(code, 0, "{}: {stderr}", path.display());
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mut got: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] != "note")
        .map(|d| format!("{}:{}@{}", d["severity"].as_str().unwrap(), d["rule"].as_str().unwrap(), d["phase"]))
        .collect();
    got.sort();
    got
}

/// The same runs typed through the real Claude Code 2.1.328 (`orchlint
/// record`, the guide's plugin in tests/data/toy-workflow/plugin): the
/// transcripts the CLI writes get the verdicts of the runs they replay.
#[test]
fn the_toy_workflow_judges_real_cli_runs_as_it_judges_its_scripts() {
    let Some(cli) = common::claude_cli("ORCHLINT_CLAUDE_2_1", "2.1.328", "bin/claude.exe") else { return };
    let dir = repo().join("tests/data/toy-workflow");
    // Runs the real client can produce: not those where an agent is still out
    // when the next turn starts (a foreground agent's result always comes
    // first) or where a text-only turn is followed by another turn (the client
    // ends its turn there), as in checker-before-builders-returned and
    // grep-via-bash.
    let runs = [
        "clean",
        "too-few-scouts",
        "wrong-namespace",
        "builders-split-after-first-returned",
        "reply-not-yet",
        "vague-postmortem-reply",
        "edit-in-postmortem",
        "probe-back-edge-after-lead-in",
    ];
    let problems: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|run| {
                let (dir, cli) = (&dir, &cli);
                scope.spawn(move || {
                    let tmp = tempfile::tempdir().unwrap();
                    let work = tmp.path().join("work");
                    std::fs::create_dir_all(&work).unwrap();
                    // The runs name files under /srv/api; they are pointed at the copy.
                    let script = tmp.path().join(format!("{run}.jsonl"));
                    let text = std::fs::read_to_string(dir.join("runs").join(format!("{run}.jsonl"))).unwrap();
                    std::fs::write(&script, text.replace("/srv/api", work.to_str().unwrap())).unwrap();
                    let out = tmp.path().join("out");
                    let plugin = dir.join("plugin/oncall-kit");
                    let rules = dir.join("incident-triage.toml");
                    let (code, stdout, stderr) = orchlint(&[
                        "record",
                        "--replay",
                        script.to_str().unwrap(),
                        "--out",
                        out.to_str().unwrap(),
                        "--claude",
                        cli.to_str().unwrap(),
                        "--cwd",
                        work.to_str().unwrap(),
                        "--allow-side-effects",
                        "--rules",
                        rules.to_str().unwrap(),
                        "--",
                        "--plugin-dir",
                        plugin.to_str().unwrap(),
                    ]);
                    if code != 0 || !stderr.contains(" 0 not answered") {
                        return Some(format!("{run}: record failed ({code}):\n{stdout}{stderr}"));
                    }
                    let (want, got) = (verdicts(&script), verdicts(&out.join("projects")));
                    (want != got).then(|| format!("{run}: the script gets {want:?}, the CLI's transcript {got:?}"))
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().unwrap()).collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `workflows = [...]` in orchlint.toml puts a rules file in play for every
/// subcommand, as `--rules` does.
#[test]
fn the_config_puts_a_rules_file_in_play() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = repo().join("tests/data/toy-workflow/incident-triage.toml");
    std::fs::write(tmp.path().join("orchlint.toml"), format!("workflows = [{:?}]\n", rules.to_str().unwrap())).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_orchlint"))
            .args(args)
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, listed) = run(&["rules"]);
    assert_eq!(code, Some(0));
    assert!(listed.contains("incident-triage"), "{listed}");
    let too_few = repo().join("tests/data/toy-workflow/runs/too-few-scouts.jsonl");
    let (code, found) = run(&["check", too_few.to_str().unwrap(), "--format", "concise"]);
    assert_eq!(code, Some(1), "{found}");
    assert!(found.contains("error[agent-count]"), "{found}");
    let (code, explained) = run(&["explain", "approval-gate", "--workflow", "incident-triage"]);
    assert_eq!(code, Some(0));
    assert!(explained.contains("In workflow `incident-triage`"), "{explained}");
}
