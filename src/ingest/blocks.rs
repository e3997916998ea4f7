//! Content blocks read back whole, as the transcript recorded them: what
//! `serve` sends the CLI again. The checks keep only the fields of a tool
//! input they read ([`crate::model::ToolInput`]); a call served again needs
//! all of it, so its line is read back by its [`Source`].

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use serde::de::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::ingest::input::{open_regular, MAX_LINE};
use crate::ingest::raw::{LObj, LSeq, LStr};
use crate::model::Source;

/// A content block as recorded: a JSON object, every field kept.
pub type Block = Map<String, Value>;

/// An entry with its message's content blocks whole.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct WholeEntry<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: LStr<'a>,
    /// `Given(None)` when the entry has no `message` key.
    #[serde(borrow)]
    pub message: Given<LObj<WholeMessage<'a>>>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct WholeMessage<'a> {
    #[serde(borrow)]
    pub id: LStr<'a>,
    pub content: LSeq<Value>,
}

impl WholeEntry<'_> {
    /// The message's content blocks, in order: objects only.
    pub fn blocks(self) -> impl Iterator<Item = Block> {
        let content = self.message.0.and_then(|m| m.0).and_then(|m| m.content.0);
        content.into_iter().flatten().filter_map(|b| match b {
            Value::Object(block) => Some(block),
            _ => None,
        })
    }

    pub fn message_id(&self) -> Option<String> {
        self.message.0.as_ref().and_then(|m| m.0.as_ref()).and_then(|m| m.id.to_owned_string())
    }
}

/// A field that is `Some` whenever its key is there, whatever its value (`null` included).
pub(crate) struct Given<T>(pub Option<T>);

impl<T> Default for Given<T> {
    fn default() -> Self {
        Given(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|t| Given(Some(t)))
    }
}

/// The type of a block, when it is a string.
pub fn kind(block: &Block) -> Option<&str> {
    block.get("type").and_then(Value::as_str)
}

/// Reads recorded lines back by their source, keeping the last file open.
#[derive(Default)]
pub struct Reader {
    open: Option<(Arc<str>, Option<BufReader<File>>)>,
}

impl Reader {
    /// The `tool_use` block with this id of the entry at `source`, whole;
    /// `None` when the line cannot be read back or holds no such block.
    pub fn tool_use(&mut self, source: &Source, id: &str) -> Option<Block> {
        let line = self.line(source)?;
        let entry: WholeEntry<'_> = serde_json::from_slice(&line).ok()?;
        entry.blocks().find(|b| kind(b) == Some("tool_use") && b.get("id").and_then(Value::as_str) == Some(id))
    }

    /// The line at a source, without its newline.
    pub fn line_at(&mut self, source: &Source) -> Option<Vec<u8>> {
        self.line(source)
    }

    fn line(&mut self, source: &Source) -> Option<Vec<u8>> {
        if self.open.as_ref().is_none_or(|(name, _)| *name != source.file) {
            // Never a device or a FIFO.
            let file = open_regular(std::path::Path::new(&*source.file)).ok().map(BufReader::new);
            self.open = Some((source.file.clone(), file));
        }
        let (_, reader) = self.open.as_mut()?;
        let reader = reader.as_mut()?;
        reader.seek(SeekFrom::Start(source.offset)).ok()?;
        let mut line = Vec::new();
        // At most one line cap: a longer line was never read as an entry.
        reader.by_ref().take(MAX_LINE as u64).read_until(b'\n', &mut line).ok()?;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        Some(line)
    }
}

/// The text of the `tool_result` block for `id` in an entry's line (its
/// string content, or its text blocks joined).
pub fn tool_result_text(line: &[u8], id: &str) -> Option<String> {
    let entry: WholeEntry<'_> = serde_json::from_slice(line).ok()?;
    let block = entry
        .blocks()
        .find(|b| kind(b) == Some("tool_result") && b.get("tool_use_id").and_then(Value::as_str) == Some(id))?;
    match block.get("content")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            Some(parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n"))
        }
        _ => None,
    }
}

/// Whether a tool result's text says a PreToolUse hook denied the call
/// before it ran: Claude Code 2.1 writes `PreToolUse:<Tool> hook error: …`;
/// 2.0.x writes the hook's reason alone, which orchlint's guard starts with
/// `orchlint guard: `.
pub fn is_hook_denial(text: &str) -> bool {
    let text = text.trim_start();
    (text.starts_with("PreToolUse:") && text.contains(" hook error")) || text.starts_with("orchlint guard: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_denials_are_told_from_tool_errors() {
        assert!(is_hook_denial("PreToolUse:Bash hook error: orchlint guard: forbidden-tool: …"));
        assert!(is_hook_denial("orchlint guard: approval-gate: phase 7 started …"));
        assert!(!is_hook_denial("Exit code 1\ngrep: src: No such file"));
        assert!(!is_hook_denial("<tool_use_error>Error: No such tool available: Grep</tool_use_error>"));
        let line = br#"{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"PreToolUse:Agent hook error: no"}]}]}}"#;
        assert_eq!(tool_result_text(line, "t1").as_deref(), Some("PreToolUse:Agent hook error: no"));
        assert_eq!(tool_result_text(line, "t2"), None);
    }
}
