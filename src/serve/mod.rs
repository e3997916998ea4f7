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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use axum::http::HeaderMap as RequestHeaders;
use script::Recording;

/// Largest request body accepted (the whole conversation is resent each turn).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// How long a connection may wait for a request head: an idle keep-alive
/// connection, or one that sent part of a head, is closed after this long.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request body may take to arrive in full.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// A body over this size (or of unannounced size) is a large body.
pub const LARGE_BODY: usize = 8 * 1024 * 1024;

/// How many large bodies are read and answered at once; more wait for a turn.
pub const LARGE_BODIES: usize = 2;

/// How long a large body waits for its turn before it gets `529 overloaded_error`.
pub const LARGE_BODY_WAIT: Duration = Duration::from_secs(60);

/// How many connections are served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 256;

/// How many refused requests the summary keeps (the log file has them all).
pub const KEPT_REFUSALS: usize = 100;

/// Longest `what` of a log line, in characters (a request's path can be long).
const MAX_WHAT: usize = 400;

/// The server's bounds on its clients; `Limits::default()` is the constants above.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub large_body: usize,
    pub large_bodies: usize,
    pub large_body_wait: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            large_body: LARGE_BODY,
            large_bodies: LARGE_BODIES,
            large_body_wait: LARGE_BODY_WAIT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

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
    pub limits: Limits,
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

/// What the server keeps of its log once the lines are written: counts and
/// the first refusals.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub requests: usize,
    pub refused: usize,
    /// The first [`KEPT_REFUSALS`] refused requests.
    pub refusals: Vec<LogLine>,
}

struct Shared {
    config: Config,
    log: Mutex<Log>,
    /// Requests numbered so far.
    numbered: AtomicUsize,
    /// Turns for large bodies.
    large_bodies: Arc<Semaphore>,
    http: reqwest::Client,
    /// How many orchestrator turns have been asked for (the highest position + 1).
    requested: tokio::sync::watch::Sender<usize>,
    /// Which recorded launches have had their answer sent.
    delivered: tokio::sync::watch::Sender<Vec<bool>>,
    /// Where refusals are told as they happen ([`Server::watch_refusals`]).
    refusals: Mutex<Option<std::sync::mpsc::Sender<LogLine>>>,
}

#[derive(Default)]
struct Log {
    summary: Summary,
    sink: Option<std::fs::File>,
    /// Launches answered, and by which agent id (for repeats of a request).
    used: Vec<Option<String>>,
}

impl Shared {
    /// Writes a line to the log file as it happens; keeps only counts and the first refusals.
    fn log(&self, mut line: LogLine) {
        if line.what.chars().count() > MAX_WHAT {
            line.what = format!("{}…", line.what.chars().take(MAX_WHAT).collect::<String>());
        }
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = log.sink.as_mut() {
            use std::io::Write;
            if let Ok(text) = serde_json::to_string(&line) {
                let _ = writeln!(f, "{text}");
            }
        }
        log.summary.requests += 1;
        if line.status >= 400 {
            if let Some(tx) = self.refusals.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                let _ = tx.send(line.clone());
            }
            log.summary.refused += 1;
            if log.summary.refusals.len() < KEPT_REFUSALS {
                log.summary.refusals.push(line);
            }
        }
    }

    /// Logs a request it cannot answer and gives the error response.
    fn refuse(&self, n: usize, status: StatusCode, kind: &str, what: String) -> Response {
        let shown: String = what.chars().take(MAX_WHAT).collect();
        let response = error(status, kind, &format!("orchlint serve: {shown}"));
        self.log(LogLine { request: n, kind: "error", status: status.as_u16(), what });
        response
    }

    fn next_request(&self) -> usize {
        self.numbered.fetch_add(1, Ordering::Relaxed) + 1
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
        let limits = config.limits.clone();
        let shared = Arc::new(Shared {
            log: Mutex::new(Log { summary: Summary::default(), sink, used }),
            numbered: AtomicUsize::new(0),
            large_bodies: Arc::new(Semaphore::new(limits.large_bodies.max(1))),
            http: reqwest::Client::new(),
            requested: tokio::sync::watch::Sender::new(0),
            delivered: tokio::sync::watch::Sender::new(vec![false; agent_count]),
            refusals: Mutex::new(None),
            config,
        });
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let handle = std::thread::Builder::new().name("orchlint-serve".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else { return };
                accept(listener, app, &limits, rx).await;
            });
        })?;
        Ok(Server { addr, shared, shutdown: Some(tx), handle: Some(handle) })
    }

    /// The requests refused from now on, as they happen (for a caller that
    /// shows them; the log file and the summary have them anyway).
    pub fn watch_refusals(&self) -> std::sync::mpsc::Receiver<LogLine> {
        let (tx, rx) = std::sync::mpsc::channel();
        *self.shared.refusals.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
        rx
    }

    /// Stops the server and gives the summary of its log.
    pub fn stop(mut self) -> Summary {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        let log = self.shared.log.lock().unwrap_or_else(|p| p.into_inner());
        log.summary.clone()
    }

    /// Waits until the process is interrupted, then stops.
    pub fn wait(self) -> Summary {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
        if let Ok(rt) = rt {
            rt.block_on(async {
                let _ = tokio::signal::ctrl_c().await;
            });
        }
        self.stop()
    }
}

/// How long a stopping server gives the requests in progress to finish.
const GRACE: Duration = Duration::from_secs(5);

/// Accepts connections until told to stop, at most `max_connections` at
/// once, each closed when no request head arrives within the header timeout.
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &Limits,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let max = limits.max_connections.max(1);
    let connections = Arc::new(Semaphore::new(max));
    let (stopping, _) = tokio::sync::watch::channel(false);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => break,
            p = connections.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let stream = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors, or a connection reset before it was taken.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header_timeout);
        let mut stopping = stopping.subscribe();
        tokio::spawn(async move {
            let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(GRACE, connection).await;
                }
            }
            drop(permit);
        });
    }
    let _ = stopping.send(true);
    let _ = tokio::time::timeout(GRACE, connections.acquire_many(max as u32)).await;
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/messages", post(messages).fallback(wrong_method))
        .route("/v1/messages/count_tokens", post(count_tokens).fallback(wrong_method))
        .fallback(fallback)
        .layer(axum::middleware::from_fn(catch_panic))
        .with_state(shared)
}

/// A handler that panics gives a 500 `api_error` instead of a dropped connection.
async fn catch_panic(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match Unwind(Box::pin(next.run(request))).await {
        Ok(response) => response,
        Err(()) => error(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "orchlint serve: internal error (a bug)"),
    }
}

/// A future whose panic is caught and given as `Err`.
struct Unwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for Unwind<F> {
    type Output = Result<F::Output, ()>;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(out)) => std::task::Poll::Ready(Ok(out)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
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

async fn wrong_method(State(shared): State<Arc<Shared>>, method: Method, uri: Uri) -> Response {
    let n = shared.next_request();
    let mut response = shared.refuse(
        n,
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        format!("{method} {}: only POST is served here", uri.path()),
    );
    response.headers_mut().insert("allow", axum::http::HeaderValue::from_static("POST"));
    response
}

/// A request's body, read within the limits: its size, its time, and a turn
/// for large bodies (held until the answer is made).
struct ReadBody {
    bytes: Bytes,
    _turn: Option<OwnedSemaphorePermit>,
}

/// Reads a body within the limits, or gives the error response (logged).
async fn read_body(shared: &Shared, n: usize, headers: &HeaderMap, body: Body) -> Result<ReadBody, Box<Response>> {
    let limits = &shared.config.limits;
    let announced =
        headers.get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || format!("the body is over {} MiB", MAX_BODY / (1024 * 1024));
    if announced.is_some_and(|len| len > MAX_BODY as u64) {
        return Err(Box::new(shared.refuse(n, StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", too_large())));
    }
    let turn = if announced.is_none_or(|len| len > limits.large_body as u64) {
        let turn = tokio::time::timeout(limits.large_body_wait, shared.large_bodies.clone().acquire_owned()).await;
        match turn {
            Ok(Ok(permit)) => Some(permit),
            _ => {
                let what = format!("{} large bodies are being read; try again", limits.large_bodies);
                let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return Err(Box::new(shared.refuse(n, status, "overloaded_error", what)));
            }
        }
    } else {
        None
    };
    match tokio::time::timeout(limits.body_timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => Ok(ReadBody { bytes, _turn: turn }),
        Ok(Err(e)) => {
            let over = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            Err(Box::new(if over {
                shared.refuse(n, StatusCode::PAYLOAD_TOO_LARGE, "request_too_large", too_large())
            } else {
                shared.refuse(n, StatusCode::BAD_REQUEST, "invalid_request_error", format!("cannot read the body: {e}"))
            }))
        }
        Err(_) => Err(Box::new(shared.refuse(
            n,
            StatusCode::REQUEST_TIMEOUT,
            "timeout_error",
            format!("the body did not arrive within {} s", limits.body_timeout.as_secs()),
        ))),
    }
}

/// The request body as a JSON object, with its request number; or the
/// error response (logged) for a body that is too large, too slow, cut
/// short or not a JSON object.
async fn read_request(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<(usize, ReadBody, Value), Box<Response>> {
    let n = shared.next_request();
    let body = read_body(shared, n, headers, body).await?;
    match parse_request(&body.bytes) {
        Ok(v) => Ok((n, body, v)),
        Err(what) => {
            Err(Box::new(shared.refuse(n, StatusCode::BAD_REQUEST, "invalid_request_error", what.to_string())))
        }
    }
}

/// A request body as a JSON object, or what is wrong with it.
pub fn parse_request(body: &[u8]) -> Result<Value, BadBody> {
    match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(BadBody::NotAnObject),
        Err(e) => Err(BadBody::NotJson(e)),
    }
}

/// A request body that is no JSON object.
#[derive(Debug, thiserror::Error)]
pub enum BadBody {
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("the body is not JSON: {0}")]
    NotJson(serde_json::Error),
}

async fn count_tokens(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri, body: Body) -> Response {
    let (n, body, request) = match read_request(&shared, &headers, body).await {
        Ok(r) => r,
        Err(response) => return *response,
    };
    if shared.config.upstream.is_some() {
        return forward(&shared, n, &headers, &uri, body.bytes.clone()).await;
    }
    // A rough count: a token per 4 bytes of the messages and system prompt.
    let size = request.get("messages").map_or(0, json_len) + request.get("system").map_or(0, json_len);
    shared.log(LogLine { request: n, kind: "count-tokens", status: 200, what: format!("{} bytes", size) });
    (StatusCode::OK, [("content-type", "application/json")], json!({"input_tokens": size / 4 + 1}).to_string())
        .into_response()
}

/// The length of a value written as JSON, without writing it out.
fn json_len(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
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

async fn messages(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri, body: Body) -> Response {
    let (n, body, request) = match read_request(&shared, &headers, body).await {
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
        _ if shared.config.upstream.is_some() => return forward(&shared, n, &headers, &uri, body.bytes.clone()).await,
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
            if let Some(block) = b.as_object_mut() {
                block.insert("name".into(), json!(wanted));
            }
            if wanted == "Agent" {
                // 2.1.x runs agents in the background unless told; a recording
                // that did not say so ran them in the foreground. An input
                // that is not an object is served as recorded.
                if let Some(input) = b.get_mut("input").and_then(Value::as_object_mut) {
                    input.entry("run_in_background").or_insert(json!(false));
                }
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
