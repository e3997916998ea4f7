//! Copies of a line: Claude Code sometimes writes a user or assistant line
//! twice; the copy is read once. A uuid used again by another line (not a
//! copy) is read too, and said.
//!
//! Owns the uuids read, each with a print of its first line and that line's
//! number, and the print of the line being read. Uses nothing else of the
//! builder: it is told each line's bytes and asked about each entry's uuid.

use rustc_hash::FxHashMap as HashMap;

use crate::diagnostic::{Culprit, Finding};
use crate::model::Source;

#[derive(Default)]
pub(super) struct Dedupe {
    /// Entry uuids read, to skip exact duplicates (as 128-bit numbers)…
    /// with the print of the line and its number…
    uuids: HashMap<u128, (u64, u32)>,
    /// … and the ids that are not uuids.
    other_ids: HashMap<String, (u64, u32)>,
    /// The print of the line being read ([`line_print`]).
    print: u64,
}

/// What an entry's uuid says of it.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Not read before, or only on this same line (records spliced on one line).
    New,
    /// A copy of an earlier line: skip it.
    Copy,
    /// Read before on another line that is no copy of this one.
    Reused { first: u32 },
}

impl Dedupe {
    /// The line being read is (or is read as) `bytes`.
    pub(super) fn line(&mut self, bytes: &[u8]) {
        self.print = line_print(bytes);
    }

    /// The line being read has print `print` ([`line_print`], made ahead).
    pub(super) fn print_is(&mut self, print: u64) {
        self.print = print;
    }

    /// Records a user or assistant entry's uuid read on `line`.
    pub(super) fn seen(&mut self, uuid: &str, line: u32) -> Seen {
        let print = (self.print, line);
        let &mut (earlier, first) = match uuid_bits(uuid) {
            Some(bits) => self.uuids.entry(bits).or_insert(print),
            None => self.other_ids.entry(uuid.to_string()).or_insert(print),
        };
        if first == line {
            Seen::New
        } else if earlier == self.print {
            Seen::Copy
        } else {
            Seen::Reused { first }
        }
    }

    /// Whether to read the entry with this uuid: not when it is a copy of
    /// an earlier line. A uuid used again by another line is said.
    pub(super) fn admit(&mut self, uuid: &str, source: &Source, findings: &mut Vec<Finding>) -> bool {
        match self.seen(uuid, source.line) {
            Seen::New => true,
            Seen::Copy => false,
            Seen::Reused { first } => {
                let message = format!("uuid {uuid} is used again (first at line {first}) by another entry; read both");
                findings.push(Finding::input_at(source, Culprit::Key("uuid".into()), message));
                true
            }
        }
    }
}

/// A cheap print of a line, to tell a copy of a line from another line with
/// the same uuid: its length and a hash of its first and last 256 bytes.
pub(super) fn line_print(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    bytes.len().hash(&mut h);
    bytes[..bytes.len().min(256)].hash(&mut h);
    bytes[bytes.len().saturating_sub(256)..].hash(&mut h);
    h.finish()
}

/// A canonical uuid (`8-4-4-4-12` hex digits) as the number it is.
fn uuid_bits(uuid: &str) -> Option<u128> {
    if uuid.len() != 36 {
        return None;
    }
    let mut bits: u128 = 0;
    for (i, c) in uuid.bytes().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        bits = bits << 4 | (c as char).to_digit(16)? as u128;
    }
    Some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const U: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

    #[test]
    fn a_copy_of_a_line_is_told_from_another_line() {
        let mut d = Dedupe::default();
        d.line(b"{\"uuid\":\"...\",\"text\":\"one\"}");
        assert_eq!(d.seen(U, 1), Seen::New);
        d.line(b"{\"uuid\":\"...\",\"text\":\"one\"}");
        assert_eq!(d.seen(U, 5), Seen::Copy);
        d.line(b"{\"uuid\":\"...\",\"text\":\"two\"}");
        assert_eq!(d.seen(U, 6), Seen::Reused { first: 1 });
        // Another uuid on a copied line is new.
        assert_eq!(d.seen("1f8fad5b-d9cb-469f-a165-70867728950e", 6), Seen::New);
    }

    #[test]
    fn records_of_one_line_are_no_copies_of_each_other() {
        let mut d = Dedupe::default();
        d.line(b"spliced");
        assert_eq!(d.seen(U, 3), Seen::New);
        assert_eq!(d.seen(U, 3), Seen::New);
    }

    #[test]
    fn ids_that_are_no_uuids_are_kept_as_written() {
        let mut d = Dedupe::default();
        d.line(b"x");
        assert_eq!(d.seen("msg-1", 1), Seen::New);
        assert_eq!(d.seen("msg-2", 2), Seen::New);
        assert_eq!(d.seen("msg-1", 3), Seen::Copy);
        // A uuid's hex digits in capitals are the same uuid.
        assert_eq!(d.seen(U, 4), Seen::New);
        assert_eq!(d.seen(&U.to_uppercase(), 5), Seen::Copy);
    }

    #[test]
    fn reads_uuid_bits() {
        assert_eq!(uuid_bits("00000000-0000-0000-0000-0000000000ff"), Some(0xff));
        assert_eq!(uuid_bits(U), Some(0x0f8fad5b_d9cb_469f_a165_70867728950e));
        assert_eq!(uuid_bits("0f8fad5bd9cb-469f-a165-70867728950e0"), None);
        assert_eq!(uuid_bits("0f8fad5b-d9cb-469f-a165-70867728950g"), None);
        assert_eq!(uuid_bits("short"), None);
    }

    #[test]
    fn a_reused_uuid_is_said_and_read() {
        let mut d = Dedupe::default();
        let mut findings = Vec::new();
        let at = |line| Source { file: Arc::from("t.jsonl"), line, offset: 0, len: 0 };
        d.line(b"one");
        assert!(d.admit(U, &at(1), &mut findings));
        d.line(b"one");
        assert!(!d.admit(U, &at(2), &mut findings));
        assert!(findings.is_empty());
        d.line(b"two");
        assert!(d.admit(U, &at(3), &mut findings));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("(first at line 1)"), "{}", findings[0].message);
    }
}
