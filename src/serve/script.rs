//! What `serve` answers with: a recorded session's orchestrator turns (its
//! API messages, content blocks as recorded) and its agents' reports.

use serde_json::{json, Value};

use crate::cassette::{agent_report, Cassette};
use crate::engine::Checked;
use crate::ingest::{blocks, subagent};
use crate::model::{EventKind, ReturnStatus};

/// One recorded orchestrator API message: its content blocks.
#[derive(Debug, Clone)]
pub struct Turn {
    pub blocks: Vec<Value>,
}

/// One recorded launch and the report its agent gave.
#[derive(Debug, Clone)]
pub struct AgentAnswer {
    /// 1-based launch number.
    pub launch: usize,
    pub subagent_type: String,
    pub prompt: String,
    pub background: bool,
    pub status: ReturnStatus,
    pub report: String,
    /// How many orchestrator turns the recording had made when this agent's
    /// result reached the orchestrator (`None`: it never did, or unknown).
    pub deliver_after: Option<usize>,
    /// The 1-based orchestrator turn that made the launch.
    pub launch_turn: Option<usize>,
    /// The agent's own API messages, from its transcript file (empty when
    /// there is none: the report is then its only turn).
    pub turns: Vec<Turn>,
}

/// A recorded session as `serve` replays it.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    pub turns: Vec<Turn>,
    pub agents: Vec<AgentAnswer>,
    /// The genuine user prompts, in order: what `record` types.
    pub prompts: Vec<String>,
}

/// A transcript that cannot be served.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RecordingError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] crate::ingest::discover::InputError),
    #[error("{0}: stream-json output does not record the user's prompts; give the session file")]
    StreamJson(String),
    #[error("{0}: no session found")]
    NoSession(String),
    #[error("{0}: {1} sessions; name one session file")]
    Several(String, usize),
}

impl Recording {
    /// The recording of a checked session: text and launches as ingested,
    /// tool calls whole, read back by ingest from the lines they were
    /// recorded at (the session keeps only the input fields the checks
    /// read). The workflow's command is typed by its first name
    /// (`/ml-flow:ml-flow`), as plugin commands are named today, even where
    /// an older client recorded another.
    pub fn of(c: &Checked, wfs: &crate::workflow::Workflows) -> Recording {
        let s = &c.session;
        let mut order: Vec<u32> = Vec::new();
        let mut blocks: std::collections::HashMap<u32, Vec<Value>> = std::collections::HashMap::new();
        let mut recorded = blocks::Reader::default();
        let mut prompts = Vec::new();
        let mut turns_before = vec![0usize; s.events.len()];
        for (i, ev) in s.events.iter().enumerate() {
            turns_before[i] = order.len();
            match &ev.kind {
                EventKind::Text { message, text } => {
                    if !blocks.contains_key(message) {
                        order.push(*message);
                    }
                    blocks.entry(*message).or_default().push(json!({"type": "text", "text": text}));
                }
                EventKind::ToolCall { message, id, name, input } => {
                    if !blocks.contains_key(message) {
                        order.push(*message);
                    }
                    let raw = recorded
                        .tool_use(&ev.source, id)
                        .map(Value::Object)
                        .unwrap_or_else(|| json!({"type": "tool_use", "id": id, "name": name, "input": input}));
                    blocks.entry(*message).or_default().push(raw);
                }
                EventKind::Command { name, args } => {
                    let name = match wfs.for_command(name) {
                        Some(w) => &wfs[w].commands[0],
                        None => name,
                    };
                    prompts.push(if args.is_empty() { name.clone() } else { format!("{name} {args}") })
                }
                EventKind::User { kind: crate::model::UserKind::Genuine, text } => prompts.push(text.clone()),
                _ => {}
            }
        }
        let turns = order.iter().map(|m| Turn { blocks: blocks.remove(m).unwrap_or_default() }).collect();
        let agents = s
            .launches
            .iter()
            .enumerate()
            .map(|(i, l)| AgentAnswer {
                launch: i + 1,
                subagent_type: l.raw_type.clone(),
                prompt: l.prompt.clone().unwrap_or_default(),
                background: l.background,
                status: l.status,
                report: agent_report(&l.output),
                deliver_after: l.returned_at.and_then(|r| turns_before.get(r).copied()),
                launch_turn: order.iter().position(|m| *m == l.message).map(|t| t + 1),
                turns: l
                    .transcript
                    .as_ref()
                    .filter(|t| !t.inline)
                    .map(|t| agent_turns(std::path::Path::new(&t.file)))
                    .unwrap_or_default(),
            })
            .collect();
        Recording { turns, agents, prompts }
    }

    /// The recording of the one session of a transcript (file or folder).
    pub fn load(path: &std::path::Path, wfs: &crate::workflow::Workflows) -> Result<Recording, RecordingError> {
        // The model's turns as it made them: a call a hook denied is served too.
        let opts = crate::engine::Options { keep_denied_calls: true, ..crate::engine::Options::default() };
        let checked = crate::engine::sessions_at(path, wfs, &opts, |c| c.session.has_conversation())?;
        let shown = path.display().to_string();
        match checked.as_slice() {
            [one] if one.session.format == crate::model::Format::StreamJson => Err(RecordingError::StreamJson(shown)),
            [one] => Ok(Recording::of(one, wfs)),
            [] => Err(RecordingError::NoSession(shown)),
            many => Err(RecordingError::Several(shown, many.len())),
        }
    }

    /// Only the agents, from a cassette.
    pub fn of_cassette(c: &Cassette) -> Recording {
        let agents = c
            .entries
            .iter()
            .map(|e| AgentAnswer {
                launch: e.launch,
                subagent_type: e.subagent_type.clone(),
                prompt: e.prompt.clone().unwrap_or_default(),
                background: e.background,
                status: e.status,
                report: e.response.clone(),
                deliver_after: None,
                launch_turn: None,
                turns: Vec::new(),
            })
            .collect();
        Recording { turns: Vec::new(), agents, prompts: Vec::new() }
    }
}

/// A subagent transcript's API messages as `serve` sends them.
fn agent_turns(path: &std::path::Path) -> Vec<Turn> {
    let turns = subagent::assistant_turns(path);
    turns.into_iter().map(|blocks| Turn { blocks: blocks.into_iter().map(Value::Object).collect() }).collect()
}
