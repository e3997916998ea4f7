//! Damaged and disguised lines: a line the byte sniffer skipped, or one the
//! entry parser refused, is read as far as it can be, and what was wrong
//! with it becomes a `transcript` finding at the line.
//!
//! Holds no state. The entries it gets out of a line go to a [`Reader`] (the
//! builder), which is also told when they are read from other bytes than the
//! line's (a reread or a repair), so that its copy check prints those. Uses
//! serde_json, [`crate::ingest::raw::parse_entry`] and the sniffer of
//! [`crate::ingest::lines`]; knows nothing of messages, calls or launches.

use crate::diagnostic::Finding;
use crate::ingest::lines::{looks_whole, sniff, Wanted};
use crate::ingest::raw::Entry;
use crate::model::Source;

/// Where the entries read out of a damaged line go.
pub(super) trait Reader {
    /// Reads one entry of the line.
    fn read(&mut self, e: Entry<'_>, source: &Source, findings: &mut Vec<Finding>);
    /// The entries that follow are read from `bytes`, not from the line as
    /// the builder last printed it.
    fn reprint(&mut self, bytes: &[u8]);
}

/// A line the byte sniffer found no wanted entry type in: blank (nothing to
/// say), whole (an entry type may hide behind an escape: reread), or damaged
/// (said and skipped).
pub(super) fn skipped(reader: &mut impl Reader, bytes: &[u8], source: Source, findings: &mut Vec<Finding>) {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    if looks_whole(bytes) {
        // Escapes (`"t\u0079pe"`) or a type that is no string hide a
        // line from the byte sniffer: rare, so looked for only here.
        if may_hide_its_type(bytes) {
            reread(reader, bytes, &source, findings);
        }
        // Two records spliced on one line (`…}{…`), whatever their types:
        // looked for by bytes, confirmed by a parse only then.
        if memchr::memmem::find(bytes, b"}{").is_some()
            && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err()
        {
            recover(reader, bytes, &source, findings);
        }
        return;
    }
    // Damaged: say what is wrong with it.
    let message = if let Some(at) = memchr::memchr(0, bytes) {
        format!("line holds NUL bytes (from column {}); skipped", at + 1)
    } else {
        match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => "line is not a JSON object; skipped".to_string(),
            Err(e) => format!("line is not valid JSON ({}); skipped", short_error(&e)),
        }
    };
    findings.push(Finding::input(source, message));
}

/// A whole JSON line the fast path could not read as an entry: read as
/// JavaScript's `JSON.parse` would (escapes in keys, the last of
/// duplicate keys), a line wrapped in an array read record by record,
/// and an entry type that is no string taken from `message.role`.
/// Returns false when it is no JSON at all.
pub(super) fn reread(reader: &mut impl Reader, bytes: &[u8], source: &Source, findings: &mut Vec<Finding>) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return false };
    reader.reprint(bytes);
    let (records, wrapped) = match value {
        serde_json::Value::Array(items) => (items, true),
        other => (vec![other], false),
    };
    let mut notes: Vec<String> = Vec::new();
    if wrapped {
        notes.push(format!("line is a JSON array of {}; read each", crate::words::plural(records.len(), "record")));
    }
    for mut record in records {
        let Some(object) = record.as_object_mut() else {
            notes.push("an array element is not a JSON object; skipped it".into());
            continue;
        };
        match object.get("type") {
            Some(serde_json::Value::String(_)) => {}
            other => {
                let role = object.get("message").and_then(|m| m.get("role")).and_then(|r| r.as_str());
                let was = other.map_or_else(|| "absent".to_string(), |v| format!("{v}"));
                match role.filter(|r| matches!(*r, "user" | "assistant")).map(str::to_string) {
                    Some(role) => {
                        notes.push(format!("entry type is {was}, not a string; read as {role:?}, its message's role"));
                        object.insert("type".into(), serde_json::Value::String(role));
                    }
                    None => {
                        if other.is_some() {
                            notes.push(format!("entry type is {was}, not a string; entry skipped"));
                        }
                        continue;
                    }
                }
            }
        }
        let canonical = serde_json::to_vec(&record).unwrap_or_default();
        if matches!(sniff(&canonical), Wanted::Skip | Wanted::QueuedCommand) {
            continue;
        }
        if let Some(entry) = crate::ingest::raw::parse_entry(&canonical) {
            reader.read(entry, source, findings);
        }
    }
    if !wrapped && duplicate_key(bytes) {
        notes.push("line repeats a key; read the last one, as JSON.parse does".into());
    }
    for message in notes {
        findings.push(Finding::input(source.clone(), message));
    }
    true
}

/// Reads what can be read of a line that does not parse, and says what
/// was wrong: lone surrogate escapes and raw control bytes (repaired),
/// duplicate keys, records spliced without a newline, damaged text after
/// whole records, invalid UTF-8, a truncated record followed by a whole one.
pub(super) fn recover(reader: &mut impl Reader, bytes: &[u8], source: &Source, findings: &mut Vec<Finding>) {
    // Repairs that keep every column: `\ud83d` alone → `\ufffd`, a raw
    // control byte → a space.
    if let Some((repaired, what)) = repair(bytes) {
        if let Some(entry) = crate::ingest::raw::parse_entry(&repaired) {
            reader.read(entry, source, findings);
            findings.push(Finding::input(source.clone(), what));
            return;
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&repaired).is_ok() {
            findings.push(Finding::input(source.clone(), what));
            reread(reader, &repaired, source, findings);
            return;
        }
    }
    // Whole JSON the fast path refused (duplicate keys, an array).
    if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok() && reread(reader, bytes, source, findings) {
        return;
    }
    let error = serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .err()
        .map_or_else(|| "not a transcript entry".to_string(), |e| short_error(&e));
    // Whole records from the start: spliced records, or damage at the end.
    let (read, damaged) = read_records(reader, bytes, source, findings);
    if read > 0 {
        let message = if damaged {
            format!(
                "line holds {read} JSON record{} followed by damaged text ({error}); read what was whole",
                if read == 1 { "" } else { "s" }
            )
        } else {
            format!("line holds {read} JSON records with no newline between them; read them all")
        };
        findings.push(Finding::input(source.clone(), message));
        return;
    }
    // Invalid UTF-8: read the line with replacement characters.
    if let std::borrow::Cow::Owned(lossy) = String::from_utf8_lossy(bytes) {
        if let Some(entry) = crate::ingest::raw::parse_entry(lossy.as_bytes()) {
            reader.read(entry, source, findings);
            let message = "line holds invalid UTF-8; read it with replacement characters".to_string();
            findings.push(Finding::input(source.clone(), message));
            return;
        }
    }
    // A truncated record, then a whole one on the same line.
    for at in memchr::memmem::find_iter(bytes, b"{\"").filter(|&at| at > 0).take(64) {
        let (read, _) = read_records(reader, &bytes[at..], source, findings);
        if read > 0 {
            let message = format!(
                "line starts with a damaged record ({error}); read the {read} whole record{} from column {}",
                if read == 1 { "" } else { "s" },
                at + 1
            );
            findings.push(Finding::input(source.clone(), message));
            return;
        }
    }
    let message = match memchr::memchr(0, bytes) {
        Some(at) => format!("line holds NUL bytes (from column {}); skipped", at + 1),
        None => format!("line is not valid JSON ({error}); skipped"),
    };
    findings.push(Finding::input(source.clone(), message));
}

/// Reads consecutive whole records from the start of `bytes`; returns how
/// many, and whether something that is not a record followed them.
fn read_records(reader: &mut impl Reader, bytes: &[u8], source: &Source, findings: &mut Vec<Finding>) -> (usize, bool) {
    let mut read = 0;
    for entry in serde_json::Deserializer::from_slice(bytes).into_iter::<Entry>() {
        match entry {
            // A record with no entry type is a fragment (a content block), not a record.
            Ok(entry) if entry.kind.0.is_none() => return (read, true),
            Ok(entry) => {
                read += 1;
                reader.read(entry, source, findings);
            }
            Err(_) => return (read, true),
        }
    }
    (read, false)
}

/// Whether a skipped line may be a wanted entry in disguise: an escape
/// (`"t\u0079pe"`, `"assist\u0061nt"`) or a `"type"` whose value is no string.
pub(super) fn may_hide_its_type(bytes: &[u8]) -> bool {
    use std::sync::LazyLock;
    static ESCAPE: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
    static TYPE: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\"type\":"));
    ESCAPE.find(bytes).is_some()
        || TYPE.find_iter(bytes).any(|at| bytes.get(at + 7).is_some_and(|b| !matches!(b, b'"' | b' ')))
        || bytes.trim_ascii_start().starts_with(b"[")
}

/// Whether the top-level object of a line holds a key twice.
pub(super) fn duplicate_key(bytes: &[u8]) -> bool {
    struct Keys(bool);
    impl<'de> serde::de::Visitor<'de> for &mut Keys {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                self.0 |= !seen.insert(key);
            }
            Ok(())
        }
    }
    let mut keys = Keys(false);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde::Deserializer::deserialize_map(&mut de, &mut keys).is_ok() && keys.0
}

/// A line with lone surrogate escapes made `\ufffd` and raw control bytes
/// made spaces (same length: columns stay), and what was changed; `None`
/// when there is nothing to repair.
pub(super) fn repair(bytes: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut out = bytes.to_vec();
    let mut said = Vec::new();
    let mut i = 0;
    let hex = |b: &[u8]| std::str::from_utf8(b).ok().and_then(|h| u16::from_str_radix(h, 16).ok());
    while i + 6 <= out.len() {
        if out[i] == b'\\' {
            if out[i + 1] == b'u' {
                if let Some(unit) = hex(&out[i + 2..i + 6]) {
                    let high = (0xD800..0xDC00).contains(&unit);
                    let low = (0xDC00..0xE000).contains(&unit);
                    let paired = high
                        && out.get(i + 6..i + 8) == Some(b"\\u")
                        && out.get(i + 8..i + 12).and_then(hex).is_some_and(|u| (0xDC00..0xE000).contains(&u));
                    if paired {
                        i += 12;
                        continue;
                    }
                    if high || low {
                        said.push(format!(
                            "a lone surrogate escape \\u{unit:04x} at column {} (read as U+FFFD)",
                            i + 1
                        ));
                        out[i + 2..i + 6].copy_from_slice(b"fffd");
                    }
                }
                i += 6;
                continue;
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    let controls: Vec<usize> = out.iter().enumerate().filter(|(_, b)| **b < 0x20).map(|(at, _)| at).collect();
    if let Some(first) = controls.first() {
        let name = if out[*first] == 0 { "NUL" } else { "control" };
        said.push(format!(
            "{} raw {name} byte{} from column {} (read as space{})",
            controls.len(),
            if controls.len() == 1 { "" } else { "s" },
            first + 1,
            if controls.len() == 1 { "" } else { "s" },
        ));
        for at in controls {
            out[at] = b' ';
        }
    }
    (!said.is_empty()).then(|| (out, format!("line holds {}; the rest of the entry read", said.join(" and "))))
}

/// A JSON error without serde's "at line 1 column N" (the line is known): "… at column N".
pub(crate) fn short_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.find(" at line ") {
        Some(i) => format!("{} at column {}", &msg[..i], e.column()),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Keeps what a damaged line gave: the entry types read, the bytes printed.
    #[derive(Default)]
    struct Kept {
        read: Vec<String>,
        printed: Vec<Vec<u8>>,
    }

    impl Reader for Kept {
        fn read(&mut self, e: Entry<'_>, _: &Source, _: &mut Vec<Finding>) {
            self.read.push(e.kind.0.as_deref().unwrap_or("").to_string());
        }
        fn reprint(&mut self, bytes: &[u8]) {
            self.printed.push(bytes.to_vec());
        }
    }

    fn source() -> Source {
        Source { file: Arc::from("t.jsonl"), line: 1, offset: 0, len: 0 }
    }

    fn recovered(line: &[u8]) -> (Kept, Vec<String>) {
        let (mut kept, mut findings) = (Kept::default(), Vec::new());
        recover(&mut kept, line, &source(), &mut findings);
        (kept, findings.into_iter().map(|f| f.message).collect())
    }

    const USER: &str = r#"{"type":"user","message":{"role":"user","content":"hi"}}"#;

    #[test]
    fn repairs_keep_every_column() {
        let (out, what) = repair(br#"{"a":"x\ud83d y"}"#).expect("a lone surrogate");
        assert_eq!(out, br#"{"a":"x\ufffd y"}"#);
        assert!(what.contains("lone surrogate escape \\ud83d at column 8"), "{what}");
        let (out, what) = repair(b"{\"a\":\"x\ty\"}").expect("a raw control byte");
        assert_eq!(out, b"{\"a\":\"x y\"}");
        assert!(what.contains("1 raw control byte from column 8"), "{what}");
        assert_eq!(repair(br#"{"a":"\ud83d\ude00 \\ud83d"}"#), None);
    }

    #[test]
    fn tells_duplicate_keys_and_disguised_types() {
        assert!(duplicate_key(br#"{"type":"user","a":1,"type":"x"}"#));
        assert!(!duplicate_key(br#"{"type":"user","a":{"type":"x"}}"#));
        assert!(may_hide_its_type(br#"{"t\u0079pe":"user"}"#));
        assert!(may_hide_its_type(br#"{"type":1}"#));
        assert!(may_hide_its_type(br#" [{"type":"user"}]"#));
        assert!(!may_hide_its_type(br#"{"type":"attachment","x":"y"}"#));
    }

    #[test]
    fn a_repaired_array_is_reread_from_the_repaired_bytes() {
        let line = format!("[{}]", USER.replace("hi", "h\ti"));
        let (kept, findings) = recovered(line.as_bytes());
        assert_eq!(kept.read, ["user"]);
        assert_eq!(kept.printed, [line.replace('\t', " ").into_bytes()]);
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert!(findings[0].contains("raw control byte"), "{findings:?}");
        assert!(findings[1].contains("JSON array of 1 record"), "{findings:?}");
    }

    #[test]
    fn records_are_read_around_damage() {
        let (kept, findings) = recovered(format!("{USER}{USER}").as_bytes());
        assert_eq!((kept.read.len(), kept.printed.len()), (2, 0));
        assert!(findings[0].contains("2 JSON records with no newline"), "{findings:?}");
        let (kept, findings) = recovered(format!("{{\"type\":\"us{USER}").as_bytes());
        assert_eq!(kept.read, ["user"]);
        assert!(findings[0].contains("read the 1 whole record from column 12"), "{findings:?}");
        let (kept, findings) = recovered(b"{\"type\":\"user\",");
        assert!(kept.read.is_empty());
        assert!(findings[0].starts_with("line is not valid JSON (EOF while parsing"), "{findings:?}");
    }

    #[test]
    fn a_skipped_line_is_reread_only_when_it_may_hide_its_type() {
        let (mut kept, mut findings) = (Kept::default(), Vec::new());
        skipped(&mut kept, br#"{"t\u0079pe":"user","message":{"content":"hi"}}"#, source(), &mut findings);
        skipped(&mut kept, br#"{"type":"attachment"}"#, source(), &mut findings);
        skipped(&mut kept, b"   ", source(), &mut findings);
        assert_eq!(kept.read, ["user"]);
        assert!(findings.is_empty(), "{:?}", findings.iter().map(|f| &f.message).collect::<Vec<_>>());
        skipped(&mut kept, b"{\"type\":\"attach", source(), &mut findings);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.starts_with("line is not valid JSON"), "{}", findings[0].message);
    }
}
