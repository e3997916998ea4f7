//! The run as the model saw it: orchestrator events in order, launches and
//! their returns, genuine user messages, workflow runs and phases.

pub mod run;
pub mod text;

use std::sync::Arc;

use serde::Serialize;

use crate::diagnostic::{Culprit, Place};
use crate::workflow::split_type;

/// Which transcript format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A session file under `~/.claude/projects/`.
    Session,
    /// `claude -p --output-format stream-json --verbose` output.
    StreamJson,
}

/// Where an event comes from: file, 1-based line, byte offset of the line.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: Arc<str>,
    pub line: u32,
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    /// Length of the line in bytes, without its newline (0 when unknown).
    pub len: u32,
}

impl Source {
    /// The start of a file: for findings about a whole file.
    pub fn start_of(file: Arc<str>) -> Source {
        Source { file, line: 1, offset: 0, len: 0 }
    }

    pub fn place(&self, culprit: Culprit) -> Place {
        Place { file: self.file.clone(), line: self.line, offset: self.offset, culprit }
    }
}

/// The input of a tool call, reduced to the fields the checks read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subagent_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub run_in_background: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    /// Items of a todo list call (TodoWrite `todos[].content`, TaskCreate `subject`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub todo_items: Vec<String>,
}

/// How a user-role entry came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserKind {
    /// Typed by the person.
    Genuine,
    /// A slash-command invocation (`<command-name>`).
    Command,
    /// Harness-injected text (`isMeta`, expanded command bodies, skill bodies).
    Meta,
    /// A background task notification.
    Notification,
    /// `<system-reminder>`, hook output, local command output, caveats.
    System,
    /// `[Request interrupted by user…]`.
    Interrupt,
    /// A compaction summary.
    CompactSummary,
}

/// What happened.
#[derive(Debug, Clone)]
pub enum EventKind {
    /// A text block of an orchestrator API message.
    Text { message: u32, text: String },
    /// A tool_use block of an orchestrator API message; launches included.
    ToolCall { message: u32, id: String, name: String, input: ToolInput },
    /// A tool_result reaching the orchestrator.
    ToolResult { tool_use_id: String, is_error: bool, async_launch: bool },
    /// A background agent's return (task notification delivered).
    Notification { tool_use_id: Option<String>, task_id: Option<String>, status: Option<String> },
    /// A user-role entry that is not a tool result.
    User { kind: UserKind, text: String },
    /// A slash-command invocation.
    Command { name: String, args: String },
    /// A tool call a PreToolUse hook denied before it ran (its result says
    /// so), or that denial's result: the call was not made, and no rule
    /// counts it.
    Denied { tool_use_id: String, name: String, reason: String },
}

/// One orchestrator event.
#[derive(Debug, Clone)]
pub struct Event {
    pub source: Source,
    pub kind: EventKind,
}

/// How an agent launch ended, as far as the transcript tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReturnStatus {
    Completed,
    Error,
    /// Launched in the background and never delivered.
    Outstanding,
    /// No result at all (interrupted, or the transcript ends).
    Missing,
}

impl ReturnStatus {
    /// How a launch's end is said in every report: `returned`, `returned an
    /// error`, `never returned`, `no result`.
    pub fn said(self) -> &'static str {
        match self {
            ReturnStatus::Completed => "returned",
            ReturnStatus::Error => "returned an error",
            ReturnStatus::Outstanding => "never returned",
            ReturnStatus::Missing => "no result",
        }
    }
}

/// A call of the delegation tool by the orchestrator.
#[derive(Debug, Clone)]
pub struct Launch {
    pub tool_use_id: String,
    /// Index of the ToolCall event.
    pub event: usize,
    pub message: u32,
    /// `subagent_type` as written.
    pub raw_type: String,
    pub namespace: Option<String>,
    /// The type without namespace.
    pub agent_type: String,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub background: bool,
    pub agent_id: Option<String>,
    /// Index of the event at which the result reached the orchestrator.
    pub returned_at: Option<usize>,
    pub status: ReturnStatus,
    /// The agent's report as the orchestrator received it.
    pub output: String,
    /// The subagent transcript attached to this launch, if found.
    pub transcript: Option<SubagentTranscript>,
}

impl Launch {
    /// A launch as its call makes it: the type split into namespace and
    /// (normalized) agent type, no result yet (`Missing`), no agent id, no
    /// subagent transcript. Ingest and replay's rebuilt sessions both make
    /// their launches here.
    pub fn new(
        tool_use_id: String,
        event: usize,
        message: u32,
        raw_type: String,
        description: Option<String>,
        prompt: Option<String>,
        background: bool,
    ) -> Launch {
        let (namespace, agent_type) = split_type(&raw_type);
        Launch {
            tool_use_id,
            event,
            message,
            namespace: namespace.map(str::to_string),
            agent_type: normalize_type(agent_type),
            raw_type,
            description,
            prompt,
            background,
            agent_id: None,
            returned_at: None,
            status: ReturnStatus::Missing,
            output: String::new(),
            transcript: None,
        }
    }
}

/// `subagent_type` compared loosely: Claude Code matches it case- and
/// separator-insensitively (2.1.140), so `ML Explorer` is `ml-explorer`.
pub fn normalize_type(raw: &str) -> String {
    let raw = raw.trim();
    // Most types are written normalized already: copied whole.
    if raw.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase() && b != b' ' && b != b'_') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c == ' ' || c == '_' {
            out.push('-');
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A subagent transcript found for a launch.
#[derive(Debug, Clone, Serialize)]
pub struct SubagentTranscript {
    /// The file, or the session file for inline sidechains and stream lines.
    pub file: String,
    /// Whether the subagent's entries are inside the session file itself.
    pub inline: bool,
    /// Number of entries of the subagent.
    pub entries: u32,
    /// Tools the subagent called, in first-use order.
    pub tools: Vec<String>,
    /// The subagent's own tool calls, in order (for `agent-tool`).
    #[serde(skip)]
    pub calls: Vec<AgentCall>,
}

/// A tool call a subagent made, reduced to what `agent-tool` judges.
#[derive(Debug, Clone)]
pub struct AgentCall {
    /// The line of the call in the subagent transcript (or the session file).
    pub source: Source,
    pub id: String,
    pub name: String,
    /// A shell tool's command line.
    pub command: Option<String>,
    /// The file a file tool works on.
    pub file_path: Option<String>,
    /// The reason a PreToolUse hook gave when it denied the call (its
    /// result says so): the call was not made.
    pub denied: Option<String>,
}

/// A parsed transcript: one session's orchestrator events with their launches.
#[derive(Debug, Clone)]
pub struct Session {
    pub file: Arc<str>,
    pub format: Format,
    pub id: Option<String>,
    pub version: Option<String>,
    /// Orchestrator events in file order.
    pub events: Vec<Event>,
    pub launches: Vec<Launch>,
    /// Entries (user/assistant lines) read, orchestrator and subagent.
    pub entries: u32,
    /// The tools the orchestrator was offered, where the transcript says
    /// (stream-json `init`); session files do not.
    pub offered_tools: Option<Vec<String>>,
}

impl Session {
    /// A session with nothing in it.
    pub fn empty(file: Arc<str>) -> Session {
        Session {
            file,
            format: Format::Session,
            id: None,
            version: None,
            events: Vec::new(),
            launches: Vec::new(),
            entries: 0,
            offered_tools: None,
        }
    }

    /// Whether the orchestrator was offered a tool: `None` when the transcript does not say.
    pub fn offered(&self, tool: &str) -> Option<bool> {
        self.offered_tools.as_ref().map(|t| t.iter().any(|o| o == tool))
    }

    pub fn launch_by_event(&self, event: usize) -> Option<usize> {
        // Launches are created in event order: binary search by event index.
        self.launches.binary_search_by_key(&event, |l| l.event).ok()
    }

    /// Whether the session holds any conversation at all.
    pub fn has_conversation(&self) -> bool {
        !self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_type;
    use proptest::prelude::*;

    /// The loose comparison, char by char.
    fn by_chars(raw: &str) -> String {
        raw.trim()
            .chars()
            .flat_map(|c| if c == ' ' || c == '_' { vec!['-'] } else { c.to_lowercase().collect() })
            .collect()
    }

    proptest! {
        #[test]
        fn a_type_written_normalized_is_copied_as_the_char_by_char_reading_gives(raw in "[ a-zA-Z_:É-]{0,24}") {
            prop_assert_eq!(normalize_type(&raw), by_chars(&raw));
        }
    }
}
