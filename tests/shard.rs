//! `check --shard K/N` and `orchlint merge`: the parts of a sharded check,
//! merged, are the bytes of one unsharded check, in every format; html and
//! human, which read the transcripts again, stop when one is gone or changed.

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

/// Checks part `shard` of `input` into `part`, stamped for merge into html,
/// with `extra` arguments; returns the exit status.
fn check_part(input: &str, shard: &str, part: &std::path::Path, extra: &[&str]) -> i32 {
    let mut args = vec!["check", input, "--shard", shard, "--stamps", "--format", "json", "--output"];
    args.push(part.to_str().unwrap());
    args.extend(extra);
    let (status, _, err) = orchlint(&args);
    assert!(status == 0 || status == 1, "{input} {shard}: exit {status}: {err}");
    status
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
                check_part(&input, &shard, &part, &[]);
                let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&part).unwrap()).unwrap();
                sessions_per_part.push(doc["summary"]["transcripts"].as_u64().unwrap());
                parts.push(part.display().to_string());
            }
            if n > 1 && input.ends_with("corpus") {
                // A real partition: more than one part holds sessions.
                assert!(sessions_per_part.iter().filter(|&&t| t > 0).count() > 1, "{sessions_per_part:?}");
            }
            for format in ["json", "sarif", "junit", "concise", "github", "jsonl", "html", "human"] {
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
    assert_eq!((status, merged.as_str()), (0, whole.as_str()));

    let (status, _, err) = orchlint(&["check", one, "--shard", "8/7"]);
    assert_eq!(status, 2);
    assert!(err.contains("--shard 8/7: not K/N with 1 <= K <= N"), "{err}");
    // A report of an unsharded check stamps nothing: html cannot be drawn from it.
    let unsharded = dir.path().join("unsharded.json");
    std::fs::write(&unsharded, &whole).unwrap();
    let (status, _, err) = orchlint(&["merge", "--format", "html", unsharded.to_str().unwrap()]);
    assert_eq!(status, 2);
    let err = unwrapped(&err);
    assert!(err.contains("the parts hold no stamp of") && err.contains("valid-v2.1-clean.jsonl"), "{err}");
    // Nor does a part checked without --stamps (stamping reads every file twice).
    let (_, unstamped, _) = orchlint(&["check", one, "--shard", "1/1", "--format", "json"]);
    assert!(!unstamped.contains("\"stamps\""));
    let part = dir.path().join("unstamped.json");
    std::fs::write(&part, &unstamped).unwrap();
    let (status, _, err) = orchlint(&["merge", "--format", "html", part.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(unwrapped(&err).contains("--shard K/N --stamps"), "{err}");
    let (status, _, err) = orchlint(&["check", one, "--stamps"]);
    assert_eq!(status, 2, "{err}");
    let readme = repo().join("README.md");
    let (status, _, err) = orchlint(&["merge", readme.to_str().unwrap()]);
    assert_eq!(status, 2);
    assert!(err.contains("README.md: not a JSON report of orchlint check"), "{err}");
}

#[test]
fn merge_into_html_reads_the_transcripts_again_and_stops_when_one_is_gone_or_changed() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    copy_tree(&fixtures().join("agent-count"), &tree);
    let tree = tree.to_str().unwrap();
    let mut parts = Vec::new();
    for k in 1..=3 {
        let part = dir.path().join(format!("part-{k}.json"));
        let shard = format!("{k}/3");
        check_part(tree, &shard, &part, &[]);
        parts.push(part.display().to_string());
    }
    let merge = |extra: &[&str]| {
        let mut args = vec!["merge"];
        args.extend(extra);
        args.extend(parts.iter().map(String::as_str));
        orchlint(&args)
    };

    // --report html=FILE beside another format: the page of one check.
    let page = dir.path().join("merged.html");
    let also = format!("html={}", page.display());
    let (status, sarif, err) = merge(&["--format", "sarif", "--report", &also]);
    assert_eq!(status, 1, "{err}");
    let (_, whole, _) = orchlint(&["check", tree, "--format", "html"]);
    assert!(std::fs::read_to_string(&page).unwrap() == whole, "merged html differs from one check");

    // A transcript grown since: its bytes are not the ones stamped.
    let session = std::fs::read_dir(tree)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .min()
        .unwrap();
    let name = session.display().to_string();
    let mut grown = std::fs::read(&session).unwrap();
    grown.extend_from_slice(b"{}\n");
    std::fs::write(&session, grown).unwrap();
    for format in ["html", "human"] {
        let (status, out, err) = merge(&["--format", format]);
        assert_eq!((status, out.as_str()), (2, ""), "{format}: {err}");
        let err = unwrapped(&err);
        assert!(err.contains(&format!("{name} changed since the part naming it was checked")), "{format}: {err}");
    }

    // A transcript gone (merged on another machine): an error naming it, and
    // the formats that need only the reports still merge.
    std::fs::remove_file(&session).unwrap();
    for format in ["html", "human"] {
        let (status, out, err) = merge(&["--format", format]);
        assert_eq!((status, out.as_str()), (2, ""), "{format}: {err}");
        let err = unwrapped(&err);
        assert!(err.contains(&format!("{name}: the parts' findings or sessions are drawn from it")), "{err}");
        assert!(err.contains("cannot be read here: no such file or directory"), "{err}");
        assert!(err.contains("merge into json, sarif"), "{err}");
    }
    assert_eq!(merge(&["--format", "sarif"]), (1, sarif, String::new()));
}

/// Rules that give the same counts of sessions and runs but other findings
/// (a rule made a warning): merge into html, which draws the runs with the
/// rules it is given, stops instead of drawing other findings than the parts'.
#[test]
fn merge_into_html_stops_when_its_rules_find_other_findings_than_the_parts() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    copy_tree(&fixtures().join("agent-count"), &tree);
    let tree = tree.to_str().unwrap();
    let part = dir.path().join("part.json");
    assert_eq!(check_part(tree, "1/1", &part, &["--isolated"]), 1);
    let part = part.to_str().unwrap();
    let (status, _, err) = orchlint(&["merge", "--isolated", "--format", "html", part]);
    assert_eq!(status, 1, "the same rules: {err}");

    let config = dir.path().join("orchlint.toml");
    std::fs::write(&config, "[severity]\nagent-count = \"warning\"\n").unwrap();
    let (status, out, err) = orchlint(&["merge", "--config", config.to_str().unwrap(), "--format", "html", part]);
    assert_eq!(status, 2, "{err}");
    assert!(out.is_empty(), "a page was drawn");
    let err = unwrapped(&err);
    assert!(err.contains("read again with these rules, the transcripts give"), "{err}");
    assert!(err.contains("warning agent-count at line"), "{err}");
    assert!(err.contains("error agent-count at line"), "{err}");
    // The formats that need only the reports merge whatever the rules.
    let (status, _, err) = orchlint(&["merge", "--config", config.to_str().unwrap(), "--format", "sarif", part]);
    assert_eq!(status, 1, "{err}");
}

/// An error message as one line: miette wraps it at 100 columns.
fn unwrapped(err: &str) -> String {
    err.split_whitespace().filter(|w| *w != "│").collect::<Vec<_>>().join(" ")
}

#[test]
fn merge_into_html_stops_at_a_subagent_file_that_came_since_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let from = fixtures().join("agent-tool");
    let session = dir.path().join("valid-v2.1-explorers-read.jsonl");
    std::fs::copy(from.join("valid-v2.1-explorers-read.jsonl"), &session).unwrap();
    copy_tree(&from.join("valid-v2.1-explorers-read"), &dir.path().join("valid-v2.1-explorers-read"));
    let agent = dir.path().join("valid-v2.1-explorers-read/subagents/agent-a68a769f5caf0ff75.jsonl");
    let aside = dir.path().join("aside.jsonl");
    std::fs::rename(&agent, &aside).unwrap();
    let part = dir.path().join("part.json");
    let session = session.to_str().unwrap();
    let (status, _, err) =
        orchlint(&["check", session, "--shard", "1/1", "--stamps", "--format", "json", "-o", part.to_str().unwrap()]);
    assert!(status < 2, "{err}");
    std::fs::rename(&aside, &agent).unwrap();
    let (status, out, err) = orchlint(&["merge", "--format", "html", part.to_str().unwrap()]);
    assert_eq!((status, out.as_str()), (2, ""), "{err}");
    let err = unwrapped(&err);
    assert!(err.contains(&format!("{session} changed since the part naming it was checked")), "{err}");
    assert!(err.contains("agent-a68a769f5caf0ff75.jsonl was not there then"), "{err}");
}

/// Copies a folder and its subfolders.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, target).unwrap();
        }
    }
}
