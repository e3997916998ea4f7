//! `orchlint serve`: the mocked agent backend as a Messages-API server for
//! the real Claude Code CLI.
//!
//! Requests are told apart as the CLI sends them (docs/serve.md):
//! - a **subagent**'s request carries `x-claude-code-agent-id` (2.1.x) or
//!   `cc_is_subagent=true` in its system prompt, or is offered tools but not
//!   the delegation tool and is not a start-up `Warmup` (2.0.x);
//!   its first user message (the launch prompt) picks the recorded launch,
//!   and it gets that agent's recorded turns by position (its report alone
//!   when there is no subagent transcript);
//! - the **orchestrator**'s request offers the delegation tool (`Task` or
//!   `Agent`); with `--replay` it gets the recorded turn at its position in
//!   the conversation (the number of assistant turns before it); with
//!   `--upstream` it is forwarded unchanged;
//! - anything else (2.0.x warm-ups, helper calls without tools) is
//!   *auxiliary*: a short text with `--replay`, forwarded with `--upstream`.
//!
//! Strict: a request that cannot be matched gets an Anthropic-shaped error
//! and a line in the log. Recorded tool calls with side effects are
//! withheld unless `--allow-side-effects`.

// A running server reports refused requests on standard error as they happen.
#![allow(clippy::print_stderr)]

pub mod record;
pub mod script;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use script::Recording;

/// Largest request body accepted (the whole conversation is resent each turn).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Tools a recorded call of which is served as is: reading, searching,
/// delegating and bookkeeping. Any other tool is withheld without
/// `--allow-side-effects`.
pub const SAFE_TOOLS: &[&str] = &[
    "Read",
    "Glob",
    "Grep",
    "LS",
    "Task",
    "Agent",
    "TaskOutput",
    "TodoWrite",
    "TodoRead",
    "TaskCreate",
    "TaskUpdate",
    "TaskList",
    "TaskGet",
    "AskUserQuestion",
    "ListAgents",
    "ExitPlanMode",
];

/// How the server answers.
#[derive(Debug, Clone)]
pub struct Config {
    /// The recording: orchestrator turns (replay mode) and agent reports.
    pub recording: Recording,
    /// Forward the orchestrator's (and auxiliary) requests here instead of
    /// answering them from the recording.
    pub upstream: Option<String>,
    pub allow_side_effects: bool,
}

/// One line of the log: a request and what it got.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    pub request: usize,
    /// `orchestrator`, `subagent`, `auxiliary`, `count-tokens`, `forwarded` or `error`.
    pub kind: &'static str,
    pub status: u16,
    pub what: String,
}

struct Shared {
    config: Config,
    log: Mutex<Log>,
    http: reqwest::Client,
    /// How many orchestrator turns have been asked for (the highest position + 1).
    requested: tokio::sync::watch::Sender<usize>,
    /// Which recorded launches have had their answer sent.
    delivered: tokio::sync::watch::Sender<Vec<bool>>,
}

#[derive(Default)]
struct Log {
    lines: Vec<LogLine>,
    sink: Option<std::fs::File>,
    /// Launches answered, and by which agent id (for repeats of a request).
    used: Vec<Option<String>>,
}

impl Shared {
    fn log(&self, line: LogLine) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = log.sink.as_mut() {
            use std::io::Write;
            if let Ok(text) = serde_json::to_string(&line) {
                let _ = writeln!(f, "{text}");
            }
        }
        if line.status >= 400 {
            eprintln!("orchlint serve: request {}: {} {}", line.request, line.status, line.what);
        }
        log.lines.push(line);
    }

    /// Logs a request it cannot answer and gives the error response.
    fn refuse(&self, n: usize, status: StatusCode, kind: &str, what: String) -> Response {
        let response = error(status, kind, &format!("orchlint serve: {what}"));
        self.log(LogLine { request: n, kind: "error", status: status.as_u16(), what });
        response
    }

    fn next_request(&self) -> usize {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.lines.len() + 1
    }
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Binds to 127.0.0.1 (port 0: any free port) and serves in the background.
    pub fn start(config: Config, port: u16, log_file: Option<&std::path::Path>) -> std::io::Result<Server> {
        let sink = match log_file {
            Some(p) => Some(std::fs::File::create(p)?),
            None => None,
        };
        let used = vec![None; config.recording.agents.len()];
        let agent_count = config.recording.agents.len();
        let shared = Arc::new(Shared {
            config,
            log: Mutex::new(Log { lines: Vec::new(), sink, used }),
            http: reqwest::Client::new(),
            requested: tokio::sync::watch::Sender::new(0),
            delivered: tokio::sync::watch::Sender::new(vec![false; agent_count]),
        });
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        let handle = std::thread::Builder::new().name("orchlint-serve".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("orchlint serve: cannot start the runtime: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else { return };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await;
            });
        })?;
        Ok(Server { addr, shared, shutdown: Some(tx), handle: Some(handle) })
    }

    /// Stops the server and gives its log.
    pub fn stop(mut self) -> Vec<LogLine> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let log = self.shared.log.lock().unwrap_or_else(|p| p.into_inner());
        log.lines.clone()
    }

    /// Waits until the process is interrupted, then stops.
    pub fn wait(self) -> Vec<LogLine> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
        if let Ok(rt) = rt {
            rt.block_on(async {
                let _ = tokio::signal::ctrl_c().await;
            });
        }
        self.stop()
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(count_tokens))
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(refuse_oversized))
        .with_state(shared)
}

/// A body announced larger than the limit is refused before it is read.
async fn refuse_oversized(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let announced =
        request.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_BODY as u64) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            &format!("orchlint serve: the body is over {} MiB", MAX_BODY / (1024 * 1024)),
        );
    }
    next.run(request).await
}

/// An error in the Messages API's shape.
pub fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn fallback(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    let n = shared.next_request();
    shared.refuse(n, StatusCode::NOT_FOUND, "not_found_error", format!("{method} {uri}: no such endpoint"))
}

/// The request body as a JSON object, with its request number; or the
/// error response (logged) for a body that is too large, cut short or not
/// a JSON object.
fn read_request(shared: &Shared, body: Result<Bytes, BytesRejection>) -> Result<(usize, Bytes, Value), Box<Response>> {
    let n = shared.next_request();
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let status = e.status();
            let kind =
                if status == StatusCode::PAYLOAD_TOO_LARGE { "request_too_large" } else { "invalid_request_error" };
            return Err(Box::new(shared.refuse(n, status, kind, e.body_text())));
        }
    };
    match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => Ok((n, body, v)),
        Ok(_) => Err(Box::new(shared.refuse(
            n,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "the body is not a JSON object".into(),
        ))),
        Err(e) => Err(Box::new(shared.refuse(
            n,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("the body is not JSON: {e}"),
        ))),
    }
}

async fn count_tokens(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (n, body, request) = match read_request(&shared, body) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    if shared.config.upstream.is_some() {
        return forward(&shared, n, &headers, &uri, body).await;
    }
    // A rough count: a token per 4 bytes of the messages and system prompt.
    let size = request.get("messages").map_or(0, |m| m.to_string().len())
        + request.get("system").map_or(0, |m| m.to_string().len());
    shared.log(LogLine { request: n, kind: "count-tokens", status: 200, what: format!("{} bytes", size) });
    (StatusCode::OK, [("content-type", "application/json")], json!({"input_tokens": size / 4 + 1}).to_string())
        .into_response()
}

/// What a Messages request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Orchestrator { position: usize },
    Subagent { prompt: String, agent_id: Option<String>, position: usize },
    Auxiliary,
}

/// Tells a request apart (see the module documentation).
pub fn classify(headers: &HeaderMap, request: &Value) -> Kind {
    let tools = offered_tools(request);
    let messages = request.get("messages").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    let first_user = messages.iter().find(|m| m.get("role").and_then(Value::as_str) == Some("user"));
    let prompt = first_user.map(|m| user_text(m.get("content"))).unwrap_or_default();
    let agent_id = headers.get("x-claude-code-agent-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let system = request.get("system").map(|s| s.to_string()).unwrap_or_default();
    let delegates = tools.iter().any(|t| t == "Task" || t == "Agent");
    let position = messages.iter().filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant")).count();
    if agent_id.is_some() || system.contains("cc_is_subagent=true") {
        return Kind::Subagent { prompt, agent_id, position };
    }
    // 2.0.x marks nothing: an agent is offered tools but not the delegation
    // tool (agents do not delegate), and is not one of the start-up warm-ups.
    if !delegates && !tools.is_empty() && prompt.trim() != "Warmup" {
        return Kind::Subagent { prompt, agent_id: None, position };
    }
    if delegates {
        return Kind::Orchestrator { position };
    }
    Kind::Auxiliary
}

/// The text of a user message's content (a string, or its text blocks),
/// without the `<system-reminder>` the client puts around it (2.1.328 puts
/// one before a `general-purpose` agent's launch prompt; the transcript
/// records the prompt alone).
fn user_text(content: Option<&Value>) -> String {
    let text = match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    without_reminders(&text).to_string()
}

/// The text without whole `<system-reminder>…</system-reminder>` parts at its start and end.
fn without_reminders(text: &str) -> &str {
    const OPEN: &str = "<system-reminder>";
    const CLOSE: &str = "</system-reminder>";
    let mut rest = text;
    while let Some(after) = rest.trim_start().strip_prefix(OPEN) {
        let Some(end) = after.find(CLOSE) else { break };
        rest = &after[end + CLOSE.len()..];
    }
    while let Some(before) = rest.trim_end().strip_suffix(CLOSE) {
        let Some(start) = before.rfind(OPEN) else { break };
        rest = &before[..start];
    }
    if rest.len() == text.len() || rest.trim().is_empty() {
        text
    } else {
        rest.trim()
    }
}

async fn messages(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (n, body, request) = match read_request(&shared, body) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let stream = request.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = request.get("model").and_then(Value::as_str).unwrap_or("orchlint-replay").to_string();
    let kind = classify(&headers, &request);
    let (blocks, what, log_kind) = match &kind {
        Kind::Subagent { prompt, agent_id, position } => {
            match answer_subagent(&shared, prompt, agent_id.as_deref(), stream, *position, &offered_tools(&request)) {
                Ok((blocks, what, agent)) => {
                    // The turn that ends the agent carries its result: it waits for
                    // the point where the recording delivered that result.
                    let ends = !blocks.iter().any(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"));
                    let late = if ends { hold_agent(&shared, agent).await } else { None };
                    if ends {
                        shared.delivered.send_modify(|d| d[agent] = true);
                    }
                    (blocks, format!("{what}{}", late.unwrap_or_default()), "subagent")
                }
                Err(what) => {
                    return shared.refuse(n, StatusCode::BAD_REQUEST, "invalid_request_error", what);
                }
            }
        }
        _ if shared.config.upstream.is_some() => return forward(&shared, n, &headers, &uri, body).await,
        Kind::Orchestrator { position } => match shared.config.recording.turns.get(*position) {
            Some(turn) => {
                let offered = offered_tools(&request);
                let offered: Vec<&str> = offered.iter().map(String::as_str).collect();
                let (blocks, withheld) = prepare(&turn.blocks, &offered, shared.config.allow_side_effects);
                let names: Vec<String> = blocks
                    .iter()
                    .map(|b| b.get("name").and_then(Value::as_str).unwrap_or("text").to_string())
                    .collect();
                let late = hold_turn(&shared, *position).await;
                let mut what =
                    format!("turn {} of {}: {}", position + 1, shared.config.recording.turns.len(), names.join(", "));
                if withheld > 0 {
                    what.push_str(&format!(" ({withheld} call{} withheld)", if withheld == 1 { "" } else { "s" }));
                }
                what.push_str(&late.unwrap_or_default());
                (blocks, what, "orchestrator")
            }
            None => {
                let what = format!(
                    "orchestrator request at turn {}: the recording has {} turns",
                    position + 1,
                    shared.config.recording.turns.len()
                );
                return shared.refuse(n, StatusCode::BAD_REQUEST, "invalid_request_error", what);
            }
        },
        Kind::Auxiliary => {
            (vec![json!({"type": "text", "text": "OK"})], "auxiliary request: answered OK".into(), "auxiliary")
        }
    };
    shared.log(LogLine { request: n, kind: log_kind, status: 200, what });
    let message = message(n, &model, blocks);
    if stream {
        sse(&message)
    } else {
        (StatusCode::OK, [("content-type", "application/json")], message.to_string()).into_response()
    }
}

/// The names of the tools a request offers.
fn offered_tools(request: &Value) -> Vec<String> {
    request
        .get("tools")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(|t| t.get("name").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

/// A subagent's turn at `position` of its conversation: its recorded turn
/// (tool calls included, side effects withheld), or, without a recorded
/// subagent transcript, its report as its only turn. Gives the launch index.
fn answer_subagent(
    shared: &Shared,
    prompt: &str,
    agent_id: Option<&str>,
    stream: bool,
    position: usize,
    offered: &[String],
) -> Result<(Vec<Value>, String, usize), String> {
    let agents = &shared.config.recording.agents;
    let mut log = shared.log.lock().unwrap_or_else(|p| p.into_inner());
    let matches: Vec<usize> = (0..agents.len()).filter(|&i| agents[i].prompt.trim() == prompt.trim()).collect();
    let short: String = prompt.chars().take(80).collect();
    let i = if position == 0 {
        // A repeat of a request already answered (the CLI retries, or falls
        // back to a non-streaming request): the same answer again.
        let repeat = matches.iter().copied().find(|&i| match (&log.used[i], agent_id) {
            (Some(used), Some(id)) => used == id,
            (Some(_), None) => !stream,
            _ => false,
        });
        let fresh = matches.iter().copied().find(|&i| log.used[i].is_none());
        let Some(i) = repeat.or(fresh) else {
            return Err(if matches.is_empty() {
                format!("subagent request matches no recorded launch: prompt \"{short}\"")
            } else {
                format!(
                    "subagent request for a launch already answered ({} recorded with this prompt): \"{short}\"",
                    matches.len()
                )
            });
        };
        log.used[i] = Some(agent_id.unwrap_or("-").to_string());
        i
    } else {
        // A later turn of an agent already started: the same launch.
        let started = matches.iter().copied().find(|&i| match (&log.used[i], agent_id) {
            (Some(used), Some(id)) => used == id,
            (Some(_), None) => true,
            _ => false,
        });
        started.ok_or_else(|| {
            format!("subagent request at turn {} of an agent never started: \"{short}\"", position + 1)
        })?
    };
    let a = &agents[i];
    let what = format!("launch {} ({})", a.launch, a.subagent_type);
    let report = || {
        let text = match a.status {
            crate::model::ReturnStatus::Error => format!("(the recorded agent failed) {}", a.report),
            _ => a.report.clone(),
        };
        vec![json!({"type": "text", "text": if text.is_empty() { "(empty report)".to_string() } else { text }})]
    };
    if a.turns.is_empty() {
        return Ok((report(), what, i));
    }
    let Some(turn) = a.turns.get(position) else {
        return Err(format!(
            "subagent request at turn {}: launch {} was recorded with {} turns",
            position + 1,
            a.launch,
            a.turns.len()
        ));
    };
    let offered: Vec<&str> = offered.iter().map(String::as_str).collect();
    let (blocks, withheld) = prepare(&turn.blocks, &offered, shared.config.allow_side_effects);
    let calls = |b: &[Value]| b.iter().filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use")).count();
    if withheld > 0 && calls(&blocks) == 0 {
        // Every call of the turn withheld: the agent would end here with no
        // report; it ends with its recorded report instead.
        return Ok((report(), format!("{what}, turn {}: {withheld} withheld, recorded report given", position + 1), i));
    }
    let what = format!(
        "{what}, turn {} of {}{}",
        position + 1,
        a.turns.len(),
        if withheld > 0 { format!(" ({withheld} withheld)") } else { String::new() }
    );
    Ok((blocks, what, i))
}

/// How long an answer waits for the conversation to reach the point the
/// recording had reached, before it is sent anyway.
pub const HOLD: std::time::Duration = std::time::Duration::from_secs(10);

/// Time given to the CLI to turn agents' answers into task notifications
/// before the orchestrator's turn that follows them in the recording.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(150);

/// Holds an agent's answer until the orchestrator has asked for the turn
/// after which the recording delivered it (a background agent's result comes
/// back at the same point of the conversation). A note when it gave up.
async fn hold_agent(shared: &Shared, agent: usize) -> Option<String> {
    if shared.config.upstream.is_some() {
        return None;
    }
    let needed = shared.config.recording.agents[agent].deliver_after?;
    let mut requested = shared.requested.subscribe();
    let reached = tokio::time::timeout(HOLD, requested.wait_for(|n| *n >= needed)).await.is_ok_and(|r| r.is_ok());
    (!reached).then(|| format!("; sent after {} s without the orchestrator reaching turn {needed}", HOLD.as_secs()))
}

/// Before the orchestrator's turn at `position`: counts it as asked for, then
/// waits until the agents launched earlier whose results the recording
/// delivered right before the following turn have been answered, and lets
/// the CLI take them in, so that they reach the orchestrator together.
async fn hold_turn(shared: &Shared, position: usize) -> Option<String> {
    let turn = position + 1;
    shared.requested.send_modify(|n| *n = (*n).max(turn));
    let agents = &shared.config.recording.agents;
    let pending: Vec<usize> = (0..agents.len())
        .filter(|&i| agents[i].deliver_after == Some(turn) && agents[i].launch_turn.is_some_and(|t| t < turn))
        .collect();
    if pending.is_empty() {
        return None;
    }
    let mut delivered = shared.delivered.subscribe();
    let all = tokio::time::timeout(HOLD, delivered.wait_for(|d| pending.iter().all(|&i| d[i])))
        .await
        .is_ok_and(|r| r.is_ok());
    tokio::time::sleep(SETTLE).await;
    (!all).then(|| format!("; sent after {} s without every agent it waits for", HOLD.as_secs()))
}

/// The recorded blocks as served: the delegation tool named as this client
/// names it, foreground launches kept in the foreground, side effects withheld.
pub fn prepare(blocks: &[Value], offered: &[&str], allow_side_effects: bool) -> (Vec<Value>, usize) {
    let mut out = Vec::with_capacity(blocks.len());
    let mut withheld = 0;
    for b in blocks {
        if b.get("type").and_then(Value::as_str) != Some("tool_use") {
            out.push(b.clone());
            continue;
        }
        let mut b = b.clone();
        let name = b.get("name").and_then(Value::as_str).unwrap_or("").to_string();
        if name == "Task" || name == "Agent" {
            let wanted = if offered.contains(&"Agent") { "Agent" } else { "Task" };
            b["name"] = json!(wanted);
            if wanted == "Agent" && b["input"].get("run_in_background").is_none() {
                // 2.1.x runs agents in the background unless told; a recording
                // that did not say so ran them in the foreground.
                b["input"]["run_in_background"] = json!(false);
            }
            out.push(b);
            continue;
        }
        if allow_side_effects || SAFE_TOOLS.contains(&name.as_str()) {
            out.push(b);
            continue;
        }
        withheld += 1;
        let input = b.get("input").map(|i| i.to_string()).unwrap_or_default();
        let shown: String = input.chars().take(200).collect();
        out.push(json!({
            "type": "text",
            "text": format!("[orchlint serve withheld a recorded {name} call: {shown}; run with --allow-side-effects to execute it]")
        }));
    }
    (out, withheld)
}

/// A Messages API message with these blocks.
fn message(n: usize, model: &str, blocks: Vec<Value>) -> Value {
    let uses_tools = blocks.iter().any(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"));
    let blocks: Vec<Value> = blocks
        .into_iter()
        .map(|b| match b.get("type").and_then(Value::as_str) {
            Some("tool_use") => json!({"type": "tool_use", "id": b["id"], "name": b["name"], "input": b["input"]}),
            _ => json!({"type": "text", "text": b.get("text").cloned().unwrap_or(json!(""))}),
        })
        .collect();
    json!({
        "id": format!("msg_orchlint_{n:06}"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": if uses_tools { "tool_use" } else { "end_turn" },
        "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    })
}

/// The message as a server-sent event stream.
fn sse(message: &Value) -> Response {
    let mut out = String::new();
    let mut event = |name: &str, data: Value| {
        out.push_str("event: ");
        out.push_str(name);
        out.push_str("\ndata: ");
        out.push_str(&data.to_string());
        out.push_str("\n\n");
    };
    let mut start = message.clone();
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    event("message_start", json!({"type": "message_start", "message": start}));
    for (i, b) in message["content"].as_array().into_iter().flatten().enumerate() {
        match b.get("type").and_then(Value::as_str) {
            Some("tool_use") => {
                event(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": i, "content_block": {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}}),
                );
                event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": i, "delta": {"type": "input_json_delta", "partial_json": b["input"].to_string()}}),
                );
            }
            _ => {
                event(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}),
                );
                event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": b["text"]}}),
                );
            }
        }
        event("content_block_stop", json!({"type": "content_block_stop", "index": i}));
    }
    event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": message["stop_reason"], "stop_sequence": null}, "usage": {"output_tokens": 1}}),
    );
    event("message_stop", json!({"type": "message_stop"}));
    (StatusCode::OK, [("content-type", "text/event-stream"), ("cache-control", "no-cache")], out).into_response()
}

/// Forwards a request unchanged to the upstream API and streams its answer back.
async fn forward(shared: &Shared, n: usize, headers: &HeaderMap, uri: &Uri, body: Bytes) -> Response {
    let Some(base) = shared.config.upstream.as_deref() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "orchlint serve: no upstream");
    };
    let url = format!("{}{}", base.trim_end_matches('/'), uri.path_and_query().map_or("/", |p| p.as_str()));
    let mut request = shared.http.post(&url).body(body);
    for (name, value) in headers {
        if matches!(name.as_str(), "host" | "content-length" | "connection" | "accept-encoding") {
            continue;
        }
        request = request.header(name.as_str(), value.as_bytes());
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            shared.log(LogLine { request: n, kind: "forwarded", status, what: format!("POST {url}") });
            let mut builder = Response::builder().status(status);
            if let Some(ct) = response.headers().get("content-type") {
                builder = builder.header("content-type", ct.as_bytes());
            }
            builder.body(Body::from_stream(response.bytes_stream())).unwrap_or_else(|_| {
                error(StatusCode::BAD_GATEWAY, "api_error", "orchlint serve: bad upstream response")
            })
        }
        Err(e) => {
            let what = format!("upstream {url} unreachable: {e}");
            shared.refuse(n, StatusCode::BAD_GATEWAY, "api_error", what)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::user_text;
    use serde_json::json;

    #[test]
    fn a_launch_prompt_is_read_without_the_reminders_around_it() {
        let blocks = json!([{"type": "text", "text": "<system-reminder>\nAttribution…\n</system-reminder>"}, {"type": "text", "text": "Find the tests."}]);
        assert_eq!(user_text(Some(&blocks)), "Find the tests.");
        let one = json!("<system-reminder>a</system-reminder>\nFind the tests.\n<system-reminder>b</system-reminder>");
        assert_eq!(user_text(Some(&one)), "Find the tests.");
        assert_eq!(user_text(Some(&json!("Find <system-reminder> the tests."))), "Find <system-reminder> the tests.");
        let only = json!("<system-reminder>a</system-reminder>");
        assert_eq!(user_text(Some(&only)), "<system-reminder>a</system-reminder>");
    }
}
