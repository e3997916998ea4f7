//! The versioned JSON document (format documented in docs/json-format.md).

use std::io::{self, Write};

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{Report, Summary};

/// The version of the JSON document's shape; bumped on incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: &'a [Diagnostic],
    summary: &'a Summary,
    /// The transcripts checked, sorted (clean ones too: `orchlint merge`
    /// lists them in a JUnit report).
    files: &'a [Arc<str>],
    /// Written by `check --shard K/N`: the SHA-256 of each file an HTML
    /// timeline or a finding's excerpt is drawn from, for `orchlint merge`.
    #[serde(skip_serializing_if = "crate::merge::Stamps::is_empty")]
    stamps: &'a crate::merge::Stamps,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        version: VERSION,
        diagnostics: &report.diagnostics,
        summary: &report.summary,
        files: &report.files,
        stamps: &report.stamps,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// A JSON report of `check` read back (`orchlint merge`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadDocument {
    version: u32,
    diagnostics: Vec<ReadDiagnostic>,
    summary: Summary,
    files: Option<Vec<Arc<str>>>,
    #[serde(default)]
    stamps: crate::merge::Stamps,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadDiagnostic {
    rule: String,
    severity: Severity,
    message: String,
    phase: Option<u8>,
    file: Arc<str>,
    line: u32,
    column: u32,
    span: Option<[u64; 2]>,
    session: Option<Arc<str>>,
    run: Option<u32>,
    help: Option<Arc<str>>,
    subject: Option<String>,
    fingerprint: String,
}

/// Why a JSON report could not be read back.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReadError {
    #[error("{file}: not a JSON report of orchlint check: {why}")]
    #[diagnostic(help("write each part with `orchlint check --format json` (or `--report json=FILE`)"))]
    NotAReport { file: String, why: String },
    #[error("{file}: JSON report version {version}; this orchlint reads version {VERSION}")]
    #[diagnostic(help("write every part with the same orchlint version as the one merging them"))]
    Version { file: String, version: u32 },
    #[error("{file}: the report lists no `files`")]
    #[diagnostic(help("it was written by an older orchlint: write the parts again with this one"))]
    NoFiles { file: String },
    #[error("{file}: unknown rule `{rule}`")]
    #[diagnostic(help("write every part with the same orchlint version as the one merging them"))]
    UnknownRule { file: String, rule: String },
}

/// Reads a JSON report of `check` back into a report (`file` names it in errors).
pub fn read(text: &str, file: &str) -> Result<Report, ReadError> {
    let doc: ReadDocument =
        serde_json::from_str(text).map_err(|e| ReadError::NotAReport { file: file.to_string(), why: e.to_string() })?;
    if doc.version != VERSION {
        return Err(ReadError::Version { file: file.to_string(), version: doc.version });
    }
    let files = doc.files.ok_or_else(|| ReadError::NoFiles { file: file.to_string() })?;
    let mut diagnostics = Vec::with_capacity(doc.diagnostics.len());
    for d in doc.diagnostics {
        let rule = crate::checks::rule(&d.rule)
            .map(|r| r.id)
            .ok_or_else(|| ReadError::UnknownRule { file: file.to_string(), rule: d.rule.clone() })?;
        diagnostics.push(Diagnostic {
            rule,
            severity: d.severity,
            message: d.message,
            phase: d.phase,
            file: d.file,
            line: d.line,
            column: d.column,
            span: d.span,
            session: d.session,
            run: d.run,
            help: d.help,
            subject: d.subject,
            fingerprint: d.fingerprint,
            excerpt: None,
        });
    }
    let sessions = diagnostics.iter().filter_map(|d| d.session.clone()).collect();
    Ok(Report { diagnostics, summary: doc.summary, files, sessions, stamps: doc.stamps })
}
