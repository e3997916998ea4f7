//! Byte fast paths: lines the checks need only a few ids of are not parsed;
//! their bytes are scanned for those ids. Most lines of a large session are
//! results of ordinary tools (Read, Bash, …) and progress mirrors, so this
//! is where the time goes.
//!
//! Holds no state and records nothing: each scan says what it found, or
//! `None` when the line needs a full parse, and the builder does the rest.
//! Uses memchr and [`crate::ingest::lines`]; it is asked, not told, which ids
//! are launches.

use memchr::memmem::Finder;
use std::sync::LazyLock;

use crate::ingest::lines::KeyFinder;

/// The tool_use ids of a user line that only carries results of ordinary
/// tools: the checks need just the ids. `None` when the line needs a full
/// parse: a launch's result (`is_launch` of its id), a subagent's line,
/// a TaskOutput retrieval, text, an id with escapes, a line not whole.
pub(super) fn plain_tool_results(bytes: &[u8], is_launch: impl Fn(&str) -> bool) -> Option<Vec<&str>> {
    static KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"tool_use_id\":\""));
    static RESULT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"tool_result\""));
    static SIDECHAIN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"isSidechain\":true"));
    static PARENT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"parent_tool_use_id\":\""));
    static RETRIEVAL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"<retrieval_status>"));
    if RESULT.find(bytes).is_none()
        || SIDECHAIN.find(bytes).is_some()
        || PARENT.find(bytes).is_some()
        || RETRIEVAL.find(bytes).is_some()
    {
        return None;
    }
    // Only the message's own results: toolUseResult may nest other ids
    // (WebSearch's server tool results).
    static MESSAGE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"message\":"));
    let start = MESSAGE.find(bytes)? + 10;
    static TOOL_USE_RESULT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"toolUseResult\":"));
    // Claude Code writes toolUseResult after the message; otherwise parse.
    let end = match TOOL_USE_RESULT.find(bytes) {
        Some(t) if t < start => return None,
        Some(t) => t,
        None => bytes.len(),
    };
    let bytes = &bytes[..end];
    let mut ids = Vec::new();
    for at in KEY.find_iter(&bytes[start..]).map(|i| i + start) {
        let start = at + 15;
        let len = memchr::memchr(b'"', &bytes[start..])?;
        let id = std::str::from_utf8(&bytes[start..start + len]).ok()?;
        if is_launch(id) || id.contains('\\') {
            return None;
        }
        ids.push(id);
    }
    if ids.is_empty() || !crate::ingest::lines::looks_whole(bytes) {
        return None;
    }
    Some(ids)
}

/// An `agent_progress` mirror line: the agent id it names and the tool_use
/// id of the launch it mirrors (`parentToolUseID`).
pub(super) fn agent_progress(bytes: &[u8]) -> Option<(&str, &str)> {
    static AGENT_PROGRESS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"agent_progress\""));
    static AGENT_ID: LazyLock<KeyFinder> = LazyLock::new(|| KeyFinder::new("agentId"));
    static PARENT: LazyLock<KeyFinder> = LazyLock::new(|| KeyFinder::new("parentToolUseID"));
    AGENT_PROGRESS.find(bytes)?;
    Some((AGENT_ID.value(bytes)?, PARENT.value(bytes)?))
}

/// The `<task-notification>` of an `attachment` line of type
/// `queued_command` (how Claude Code 2.1.15x–2.1.23x hand a background
/// agent's return to the model), if the line is one. Only lines the
/// sniffer found a `queued_command` type in get here.
pub(super) fn queued_notification(bytes: &[u8]) -> Option<String> {
    memchr::memmem::find(bytes, b"task-notification>")?;
    #[derive(serde::Deserialize)]
    struct Line {
        #[serde(rename = "type")]
        kind: Option<String>,
        attachment: Option<Attachment>,
    }
    #[derive(serde::Deserialize)]
    struct Attachment {
        #[serde(rename = "type")]
        kind: Option<String>,
        prompt: Option<serde_json::Value>,
    }
    let line: Line = serde_json::from_slice(bytes).ok()?;
    let attachment = line.attachment.filter(|_| line.kind.as_deref() == Some("attachment"))?;
    if attachment.kind.as_deref() != Some("queued_command") {
        return None;
    }
    let text = match attachment.prompt? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(parts) => {
            parts.iter().filter_map(|p| p.get("text").and_then(|t| t.as_str())).collect::<Vec<_>>().join("\n")
        }
        _ => return None,
    };
    text.trim_start().starts_with("<task-notification>").then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = r#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"},{"type":"tool_result","tool_use_id":"t2","content":"ok"}]},"uuid":"u"}"#;

    fn ids(line: &str) -> Option<Vec<&str>> {
        plain_tool_results(line.as_bytes(), |id| id == "launch")
    }

    #[test]
    fn plain_tool_results_give_their_ids() {
        assert_eq!(ids(PLAIN), Some(vec!["t1", "t2"]));
    }

    #[test]
    fn lines_that_need_a_parse_are_left_to_it() {
        let launch = PLAIN.replace("\"t2\"", "\"launch\"");
        let sidechain = PLAIN.replace("\"uuid\"", "\"isSidechain\":true,\"uuid\"");
        let stream = PLAIN.replace("\"uuid\"", "\"parent_tool_use_id\":\"x\",\"uuid\"");
        let retrieval = PLAIN.replace("\"ok\"", "\"<retrieval_status>success</retrieval_status>\"");
        let escaped = PLAIN.replace("\"t1\"", r#""t\u0031""#);
        let result_first = PLAIN.replace("{\"type\":\"user\",", "{\"type\":\"user\",\"toolUseResult\":{},");
        let text = r#"{"type":"user","message":{"role":"user","content":"tool_result"}}"#;
        let cut = &PLAIN[..PLAIN.len() - 1];
        for line in [&*launch, &sidechain, &stream, &retrieval, &escaped, &result_first, text, cut] {
            assert_eq!(ids(line), None, "{line}");
        }
    }

    #[test]
    fn an_agent_progress_line_names_agent_and_launch() {
        let line = br#"{"type":"progress","data":{"type":"agent_progress","agentId":"a1"},"parentToolUseID":"t1"}"#;
        assert_eq!(agent_progress(line), Some(("a1", "t1")));
        let other = br#"{"type":"progress","data":{"type":"bash_progress","agentId":"a1"},"parentToolUseID":"t1"}"#;
        assert_eq!(agent_progress(other), None);
        let no_parent = br#"{"type":"progress","data":{"type":"agent_progress","agentId":"a1"}}"#;
        assert_eq!(agent_progress(no_parent), None);
    }
}
