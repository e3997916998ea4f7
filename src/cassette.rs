//! Cassettes: the answers of a run's agents, one entry per launch, as a
//! reviewable file — what a mocked agent backend replays.
//!
//! ```json
//! {
//!   "version": 1,
//!   "source": "runs/1f0c….jsonl",
//!   "session": "1f0c…",
//!   "claude_code": "2.1.328",
//!   "entries": [
//!     {"launch": 1, "phase": 1, "subagent_type": "ml-flow:ml-explorer", "agent_type": "ml-explorer",
//!      "description": "…", "prompt": "…", "background": false, "status": "completed", "response": "…"}
//!   ]
//! }
//! ```

use serde::{Deserialize, Serialize};

use crate::engine::Checked;
use crate::model::ReturnStatus;

/// The version of the cassette format.
pub const VERSION: u32 = 1;

/// A run's agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cassette {
    pub version: u32,
    /// The transcript it was extracted from.
    pub source: String,
    pub session: Option<String>,
    pub claude_code: Option<String>,
    pub entries: Vec<Entry>,
}

/// One launch and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// 1-based position of the launch in the session.
    pub launch: usize,
    /// The workflow phase the launch was made in, if any.
    pub phase: Option<u8>,
    /// `subagent_type` as the orchestrator wrote it.
    pub subagent_type: String,
    /// The type without namespace, normalized.
    pub agent_type: String,
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub background: bool,
    /// `completed`, `error`, `outstanding` (never delivered) or `missing` (no result).
    pub status: ReturnStatus,
    /// The agent's own report: what the orchestrator received, without the
    /// framing Claude Code adds (the hand-back preamble, the `agentId:` tail,
    /// the `<usage>` block), which a client adds again when it is replayed.
    pub response: String,
}

/// Extracts the cassette of a checked session.
pub fn extract(c: &Checked) -> Cassette {
    let s = &c.session;
    let entries = s
        .launches
        .iter()
        .enumerate()
        .map(|(i, l)| Entry {
            launch: i + 1,
            phase: c.runs.iter().find_map(|r| r.phase_at(l.event)),
            subagent_type: l.raw_type.clone(),
            agent_type: l.agent_type.clone(),
            description: l.description.clone(),
            prompt: l.prompt.clone(),
            background: l.background,
            status: l.status,
            response: agent_report(&l.output),
        })
        .collect();
    Cassette {
        version: VERSION,
        source: s.file.to_string(),
        session: s.id.clone(),
        claude_code: s.version.clone(),
        entries,
    }
}

impl Cassette {
    /// Reads a cassette file, checking its version.
    pub fn parse(text: &str) -> Result<Cassette, CassetteError> {
        let cassette: Cassette = serde_json::from_str(text).map_err(|error| CassetteError::Invalid { error })?;
        if cassette.version != VERSION {
            return Err(CassetteError::Version(cassette.version));
        }
        Ok(cassette)
    }
}

/// A cassette file that cannot be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CassetteError {
    #[error("not a cassette (line {}): {error}", .error.line())]
    Invalid { error: serde_json::Error },
    #[error("cassette version {0}; this orchlint reads version {VERSION}")]
    Version(u32),
}

/// The agent's report inside what the orchestrator received.
pub fn agent_report(received: &str) -> String {
    let mut text = received;
    // 2.1.x: "[Subagent hand-back] … The report follows:\n  <report, indented>"
    let indented = if let Some(at) = text.find("The report follows:\n") {
        text = &text[at + "The report follows:\n".len()..];
        true
    } else {
        false
    };
    if let Some(at) = text.find("\nagentId: ") {
        text = &text[..at];
    }
    if let Some(at) = text.find("<usage>") {
        text = &text[..at];
    }
    let lines: Vec<&str> = text.lines().map(|l| if indented { l.strip_prefix("  ").unwrap_or(l) } else { l }).collect();
    lines.join("\n").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::agent_report;

    #[test]
    fn strips_the_framing_of_each_generation() {
        let v21 = "[Subagent hand-back] The text below is the final report of a subagent. The report follows:\n  [ml-explorer] Findings: a\n  b\nagentId: a42 (use SendMessage)\n<usage>subagent_tokens: 1</usage>";
        assert_eq!(agent_report(v21), "[ml-explorer] Findings: a\nb");
        let v20 = "[ml-explorer] Findings: a\nagentId: ae670e9 (for resuming to continue this agent's work if needed)";
        assert_eq!(agent_report(v20), "[ml-explorer] Findings: a");
        assert_eq!(agent_report("plain report"), "plain report");
    }
}
