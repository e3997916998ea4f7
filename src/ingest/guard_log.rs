//! The log `orchlint guard` keeps of its decisions (`STATE/<session>/guard.jsonl`),
//! read back by `orchlint check --guard-log`: what the guard denied, let run
//! with a warning, or only logged (audit mode), call by call.
//!
//! Each line is a JSON object with `session_id`, `event`, `tool_use_id`,
//! `decision`, `rule`, `message` and `note` (docs/guard.md). A log written
//! before lines named their session is read as the session of its folder.

use std::collections::BTreeMap;
use std::path::Path;

/// One decision of the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The log file and the decision's line in it.
    pub file: String,
    pub line: u32,
    pub event: String,
    pub tool_use_id: Option<String>,
    /// `deny`, `warn`, `audit`, `report`, `continue` or `allow`.
    pub decision: String,
    pub rule: Option<String>,
    pub message: Option<String>,
}

/// The decisions of one or more logs, by session id.
#[derive(Debug, Default)]
pub struct GuardLog {
    by_session: BTreeMap<String, Vec<Decision>>,
}

/// A log that could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{file}: {reason}")]
#[diagnostic(help("give the `guard.jsonl` of a session's guard state folder (docs/guard.md, \"State\")"))]
pub struct GuardLogError {
    pub file: String,
    pub reason: String,
}

#[derive(serde::Deserialize)]
struct Line {
    session_id: Option<String>,
    event: Option<String>,
    tool_use_id: Option<String>,
    decision: Option<String>,
    rule: Option<String>,
    message: Option<String>,
}

impl GuardLog {
    /// Reads a log; its lines that are no decision are returned apart, as
    /// `file:line: why`, for the caller to say.
    pub fn read(&mut self, path: &Path) -> Result<Vec<String>, GuardLogError> {
        let file = path.display().to_string();
        let fail = |reason: String| GuardLogError { file: file.clone(), reason };
        let f = crate::ingest::input::open_regular(path).map_err(|e| fail(e.to_string()))?;
        // A log written before its lines named their session: its folder's name.
        let folder = path.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
        let mut problems = Vec::new();
        let mut reader = crate::ingest::lines::LineReader::new(f);
        while let Some(line) = reader.next_line().map_err(|e| fail(e.to_string()))? {
            let n = line.number;
            if line.too_long.is_some() {
                problems.push(format!("{file}:{n}: longer than the line cap; skipped"));
                continue;
            }
            let bytes = line.bytes;
            let text = String::from_utf8_lossy(bytes);
            if text.trim().is_empty() {
                continue;
            }
            let parsed: Result<Line, _> = serde_json::from_str(text.trim());
            let Some(l) = parsed.ok().filter(|l| l.decision.is_some() && l.event.is_some()) else {
                problems.push(format!("{file}:{n}: not a decision of orchlint guard; skipped"));
                continue;
            };
            let Some(session) = l.session_id.or_else(|| folder.clone()) else {
                problems.push(format!("{file}:{n}: names no session; skipped"));
                continue;
            };
            self.by_session.entry(session).or_default().push(Decision {
                file: file.clone(),
                line: n,
                event: l.event.unwrap_or_default(),
                tool_use_id: l.tool_use_id,
                decision: l.decision.unwrap_or_default(),
                rule: l.rule,
                message: l.message,
            });
        }
        Ok(problems)
    }

    /// The decisions about a session, in the log's order.
    pub fn of(&self, session: &str) -> &[Decision] {
        self.by_session.get(session).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.by_session.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_decisions_by_session_and_says_what_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("s-old");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("guard.jsonl");
        std::fs::write(
            &path,
            concat!(
                r#"{"session_id":"s1","event":"PreToolUse","tool_use_id":"t1","decision":"audit","rule":"forbidden-tool","message":"m"}"#,
                "\n\nnot json\n",
                r#"{"event":"Stop","decision":"continue","note":"the run stopped"}"#,
                "\n",
            ),
        )
        .unwrap();
        let mut log = GuardLog::default();
        let problems = log.read(&path).unwrap();
        assert_eq!(problems, [format!("{}:3: not a decision of orchlint guard; skipped", path.display())]);
        let d = &log.of("s1")[0];
        assert_eq!(
            (d.line, d.decision.as_str(), d.rule.as_deref(), d.tool_use_id.as_deref()),
            (1, "audit", Some("forbidden-tool"), Some("t1"))
        );
        assert_eq!(log.of("s-old")[0].event, "Stop");
        assert!(log.of("other").is_empty());
        assert!(log.read(&dir.path().join("missing.jsonl")).is_err());
    }
}
