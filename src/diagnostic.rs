//! The one diagnostic type every check produces and every renderer prints.

use std::sync::Arc;

use serde::Serialize;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "note" => Some(Severity::Note),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A symbolic place inside one JSONL line: what to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Culprit {
    /// The whole line.
    Line,
    /// The JSON value of `key` in the tool_use block with this id.
    ToolInput { tool_use_id: String, key: String },
    /// The tool_use block's name.
    ToolName { tool_use_id: String },
    /// A piece of text inside a JSON string of the line.
    Text(String),
    /// The JSON value of the first occurrence of `key`.
    Key(String),
    /// These exact bytes of the line.
    Raw(String),
    /// The entry's own `"type"` (user, assistant, system, …), not a nested one.
    EntryType,
}

/// Where a finding is: a line of a file and, once resolved, the column and byte span.
#[derive(Debug, Clone)]
pub struct Place {
    pub file: Arc<str>,
    pub line: u32,
    /// Byte offset of the line's first byte in the file.
    pub offset: u64,
    pub culprit: Culprit,
}

/// A finding as a check reports it: a symbolic place, resolved later.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub phase: Option<u8>,
    pub place: Place,
    /// 1-based index of the workflow run in its session.
    pub run: Option<u32>,
}

/// A finding, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    pub phase: Option<u8>,
    pub file: Arc<str>,
    pub line: u32,
    pub column: u32,
    /// Byte span of the culprit in the file: `[start, end)`.
    pub span: Option<[u64; 2]>,
    pub session: Option<Arc<str>>,
    /// 1-based index of the workflow run in its session.
    pub run: Option<u32>,
    pub help: Option<Arc<str>>,
    /// What the finding is about, from the flagged JSON value: the agent type,
    /// the shell command, the file read, the phase header (whitespace folded).
    pub subject: Option<String>,
    /// Identifies the finding across edits that move lines: a hash of the
    /// session, rule, phase, subject and its rank among equal ones.
    pub fingerprint: String,
    /// The line shortened around the culprit, with the culprit's range in it
    /// (kept only for output that shows it).
    #[serde(skip)]
    pub excerpt: Option<Excerpt>,
}

/// A shortened source line and the culprit's byte range inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

impl Diagnostic {
    /// The total order of rendered output: file, line, column, rule, message.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str, Severity) {
        (&self.file, self.line, self.column, self.rule, &self.message, self.severity)
    }
}

/// The subject of a finding from the bytes of its culprit: JSON string
/// quotes removed, whitespace folded, at most 200 characters.
pub fn subject(culprit: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(culprit);
    let text = text.trim().trim_matches('"');
    let folded: String = text.replace("\\n", " ").split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = folded.chars().take(200).collect();
    (!short.is_empty()).then_some(short)
}

/// Gives each diagnostic of a session its fingerprint (diagnostics sorted).
pub fn fingerprint(diags: &mut [Diagnostic]) {
    use sha2::{Digest, Sha256};
    let mut seen: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for d in diags.iter_mut() {
        // A finding outside any session (an orphan, a file that is not a
        // transcript) is keyed by the file's folder and name, however the path was spelled.
        let owner = match d.session.as_deref() {
            Some(session) => session.to_string(),
            None => {
                let mut parts = d.file.rsplit('/').take(2).collect::<Vec<_>>();
                parts.reverse();
                format!("file:{}", parts.join("/"))
            }
        };
        let key = format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}",
            owner,
            d.rule,
            d.phase.map_or(String::new(), |p| p.to_string()),
            d.subject.as_deref().unwrap_or(&d.message)
        );
        let rank = seen.entry(key.clone()).or_insert(0);
        *rank += 1;
        let digest = Sha256::digest(format!("{key}\u{1f}{rank}").as_bytes());
        d.fingerprint = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    }
}

/// Sorts diagnostics into the canonical output order and drops exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diags.dedup_by(|a, b| a.sort_key() == b.sort_key());
}

/// The widest excerpt kept around a culprit, in bytes.
const EXCERPT_BEFORE: usize = 60;
const EXCERPT_AFTER: usize = 140;

/// Resolves a culprit inside one line: the byte range it covers.
pub fn locate(line: &[u8], culprit: &Culprit) -> (usize, usize) {
    let whole = (0, trim_end(line));
    let found = match culprit {
        Culprit::Line => None,
        Culprit::ToolInput { tool_use_id, key } => {
            let from = find_id(line, tool_use_id).unwrap_or(0);
            value_after_key(line, from, key)
        }
        Culprit::ToolName { tool_use_id } => {
            let from = find_id(line, tool_use_id).unwrap_or(0);
            value_after_key(line, from, "name")
        }
        Culprit::Text(text) => {
            let escaped = serde_json::to_string(text).unwrap_or_default();
            let needle = escaped.trim_matches('"');
            if needle.is_empty() {
                None
            } else {
                memchr::memmem::find(line, needle.as_bytes()).map(|s| (s, s + needle.len()))
            }
        }
        Culprit::Key(key) => value_after_key(line, 0, key),
        Culprit::Raw(raw) => memchr::memmem::find(line, raw.as_bytes()).map(|s| (s, s + raw.len())),
        Culprit::EntryType => ["\"assistant\"", "\"user\"", "\"system\"", "\"queue-operation\"", "\"result\""]
            .iter()
            .filter_map(|t| {
                let needle = format!("\"type\":{t}");
                memchr::memmem::find(line, needle.as_bytes()).map(|s| (s + 7, s + needle.len()))
            })
            .min(),
    };
    found.unwrap_or(whole)
}

fn trim_end(line: &[u8]) -> usize {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\n' || line[end - 1] == b'\r') {
        end -= 1;
    }
    end
}

fn find_id(line: &[u8], id: &str) -> Option<usize> {
    let needle = format!("\"{}\"", id);
    memchr::memmem::find(line, needle.as_bytes())
}

/// The byte range of the JSON value that follows `"key":` at or after `from`.
fn value_after_key(line: &[u8], from: usize, key: &str) -> Option<(usize, usize)> {
    let needle = format!("\"{key}\"");
    let mut at = from.min(line.len());
    loop {
        let pos = at + memchr::memmem::find(&line[at..], needle.as_bytes())?;
        let mut i = pos + needle.len();
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < line.len() && line[i] == b':' {
            i += 1;
            while i < line.len() && line[i].is_ascii_whitespace() {
                i += 1;
            }
            return Some((i, value_end(line, i)));
        }
        at = pos + 1;
    }
}

fn value_end(line: &[u8], start: usize) -> usize {
    if start >= line.len() {
        return line.len();
    }
    match line[start] {
        b'"' => {
            let mut i = start + 1;
            while i < line.len() {
                match line[i] {
                    b'\\' => i += 2,
                    b'"' => return i + 1,
                    _ => i += 1,
                }
            }
            line.len()
        }
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            let mut in_str = false;
            while i < line.len() {
                let c = line[i];
                if in_str {
                    match c {
                        b'\\' => i += 1,
                        b'"' => in_str = false,
                        _ => {}
                    }
                } else {
                    match c {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            line.len()
        }
        _ => {
            let mut i = start;
            while i < line.len() && !matches!(line[i], b',' | b'}' | b']') {
                i += 1;
            }
            i
        }
    }
}

/// Builds the 1-based character column and the excerpt of a line around a byte range.
pub fn excerpt(line: &[u8], start: usize, end: usize) -> (u32, Excerpt) {
    let text = String::from_utf8_lossy(&line[..trim_end(line)]);
    let text: &str = &text;
    let start = floor_char(text, start.min(text.len()));
    let end = floor_char(text, end.clamp(start, text.len()));
    let column = text[..start].chars().count() as u32 + 1;
    let from = floor_char(text, start.saturating_sub(EXCERPT_BEFORE));
    let culprit_end = floor_char(text, end.min(start + EXCERPT_AFTER));
    let to = floor_char(text, (culprit_end + 40).min(text.len()).max(culprit_end));
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let shift = out.len();
    out.push_str(&text[from..to]);
    let ex_start = shift + (start - from);
    let mut ex_end = shift + (culprit_end - from);
    if to < text.len() {
        out.push('…');
    }
    if ex_end == ex_start {
        ex_end = (ex_start + 1).min(out.len());
    }
    (column, Excerpt { text: out, start: ex_start, end: ex_end })
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_tool_input_value() {
        let line = br#"{"message":{"content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"grep -rn x src/"}}]}}"#;
        let (s, e) = locate(line, &Culprit::ToolInput { tool_use_id: "toolu_1".into(), key: "command".into() });
        assert_eq!(&line[s..e], br#""grep -rn x src/""#);
    }

    #[test]
    fn locates_escaped_text() {
        let line = br#"{"text":"**Phase 3: Risk**\nNext: x"}"#;
        let (s, e) = locate(line, &Culprit::Text("**Phase 3: Risk**\nNext".into()));
        assert_eq!(&line[s..e], br#"**Phase 3: Risk**\nNext"#);
    }

    #[test]
    fn excerpt_shortens_long_lines() {
        let mut line = vec![b'a'; 1000];
        line[500..505].copy_from_slice(b"XXXXX");
        let (col, ex) = excerpt(&line, 500, 505);
        assert_eq!(col, 501);
        assert!(ex.text.starts_with('…') && ex.text.ends_with('…'));
        assert_eq!(&ex.text[ex.start..ex.end], "XXXXX");
    }
}
