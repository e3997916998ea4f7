//! Subagent transcript files: what is needed to attach them to their launch,
//! and the agent's own turns for `serve`.

use std::path::Path;

use crate::diagnostic::{Finding, Severity};
use crate::ingest::blocks::{kind, Block, WholeEntry};
use crate::ingest::input::OpenFailure;
use crate::ingest::lines::{looks_whole, sniff, LineReader, Wanted};
use crate::ingest::raw::Content;
use crate::model::{AgentCall, Source};

/// Agents Claude Code runs for itself, not delegations: compaction, side questions.
pub fn is_internal(agent_id: &str) -> bool {
    ["acompact", "aside_question", "prompt_suggestion"].iter().any(|p| agent_id.starts_with(p))
}

/// What a subagent file says about itself.
#[derive(Debug, Default, Clone)]
pub struct SubagentInfo {
    /// The first user entry's text: the launch prompt.
    pub prompt: Option<String>,
    /// The parent session's id, from the first entry that names it.
    pub session_id: Option<String>,
    /// User and assistant entries (counted in full only with `detail`).
    pub entries: u32,
    /// Tools the agent called, in first-use order (read only with `detail`).
    pub tools: Vec<String>,
    /// The agent's tool calls, in order, each once.
    pub calls: Vec<AgentCall>,
    /// It could not be read whole (an I/O error): the check exits 2.
    pub unreadable: bool,
}

impl SubagentInfo {
    /// Claude Code 2.0.x warms its built-in agents up with a `Warmup` prompt.
    pub fn is_warmup(&self) -> bool {
        self.prompt.as_deref().map(str::trim) == Some("Warmup")
    }
}

/// Reads a subagent file: every line is checked for damage, the first user
/// entry is parsed for the prompt, the agent's tool calls are read (the lines
/// that hold a `tool_use`), and with `detail` the entries are counted in full
/// and the tools listed. `listed`: its folder listed it as a regular file.
pub fn read(
    path: &Path,
    listed: bool,
    display: &std::sync::Arc<str>,
    detail: bool,
    findings: &mut Vec<Finding>,
) -> SubagentInfo {
    let mut info = SubagentInfo::default();
    let file = match crate::ingest::input::open(path, listed) {
        Ok(f) => f,
        Err(OpenFailure::Special(kind)) => {
            let message = format!("subagent transcript is {}", OpenFailure::Special(kind));
            findings.push(Finding {
                severity: Severity::Note,
                ..Finding::input(Source::start_of(display.clone()), message)
            });
            return info;
        }
        Err(OpenFailure::Io(e)) => {
            info.unreadable = true;
            let message = format!("cannot read the subagent transcript: {e}");
            findings.push(Finding::unreadable(&Source::start_of(display.clone()), message));
            return info;
        }
    };
    let mut lines = LineReader::new(file);
    let mut last_line = 0;
    let mut call_ids = rustc_hash::FxHashSet::default();
    let mut denied = rustc_hash::FxHashMap::default();
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                info.unreadable = true;
                let message = format!("reading stopped after line {}: {e}", last_line);
                findings.push(Finding::unreadable(&Source::start_of(display.clone()), message));
                break;
            }
        };
        last_line = line.number;
        if let Some(len) = line.too_long {
            let source = Source { file: display.clone(), line: line.number, offset: line.offset, len: 0 };
            findings.push(Finding::input(source, crate::ingest::transcript::too_long_message(len)));
            continue;
        }
        let source =
            Source { file: display.clone(), line: line.number, offset: line.offset, len: line.bytes.len() as u32 };
        if info.session_id.is_none() {
            info.session_id = crate::ingest::lines::SESSION_ID.value(line.bytes).map(str::to_string);
        }
        let has_call = memchr::memmem::find(line.bytes, b"tool_use").is_some();
        if !detail && info.prompt.is_some() && !has_call {
            // `check` needs the prompt and the calls; the rest is only checked for damage.
            if !line.bytes.iter().all(u8::is_ascii_whitespace) && !looks_whole(line.bytes) {
                findings.push(Finding::input(source, "line is not valid JSON; skipped".into()));
            }
            continue;
        }
        let wanted = sniff(line.bytes);
        if !matches!(wanted, Wanted::User | Wanted::Assistant) {
            if !line.bytes.iter().all(u8::is_ascii_whitespace) && !looks_whole(line.bytes) {
                findings.push(Finding::input(source, "line is not valid JSON; skipped".into()));
            }
            continue;
        }
        if detail || info.prompt.is_none() {
            info.entries += 1;
        }
        let need_prompt = wanted == Wanted::User && info.prompt.is_none();
        let need_calls = wanted == Wanted::Assistant && has_call;
        // A call a PreToolUse hook denied was not made (its result says so).
        let need_denials = wanted == Wanted::User
            && has_call
            && (memchr::memmem::find(line.bytes, b"hook error").is_some()
                || memchr::memmem::find(line.bytes, b"orchlint guard: ").is_some());
        if !need_prompt && !need_calls && !need_denials {
            if !looks_whole(line.bytes) {
                findings.push(Finding::input(source, "line is not valid JSON; skipped".into()));
            }
            continue;
        }
        match crate::ingest::raw::parse_entry(line.bytes) {
            Some(entry) => {
                let Some(message) = entry.message.0 else { continue };
                if need_prompt {
                    info.prompt = Some(message.content.joined_text());
                }
                if let Content::Blocks(blocks) = &message.content {
                    for b in blocks {
                        if need_denials {
                            denied.extend(hook_denial(b).filter(|(id, _)| !id.is_empty()));
                        }
                        if b.kind.0.as_deref() != Some("tool_use") || !need_calls {
                            continue;
                        }
                        if let Some(name) = b.name.as_deref() {
                            if detail && !info.tools.iter().any(|t| t == name) {
                                info.tools.push(name.to_string());
                            }
                        }
                        let id = b.id.to_owned_string().unwrap_or_default();
                        if !id.is_empty() && !call_ids.insert(id) {
                            // The same call written twice: read it once.
                            continue;
                        }
                        info.calls.push(agent_call(b, &source));
                    }
                }
            }
            None => {
                let why = serde_json::from_slice::<serde::de::IgnoredAny>(line.bytes)
                    .err()
                    .map_or_else(|| "not a transcript entry".to_string(), |e| e.to_string());
                findings.push(Finding::input(source, format!("line is not valid JSON ({why}); skipped")));
            }
        }
    }
    for call in info.calls.iter_mut() {
        call.denied = denied.remove(&call.id);
    }
    info
}

/// A subagent's `tool_use` block as `agent-tool` judges it.
pub fn agent_call(b: &crate::ingest::raw::Block<'_>, source: &Source) -> AgentCall {
    let input = crate::ingest::transcript::tool_input(b.input.0.as_ref());
    AgentCall {
        source: source.clone(),
        id: b.id.to_owned_string().unwrap_or_default(),
        name: b.name.to_owned_string().unwrap_or_default(),
        command: input.command,
        file_path: input.file_path,
        denied: None,
    }
}

/// A tool_result block saying a PreToolUse hook denied its call: the call's
/// id and the reason.
pub fn hook_denial(b: &crate::ingest::raw::Block<'_>) -> Option<(String, String)> {
    if b.kind.0.as_deref() != Some("tool_result") || !b.is_error.0 {
        return None;
    }
    let text = b.content.joined_text();
    crate::ingest::blocks::is_hook_denial(&text).then(|| (b.tool_use_id.to_owned_string().unwrap_or_default(), text))
}

/// The launching tool_use id from `agent-<id>.meta.json` (2.1.x), if there is one.
pub fn meta_tool_use_id(path: &Path) -> Option<String> {
    let meta = path.with_extension("meta.json");
    // Bounded, and never a FIFO or a device: a sidecar is a few hundred bytes.
    let text = crate::ingest::input::read_small(&meta)?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value.get("toolUseId")?.as_str().map(str::to_string)
}

/// Who a file's first entry says wrote it, when that is a subagent: a file of
/// sidechain entries (`isSidechain: true` with an `agentId`) is a subagent
/// transcript, whatever its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidechain {
    pub agent_id: String,
    pub session_id: Option<String>,
}

/// The sidechain a file's first entries belong to, if they are a subagent's
/// (read from the first lines only; `None` for a session's own entries).
pub fn sidechain_of(path: &Path) -> Option<Sidechain> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "isSidechain", default)]
        sidechain: Option<serde_json::Value>,
        #[serde(rename = "agentId", default)]
        agent_id: Option<serde_json::Value>,
        #[serde(rename = "sessionId", default)]
        session_id: Option<serde_json::Value>,
    }
    let file = crate::ingest::input::open_regular(path).ok()?;
    let mut lines = LineReader::new(file);
    for _ in 0..crate::ingest::discover::SNIFF_LINES {
        let line = lines.next_line().ok()??;
        let Ok(env) = serde_json::from_slice::<Envelope>(line.bytes) else { continue };
        let text = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::to_string));
        return match (env.sidechain.and_then(|v| v.as_bool()), text(env.agent_id)) {
            (Some(true), Some(agent_id)) => Some(Sidechain { agent_id, session_id: text(env.session_id) }),
            _ => None,
        };
    }
    None
}

/// A subagent transcript's assistant API messages, in order, each with its
/// text and tool_use blocks whole (thinking left out): the entries of one
/// message (same `message.id`) joined. Empty when the file cannot be
/// opened; reading stops at a read error.
pub fn assistant_turns(path: &Path) -> Vec<Vec<Block>> {
    let Ok(file) = crate::ingest::input::open_regular(path) else { return Vec::new() };
    let mut lines = LineReader::new(file);
    let mut turns: Vec<Vec<Block>> = Vec::new();
    let mut last_id: Option<String> = None;
    while let Ok(Some(line)) = lines.next_line() {
        let Ok(entry) = serde_json::from_slice::<WholeEntry<'_>>(line.bytes) else { continue };
        if entry.kind.as_deref() != Some("assistant") || entry.message.0.is_none() {
            continue;
        }
        let id = entry.message_id();
        let blocks = entry.blocks().filter(|b| matches!(kind(b), Some("text" | "tool_use")));
        match turns.last_mut() {
            Some(turn) if id.is_some() && id == last_id => turn.extend(blocks),
            _ => turns.push(blocks.collect()),
        }
        last_id = id;
    }
    turns.retain(|t| !t.is_empty());
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str, detail: bool) -> (SubagentInfo, Vec<Finding>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent-a1.jsonl");
        std::fs::write(&path, text).unwrap();
        let display = std::sync::Arc::from("agent-a1.jsonl");
        let mut findings = Vec::new();
        let info = read(&path, false, &display, detail, &mut findings);
        // Opened as its folder listed it: read the same.
        let mut listed = Vec::new();
        let again = read(&path, true, &display, detail, &mut listed);
        assert_eq!(format!("{info:?}{findings:?}"), format!("{again:?}{listed:?}"));
        (info, findings)
    }

    const AGENT: &str = concat!(
        r#"{"type":"user","isSidechain":true,"agentId":"a1","message":{"role":"user","content":"look at src"}}"#,
        "\n",
        r#"{"type":"assistant","isSidechain":true,"agentId":"a1","message":{"id":"m1","role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Write","input":{"file_path":"a.py","content":"x"}}]}}"#,
        "\n",
        r#"{"type":"user","isSidechain":true,"agentId":"a1","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"PreToolUse:Write hook error: orchlint guard: agent-tool: no"}]}}"#,
        "\n",
        r#"{"type":"assistant","isSidechain":true,"agentId":"a1","message":{"id":"m2","role":"assistant","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"command":"sed -i s/a/b/ a.py"}}]}}"#,
        "\n",
        r#"{"type":"assistant","isSidechain":true,"agentId":"a1","message":{"id":"m2","role":"assistant","content":[{"type":"tool_use","id":"t2","name":"Bash","input":{"command":"sed -i s/a/b/ a.py"}}]}}"#,
        "\n",
    );

    #[test]
    fn an_agents_calls_are_read_once_each_with_what_a_hook_denied() {
        for detail in [false, true] {
            let (info, findings) = read_text(AGENT, detail);
            assert!(findings.is_empty(), "{findings:?}");
            assert_eq!(info.prompt.as_deref(), Some("look at src"));
            let calls: Vec<(&str, &str, bool)> =
                info.calls.iter().map(|c| (c.id.as_str(), c.name.as_str(), c.denied.is_some())).collect();
            assert_eq!(calls, [("t1", "Write", true), ("t2", "Bash", false)]);
            assert_eq!(info.calls[1].command.as_deref(), Some("sed -i s/a/b/ a.py"));
            assert_eq!((info.calls[0].source.line, info.calls[1].source.line), (2, 4));
        }
    }

    #[test]
    fn a_damaged_line_of_an_agent_is_said_whatever_it_holds() {
        let damaged =
            format!("{AGENT}{}\n", r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t2""#);
        for detail in [false, true] {
            let (_, findings) = read_text(&damaged, detail);
            assert_eq!(findings.len(), 1, "{findings:?}");
            assert_eq!(findings[0].place.line, 6);
        }
    }
}
