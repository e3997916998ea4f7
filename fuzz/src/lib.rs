//! What each fuzz target runs, shared with the regression tests
//! (`tests/fuzz_regressions.rs` at the repository root runs the same
//! calls on the inputs kept in `fuzz/regressions/<target>/`).

use std::sync::Arc;

use orchlint::engine::{self, Options};
use orchlint::workflow::Workflows;

/// `engine::check_bytes`: the reader `check -` uses.
pub fn transcript(data: &[u8]) {
    let _ = engine::check_bytes(data.to_vec(), "<fuzz>", &Workflows::builtin(), &Options::default());
}

/// A session and a subagent file on disk, read by `check`, `inspect`, the
/// subagent reader and `serve`'s recording.
pub fn project(data: &[u8]) {
    let (session, agent) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(dir) = tempfile::tempdir() else { return };
    let project = dir.path().join("-home-dev-fuzz");
    let id = "00000000-0000-4000-8000-000000000000";
    let subagents = project.join(id).join("subagents");
    if std::fs::create_dir_all(&subagents).is_err() {
        return;
    }
    let agent_file = subagents.join("agent-a0123456789abcdef.jsonl");
    if std::fs::write(project.join(format!("{id}.jsonl")), session).is_err()
        || std::fs::write(&agent_file, agent).is_err()
    {
        return;
    }
    let wfs = Workflows::builtin();
    let mut findings = Vec::new();
    let _ = orchlint::ingest::subagent::read(&agent_file, false, &Arc::from("agent"), true, &mut findings);
    let options = Options { detail: true, ..Options::default() };
    if let Ok((_, checked)) = engine::check_collect(std::slice::from_ref(&project), &wfs, &options) {
        let doc = orchlint::report::inspect::build(&checked, &wfs);
        let _ = orchlint::report::inspect::render_json(&doc, &mut std::io::sink());
        let _ = orchlint::report::inspect::render_human(&doc, &mut std::io::sink());
        for c in &checked {
            let _ = orchlint::serve::script::Recording::of(c, &wfs);
            let _ = orchlint::cassette::extract(c);
        }
    }
}

/// The rules-file loader.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = orchlint::workflow::Workflow::parse(text, "fuzz.toml");
}

/// The config loader.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = orchlint::config::Config::parse(text, std::path::Path::new("orchlint.toml"));
}

/// The trace parser, and a parsed trace turned back into a session and judged.
pub fn trace(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file: Arc<str> = Arc::from("fuzz.trace.jsonl");
    if let Ok(trace) = orchlint::replay::trace::Trace::parse(text, &file) {
        let session = trace.to_session(&file);
        let wfs = Workflows::builtin();
        let _ = orchlint::replay::verdicts(&session, &trace, &wfs, &Default::default(), false);
        let _ = trace.to_jsonl();
    }
}

/// The cassette parser, and the recording `serve --agents` makes of it.
pub fn cassette(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = orchlint::cassette::Cassette::parse(text) {
        let _ = orchlint::serve::script::Recording::of_cassette(&c);
    }
    let _ = orchlint::cassette::agent_report(text);
}

/// `serve`'s request handling without sockets: the body parsed, the request
/// told apart, and its blocks prepared as a recorded turn would be.
pub fn serve_request(data: &[u8]) {
    let Ok(request) = orchlint::serve::parse_request(data) else { return };
    let headers = orchlint::serve::RequestHeaders::new();
    let _ = orchlint::serve::classify(&headers, &request);
    let blocks: Vec<serde_json::Value> = request
        .get("messages")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("content").and_then(serde_json::Value::as_array))
        .flatten()
        .cloned()
        .collect();
    for offered in [&["Agent"][..], &["Task"], &[]] {
        let _ = orchlint::serve::prepare(&blocks, offered, false);
        let _ = orchlint::serve::prepare(&blocks, offered, true);
    }
}

/// `orchlint guard`'s hook input (split at the first 0xFF byte: hook JSON,
/// then the transcript's bytes): `guard::hook::Input::parse`, and
/// `guard::answer` with its state in a temporary folder and the transcript
/// written beside it (its path put in the JSON's `transcript_path`, so no
/// other file is read), once on the transcript's first half and once on the
/// whole, as the hooks of a growing session read it. No wait for lines to come.
pub fn guard_input(data: &[u8]) {
    use orchlint::guard::{self, hook::Input, Mode};
    let (hook, transcript) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(input) = Input::parse(hook) {
        let _ = input.running_agents();
    }
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_slice::<serde_json::Value>(hook) else { return };
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("transcript.jsonl");
    object.insert("transcript_path".into(), serde_json::Value::from(path.display().to_string()));
    let Ok(raw) = serde_json::to_vec(&object) else { return };
    let options = |mode| guard::Options {
        mode,
        workflows: Workflows::builtin(),
        force_workflow: false,
        state_dir: dir.path().join("state"),
        wait: std::time::Duration::from_millis(0),
    };
    for (upto, mode) in [(transcript.len() / 2, Mode::Enforce), (transcript.len(), Mode::Warn)] {
        if std::fs::write(&path, &transcript[..upto]).is_err() {
            return;
        }
        if let Ok(answer) = guard::answer("PreToolUse", &raw, &options(mode)) {
            let _ = answer.json();
        }
    }
}
