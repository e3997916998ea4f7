//! `orchlint serve` and `orchlint record` with the real Claude Code CLI
//! (installed by .ci/run from the npm registry; ORCHLINT_CLAUDE_2_1 and
//! ORCHLINT_CLAUDE_2_0 name the binaries), and the server's HTTP surface.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{orchlint, repo};

fn claude_21() -> Option<PathBuf> {
    common::claude_cli("ORCHLINT_CLAUDE_2_1", "2.1.328", "bin/claude.exe")
}

fn claude_20() -> Option<PathBuf> {
    common::claude_cli("ORCHLINT_CLAUDE_2_0", "2.0.77", "cli.js")
}

fn plugin() -> String {
    repo().join("tests/data/plugin/ml-flow").display().to_string()
}

/// The session file `record` kept.
fn session_in(out: &Path) -> PathBuf {
    common::recorded_session(out)
}

/// `check --format concise` findings without their paths.
fn verdicts(path: &str) -> Vec<String> {
    let (_, out, _) = orchlint(&["check", path, "--format", "concise"]);
    out.lines()
        .filter(|l| l.contains(": error[") || l.contains(": warning[") || l.contains(": note["))
        .map(|l| l.split_once(": ").map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

fn record(recording: &str, cli: &Path, extra: &[&str]) -> (i32, String, tempfile::TempDir) {
    let out = tempfile::tempdir().unwrap();
    let plugin = plugin();
    let mut args =
        vec!["record", "--replay", recording, "--out", out.path().to_str().unwrap(), "--claude", cli.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(["--", "--plugin-dir", &plugin]);
    let (code, stdout, stderr) = orchlint(&args);
    (code, format!("{stdout}{stderr}"), out)
}

fn replays_as_recorded(recording: &str, cli: &Path) {
    let (code, log, out) = record(recording, cli, &[]);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("0 not answered"), "{log}");
    let new = session_in(out.path());
    let (code, diff, _) = orchlint(&["diff", recording, new.to_str().unwrap()]);
    assert_eq!(code, 0, "the real CLI's run differs from the recording:\n{diff}");
    assert_eq!(verdicts(recording), verdicts(new.to_str().unwrap()));
}

#[test]
fn a_clean_run_replays_through_claude_code_2_1() {
    let Some(cli) = claude_21() else { return };
    replays_as_recorded("tests/data/recordings/2.1.328-clean", &cli);
}

#[test]
fn a_run_with_background_agents_replays_through_claude_code_2_1() {
    // Each agent's answer is held until the orchestrator reaches the turn at
    // which the recording delivered it, so notifications land where they did.
    let Some(cli) = claude_21() else { return };
    replays_as_recorded("tests/data/recordings/2.1.328-clean-async", &cli);
}

#[test]
fn a_run_recorded_by_claude_code_1_0_replays_through_2_1() {
    // 1.0.x recorded the command as `/ml-flow`; it is typed as `/ml-flow:ml-flow`.
    let Some(cli) = claude_21() else { return };
    replays_as_recorded("fixtures/samples/1.0.128-no-approval", &cli);
}

#[test]
fn a_subagent_replays_its_own_recorded_turns() {
    // Recorded by 2.1.328: the orchestrator runs `echo` through Bash, then its
    // agent reads a file before it reports. The agent's turns are served as
    // recorded, so the new agent transcript has the Read and the report.
    let Some(cli) = claude_21() else { return };
    let recording = "tests/data/recordings/2.1.328-subagent-tools";
    let (code, log, out) = record(recording, &cli, &["--allow-side-effects"]);
    assert_eq!(code, 0, "{log}");
    let serve_log = std::fs::read_to_string(out.path().join("serve.log.jsonl")).unwrap();
    assert!(serve_log.contains("launch 1 (ml-flow:ml-explorer), turn 2 of 2"), "{serve_log}");
    let agent = walkdir::WalkDir::new(out.path().join("projects"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| {
            p.file_name().unwrap().to_string_lossy().starts_with("agent-")
                && p.extension().is_some_and(|e| e == "jsonl")
        })
        .expect("the agent's transcript");
    let text = std::fs::read_to_string(&agent).unwrap();
    assert!(
        text.contains("\"name\":\"Read\",\"type\":\"tool_use\"") || text.contains("\"type\":\"tool_use\",\"id\""),
        "{text}"
    );
    assert!(text.contains("/tmp/recon_probe.txt"), "the recorded Read was not served");
    assert!(text.contains("SUBAGENT_REPORT: the file says hello."));
    let new = session_in(out.path());
    let (code, diff, _) = orchlint(&["diff", recording, new.to_str().unwrap()]);
    assert_eq!(code, 0, "{diff}");
}

#[test]
fn a_clean_run_replays_through_claude_code_2_0() {
    let Some(cli) = claude_20() else { return };
    replays_as_recorded("fixtures/samples/2.0.77-clean", &cli);
}

#[test]
fn a_violating_run_gives_the_same_violations() {
    let Some(cli) = claude_21() else { return };
    let recording = "tests/data/recordings/2.1.328-too-few-architects";
    replays_as_recorded(recording, &cli);
    assert!(verdicts(recording).iter().any(|v| v.contains("error[agent-count]")));
}

#[test]
fn recorded_side_effects_are_withheld_unless_allowed() {
    let Some(cli) = claude_20() else { return };
    let recording = "fixtures/transcripts/forbidden-tool/invalid-v2.0-bash-grep-phase1.jsonl";
    let bash_calls =
        |out: &Path| std::fs::read_to_string(session_in(out)).unwrap().matches("\"name\":\"Bash\"").count();
    let (code, log, out) = record(recording, &cli, &[]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(bash_calls(out.path()), 0, "a Bash call was served");
    let serve_log = std::fs::read_to_string(out.path().join("serve.log.jsonl")).unwrap();
    assert!(serve_log.contains("1 call withheld"), "{serve_log}");
    let (_, log, out) = record(recording, &cli, &["--allow-side-effects"]);
    assert_eq!(bash_calls(out.path()), 1, "{log}");
}

/// Starts `orchlint serve` as a process and gives it with its base URL.
fn serve(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .arg("serve")
        .args(args)
        .current_dir(repo())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("ANTHROPIC_BASE_URL=").expect("the address first").to_string();
    (child, url)
}

#[test]
fn agents_only_mode_forwards_the_orchestrator_and_mocks_the_agents() {
    let Some(cli) = claude_21() else { return };
    let recording = "tests/data/recordings/2.1.328-clean";
    let dir = tempfile::tempdir().unwrap();
    let upstream_log = dir.path().join("upstream.jsonl");
    // A second server stands in for the real model: it knows only the orchestrator's turns.
    let (mut upstream, url) = serve(&["--replay", recording, "--log", upstream_log.to_str().unwrap()]);
    let out = dir.path().join("out");
    let plugin = plugin();
    let (code, stdout, stderr) = orchlint(&[
        "record",
        "--agents",
        recording,
        "--upstream",
        &url,
        "--out",
        out.to_str().unwrap(),
        "--",
        cli.to_str().unwrap(),
        "-p",
        "/ml-flow:ml-flow Build a customer churn prediction model from data/churn.csv",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
        "--plugin-dir",
        &plugin,
    ]);
    let _ = upstream.kill();
    let _ = upstream.wait();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let front = std::fs::read_to_string(out.join("serve.log.jsonl")).unwrap();
    let back = std::fs::read_to_string(&upstream_log).unwrap();
    assert!(front.contains("\"kind\":\"forwarded\""), "{front}");
    assert!(front.contains("\"kind\":\"subagent\""), "{front}");
    assert!(!front.contains("\"kind\":\"orchestrator\""), "{front}");
    assert!(back.contains("\"kind\":\"orchestrator\""), "{back}");
    assert!(!back.contains("\"kind\":\"subagent\""), "the agents reached the upstream: {back}");
}

fn http(url: &str, request: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn post(url: &str, path: &str, body: &str) -> String {
    let addr = url.trim_start_matches("http://");
    http(
        url,
        &format!(
            "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn the_http_surface_answers_in_the_messages_api_shape() {
    let (mut server, url) = serve(&["--replay", "fixtures/samples/2.0.77-clean"]);
    let orchestrator = r#"{"model":"m","max_tokens":10,"stream":false,"tools":[{"name":"Task"}],"messages":[{"role":"user","content":"/ml-flow:ml-flow x"}]}"#;
    let r = post(&url, "/v1/messages?beta=true", orchestrator);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("\"type\":\"message\"") && r.contains("\"name\":\"TodoWrite\""), "{r}");
    let streamed = orchestrator.replace("\"stream\":false", "\"stream\":true");
    let r = post(&url, "/v1/messages", &streamed);
    for event in [
        "event: message_start",
        "event: content_block_start",
        "input_json_delta",
        "event: content_block_stop",
        "event: message_delta",
        "event: message_stop",
    ] {
        assert!(r.contains(event), "{event}: {r}");
    }
    let r = post(&url, "/v1/messages/count_tokens", r#"{"model":"m","messages":[]}"#);
    assert!(r.starts_with("HTTP/1.1 200") && r.contains("input_tokens"), "{r}");
    // A subagent whose prompt no launch had: an error, not a guess.
    let stranger = r#"{"model":"m","stream":false,"tools":[{"name":"Read"}],"system":"cc_is_subagent=true","messages":[{"role":"user","content":"something else"}]}"#;
    let r = post(&url, "/v1/messages", stranger);
    assert!(
        r.starts_with("HTTP/1.1 400") && r.contains("\"type\":\"error\"") && r.contains("matches no recorded launch"),
        "{r}"
    );
    // 2.0.x marks no subagent: offered tools without the delegation tool is one.
    let unmarked = r#"{"model":"m","stream":false,"tools":[{"name":"Read"}],"messages":[{"role":"user","content":[{"type":"text","text":"a prompt no launch had"}]}]}"#;
    let r = post(&url, "/v1/messages", unmarked);
    assert!(r.starts_with("HTTP/1.1 400") && r.contains("matches no recorded launch"), "{r}");
    let warmup =
        r#"{"model":"m","stream":false,"tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"Warmup"}]}"#;
    let r = post(&url, "/v1/messages", warmup);
    assert!(r.starts_with("HTTP/1.1 200") && r.contains("\"text\":\"OK\""), "{r}");
    // Beyond the recording.
    let late = r#"{"model":"m","stream":false,"tools":[{"name":"Task"}],"messages":[REPEAT]}"#
        .replace("REPEAT", &vec![r#"{"role":"assistant","content":"x"}"#; 40].join(","));
    let r = post(&url, "/v1/messages", &late);
    assert!(r.starts_with("HTTP/1.1 400") && r.contains("the recording has 16 turns"), "{r}");
    let r = post(&url, "/v1/messages", "{not json");
    assert!(r.starts_with("HTTP/1.1 400") && r.contains("invalid_request_error"), "{r}");
    let r = post(&url, "/v1/elsewhere", "{}");
    assert!(r.starts_with("HTTP/1.1 404") && r.contains("not_found_error"), "{r}");
    // Bounded: a body over the limit is refused before it is read.
    let addr = url.trim_start_matches("http://");
    let r = http(
        &url,
        &format!("POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: 99999999999\r\nconnection: close\r\n\r\n{{}}"),
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    let r = http(&url, "GARBAGE\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400") || r.is_empty(), "{r}");
    // Still up after all that.
    let r = post(&url, "/v1/messages", orchestrator);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn side_effect_calls_are_replaced_by_text() {
    use serde_json::json;
    let blocks = vec![
        json!({"type": "text", "text": "Running tests"}),
        json!({"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "rm -rf /"}}),
        json!({"type": "tool_use", "id": "t2", "name": "Read", "input": {"file_path": "a.py"}}),
        json!({"type": "tool_use", "id": "t3", "name": "Task", "input": {"subagent_type": "ml-flow:ml-explorer", "prompt": "p"}}),
    ];
    let (served, withheld) = orchlint::serve::prepare(&blocks, &["Agent", "Read", "Bash"], false);
    assert_eq!(withheld, 1);
    assert!(served[1]["text"].as_str().unwrap().contains("withheld a recorded Bash call"));
    assert_eq!(served[2]["name"], "Read");
    assert_eq!(served[3]["name"], "Agent", "the delegation tool as this client names it");
    assert_eq!(served[3]["input"]["run_in_background"], false);
    let (served, withheld) = orchlint::serve::prepare(&blocks, &["Task"], true);
    assert_eq!(withheld, 0);
    assert_eq!(served[1]["name"], "Bash");
    assert_eq!(served[3]["name"], "Task");
}

#[test]
fn the_tests_look_for_the_cli_where_the_readme_and_ci_install_it() {
    let dir = common::claude_code_dir("2.1.328");
    let dir = dir.to_str().unwrap();
    assert!(dir.ends_with("/orchlint/claude-code/2.1.328/node_modules/@anthropic-ai/claude-code"), "{dir}");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains(r#"cli="${XDG_CACHE_HOME:-$HOME/.cache}/orchlint/claude-code/2.1.328""#));
    assert!(readme.contains(r#"npm install --prefix "$cli" @anthropic-ai/claude-code@2.1.328"#));
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert!(ci.contains(r#"cache="${XDG_CACHE_HOME:-$HOME/.cache}/orchlint/claude-code""#));
    assert!(ci.contains(r#"npm install --prefix "$prefix""#));
    // Nothing the README's commands write lands in the repository.
    assert!(!readme.contains("--out out/") && !readme.contains("--prefix .claude-code"));
}

/// A server of the library, with these limits, and its base URL.
fn library_server(
    turns: Vec<serde_json::Value>,
    limits: orchlint::serve::Limits,
    log: Option<&Path>,
) -> (orchlint::serve::Server, String) {
    use orchlint::serve::script::{Recording, Turn};
    let recording = Recording { turns: vec![Turn { blocks: turns }], ..Recording::default() };
    let config = orchlint::serve::Config { recording, upstream: None, allow_side_effects: false, limits };
    let server = orchlint::serve::Server::start(config, 0, log).unwrap();
    let url = format!("http://{}", server.addr);
    (server, url)
}

fn short_limits() -> orchlint::serve::Limits {
    use std::time::Duration;
    orchlint::serve::Limits {
        header_timeout: Duration::from_millis(500),
        body_timeout: Duration::from_millis(500),
        ..orchlint::serve::Limits::default()
    }
}

/// A connection with a read timeout, so that no test waits for ever.
fn connect(url: &str) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    s
}

/// What the server sends until it closes the connection; `None` if it has
/// not closed it within the read timeout.
fn until_closed(mut s: std::net::TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&out).into_owned()),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&out).into_owned())
            }
            Err(_) => return None,
        }
    }
}

#[test]
fn a_recorded_delegation_whose_input_is_not_an_object_is_served_as_recorded() {
    use serde_json::json;
    let blocks = vec![json!({"type": "tool_use", "id": "t1", "name": "Task", "input": "oops"})];
    let (served, _) = orchlint::serve::prepare(&blocks, &["Agent"], false);
    assert_eq!(served[0]["name"], "Agent");
    assert_eq!(served[0]["input"], "oops");
    let (server, url) = library_server(blocks, orchlint::serve::Limits::default(), None);
    let r = post(
        &url,
        "/v1/messages",
        r#"{"model":"m","stream":true,"tools":[{"name":"Agent"}],"messages":[{"role":"user","content":"go"}]}"#,
    );
    assert!(r.starts_with("HTTP/1.1 200") && r.contains("\\\"oops\\\""), "{r}");
    assert_eq!(server.stop().refused, 0);
}

#[test]
fn idle_connections_and_partial_requests_are_closed() {
    let (server, url) = library_server(Vec::new(), short_limits(), None);
    let idle = connect(&url);
    let mut head = connect(&url);
    head.write_all(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n").unwrap();
    let mut body = connect(&url);
    body.write_all(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{").unwrap();
    assert_eq!(until_closed(idle).as_deref(), Some(""), "an idle connection was kept open");
    assert!(until_closed(head).is_some(), "a connection with half a request head was kept open");
    let r = until_closed(body).expect("a connection with half a body was kept open");
    assert!(r.starts_with("HTTP/1.1 408") && r.contains("\"type\":\"timeout_error\""), "{r}");
    let summary = server.stop();
    assert_eq!((summary.requests, summary.refused), (1, 1));
}

#[test]
fn every_refusal_has_an_error_body_in_the_api_shape() {
    let (server, url) = library_server(Vec::new(), orchlint::serve::Limits::default(), None);
    let addr = url.trim_start_matches("http://");
    for method in ["GET", "PUT", "DELETE"] {
        for path in ["/v1/messages", "/v1/messages/count_tokens"] {
            let r = http(&url, &format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"));
            assert!(r.starts_with("HTTP/1.1 405"), "{method} {path}: {r}");
            assert!(r.contains("content-type: application/json"), "{method} {path}: {r}");
            assert!(r.contains(r#"{"error":{"message":"orchlint serve: "#), "{method} {path}: {r}");
            assert!(r.contains(r#""type":"invalid_request_error"},"type":"error"}"#), "{method} {path}: {r}");
        }
    }
    for (body, status, kind) in [("[1]", "400", "invalid_request_error"), ("{\"a\":", "400", "invalid_request_error")] {
        let r = post(&url, "/v1/messages", body);
        assert!(r.starts_with(&format!("HTTP/1.1 {status}")) && r.contains(kind), "{body}: {r}");
    }
    let r = http(
        &url,
        &format!(
            "POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 99999999999\r\nconnection: close\r\n\r\n"
        ),
    );
    assert!(r.starts_with("HTTP/1.1 413") && r.contains("\"type\":\"request_too_large\""), "{r}");
    // Too large once read (no announced length: chunked).
    let chunk = "x".repeat(1024 * 1024);
    let mut s = connect(&url);
    s.write_all(format!("POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\n\r\n").as_bytes())
        .unwrap();
    for _ in 0..(orchlint::serve::MAX_BODY / chunk.len() + 1) {
        if s.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes()).is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let r = until_closed(s).expect("an answer");
    assert!(r.starts_with("HTTP/1.1 413") && r.contains("\"type\":\"request_too_large\""), "{r}");
    assert_eq!(server.stop().refused, 10);
}

#[test]
fn the_log_is_written_as_it_happens_and_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log.jsonl");
    let (server, url) = library_server(Vec::new(), orchlint::serve::Limits::default(), Some(&log));
    let addr = url.trim_start_matches("http://");
    let long = "p".repeat(20_000);
    let refusals = orchlint::serve::KEPT_REFUSALS + 20;
    let mut s = connect(&url);
    let mut reader = BufReader::new(s.try_clone().unwrap());
    for i in 0..refusals {
        s.write_all(format!("GET /{long} HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes()).unwrap();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        if i == 0 {
            // Streamed: the line is in the file before the server stops.
            let written = std::fs::read_to_string(&log).unwrap();
            assert_eq!(written.lines().count(), 1, "{written}");
            assert!(written.len() < 1000, "the path is cut short in the log: {} bytes", written.len());
        }
    }
    let summary = server.stop();
    assert_eq!((summary.requests, summary.refused), (refusals, refusals));
    assert_eq!(summary.refusals.len(), orchlint::serve::KEPT_REFUSALS);
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), refusals);
}

#[test]
fn large_bodies_take_turns() {
    use std::time::Duration;
    let limits = orchlint::serve::Limits {
        body_timeout: Duration::from_secs(5),
        large_body: 1000,
        large_bodies: 1,
        large_body_wait: Duration::from_millis(300),
        ..orchlint::serve::Limits::default()
    };
    let (server, url) = library_server(Vec::new(), limits, None);
    let addr = url.trim_start_matches("http://");
    // The one turn for a large body, held by a body that is slow to come.
    let mut slow = connect(&url);
    slow.write_all(format!("POST /v1/messages HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 5000\r\n\r\n{{").as_bytes())
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let large = format!(r#"{{"model":"m","messages":[],"pad":"{}"}}"#, "x".repeat(4000));
    let r = post(&url, "/v1/messages", &large);
    assert!(r.starts_with("HTTP/1.1 529") && r.contains("\"type\":\"overloaded_error\""), "{r}");
    // A small body does not wait.
    let r = post(&url, "/v1/messages", r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    drop(slow);
    std::thread::sleep(Duration::from_millis(100));
    let r = post(&url, "/v1/messages", &large);
    assert!(r.starts_with("HTTP/1.1 200"), "the turn was not given back: {r}");
    server.stop();
}
