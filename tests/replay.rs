//! `orchlint replay`: canonical traces, unperturbed replays that give the
//! recording back with `check`'s verdicts, and divergence reports of
//! perturbed ones.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{fixtures, manifest, orchlint, relative, repo, shared};
use orchlint::checks::Selection;
use orchlint::engine::{self, Options};
use orchlint::replay::backend::{Fault, Match, Recorded};
use orchlint::replay::trace::Trace;
use orchlint::replay::{self, Answers, Order, Plan};
use orchlint::workflow::Workflows;

/// The recorded trace and `check`'s verdicts (rule, line, message) of the
/// single session of a path.
fn recorded(path: &Path) -> (Arc<str>, Trace, Vec<replay::Verdict>) {
    let wf = Workflows::builtin();
    let (_, checked) = engine::check_collect(&[path.to_path_buf()], &wf, &Options::default()).unwrap();
    let c = checked.into_iter().find(|c| !c.skipped && c.session.has_conversation()).expect("a session");
    let trace = Trace::of(&c.session, &c.runs);
    let verdicts = replay::verdicts(&c.session, &trace, &wf, &Selection::default(), false);
    (c.session.file.clone(), trace, verdicts)
}

/// `check`'s own findings on a path, as (rule, line, message), without input
/// problems (`transcript`), which a replay does not re-read.
fn check_verdicts(path: &Path) -> BTreeSet<(String, u32, String)> {
    let report = common::check(&[path], &[]);
    report
        .diagnostics
        .iter()
        // A replay judges the orchestrator: the agents' own calls are not replayed.
        .filter(|d| d.rule != "transcript" && d.rule != "agent-tool")
        .map(|d| (d.rule.to_string(), d.line, d.message.clone()))
        .collect()
}

fn options(order: Order, seed: u64) -> replay::Options {
    replay::Options {
        plan: Plan { order, seed, matching: Match::Exact },
        answers: Answers::Own,
        faults: Vec::new(),
        selection: Selection::default(),
        force_workflow: false,
    }
}

fn every_fixture() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = manifest().iter().map(|f| fixtures().join(&f.file)).collect();
    for entry in std::fs::read_dir(repo().join("fixtures/samples")).unwrap() {
        paths.push(entry.unwrap().path());
    }
    paths.sort();
    paths
}

#[test]
fn an_unperturbed_replay_gives_the_recording_and_checks_verdicts_in_every_order() {
    let wf = Workflows::builtin();
    for path in every_fixture() {
        let (file, trace, recorded_verdicts) = recorded(&path);
        let expected: BTreeSet<(String, u32, String)> = check_verdicts(&path);
        for (order, seed) in [(Order::Recorded, 0), (Order::Reverse, 0), (Order::Random, 1), (Order::Random, 99)] {
            let r = replay::replay(file.clone(), None, &trace, &recorded_verdicts, 0, &wf, &options(order, seed));
            assert!(r.divergence.is_none(), "{}: {:?} diverged: {:?}", path.display(), order, r.divergence);
            assert!(r.verdict_changes.is_empty(), "{}: {order:?}: {:?}", path.display(), r.verdict_changes);
            // In the recorded order, the very verdicts of `check`, lines included;
            // in another, a run ending on returns is judged at another last line.
            let got: BTreeSet<(String, u32, String)> =
                r.verdicts.iter().map(|v| (v.rule.to_string(), v.line, v.message.clone())).collect();
            if order == Order::Recorded {
                assert_eq!(got, expected, "{}: verdicts of the replay are not check's", path.display());
            } else {
                let strip = |s: &BTreeSet<(String, u32, String)>| {
                    s.iter().map(|(r, _, m)| (r.clone(), m.clone())).collect::<BTreeSet<_>>()
                };
                assert_eq!(strip(&got), strip(&expected), "{}: {order:?}", path.display());
            }
            if order == Order::Recorded {
                let want = trace.to_jsonl();
                assert!(
                    r.trace.to_jsonl() == want,
                    "{}: the replay is not the recording:\n{}",
                    path.display(),
                    replay::unified(&want, &r.trace.to_jsonl(), "recorded", "replayed")
                );
            }
        }
    }
}

#[test]
fn the_recordings_verdicts_are_its_checks_without_checking_again() {
    // `replay` takes the recording's verdicts from the diagnostics `check`
    // already gave: they are what checking the session again gives, steps included.
    let wf = Workflows::builtin();
    let mut paths = every_fixture();
    paths.extend(shared().into_iter().flat_map(|s| [s.join("corpus"), s.join("realworld")]));
    for (force, selection) in [
        (false, Selection::default()),
        (true, Selection::default()),
        (false, Selection { only: ["agent-count", "phase-order"].map(String::from).into(), ..Selection::default() }),
    ] {
        let opts = Options { selection: selection.clone(), force_workflow: force, ..Options::default() };
        let (_, checked) = engine::check_collect(&paths, &wf, &opts).unwrap();
        let mut compared = 0;
        for c in checked.iter().filter(|c| !c.skipped && c.session.has_conversation()) {
            let trace = Trace::of(&c.session, &c.runs);
            let again = replay::verdicts(&c.session, &trace, &wf, &selection, force);
            assert_eq!(replay::checked_verdicts(c, &trace), again, "{} (force {force})", c.session.file);
            compared += 1;
        }
        assert!(compared >= every_fixture().len(), "{compared} sessions compared");
    }
}

#[test]
fn a_written_trace_replays_to_itself() {
    let wf = Workflows::builtin();
    let dir = tempfile::tempdir().unwrap();
    for path in every_fixture() {
        let (_, trace, _) = recorded(&path);
        let text = trace.to_jsonl();
        let file = dir.path().join("t.trace.jsonl");
        std::fs::write(&file, &text).unwrap();
        let name: Arc<str> = Arc::from(file.display().to_string());
        let parsed = Trace::parse(&text, &name).unwrap();
        let session = parsed.to_session(&name);
        let verdicts = replay::verdicts(&session, &parsed, &wf, &Selection::default(), false);
        let r = replay::replay(name.clone(), None, &parsed, &verdicts, 0, &wf, &options(Order::Recorded, 0));
        assert_eq!(r.trace.to_jsonl(), text, "{}", path.display());
        // A trace's verdicts are the recording's, by rule and message.
        let from_trace: BTreeSet<(&str, &str)> = verdicts.iter().map(|v| (v.rule, v.message.as_str())).collect();
        let (_, _, original) = recorded(&path);
        let from_recording: BTreeSet<(&str, &str)> = original.iter().map(|v| (v.rule, v.message.as_str())).collect();
        assert_eq!(from_trace, from_recording, "{}", path.display());
    }
}

#[test]
fn canonical_traces_of_the_clean_fixtures() {
    // Every fixture that must pass, once per distinct content.
    let mut seen = BTreeSet::new();
    for f in manifest().iter().filter(|f| f.kind == "valid") {
        let path = fixtures().join(&f.file);
        let bytes = std::fs::read(&path).unwrap();
        if !seen.insert(bytes) {
            continue;
        }
        let (_, trace, _) = recorded(&path);
        let name = f.file.trim_end_matches(".jsonl").replace('/', "__");
        insta::assert_snapshot!(format!("trace__{name}"), trace.to_jsonl());
    }
}

#[test]
fn traces_have_no_ids_timestamps_or_paths_of_the_recording() {
    for path in every_fixture() {
        let (_, trace, _) = recorded(&path);
        let text = trace.to_jsonl();
        for needle in ["toolu_", "\"timestamp\"", "sessionId", "requestId", "\"uuid\"", "/home/dev/.claude"] {
            assert!(!text.contains(needle), "{}: trace holds {needle}", path.display());
        }
    }
}

fn sample(name: &str) -> String {
    format!("fixtures/samples/{name}")
}

/// Runs `orchlint replay` and gives exit code and output, paths relative.
fn replay_cli(args: &[&str]) -> (i32, String) {
    let mut all = vec!["replay"];
    all.extend_from_slice(args);
    let (code, out, err) = orchlint(&all);
    (code, relative(&format!("{out}{err}")))
}

#[test]
fn divergence_reports_of_perturbed_replays() {
    let clean = sample("2.0.77-clean");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("timeout-of-a-type", vec![&clean, "--fault", "ml-architect:timeout"]),
        ("error-of-a-launch", vec![&clean, "--fault", "3:error"]),
        ("empty-second-of-a-type", vec![&clean, "--fault", "ml-flow:data-scientist#2:empty"]),
        ("random-order-with-fault", vec![&clean, "--order", "random", "--seed", "5", "--fault", "ml-engineer:timeout"]),
    ];
    for (name, args) in cases {
        let (code, out) = replay_cli(&args);
        assert_eq!(code, 1, "{name}: {out}");
        insta::assert_snapshot!(format!("divergence__{name}"), out);
    }
}

#[test]
fn a_cassette_of_another_run_diverges_at_the_first_launch_it_cannot_answer() {
    // The clean run needs a third architect in phase 4; the other run had two.
    let clean = fixtures().join("agent-count/valid-v2.0-clean.jsonl");
    let fewer = fixtures().join("agent-count/invalid-v2.0-phase4-two-architects.jsonl");
    let (code, out) = replay_cli(&[clean.to_str().unwrap(), "--cassette", fewer.to_str().unwrap(), "--match", "type"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("\"cause\"") || out.contains("has no answer"), "{out}");
    insta::assert_snapshot!("divergence__cassette-of-another-run", out);

    // The same run recorded by another generation answers every launch.
    let v21 = fixtures().join("agent-count/valid-v2.1-clean.jsonl");
    let (code, out) = replay_cli(&[clean.to_str().unwrap(), "--cassette", v21.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_cassette_file_with_an_edited_report_is_a_different_report() {
    let clean = sample("2.0.77-clean");
    let dir = tempfile::tempdir().unwrap();
    let cassette_path = dir.path().join("c.json");
    let (code, _, err) = orchlint(&["cassette", "extract", &clean, "-o", cassette_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let mut cassette: serde_json::Value = serde_json::from_slice(&std::fs::read(&cassette_path).unwrap()).unwrap();
    cassette["entries"][4]["response"] = serde_json::Value::String("[ml-explorer] Nothing found.".into());
    std::fs::write(&cassette_path, serde_json::to_string_pretty(&cassette).unwrap()).unwrap();
    let c = cassette_path.to_str().unwrap();

    let (code, out) = replay_cli(&[&clean, "--cassette", c, "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &json["sessions"][0]["divergence"];
    assert_eq!(d["cause"], "different-report", "{out}");
    assert_eq!(d["launch"], 5);
    assert!(d["diff"].as_str().unwrap().contains("+[ml-explorer] Nothing found."), "{out}");
    // Structure only: the same launches answer, so the replay goes through.
    let (code, out) = replay_cli(&[&clean, "--cassette", c, "--match", "type"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_script_answers_the_agents() {
    let clean = sample("2.0.77-clean");
    let script = "tests/data/replay/ml-flow-script.toml";
    // Scripted reports differ from the recorded ones: a structural replay passes…
    let (code, out) = replay_cli(&[&clean, "--script", script, "--match", "type"]);
    assert_eq!(code, 0, "{out}");
    // …an exact one stops at the first decision that read a report.
    let (code, out) = replay_cli(&[&clean, "--script", script]);
    assert_eq!(code, 1, "{out}");
    insta::assert_snapshot!("divergence__scripted-exact", out);
    // A script without an agent type the run launches: strict, no fall-through.
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("partial.toml");
    std::fs::write(&partial, "[[agent]]\ntype = \"ml-explorer\"\nresponse = \"ok\"\n").unwrap();
    let (code, out) = replay_cli(&[&clean, "--script", partial.to_str().unwrap(), "--match", "type"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("has no answer: no entry of"), "{out}");
}

#[test]
fn a_fault_on_a_result_no_decision_saw_is_not_a_divergence() {
    // The clean run cut right after its first agent returned: no decision
    // follows that return, so its failing or never coming is no divergence.
    let (code, full, _) = orchlint(&["replay", &sample("2.0.77-clean"), "--format", "trace"]);
    assert_eq!(code, 0);
    let cut: String = full.lines().take(7).map(|l| format!("{l}\n")).collect();
    assert!(cut.lines().last().unwrap().contains("\"kind\":\"return\",\"launch\":1"), "{cut}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.trace.jsonl");
    std::fs::write(&file, &cut).unwrap();
    let f = file.to_str().unwrap();
    let (code, out) = replay_cli(&[f, "--fault", "1:timeout", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["summary"]["diverged"], 0);
    assert_eq!(json["sessions"][0]["recorded_steps"], 6);
    assert_eq!(json["sessions"][0]["replayed_steps"], 5, "the result never came");
    let (code, out) = replay_cli(&[f, "--fault", "1:error", "--format", "trace"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().last().unwrap().contains("\"status\":\"error\""), "{out}");
}

#[test]
fn a_late_result_diverges_where_a_decision_saw_it_and_is_delivered_at_the_end_otherwise() {
    let (code, out) = replay_cli(&[&sample("2.0.77-clean"), "--fault", "ml-explorer#1:late", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &json["sessions"][0]["divergence"];
    assert_eq!(d["cause"], "late", "{out}");
    assert_eq!(d["launch"], 1);
    assert_eq!(d["decision"], 3);
    // Cut after that result: no decision saw it, so it comes last.
    let (_, full, _) = orchlint(&["replay", &sample("2.0.77-clean"), "--format", "trace"]);
    let cut: String = full.lines().take(7).map(|l| format!("{l}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.trace.jsonl");
    std::fs::write(&file, &cut).unwrap();
    let (code, out) = replay_cli(&[file.to_str().unwrap(), "--fault", "1:late", "--format", "trace"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, cut, "a late result no decision saw is delivered where it would have been");
}

#[test]
fn a_fault_that_hits_no_launch_is_an_error() {
    for spec in ["99:error", "ml-archtect:timeout", "ml-architect#9:empty"] {
        let (code, out) = replay_cli(&[&sample("2.0.77-clean"), "--fault", spec]);
        assert_eq!(code, 2, "{spec}: {out}");
        assert!(out.contains(&format!("--fault {spec} hit no launch in any session")), "{out}");
    }
}

#[test]
fn traces_in_a_folder_are_replayed_with_its_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = replay_cli(&["fixtures/samples", "--trace-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = replay_cli(&[dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["summary"]["replayed"], 4, "{out}");
}

#[test]
fn bulk_mode_reports_every_divergence_and_exits_1() {
    let (code, out) = replay_cli(&["fixtures/samples", "--fault", "ml-architect:timeout"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("diverged  ")).count(), 4, "{out}");
    let (code, out) = replay_cli(&["fixtures/samples"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("bulk-clean", out);
}

#[test]
fn the_output_is_the_same_bytes_for_the_same_seed_and_any_thread_count() {
    let args =
        ["fixtures/samples", "--order", "random", "--seed", "42", "--format", "json", "--fault", "ml-engineer#2:error"];
    let (_, one) = replay_cli(&[&args[..], &["-j", "1"]].concat());
    let (_, two) = replay_cli(&[&args[..], &["-j", "2"]].concat());
    let (_, again) = replay_cli(&[&args[..], &["-j", "2"]].concat());
    assert_eq!(one, two);
    assert_eq!(two, again);
}

#[test]
fn inputs_and_flags_that_cannot_be_used_are_refused_with_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.trace.jsonl");
    std::fs::write(&broken, "{\"trace\":1,\"format\":\"session\"}\n{\"step\":1,\"kind\":\"user\",\"who\":\"genuine\",\"text\":\"hi\"}\n{\"step\":3,\"kind\":\"user\"}\n").unwrap();
    let (code, out) = replay_cli(&[broken.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("broken.trace.jsonl:3: "), "{out}");
    let (code, out) = replay_cli(&[&sample("2.0.77-clean"), "--fault", "ml-architect:explode"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("unknown fault `explode`"), "{out}");
    let (code, out) = replay_cli(&["fixtures/samples", "--format", "trace"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--trace-dir"), "{out}");
    let (code, out) = replay_cli(&[&sample("2.0.77-clean"), "--script", "Cargo.toml"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("Cargo.toml:"), "{out}");
}

#[test]
fn trace_dir_writes_one_trace_per_session() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = replay_cli(&["fixtures/samples", "--trace-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    // Each replays as recorded.
    for n in &names {
        let (code, out) = replay_cli(&[dir.path().join(n).to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
    }
}

#[test]
fn the_shared_corpus_replays_in_every_generation() {
    let Some(shared) = shared() else {
        eprintln!("../shared is not here; skipped");
        return;
    };
    let corpus = shared.join("corpus");
    let wf = Workflows::builtin();
    let mut generations = BTreeSet::new();
    for version in std::fs::read_dir(&corpus).unwrap() {
        let version = version.unwrap().path();
        if !version.is_dir() {
            continue;
        }
        let opts = options(Order::Random, 7);
        let report = replay::replay_paths(std::slice::from_ref(&version), &wf, &Options::default(), &opts).unwrap();
        assert!(report.summary.sessions > 0, "{}", version.display());
        assert_eq!(report.summary.diverged, 0, "{}", version.display());
        assert_eq!(report.summary.verdicts_changed, 0, "{}", version.display());
        generations.insert(version.file_name().unwrap().to_string_lossy().into_owned());
    }
    assert!(generations.len() >= 4, "{generations:?}");
}

#[test]
fn a_recorded_backend_uses_each_entry_once() {
    let (_, trace, _) = recorded(&repo().join(sample("2.0.77-clean")));
    let cassette = replay::own_cassette(&trace);
    let mut backend = Recorded::new(cassette, Match::Type, "c");
    let faults: Vec<Fault> = Vec::new();
    let mut faulty = orchlint::replay::backend::Faulty::new(&mut backend, faults);
    let run = replay::run(&trace, &mut faulty, &Plan::default());
    assert!(run.divergence.is_none());
    // Run again on the used-up backend: the first launch finds no entry.
    let run = replay::run(&trace, &mut faulty, &Plan::default());
    let d = run.divergence.expect("used up");
    assert_eq!(d.launch, 1);
    assert_eq!(d.cause, replay::Cause::Unmatched);
}
