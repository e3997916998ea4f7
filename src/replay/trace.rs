//! The canonical trace: a run as a sequence of steps, one JSON object a line,
//! with normalized ids, no timestamps and no paths of ours.
//!
//! A trace is both what `replay` writes and something it reads back: every
//! fact the rules look at is in it, so a trace replays to itself and its
//! verdicts are the recording's.
//!
//! ```text
//! {"trace":1,"format":"session"}
//! {"step":1,"kind":"command","name":"/ml-flow:ml-flow","args":"add a feature"}
//! {"step":2,"kind":"decision","decision":1,"blocks":[{"text":"## Phase 1 of 12: …"},{"call":"t1","tool":"Task","launch":1,"input":{…}}]}
//! {"step":3,"kind":"return","launch":1,"agent":"ml-flow:ml-explorer","via":"result","status":"completed","response":"…"}
//! {"step":4,"kind":"decision","decision":2,"phase":1,"saw":[1],"blocks":[…]}
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cassette::agent_report;
use crate::ingest::transcript::short_error;
use crate::model::run::Run;
use crate::model::{Event, EventKind, Format, Launch, ReturnStatus, Session, Source, ToolInput, UserKind};

/// The version of the trace format.
pub const VERSION: u32 = 1;

/// The first line of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The trace format version.
    pub trace: u32,
    /// The transcript format the run was recorded in: `stream-json` does not
    /// record the prompt, so its run starts at the first sign of the workflow.
    pub format: Format,
}

/// A run as canonical steps.
#[derive(Debug, Clone)]
pub struct Trace {
    pub header: Header,
    pub steps: Vec<Step>,
}

/// One step of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// 1-based position in the trace.
    pub step: usize,
    #[serde(flatten)]
    pub kind: StepKind,
    /// Where the step was recorded (not part of the trace).
    #[serde(skip)]
    pub source: Option<Source>,
    /// The step of the recorded trace it replays (not part of the trace).
    #[serde(skip)]
    pub origin: usize,
}

/// How a launch's result reached the orchestrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// The launch's own tool result.
    Result,
    /// A background task notification.
    Notification,
    /// The result of another tool call that fetched it (`TaskOutput`).
    Retrieval,
}

/// What a step is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum StepKind {
    /// A slash-command invocation.
    Command { name: String, args: String },
    /// A user-role message that is not a tool result.
    User { who: UserKind, text: Arc<str> },
    /// An API message of the orchestrator: its text and tool calls.
    Decision {
        decision: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phase: Option<u8>,
        /// The launches whose results reached the orchestrator since its
        /// previous decision: the results this decision may depend on.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        saw: Vec<usize>,
        blocks: Vec<Block>,
    },
    /// The result of a tool call that is not an agent's return.
    Result {
        call: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        error: bool,
        /// A background launch's acknowledgement.
        #[serde(default, rename = "async", skip_serializing_if = "std::ops::Not::not")]
        async_launch: bool,
    },
    /// An agent's result reaching the orchestrator.
    Return {
        launch: usize,
        agent: String,
        via: Via,
        /// The delivering call, for a retrieval.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<String>,
        status: ReturnStatus,
        /// The agent's own report, without the harness's framing.
        response: Arc<str>,
    },
    /// A task notification matching no launch.
    Notification {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
    },
}

/// A content block of a decision.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The launch number, for a call of the delegation tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<usize>,
    /// Whether the launch ran in the background.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub background: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Arc<ToolInput>>,
    #[serde(skip)]
    pub source: Option<Source>,
}

impl Step {
    /// The step as its canonical JSON line (without newline).
    pub fn line(&self) -> String {
        serde_json::to_string(self).expect("a step serializes")
    }
}

impl Trace {
    /// The trace of a session: its first workflow run's phases label the
    /// decisions; every event of the session is in it.
    pub fn of(session: &Session, runs: &[Run]) -> Trace {
        let mut calls = CallIds::default();
        let mut by_message: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, ev) in session.events.iter().enumerate() {
            if let EventKind::Text { message, .. } | EventKind::ToolCall { message, .. } = &ev.kind {
                by_message.entry(*message).or_default().push(i);
            }
        }
        let mut returns_at: HashMap<usize, Vec<usize>> = HashMap::new();
        for (l, launch) in session.launches.iter().enumerate() {
            if let Some(at) = launch.returned_at {
                returns_at.entry(at).or_default().push(l);
            }
        }
        let phase_at = |ev: usize| runs.iter().find_map(|r| r.phase_at(ev));
        let mut steps: Vec<Step> = Vec::new();
        let mut decisions = 0u32;
        let mut saw: Vec<usize> = Vec::new();
        let mut done: std::collections::HashSet<u32> = std::collections::HashSet::new();
        let push = |steps: &mut Vec<Step>, kind: StepKind, source: &Source| {
            let step = steps.len() + 1;
            steps.push(Step { step, kind, source: Some(source.clone()), origin: step });
        };
        let return_step = |l: usize, via: Via, call: Option<String>| {
            let launch = &session.launches[l];
            StepKind::Return {
                launch: l + 1,
                agent: launch.raw_type.clone(),
                via,
                call,
                status: launch.status,
                response: Arc::from(agent_report(&launch.output)),
            }
        };
        for (i, ev) in session.events.iter().enumerate() {
            match &ev.kind {
                EventKind::Text { message, .. } | EventKind::ToolCall { message, .. } => {
                    if !done.insert(*message) {
                        continue;
                    }
                    decisions += 1;
                    saw.sort_unstable();
                    let members = &by_message[message];
                    let blocks = members.iter().map(|&e| block(session, e, &mut calls)).collect::<Vec<_>>();
                    let kind = StepKind::Decision {
                        decision: decisions,
                        phase: phase_at(i),
                        saw: std::mem::take(&mut saw),
                        blocks,
                    };
                    push(&mut steps, kind, &ev.source);
                    // Results that came before their call, or calls without an
                    // id: the launch returned at its own event.
                    for &e in members {
                        for &l in returns_at.get(&e).into_iter().flatten() {
                            push(&mut steps, return_step(l, Via::Result, None), &session.events[e].source);
                            saw.push(l + 1);
                        }
                    }
                }
                EventKind::ToolResult { tool_use_id, is_error, async_launch } => match returns_at.get(&i) {
                    Some(ls) => {
                        for &l in ls {
                            let own = session.launches[l].tool_use_id == *tool_use_id;
                            let (via, call) =
                                if own { (Via::Result, None) } else { (Via::Retrieval, Some(calls.get(tool_use_id))) };
                            push(&mut steps, return_step(l, via, call), &ev.source);
                            saw.push(l + 1);
                        }
                    }
                    None => push(
                        &mut steps,
                        StepKind::Result {
                            call: calls.get(tool_use_id),
                            error: *is_error,
                            async_launch: *async_launch,
                        },
                        &ev.source,
                    ),
                },
                EventKind::Notification { status, .. } => match returns_at.get(&i) {
                    Some(ls) => {
                        for &l in ls {
                            push(&mut steps, return_step(l, Via::Notification, None), &ev.source);
                            saw.push(l + 1);
                        }
                    }
                    None => push(&mut steps, StepKind::Notification { status: status.clone() }, &ev.source),
                },
                EventKind::User { kind, text } => {
                    push(&mut steps, StepKind::User { who: *kind, text: Arc::from(text.as_str()) }, &ev.source)
                }
                EventKind::Command { name, args } => {
                    push(&mut steps, StepKind::Command { name: name.clone(), args: args.clone() }, &ev.source)
                }
                // A call a hook denied was not made: the trace has no step of it.
                EventKind::Denied { .. } => {}
            }
        }
        Trace { header: Header { trace: VERSION, format: session.format }, steps }
    }

    /// The trace as JSON Lines: the header, then a step a line.
    pub fn to_jsonl(&self) -> String {
        let mut out = serde_json::to_string(&self.header).expect("a header serializes");
        out.push('\n');
        for step in &self.steps {
            out.push_str(&step.line());
            out.push('\n');
        }
        out
    }

    /// Reads a trace file. Errors name the line.
    pub fn parse(text: &str, file: &Arc<str>) -> Result<Trace, TraceError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let Some((_, first)) = lines.next() else {
            return Err(TraceError { line: 1, message: "the trace is empty: no header line".into() });
        };
        let header: Header = serde_json::from_str(first)
            .map_err(|e| TraceError { line: 1, message: format!("not a trace header: {}", short_error(&e)) })?;
        if header.trace != VERSION {
            return Err(TraceError {
                line: 1,
                message: format!("trace version {}; this orchlint reads version {VERSION}", header.trace),
            });
        }
        let mut offset = first.len() as u64 + 1;
        let mut steps = Vec::new();
        for (i, line) in lines {
            let number = i as u32 + 1;
            let mut step: Step = serde_json::from_str(line)
                .map_err(|e| TraceError { line: number, message: format!("not a trace step: {}", short_error(&e)) })?;
            if step.step != steps.len() + 1 {
                return Err(TraceError {
                    line: number,
                    message: format!("step {} out of sequence: expected step {}", step.step, steps.len() + 1),
                });
            }
            let source = Source { file: file.clone(), line: number, offset, len: line.len() as u32 };
            if let StepKind::Decision { blocks, .. } = &mut step.kind {
                for b in blocks.iter_mut() {
                    b.source = Some(source.clone());
                }
            }
            step.source = Some(source);
            step.origin = step.step;
            offset += line.len() as u64 + 1;
            steps.push(step);
        }
        Ok(Trace { header, steps })
    }

    /// Rebuilds a session from the trace, for the checks: events carry the
    /// sources the steps were recorded at (or the trace's own lines).
    pub fn to_session(&self, file: &Arc<str>) -> Session {
        let mut session = Session::empty(file.clone());
        session.format = self.header.format;
        let mut launch_of_number: HashMap<usize, usize> = HashMap::new();
        let fallback = |step: &Step| Source { file: file.clone(), line: step.step as u32 + 1, offset: 0, len: 0 };
        for step in &self.steps {
            let source = step.source.clone().unwrap_or_else(|| fallback(step));
            let mut push = |kind: EventKind, source: Source| {
                session.events.push(Event { source, kind });
                session.events.len() - 1
            };
            match &step.kind {
                StepKind::Command { name, args } => {
                    push(EventKind::Command { name: name.clone(), args: args.clone() }, source);
                }
                StepKind::User { who, text } => {
                    push(EventKind::User { kind: *who, text: text.to_string() }, source);
                }
                StepKind::Decision { decision, blocks, .. } => {
                    for b in blocks {
                        let at = b.source.clone().unwrap_or_else(|| source.clone());
                        if let Some(text) = &b.text {
                            push(EventKind::Text { message: *decision, text: text.to_string() }, at);
                            continue;
                        }
                        let id = b.call.clone().unwrap_or_default();
                        let name = b.tool.clone().unwrap_or_default();
                        let input = b.input.as_deref().cloned().unwrap_or_default();
                        let ev = push(EventKind::ToolCall { message: *decision, id: id.clone(), name, input }, at);
                        if let Some(number) = b.launch {
                            let input = b.input.as_deref();
                            let raw_type = input.and_then(|i| i.subagent_type.clone()).unwrap_or_default();
                            let mut launch = Launch::new(
                                id,
                                ev,
                                *decision,
                                raw_type,
                                input.and_then(|i| i.description.clone()),
                                input.and_then(|i| i.prompt.clone()),
                                b.background,
                            );
                            if b.background {
                                launch.status = ReturnStatus::Outstanding;
                            }
                            session.launches.push(launch);
                            launch_of_number.insert(number, session.launches.len() - 1);
                        }
                    }
                }
                StepKind::Result { call, error, async_launch } => {
                    push(
                        EventKind::ToolResult {
                            tool_use_id: call.clone(),
                            is_error: *error,
                            async_launch: *async_launch,
                        },
                        source,
                    );
                }
                StepKind::Return { launch, via, call, status, response, .. } => {
                    let l = launch_of_number.get(launch).copied();
                    let own = l.map(|l| session.launches[l].tool_use_id.clone()).unwrap_or_default();
                    let kind = match via {
                        Via::Result => EventKind::ToolResult {
                            tool_use_id: own,
                            is_error: *status == ReturnStatus::Error,
                            async_launch: false,
                        },
                        Via::Retrieval => EventKind::ToolResult {
                            tool_use_id: call.clone().unwrap_or_default(),
                            is_error: false,
                            async_launch: false,
                        },
                        Via::Notification => EventKind::Notification {
                            tool_use_id: Some(own),
                            task_id: None,
                            status: Some(if *status == ReturnStatus::Error { "failed" } else { "completed" }.into()),
                        },
                    };
                    let ev = push(kind, source);
                    if let Some(l) = l {
                        let launch = &mut session.launches[l];
                        if launch.returned_at.is_none() {
                            launch.returned_at = Some(ev);
                            launch.status = *status;
                            launch.output = response.to_string();
                        }
                    }
                }
                StepKind::Notification { status } => {
                    push(EventKind::Notification { tool_use_id: None, task_id: None, status: status.clone() }, source);
                }
            }
        }
        session
    }

    /// The decision steps, by index into `steps`.
    pub fn decisions(&self) -> impl Iterator<Item = usize> + '_ {
        self.steps.iter().enumerate().filter(|(_, s)| matches!(s.kind, StepKind::Decision { .. })).map(|(i, _)| i)
    }

    /// The launch blocks, in order: (step index, block).
    pub fn launches(&self) -> impl Iterator<Item = (usize, &Block)> + '_ {
        self.steps.iter().enumerate().flat_map(|(i, s)| match &s.kind {
            StepKind::Decision { blocks, .. } => {
                blocks.iter().filter(|b| b.launch.is_some()).map(move |b| (i, b)).collect::<Vec<_>>()
            }
            _ => Vec::new(),
        })
    }
}

/// A trace file that cannot be read.
#[derive(Debug, Clone)]
pub struct TraceError {
    pub line: u32,
    pub message: String,
}

/// Whether a file's first line is a trace header.
pub fn is_trace(first_line: &[u8]) -> bool {
    let line = crate::ingest::lines::trim_ascii(first_line);
    line.starts_with(b"{\"trace\":")
}

/// Tool-call ids in order of appearance: `t1`, `t2`, …
#[derive(Default)]
struct CallIds {
    ids: HashMap<String, String>,
    next: usize,
}

impl CallIds {
    fn get(&mut self, id: &str) -> String {
        if id.is_empty() {
            self.next += 1;
            return format!("t{}", self.next);
        }
        if let Some(t) = self.ids.get(id) {
            return t.clone();
        }
        self.next += 1;
        let t = format!("t{}", self.next);
        self.ids.insert(id.to_string(), t.clone());
        t
    }
}

fn block(session: &Session, e: usize, calls: &mut CallIds) -> Block {
    let ev = &session.events[e];
    match &ev.kind {
        EventKind::Text { text, .. } => {
            Block { text: Some(Arc::from(text.as_str())), source: Some(ev.source.clone()), ..Block::default() }
        }
        EventKind::ToolCall { id, name, input, .. } => {
            let launch = session.launch_by_event(e);
            let mut input = input.clone();
            // The launch keeps its prompt; the event does not.
            if let Some(l) = launch {
                input.prompt = session.launches[l].prompt.clone();
            }
            Block {
                call: Some(calls.get(id)),
                tool: Some(name.clone()),
                launch: launch.map(|l| l + 1),
                background: launch.is_some_and(|l| session.launches[l].background),
                input: Some(Arc::new(input)),
                source: Some(ev.source.clone()),
                ..Block::default()
            }
        }
        // Decisions are made of text and tool calls only.
        _ => Block { source: Some(ev.source.clone()), ..Block::default() },
    }
}
