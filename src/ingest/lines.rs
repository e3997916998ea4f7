//! Streaming a JSONL file line by line, and telling cheaply which lines matter.

use std::io::Read;

use memchr::memmem;

/// Reads lines with their 1-based number and byte offset out of one large
/// buffer, without copying them: a line is copied only when it straddles the
/// end of the buffer, and the buffer grows only for lines longer than it.
pub struct LineReader<R: Read> {
    inner: R,
    buf: Vec<u8>,
    /// Start and end of unread bytes in `buf`.
    start: usize,
    end: usize,
    eof: bool,
    line: u32,
    offset: u64,
    /// Lines longer than this are skipped, not held ([`MAX_LINE`]).
    cap: usize,
}

use crate::ingest::input::MAX_LINE;

const CHUNK: usize = 256 * 1024;

thread_local! {
    /// One buffer a thread, handed from reader to reader: no allocation and no
    /// zeroing per file.
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl<R: Read> Drop for LineReader<R> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        if buf.len() <= 8 * 1024 * 1024 {
            SPARE.with(|spare| {
                let mut spare = spare.borrow_mut();
                if spare.len() < buf.len() {
                    *spare = buf;
                }
            });
        }
    }
}

/// One line of a JSONL file.
pub struct Line<'a> {
    pub number: u32,
    pub offset: u64,
    /// The bytes without the trailing newline (empty for a line too long).
    pub bytes: &'a [u8],
    /// A line longer than the cap: its length; it was skipped, not read.
    pub too_long: Option<u64>,
}

impl<R: Read> LineReader<R> {
    pub fn new(inner: R) -> Self {
        let buf = SPARE.with(|spare| std::mem::take(&mut *spare.borrow_mut()));
        LineReader { inner, buf, start: 0, end: 0, eof: false, line: 0, offset: 0, cap: MAX_LINE }
    }

    /// A reader with another line cap (tests).
    pub fn with_cap(inner: R, cap: usize) -> Self {
        let mut reader = LineReader::new(inner);
        reader.cap = cap;
        reader
    }

    /// The next line, `None` at the end; read errors end the file and are returned.
    pub fn next_line(&mut self) -> std::io::Result<Option<Line<'_>>> {
        // Bytes after `start` already searched for a newline.
        let mut scanned = 0;
        loop {
            let from = self.start + scanned;
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[from..self.end]) {
                let line_end = from + nl;
                return Ok(Some(self.take(line_end, line_end + 1)));
            }
            if self.eof {
                if self.start == self.end {
                    return Ok(None);
                }
                let end = self.end;
                return Ok(Some(self.take(end, end)));
            }
            scanned = self.end - self.start;
            if scanned > self.cap {
                return self.skip_long_line().map(Some);
            }
            self.fill()?;
        }
    }

    /// Skips the rest of a line longer than the cap, reading on to its
    /// newline in buffer-sized steps: memory stays at the cap.
    fn skip_long_line(&mut self) -> std::io::Result<Line<'_>> {
        let mut len = (self.end - self.start) as u64;
        self.start = 0;
        self.end = 0;
        let mut newline = false;
        while !self.eof {
            self.fill()?;
            if let Some(nl) = memchr::memchr(b'\n', &self.buf[..self.end]) {
                len += nl as u64;
                self.start = nl + 1;
                newline = true;
                break;
            }
            len += self.end as u64;
            self.end = 0;
        }
        self.line += 1;
        let offset = self.offset;
        self.offset += len + u64::from(newline);
        Ok(Line { number: self.line, offset, bytes: &[], too_long: Some(len) })
    }

    /// Hands out `buf[start..line_end]` as a line and moves past `next`.
    fn take(&mut self, line_end: usize, next: usize) -> Line<'_> {
        let start = self.start;
        self.start = next;
        self.line += 1;
        let offset = self.offset;
        self.offset += (next - start) as u64;
        let mut end = line_end;
        if end > start && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        if end - start > self.cap {
            // Over the cap, though read in one go: skipped all the same.
            return Line { number: self.line, offset, bytes: &[], too_long: Some((end - start) as u64) };
        }
        Line { number: self.line, offset, bytes: &self.buf[start..end], too_long: None }
    }

    /// Reads more input, first moving the unread tail to the front of the buffer.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < CHUNK / 2 {
            let want = (self.buf.len() * 2).max(CHUNK);
            self.buf.resize(want, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(e);
                }
            }
        }
    }

    /// Drops an oversized buffer after a long line so memory stays bounded.
    pub fn shrink(&mut self) {
        if self.buf.len() > 8 * 1024 * 1024 && self.end - self.start < CHUNK {
            let mut fresh = vec![0; CHUNK];
            fresh[..self.end - self.start].copy_from_slice(&self.buf[self.start..self.end]);
            self.end -= self.start;
            self.start = 0;
            self.buf = fresh;
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
    /// An `attachment` of type `queued_command` (a queued prompt or task
    /// notification handed to the model, 2.1.15x–2.1.23x).
    QueuedCommand,
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
        } else if rest.starts_with(b"queued_command\"") {
            Wanted::QueuedCommand
        } else {
            continue;
        };
        // The envelope's own type wins over nested ones; user/assistant
        // first, and over an attachment's nested type.
        best = match (best, kind) {
            (Wanted::Skip, k) | (Wanted::QueuedCommand, k @ (Wanted::User | Wanted::Assistant)) => k,
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

/// Finds the string value of the first `"key":"…"` in a line without parsing
/// it. Made once (in a static) and used on many lines.
pub struct KeyFinder(memmem::Finder<'static>);

impl KeyFinder {
    pub fn new(key: &str) -> KeyFinder {
        KeyFinder(memmem::Finder::new(format!("\"{key}\":\"").as_bytes()).into_owned())
    }

    pub fn value<'a>(&self, line: &'a [u8]) -> Option<&'a str> {
        let start = self.0.find(line)? + self.0.needle().len();
        let len = memchr::memchr(b'"', &line[start..])?;
        std::str::from_utf8(&line[start..start + len]).ok()
    }
}

/// The `sessionId` of a line, if it has one.
pub static SESSION_ID: std::sync::LazyLock<KeyFinder> = std::sync::LazyLock::new(|| KeyFinder::new("sessionId"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_top_level_types() {
        assert_eq!(sniff(br#"{"parentUuid":null,"type":"user","message":{}}"#), Wanted::User);
        assert_eq!(sniff(br#"{"message":{"content":[{"type":"text"}]},"type":"assistant"}"#), Wanted::Assistant);
        assert_eq!(sniff(br#"{"type":"attachment","attachment":{"type":"date"}}"#), Wanted::Skip);
        assert_eq!(sniff(br#"{"attachment":{"type":"queued_command"},"type":"attachment"}"#), Wanted::QueuedCommand);
        assert_eq!(sniff(br#"{"type" : "queue-operation"}"#), Wanted::QueueOperation);
        assert_eq!(sniff(b"garbage"), Wanted::Skip);
    }

    #[test]
    fn finds_key_values() {
        let line = br#"{"a":1,"agentId":"a42","x":"y"}"#;
        assert_eq!(KeyFinder::new("agentId").value(line), Some("a42"));
        assert_eq!(KeyFinder::new("missing").value(line), None);
    }

    #[test]
    fn whole_lines() {
        assert!(looks_whole(br#" {"a":1} "#));
        assert!(!looks_whole(br#"{"a":1"#));
        assert!(!looks_whole(b"{\"a\":\0}"));
    }

    /// A reader that hands out one byte at a time, to cross every boundary.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn long_lines_across_reads() {
        let long = "x".repeat(3 * CHUNK);
        let text = format!("a\n{long}\nb");
        let mut r = LineReader::new(text.as_bytes());
        let mut seen = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            seen.push((l.offset, l.bytes.len()));
        }
        assert_eq!(seen, vec![(0, 1), (2, 3 * CHUNK), (3 + 3 * CHUNK as u64, 1)]);
        let mut r = LineReader::new(Trickle(b"ab\ncd\n"));
        assert_eq!(r.next_line().unwrap().unwrap().bytes, b"ab");
        assert_eq!(r.next_line().unwrap().unwrap().bytes, b"cd");
        assert!(r.next_line().unwrap().is_none());
    }

    #[test]
    fn lines_over_the_cap_are_skipped_not_held() {
        let long = "x".repeat(5 * CHUNK);
        let text = format!("a\n{long}\nb\n{long}");
        let mut r = LineReader::with_cap(Trickle(text.as_bytes()), CHUNK);
        let mut seen = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            seen.push((l.number, l.offset, l.bytes.to_vec(), l.too_long));
        }
        let len = 5 * CHUNK as u64;
        assert_eq!(
            seen,
            vec![
                (1, 0, b"a".to_vec(), None),
                (2, 2, vec![], Some(len)),
                (3, 3 + len, b"b".to_vec(), None),
                (4, 5 + len, vec![], Some(len)),
            ]
        );
        assert!(r.buf.len() <= 4 * CHUNK, "buffer grew to {}", r.buf.len());
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
