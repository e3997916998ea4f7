//! Invariants of `replay`, over every fixture and sample:
//! - replaying a canonical trace gives itself;
//! - an unperturbed replay, in any order, has the recording's verdicts;
//! - different seeds change only the order in which results complete;
//! - random fault plans, and damaged traces, never panic.

mod common;

use std::sync::{Arc, LazyLock};

use common::{fixtures, manifest, repo};
use orchlint::checks::Selection;
use orchlint::engine::{self, Options};
use orchlint::replay::backend::{Fault, Match};
use orchlint::replay::trace::Trace;
use orchlint::replay::{self, Answers, Order, Plan, Verdict};
use orchlint::workflow::Workflows;
use proptest::prelude::*;

struct Recorded {
    file: Arc<str>,
    trace: Trace,
    verdicts: Vec<Verdict>,
}

static WF: LazyLock<Workflows> = LazyLock::new(Workflows::builtin);

static RECORDINGS: LazyLock<Vec<Recorded>> = LazyLock::new(|| {
    let mut paths: Vec<_> = manifest().iter().map(|f| fixtures().join(&f.file)).collect();
    for e in std::fs::read_dir(repo().join("fixtures/samples")).unwrap() {
        paths.push(e.unwrap().path());
    }
    paths.sort();
    let (_, checked) = engine::check_collect(&paths, &WF, &Options::default()).unwrap();
    checked
        .into_iter()
        .filter(|c| !c.skipped && c.session.has_conversation())
        .map(|c| {
            let trace = Trace::of(&c.session, &c.runs);
            let verdicts = replay::verdicts(&c.session, &trace, &WF, &Selection::default(), false);
            Recorded { file: c.session.file.clone(), trace, verdicts }
        })
        .collect()
});

fn opts(order: Order, seed: u64, matching: Match, faults: Vec<Fault>) -> replay::Options {
    replay::Options {
        plan: Plan { order, seed, matching },
        answers: Answers::Own,
        faults,
        selection: Selection::default(),
        force_workflow: false,
    }
}

fn any_order() -> impl Strategy<Value = Order> {
    prop_oneof![Just(Order::Recorded), Just(Order::Reverse), Just(Order::Random)]
}

fn any_match() -> impl Strategy<Value = Match> {
    prop_oneof![Just(Match::Exact), Just(Match::Normalized), Just(Match::Type)]
}

fn any_fault() -> impl Strategy<Value = Fault> {
    let target = prop_oneof![
        (1usize..40).prop_map(|n| n.to_string()),
        (
            prop::sample::select(vec![
                "ml-explorer",
                "ml-flow:ml-architect",
                "data-scientist",
                "ml-engineer",
                "mlops-engineer",
                "ml-reviewer",
                "general-purpose",
            ]),
            prop::option::of(1usize..5)
        )
            .prop_map(|(t, n)| match n {
                Some(n) => format!("{t}#{n}"),
                None => t.to_string(),
            }),
    ];
    (target, prop::sample::select(vec!["error", "empty", "timeout", "late"]))
        .prop_map(|(t, k)| format!("{t}:{k}").parse::<Fault>().expect("a valid spec"))
}

/// The lines of a trace, and its windows: runs of consecutive returns.
fn windows(text: &str) -> Vec<(bool, Vec<String>)> {
    let mut out: Vec<(bool, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let is_return = line.contains("\"kind\":\"return\"");
        // Step numbers are positions: compare what happened, not where.
        let body = line.split_once(",\"kind\"").map_or(line, |(_, b)| b).to_string();
        match out.last_mut() {
            Some((true, group)) if is_return => group.push(body),
            _ => out.push((is_return, vec![body])),
        }
    }
    for (is_return, group) in &mut out {
        if *is_return {
            group.sort();
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_replayed_trace_replays_to_itself(i in 0usize..1000, order in any_order(), seed in any::<u64>()) {
        let r = &RECORDINGS[i % RECORDINGS.len()];
        let first = replay::replay(r.file.clone(), None, &r.trace, &r.verdicts, 0, &WF, &opts(order, seed, Match::Exact, vec![]));
        let name: Arc<str> = Arc::from("replayed.trace.jsonl");
        let parsed = Trace::parse(&first.trace.to_jsonl(), &name).expect("a replayed trace parses");
        let session = parsed.to_session(&name);
        let verdicts = replay::verdicts(&session, &parsed, &WF, &Selection::default(), false);
        let again = replay::replay(name, None, &parsed, &verdicts, 0, &WF, &opts(Order::Recorded, 0, Match::Exact, vec![]));
        prop_assert_eq!(again.trace.to_jsonl(), first.trace.to_jsonl());
        prop_assert!(again.divergence.is_none());
    }

    #[test]
    fn an_unperturbed_replay_has_the_recordings_verdicts(
        i in 0usize..1000, order in any_order(), seed in any::<u64>(), matching in any_match(),
    ) {
        let r = &RECORDINGS[i % RECORDINGS.len()];
        let out = replay::replay(r.file.clone(), None, &r.trace, &r.verdicts, 0, &WF, &opts(order, seed, matching, vec![]));
        prop_assert!(out.divergence.is_none(), "{}: {:?}", r.file, out.divergence);
        prop_assert!(out.verdict_changes.is_empty(), "{}: {:?}", r.file, out.verdict_changes);
    }

    #[test]
    fn seeds_change_only_the_completion_order(i in 0usize..1000, a in any::<u64>(), b in any::<u64>()) {
        let r = &RECORDINGS[i % RECORDINGS.len()];
        let run = |seed| replay::replay(r.file.clone(), None, &r.trace, &r.verdicts, 0, &WF, &opts(Order::Random, seed, Match::Exact, vec![])).trace.to_jsonl();
        let (x, y) = (run(a), run(b));
        prop_assert_eq!(x.lines().count(), y.lines().count());
        prop_assert_eq!(windows(&x), windows(&y));
        // And the same seed, the same bytes.
        prop_assert_eq!(&x, &run(a));
    }

    #[test]
    fn random_fault_plans_never_panic(
        i in 0usize..1000,
        faults in prop::collection::vec(any_fault(), 0..6),
        order in any_order(),
        seed in any::<u64>(),
        matching in any_match(),
    ) {
        let r = &RECORDINGS[i % RECORDINGS.len()];
        let none = faults.is_empty();
        let out = replay::replay(r.file.clone(), None, &r.trace, &r.verdicts, 0, &WF, &opts(order, seed, matching, faults));
        prop_assert!(out.replayed_steps <= out.recorded_steps);
        if let Some(d) = &out.divergence {
            prop_assert!(!none, "diverged without faults: {:?}", d);
            prop_assert!(d.step >= 1 && d.step <= out.recorded_steps);
            prop_assert!(d.launch >= 1 && d.launch <= out.launches);
        }
    }

    #[test]
    fn damaged_traces_are_refused_by_line_or_replayed(
        i in 0usize..1000,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let r = &RECORDINGS[i % RECORDINGS.len()];
        let mut bytes = r.trace.to_jsonl().into_bytes();
        for (at, byte) in edits {
            let k = at.index(bytes.len());
            bytes[k] = byte;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let name: Arc<str> = Arc::from("damaged.trace.jsonl");
        match Trace::parse(&text, &name) {
            Ok(t) => {
                let session = t.to_session(&name);
                let verdicts = replay::verdicts(&session, &t, &WF, &Selection::default(), false);
                let _ = replay::replay(name, None, &t, &verdicts, 0, &WF, &opts(Order::Random, 1, Match::Exact, vec![]));
            }
            Err(e) => prop_assert!(e.line >= 1 && e.line as usize <= text.lines().count().max(1), "{:?}", e),
        }
    }
}
