//! `check --shard K/N` and `orchlint merge`: the parts of a sharded check,
//! merged, are the bytes of one unsharded check, in every format merge writes.

mod common;

use common::{fixtures, orchlint, repo, shared};

/// The inputs the partition is tried on: the shared corpus of real-CLI runs
/// and the third-party sessions (orphans, skipped files, notes), else the
/// fixtures.
fn inputs() -> Vec<String> {
    match shared() {
        Some(s) => ["corpus", "realworld", "external"].iter().map(|d| s.join(d).display().to_string()).collect(),
        None => vec![fixtures().display().to_string()],
    }
}

#[test]
fn sharded_then_merged_is_the_unsharded_check_for_1_3_and_7_shards() {
    let dir = tempfile::tempdir().unwrap();
    for input in inputs() {
        let (whole_status, _, _) = orchlint(&["check", &input, "--format", "json", "--no-progress"]);
        for n in [1, 3, 7] {
            let mut parts = Vec::new();
            let mut sessions_per_part = Vec::new();
            for k in 1..=n {
                let part = dir.path().join(format!("part-{k}-of-{n}.json"));
                let shard = format!("{k}/{n}");
                let (status, _, err) = orchlint(&[
                    "check",
                    &input,
                    "--shard",
                    &shard,
                    "--format",
                    "json",
                    "--output",
                    part.to_str().unwrap(),
                    "--no-progress",
                ]);
                assert!(status == 0 || status == 1, "{input} {shard}: exit {status}: {err}");
                let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&part).unwrap()).unwrap();
                sessions_per_part.push(doc["summary"]["transcripts"].as_u64().unwrap());
                parts.push(part.display().to_string());
            }
            if n > 1 && input.ends_with("corpus") {
                // A real partition: more than one part holds sessions.
                assert!(sessions_per_part.iter().filter(|&&t| t > 0).count() > 1, "{sessions_per_part:?}");
            }
            for format in ["json", "sarif", "junit", "concise", "github", "jsonl"] {
                let (_, whole, _) = orchlint(&["check", &input, "--format", format, "--no-progress"]);
                let mut args = vec!["merge", "--format", format];
                args.extend(parts.iter().map(String::as_str));
                let (status, merged, err) = orchlint(&args);
                assert_eq!(status, whole_status, "{input}, {n} shards, {format}: {err}");
                assert!(merged == whole, "{input}, {n} shards: merged {format} differs from one check");
            }
        }
    }
}

#[test]
fn a_shard_without_sessions_is_an_empty_part_and_merge_says_what_it_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let one = fixtures().join("agent-count/valid-v2.1-clean.jsonl");
    let one = one.to_str().unwrap();
    // One session: one of 7 parts holds it; the other parts are empty, and no error.
    let mut parts = Vec::new();
    let mut holding = 0;
    for k in 1..=7 {
        let shard = format!("{k}/7");
        let (status, out, err) = orchlint(&["check", one, "--shard", &shard, "--format", "json"]);
        assert_eq!(status, 0, "{shard}: {err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
        holding += doc["summary"]["transcripts"].as_u64().unwrap();
        let part = dir.path().join(format!("{k}.json"));
        std::fs::write(&part, out).unwrap();
        parts.push(part.display().to_string());
    }
    assert_eq!(holding, 1);
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    let (status, merged, _) = orchlint(&args);
    let (_, whole, _) = orchlint(&["check", one, "--format", "json"]);
    assert_eq!((status, merged), (0, whole));

    let (status, _, err) = orchlint(&["check", one, "--shard", "8/7"]);
    assert_eq!(status, 2);
    assert!(err.contains("--shard 8/7: not K/N with 1 <= K <= N"), "{err}");
    let (status, _, err) = orchlint(&["merge", "--format", "html", &parts[0]]);
    assert_eq!(status, 2);
    assert!(err.contains("merge cannot write html"), "{err}");
    let readme = repo().join("README.md");
    let (status, _, err) = orchlint(&["merge", readme.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(err.contains("README.md: not a JSON report of orchlint check"), "{err}");
}
