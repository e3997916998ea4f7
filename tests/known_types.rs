//! Every record kind seen in the real sessions of `../shared` is one that
//! `src/ingest/known.rs` lists (read, ignored, or foreign): a new Claude Code
//! type fails here once, to be looked at and listed.

mod common;

use std::collections::BTreeSet;

use common::shared;
use orchlint::ingest::known::{self, Use};

/// The (table, kind) pairs of one JSON line, as the reader would see them.
fn kinds(value: &serde_json::Value, out: &mut BTreeSet<(&'static str, String)>) {
    let Some(obj) = value.as_object() else { return };
    let Some(ty) = obj.get("type").and_then(|t| t.as_str()) else { return };
    out.insert(("entry type", ty.to_string()));
    let nested = |key: &str, field: &str| obj.get(key).and_then(|v| v.get(field)).and_then(|v| v.as_str());
    let own = |field: &str| obj.get(field).and_then(|v| v.as_str());
    match ty {
        "system" => out.extend(own("subtype").map(|s| ("system subtype", s.to_string()))),
        "attachment" => out.extend(nested("attachment", "type").map(|s| ("attachment type", s.to_string()))),
        "queue-operation" => out.extend(own("operation").map(|s| ("queue operation", s.to_string()))),
        "progress" => out.extend(nested("data", "type").map(|s| ("progress type", s.to_string()))),
        _ => {}
    }
}

fn table(name: &str) -> &'static [(&'static str, Use)] {
    match name {
        "entry type" => known::ENTRY_TYPES,
        "system subtype" => known::SYSTEM_SUBTYPES,
        "attachment type" => known::ATTACHMENT_TYPES,
        "queue operation" => known::QUEUE_OPERATIONS,
        _ => known::PROGRESS_TYPES,
    }
}

#[test]
fn every_kind_in_the_real_sessions_is_listed() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED every_kind_in_the_real_sessions_is_listed: ../shared is not here");
        return;
    };
    let mut seen: BTreeSet<(&'static str, String)> = BTreeSet::new();
    let mut files = 0;
    for folder in ["realworld", "external", "corpus"] {
        for entry in walkdir::WalkDir::new(shared.join(folder)).sort_by_file_name() {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() || entry.path().extension().is_none_or(|e| e != "jsonl") {
                continue;
            }
            files += 1;
            let bytes = std::fs::read(entry.path()).unwrap();
            for line in bytes.split(|b| *b == b'\n') {
                if let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) {
                    kinds(&value, &mut seen);
                }
            }
        }
    }
    assert!(files > 100, "only {files} transcript files under ../shared");
    let unknown: Vec<String> = seen
        .iter()
        .filter(|(t, kind)| known::use_of(table(t), kind).is_none())
        .map(|(t, kind)| format!("{t} `{kind}`"))
        .collect();
    assert!(
        unknown.is_empty(),
        "kinds seen in ../shared that src/ingest/known.rs does not list (say there whether orchlint reads or ignores them):\n{}",
        unknown.join("\n")
    );
}
