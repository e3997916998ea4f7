//! Streaming a JSONL file line by line, and telling cheaply which lines matter.

use std::io::{BufRead, BufReader, Read};

use memchr::memmem;

/// Reads lines with their 1-based number and byte offset, reusing one buffer.
pub struct LineReader<R: Read> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    line: u32,
    offset: u64,
}

/// One line of a JSONL file.
pub struct Line<'a> {
    pub number: u32,
    pub offset: u64,
    /// The bytes without the trailing newline.
    pub bytes: &'a [u8],
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R) -> Self {
        LineReader { reader: BufReader::with_capacity(256 * 1024, inner), buf: Vec::new(), line: 0, offset: 0 }
    }

    /// The next line, `None` at the end; read errors end the file and are returned.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let n = self.reader.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        let offset = self.offset;
        self.offset += n as u64;
        let mut end = self.buf.len();
        if end > 0 && self.buf[end - 1] == b'\n' {
            end -= 1;
        }
        if end > 0 && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        // Bound memory on pathological inputs: keep the buffer from staying huge.
        Ok(Some(Line { number: self.line, offset, bytes: &self.buf[..end] }))
    }

    /// Drops an oversized buffer after a long line so memory stays bounded.
    pub fn shrink(&mut self) {
        if self.buf.capacity() > 8 * 1024 * 1024 {
            self.buf = Vec::new();
        }
    }
}

/// Top-level entry types whose lines the checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    User,
    Assistant,
    System,
    QueueOperation,
    Progress,
    Result,
    /// Nothing the checks read.
    Skip,
}

static TYPE_KEY: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(b"\"type\""));

/// Looks for a `"type": "<name>"` pair whose name is one of the wanted entry
/// types, without parsing the line. A line without one is of a type the checks
/// skip (attachment, api-request, file-history-snapshot, …): nested `"type"`
/// keys only name content blocks, so this never misses a wanted line.
pub fn sniff(line: &[u8]) -> Wanted {
    let mut best = Wanted::Skip;
    for pos in TYPE_KEY.find_iter(line) {
        let mut i = pos + 6;
        while i < line.len() && matches!(line[i], b' ' | b'\t') {
            i += 1;
        }
        if i >= line.len() || line[i] != b':' {
            continue;
        }
        i += 1;
        while i < line.len() && matches!(line[i], b' ' | b'\t') {
            i += 1;
        }
        if i >= line.len() || line[i] != b'"' {
            continue;
        }
        let rest = &line[i + 1..];
        let kind = if rest.starts_with(b"assistant\"") {
            Wanted::Assistant
        } else if rest.starts_with(b"user\"") {
            Wanted::User
        } else if rest.starts_with(b"queue-operation\"") {
            Wanted::QueueOperation
        } else if rest.starts_with(b"system\"") {
            Wanted::System
        } else if rest.starts_with(b"progress\"") {
            Wanted::Progress
        } else if rest.starts_with(b"result\"") {
            Wanted::Result
        } else {
            continue;
        };
        // The envelope's own type wins over nested ones; user/assistant first.
        best = match (best, kind) {
            (Wanted::Skip, k) => k,
            (b, _) => b,
        };
        if matches!(best, Wanted::User | Wanted::Assistant) {
            break;
        }
    }
    best
}

/// A cheap structural check of a skipped line: one JSON object, whole, no NULs.
pub fn looks_whole(line: &[u8]) -> bool {
    let trimmed = trim_ascii(line);
    trimmed.first() == Some(&b'{') && trimmed.last() == Some(&b'}') && memchr::memchr(0, trimmed).is_none()
}

pub fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// Extracts the string value of the first `"key":"…"` in a line without parsing it.
pub fn quick_string<'a>(line: &'a [u8], key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\":\"");
    let start = memmem::find(line, needle.as_bytes())? + needle.len();
    let len = memchr::memchr(b'"', &line[start..])?;
    std::str::from_utf8(&line[start..start + len]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_top_level_types() {
        assert_eq!(sniff(br#"{"parentUuid":null,"type":"user","message":{}}"#), Wanted::User);
        assert_eq!(sniff(br#"{"message":{"content":[{"type":"text"}]},"type":"assistant"}"#), Wanted::Assistant);
        assert_eq!(sniff(br#"{"type":"attachment","attachment":{"type":"date"}}"#), Wanted::Skip);
        assert_eq!(sniff(br#"{"type" : "queue-operation"}"#), Wanted::QueueOperation);
        assert_eq!(sniff(b"garbage"), Wanted::Skip);
    }

    #[test]
    fn whole_lines() {
        assert!(looks_whole(br#" {"a":1} "#));
        assert!(!looks_whole(br#"{"a":1"#));
        assert!(!looks_whole(b"{\"a\":\0}"));
    }

    #[test]
    fn reads_lines_with_offsets() {
        let mut r = LineReader::new(&b"ab\n\ncd\r\nef"[..]);
        let mut seen = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            seen.push((l.number, l.offset, l.bytes.to_vec()));
        }
        assert_eq!(
            seen,
            vec![(1, 0, b"ab".to_vec()), (2, 3, b"".to_vec()), (3, 4, b"cd".to_vec()), (4, 8, b"ef".to_vec())]
        );
    }
}
