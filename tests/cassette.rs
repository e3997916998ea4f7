//! `orchlint cassette extract`: the answers of a run's agents, as a file.

mod common;

use orchlint::cassette::Cassette;

fn extract(path: &str) -> (i32, String, String) {
    common::orchlint(&["cassette", "extract", path, "-o", "-"])
}

#[test]
fn a_cassette_holds_every_launch_with_its_answer() {
    let (code, out, err) = extract("fixtures/transcripts/agent-count/invalid-v2.1-phase4-two-architects.jsonl");
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
    // It reads back as it was written.
    let cassette = Cassette::parse(&out).unwrap();
    assert_eq!(serde_json::to_string_pretty(&cassette).unwrap() + "\n", out);
    assert_eq!(cassette.entries.iter().filter(|e| e.phase == Some(4)).count(), 2);
}

#[test]
fn the_same_run_gives_the_same_answers_in_every_generation() {
    let mut cassettes = Vec::new();
    for f in ["valid-v2.0-clean.jsonl", "valid-v2.1-clean.jsonl", "valid-v2.1-background-waits.jsonl"] {
        let dir = if f.contains("background") { "wait-for-agents" } else { "agent-count" };
        let (code, out, err) = extract(&format!("fixtures/transcripts/{dir}/{f}"));
        assert_eq!(code, 0, "{f}: {err}");
        let c = Cassette::parse(&out).unwrap();
        cassettes
            .push(c.entries.into_iter().map(|e| (e.subagent_type, e.prompt, e.status, e.response)).collect::<Vec<_>>());
    }
    assert_eq!(cassettes[0].len(), 27); // the fixtures launch the maximum: 2 explorers in phase 1
    assert_eq!(cassettes[0], cassettes[1]);
    assert_eq!(cassettes[1], cassettes[2], "foreground and background answers are the same reports");
}

#[test]
fn a_folder_of_sessions_or_a_file_without_launches_is_refused() {
    let (code, _, err) = extract("fixtures/transcripts/agent-count");
    assert_eq!(code, 2);
    assert!(err.contains("sessions with launches"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.jsonl");
    std::fs::write(&f, "{\"type\":\"user\",\"sessionId\":\"s\",\"message\":{\"role\":\"user\",\"content\":\"hi\"}}\n")
        .unwrap();
    let (code, _, err) = extract(f.to_str().unwrap());
    assert_eq!(code, 2);
    assert!(err.contains("no agent launch found"), "{err}");
    assert!(Cassette::parse(
        "{\"version\": 2, \"source\": \"x\", \"session\": null, \"claude_code\": null, \"entries\": []}"
    )
    .is_err());
}
