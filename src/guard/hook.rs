//! The JSON a Claude Code hook gets on standard input and gives back
//! (`../shared/spec/hooks-protocol.md`): every field optional, read leniently,
//! so a version that adds or drops a field is still understood.

use serde_json::{json, Value};

/// A hook event's input: the fields the guard reads.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
    pub cwd: Option<String>,
    pub hook_event_name: Option<String>,
    pub tool_name: Option<String>,
    pub tool_input: Option<Value>,
    pub tool_use_id: Option<String>,
    /// Present only in a subagent's calls (2.1); never in 2.0.x.
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub prompt: Option<String>,
    pub stop_hook_active: Option<bool>,
    /// Stop (2.1): the text of the turn's last assistant message.
    pub last_assistant_message: Option<String>,
    /// Claude Code 2.1 gives every event a `prompt_id` (2.0.x none): there,
    /// a subagent's call always carries `agent_id`.
    pub prompt_id: Option<String>,
    /// Stop (2.1): the agents still running in the background.
    pub background_tasks: Option<Vec<Value>>,
    /// PostToolBatch (2.1): every call of the assistant message.
    pub tool_calls: Option<Vec<ToolCall>>,
}

/// A hook input the guard cannot read.
#[derive(Debug, thiserror::Error)]
pub enum BadInput {
    #[error("the hook input is not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("the hook input is not a JSON object")]
    NotAnObject,
}

/// One call of a PostToolBatch.
#[derive(Debug, Clone, Default)]
pub struct ToolCall {
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
}

impl Input {
    /// Reads a hook's standard input.
    pub fn parse(bytes: &[u8]) -> Result<Input, BadInput> {
        let value: Value = serde_json::from_slice(bytes).map_err(BadInput::NotJson)?;
        if !value.is_object() {
            return Err(BadInput::NotAnObject);
        }
        // Field by field: a field of the wrong type is absent, the rest kept.
        let mut input = Input::default();
        let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_string);
        input.session_id = text("session_id");
        input.transcript_path = text("transcript_path");
        input.cwd = text("cwd");
        input.hook_event_name = text("hook_event_name");
        input.tool_name = text("tool_name");
        input.tool_input = value.get("tool_input").filter(|v| v.is_object()).cloned();
        input.tool_use_id = text("tool_use_id");
        input.agent_id = text("agent_id").filter(|a| !a.is_empty());
        input.agent_type = text("agent_type");
        input.prompt = text("prompt");
        input.stop_hook_active = value.get("stop_hook_active").and_then(Value::as_bool);
        input.last_assistant_message = text("last_assistant_message");
        input.prompt_id = text("prompt_id");
        input.background_tasks = value.get("background_tasks").and_then(Value::as_array).cloned();
        input.tool_calls = value.get("tool_calls").and_then(Value::as_array).map(|calls| {
            calls
                .iter()
                .map(|c| ToolCall {
                    tool_name: c.get("tool_name").and_then(Value::as_str).map(str::to_string),
                    tool_use_id: c.get("tool_use_id").and_then(Value::as_str).map(str::to_string),
                })
                .collect()
        });
        Ok(input)
    }

    /// Background agents still running at a Stop (2.1 lists them).
    pub fn running_agents(&self) -> usize {
        let running = |t: &&Value| t.get("status").and_then(Value::as_str).is_none_or(|s| s == "running");
        self.background_tasks.as_ref().map_or(0, |tasks| tasks.iter().filter(running).count())
    }
}

/// What the guard answers: the JSON to print on standard output (none: allow
/// silently). The exit status is always 0: a decision is said in the JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Allow, say nothing.
    Allow,
    /// PreToolUse: deny the call; the reason is what the model reads.
    Deny { reason: String },
    /// Allow, and tell the model (PreToolUse, PostToolUse, PostToolBatch).
    Context { event: String, text: String },
    /// Stop: have the model go on, with this reason (once: never while `stop_hook_active`).
    Continue { reason: String },
}

impl Answer {
    /// The hook's standard output.
    pub fn json(&self) -> Option<Value> {
        match self {
            Answer::Allow => None,
            Answer::Deny { reason } => Some(json!({
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                }
            })),
            Answer::Context { event, text } => {
                Some(json!({ "hookSpecificOutput": { "hookEventName": event, "additionalContext": text } }))
            }
            Answer::Continue { reason } => Some(json!({ "decision": "block", "reason": reason })),
        }
    }
}
