//! `orchlint diff`: two runs, or two corpora of runs, compared in terms of
//! behaviour; exit 0 when the same, 1 when different, 2 when it cannot run.

mod common;

use common::fixtures;

fn run(args: &[&str]) -> (i32, String, String) {
    common::orchlint(args)
}

const CLEAN_21: &str = "fixtures/transcripts/agent-count/valid-v2.1-clean.jsonl";
const CLEAN_20: &str = "fixtures/transcripts/agent-count/valid-v2.0-clean.jsonl";
const TWO_ARCHITECTS: &str = "fixtures/transcripts/agent-count/invalid-v2.1-phase4-two-architects.jsonl";

#[test]
fn a_run_is_the_same_as_itself_and_across_generations() {
    let (code, out, err) = run(&["diff", CLEAN_21, CLEAN_21, "--isolated"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("same behaviour"), "{out}");
    // The same scripted run written by Claude Code 2.0.77 (Task) and 2.1.328 (Agent).
    let (code, out, _) = run(&["diff", CLEAN_20, CLEAN_21, "--isolated"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_different_run_shows_only_what_differs() {
    let (code, out, _) = run(&["diff", CLEAN_21, TWO_ARCHITECTS, "--isolated"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn json_lists_the_facts_only_in_each_run() {
    let (code, out, _) = run(&["diff", CLEAN_21, TWO_ARCHITECTS, "--isolated", "--format", "json"]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["same"], false);
    let sections: Vec<&str> =
        doc["changes"].as_array().unwrap().iter().map(|c| c["section"].as_str().unwrap()).collect();
    assert!(sections.contains(&"launches") && sections.contains(&"verdicts"), "{sections:?}");
    let launches = doc["changes"].as_array().unwrap().iter().find(|c| c["section"] == "launches").unwrap();
    assert!(launches["only_in_b"][0]
        .as_str()
        .unwrap()
        .starts_with("phase 4 (Model Architecture): [ml-flow:ml-architect ml-flow:ml-architect]"));
}

#[test]
fn a_folder_with_several_sessions_is_refused() {
    let (code, _, err) = run(&["diff", "fixtures/transcripts/agent-count", CLEAN_21, "--isolated"]);
    assert_eq!(code, 2);
    assert!(err.contains("sessions with a workflow run; name one session file"), "{err}");
}

#[test]
fn corpora_compare_per_rule_rates() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for (dir, files) in [
        (a.path(), vec!["agent-count/valid-v2.1-clean.jsonl", "agent-count/valid-v2.0-clean.jsonl"]),
        (b.path(), vec!["agent-count/invalid-v2.1-phase4-two-architects.jsonl", "agent-count/valid-v2.0-clean.jsonl"]),
    ] {
        for f in files {
            let name = format!("run-{}", f.replace('/', "_"));
            std::fs::copy(fixtures().join(f), dir.join(name)).unwrap();
        }
    }
    let (code, out, err) = run(&[
        "diff",
        "--corpus",
        a.path().to_str().unwrap(),
        b.path().to_str().unwrap(),
        "--isolated",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "b breaks agent-count in more runs: {out}{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((doc["runs_a"].as_u64(), doc["runs_b"].as_u64()), (Some(2), Some(2)));
    let rule = doc["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "agent-count").unwrap();
    assert_eq!((rule["broken_a"].as_u64(), rule["broken_b"].as_u64()), (Some(0), Some(1)));
    assert_eq!(rule["change"].as_f64(), Some(50.0));
    // Standard error names the rule that regressed.
    assert!(err.contains("error: agent-count regressed: broken in 0 runs of a (0.0%), 1 run of b (50.0%)"), "{err}");
    // A threshold: a change of 50 points passes --max-regression 50, not 49.
    let (a_path, b_path) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    let (code, _, err) = run(&["diff", "--corpus", a_path, b_path, "--isolated", "--max-regression", "50"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["diff", "--corpus", a_path, b_path, "--isolated", "--max-regression", "49"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("more than --max-regression 49"), "{err}");
    // The other way round nothing regressed.
    let (code, out, _) =
        run(&["diff", "--corpus", b.path().to_str().unwrap(), a.path().to_str().unwrap(), "--isolated"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("agent-count") && out.contains("-50.0pp"), "{out}");
}

#[test]
fn a_corpus_without_runs_cannot_be_compared() {
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) =
        run(&["diff", "--corpus", "fixtures/transcripts/agent-count", empty.path().to_str().unwrap(), "--isolated"]);
    assert_eq!(code, 2);
    assert!(err.contains("no workflow run found (ml-flow, feature-dev)"), "{err}");
}
