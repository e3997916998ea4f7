//! SARIF 2.1.0: one run whose driver lists every rule and whose results are
//! the diagnostics, for code-scanning tools (GitHub code scanning, IDEs).
//!
//! Deterministic: struct fields serialize in declaration order, rules in the
//! order of [`RULES`], results in the order of the report.

use std::io::{self, Write};

use serde::Serialize;

use crate::checks::{Rule, RULES};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::Report;

/// The `$schema` of the document.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// Where orchlint lives.
pub const INFORMATION_URI: &str = "https://github.com/orchlint/orchlint";
/// The base of each rule's `helpUri`: the rule id and `.md` follow.
pub const RULE_DOC_BASE: &str = "https://github.com/orchlint/orchlint/blob/main/docs/rules/";
/// The key of each result's `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "orchlint/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    /// Columns count characters (Unicode code points), as `Diagnostic::column` does.
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: MessageText<'a>,
    locations: [Location; 1],
    partial_fingerprints: Fingerprints<'a>,
    #[serde(skip_serializing_if = "Properties::is_empty")]
    properties: Properties<'a>,
}

#[derive(Serialize)]
struct MessageText<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    byte_length: Option<u64>,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "orchlint/v1")]
    v1: &'a str,
}

#[derive(Serialize)]
struct Properties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    phase: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
}

impl Properties<'_> {
    fn is_empty(&self) -> bool {
        self.phase.is_none() && self.session.is_none() && self.run.is_none() && self.subject.is_none()
    }
}

/// Writes the SARIF log of a report, pretty-printed, with a final newline.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let log = Log {
        schema: SCHEMA,
        version: SARIF_VERSION,
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "orchlint",
                    version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules: RULES.iter().map(descriptor).collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results: report.diagnostics.iter().map(result).collect(),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    ReportingDescriptor {
        id: rule.id,
        name: camel_case(rule.id),
        short_description: Text { text: rule.summary.to_string() },
        full_description: Text { text: what_it_checks(rule.doc).unwrap_or_else(|| rule.summary.to_string()) },
        help: Help { text: rule.doc, markdown: rule.doc },
        help_uri: help_uri(rule.id),
        default_configuration: Configuration { level: level(rule.severity) },
    }
}

fn result(d: &Diagnostic) -> SarifResult<'_> {
    SarifResult {
        rule_id: d.rule,
        rule_index: RULES.iter().position(|r| r.id == d.rule),
        level: level(d.severity),
        message: MessageText { text: &d.message },
        locations: [Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation { uri: uri(&d.file) },
                region: Region {
                    start_line: d.line.max(1),
                    start_column: d.column.max(1),
                    byte_offset: d.span.map(|[start, _]| start),
                    byte_length: d.span.map(|[start, end]| end.saturating_sub(start)),
                },
            },
        }],
        partial_fingerprints: Fingerprints { v1: &d.fingerprint },
        properties: Properties {
            phase: d.phase,
            session: d.session.as_deref(),
            run: d.run,
            subject: d.subject.as_deref(),
        },
    }
}

/// The SARIF level of a severity.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The documentation page of a rule.
pub fn help_uri(id: &str) -> String {
    format!("{RULE_DOC_BASE}{id}.md")
}

/// `agent-count` → `AgentCount`.
pub fn camel_case(id: &str) -> String {
    id.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// The text of a rule doc's "## What it checks" section: the lines of each
/// paragraph joined with spaces, paragraphs separated by a blank line.
pub fn what_it_checks(doc: &str) -> Option<String> {
    let mut lines = doc.lines().skip_while(|l| l.trim() != "## What it checks");
    lines.next()?;
    let section: Vec<&str> = lines.take_while(|l| !l.starts_with("## ")).collect();
    let paragraphs: Vec<String> = section
        .split(|l| l.trim().is_empty())
        .filter(|p| !p.is_empty())
        .map(|p| p.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "))
        .collect();
    (!paragraphs.is_empty()).then(|| paragraphs.join("\n\n"))
}

/// A file path as a URI reference: relative paths stay relative (a
/// relative-path reference), absolute ones become `file://` URIs; every byte
/// but the unreserved characters and `/` is percent-encoded, so spaces, `%`,
/// `#`, `?` and a `:` in the first segment cannot change the meaning.
pub fn uri(path: &str) -> String {
    let path: std::borrow::Cow<str> = if cfg!(windows) { path.replace('\\', "/").into() } else { path.into() };
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    } else if cfg!(windows) && path.as_bytes().get(1) == Some(&b':') {
        // `C:/runs/x.jsonl`: the drive letter's colon stays as it is.
        out.push_str("file:///");
        out.push_str(&path[..2]);
        percent_encode(&path[2..], &mut out);
        return out;
    }
    percent_encode(&path, &mut out);
    out
}

fn percent_encode(text: &str, out: &mut String) {
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_cases_ids() {
        assert_eq!(camel_case("agent-count"), "AgentCount");
        assert_eq!(camel_case("transcript"), "Transcript");
        assert_eq!(camel_case("wait-for-agents"), "WaitForAgents");
    }

    #[test]
    fn encodes_paths_as_uri_references() {
        assert_eq!(uri("runs/a b/x.jsonl"), "runs/a%20b/x.jsonl");
        assert_eq!(uri("-home-dev/1f0c-ab.jsonl"), "-home-dev/1f0c-ab.jsonl");
        assert_eq!(uri("a:b/%#?.jsonl"), "a%3Ab/%25%23%3F.jsonl");
        assert_eq!(uri("<stdin>"), "%3Cstdin%3E");
        assert_eq!(uri("é.jsonl"), "%C3%A9.jsonl");
        if !cfg!(windows) {
            assert_eq!(uri("/home/me/a b.jsonl"), "file:///home/me/a%20b.jsonl");
        }
    }

    #[test]
    fn extracts_what_it_checks() {
        let doc = "# x\n\n## What it checks\nOne\ntwo.\n\nThree.\n\n## Why\nBecause.\n";
        assert_eq!(what_it_checks(doc).as_deref(), Some("One two.\n\nThree."));
        assert_eq!(what_it_checks("# x\n## Why\nno\n"), None);
    }
}
