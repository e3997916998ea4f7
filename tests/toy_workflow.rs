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
