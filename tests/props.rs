//! Invariants under arbitrary input: no panic on any bytes or on damaged real
//! lines, spans inside their line, the same input gives the same bytes, and
//! the order of the inputs does not change the result.

mod common;

use std::path::PathBuf;

use orchlint::engine::{self, Options, Report};
use orchlint::workflow::Workflows;
use proptest::prelude::*;

fn json(report: &Report) -> String {
    let mut out = Vec::new();
    orchlint::report::json::render(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn check_bytes(bytes: &[u8]) -> Report {
    engine::check_bytes(bytes.to_vec(), "<input>", &Workflows::builtin(), &Options::default())
}

/// Every diagnostic points at a line of the input, and its span lies inside that line.
fn assert_places_inside(bytes: &[u8], report: &Report) {
    let mut starts = vec![0usize];
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            starts.push(i + 1);
        }
    }
    for d in &report.diagnostics {
        assert!(d.line >= 1 && (d.line as usize) <= starts.len(), "line {} outside the input", d.line);
        let start = starts[d.line as usize - 1];
        let end = bytes[start..].iter().position(|b| *b == b'\n').map_or(bytes.len(), |e| start + e);
        if let Some([s, e]) = d.span {
            assert!(s as usize >= start && e as usize <= end && s <= e, "span {s}..{e} outside line {start}..{end}");
        }
        assert!(d.column >= 1);
    }
}

fn real_lines() -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    for f in [
        "approval-gate/valid-v2.1-clean.jsonl",
        "wait-for-agents/valid-v2.1-background-waits.jsonl",
        "agent-count/valid-v2.0-clean.jsonl",
        "agent-count/valid-stream-clean.jsonl",
    ] {
        let text = std::fs::read(common::fixtures().join(f)).unwrap();
        lines.extend(text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec));
    }
    lines
}

/// A way of damaging a transcript, as real files get damaged.
#[derive(Debug, Clone)]
enum Damage {
    Truncate { line: usize, at: usize },
    Insert { line: usize, at: usize, bytes: Vec<u8> },
    Splice { line: usize },
    Delete { line: usize },
    Duplicate { line: usize },
    Swap { a: usize, b: usize },
    Nuls { line: usize, n: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(line, at)| Damage::Truncate { line, at }),
        (any::<usize>(), any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(line, at, bytes)| Damage::Insert { line, at, bytes }),
        any::<usize>().prop_map(|line| Damage::Splice { line }),
        any::<usize>().prop_map(|line| Damage::Delete { line }),
        any::<usize>().prop_map(|line| Damage::Duplicate { line }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Damage::Swap { a, b }),
        (any::<usize>(), 1usize..64).prop_map(|(line, n)| Damage::Nuls { line, n }),
    ]
}

fn apply(lines: &mut Vec<Vec<u8>>, d: &Damage) {
    if lines.is_empty() {
        return;
    }
    let n = lines.len();
    match d {
        Damage::Truncate { line, at } => {
            let l = &mut lines[line % n];
            let at = at % (l.len() + 1);
            l.truncate(at);
        }
        Damage::Insert { line, at, bytes } => {
            let l = &mut lines[line % n];
            let at = at % (l.len() + 1);
            l.splice(at..at, bytes.iter().copied());
        }
        Damage::Splice { line } => {
            let i = line % n;
            if i + 1 < n {
                let next = lines.remove(i + 1);
                lines[i].extend(next);
            }
        }
        Damage::Delete { line } => {
            lines.remove(line % n);
        }
        Damage::Duplicate { line } => {
            let l = lines[line % n].clone();
            lines.insert(line % n, l);
        }
        Damage::Swap { a, b } => lines.swap(a % n, b % n),
        Damage::Nuls { line, n: count } => lines[line % n].extend(std::iter::repeat_n(0u8, *count)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let report = check_bytes(&bytes);
        assert_places_inside(&bytes, &report);
    }

    #[test]
    fn json_ish_garbage_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("{".to_string()), Just("}".to_string()), Just("\"type\":\"user\"".to_string()),
            Just("\"type\":\"assistant\"".to_string()), Just("\"message\":".to_string()),
            Just("\"content\":[".to_string()), Just("]".to_string()), Just(",".to_string()),
            Just("\n".to_string()), Just("\"tool_use_id\":\"toolu_1\"".to_string()),
            Just("\"tool_result\"".to_string()), Just("<task-notification>".to_string()),
            "[a-z\"\\\\:]{0,6}",
        ], 0..60)) {
        let bytes = parts.concat().into_bytes();
        let report = check_bytes(&bytes);
        assert_places_inside(&bytes, &report);
    }

    #[test]
    fn damaged_real_transcripts_never_panic(
        start in 0usize..400,
        len in 1usize..120,
        damages in proptest::collection::vec(damage(), 1..6),
    ) {
        let all = real_lines();
        let start = start % all.len();
        let mut lines: Vec<Vec<u8>> = all[start..(start + len).min(all.len())].to_vec();
        for d in &damages {
            apply(&mut lines, d);
        }
        let bytes = lines.join(&b'\n');
        let first = check_bytes(&bytes);
        assert_places_inside(&bytes, &first);
        // Same input, same bytes.
        prop_assert_eq!(json(&first), json(&check_bytes(&bytes)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The text readers never panic on any text, and give the same answer twice.
    #[test]
    fn text_readers_never_panic(text in "\\PC{0,80}", words in proptest::collection::vec(prop_oneof![
        Just("yes"), Just("no"), Just("—"), Just(","), Just("?"), Just("don't"), Just("approve"),
        Just("change"), Just("Phase 3 of 12:"), Just("**"), Just("\n"), Just("é"), Just("不"),
    ], 0..12)) {
        let wfs = Workflows::builtin();
        let text = format!("{text}{}", words.concat());
        for wf in wfs.iter() {
            for gate in &wf.gates {
                let reply = orchlint::model::text::judge_reply(&gate.words, &text);
                prop_assert_eq!(reply, orchlint::model::text::judge_reply(&gate.words, &text));
            }
            let found = orchlint::model::text::announcements(&text, &wf.detector);
            prop_assert_eq!(found, orchlint::model::text::announcements(&text, &wf.detector));
        }
        let _ = orchlint::model::text::simple_commands(&text);
        let _ = orchlint::model::text::classify_user_text(&text);
    }
}

#[test]
fn file_order_does_not_change_results() {
    let dir = common::fixtures();
    let mut paths: Vec<PathBuf> = ["agent-count", "approval-gate", "transcript", "wait-for-agents"]
        .iter()
        .flat_map(|r| std::fs::read_dir(dir.join(r)).unwrap().map(|e| e.unwrap().path()))
        .collect();
    paths.sort();
    let wf = Workflows::builtin();
    let forward = json(&engine::check(&paths, &wf, &Options::default()).unwrap());
    paths.reverse();
    let backward = json(&engine::check(&paths, &wf, &Options::default()).unwrap());
    assert_eq!(forward, backward);
    // Interleaved order too.
    let (even, odd): (Vec<_>, Vec<_>) = paths.iter().cloned().enumerate().partition(|(i, _)| i % 2 == 0);
    let mixed: Vec<PathBuf> = odd.into_iter().chain(even).map(|(_, p)| p).collect();
    assert_eq!(forward, json(&engine::check(&mixed, &wf, &Options::default()).unwrap()));
}

#[test]
fn thread_count_does_not_change_results() {
    let dir = common::fixtures();
    let wf = Workflows::builtin();
    let serial = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let one = serial.install(|| json(&engine::check(std::slice::from_ref(&dir), &wf, &Options::default()).unwrap()));
    let many = json(&engine::check(&[dir], &wf, &Options::default()).unwrap());
    assert_eq!(one, many);
}
