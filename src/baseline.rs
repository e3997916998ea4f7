//! Baselines: the findings a project accepts for now, by fingerprint, so that
//! `check --baseline FILE` fails only on new ones.
//!
//! The file is JSON: `{"version": 1, "findings": [{"fingerprint", "rule",
//! "session", "phase", "subject", "file"}]}`, sorted. Only `fingerprint` is
//! matched; the rest is there for the people who review the file.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::Report;

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    fingerprint: String,
    rule: String,
    session: Option<String>,
    phase: Option<u8>,
    subject: Option<String>,
    file: String,
}

/// A loaded baseline.
#[derive(Debug, Default)]
pub struct Baseline {
    fingerprints: BTreeSet<String>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = || path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| BaselineError::Unreadable(shown(), e))?;
        let file: BaselineFile =
            serde_json::from_str(&text).map_err(|error| BaselineError::Invalid { file: shown(), error })?;
        if file.version != 1 {
            return Err(BaselineError::Version(shown(), file.version));
        }
        Ok(Baseline { fingerprints: file.findings.into_iter().map(|e| e.fingerprint).collect() })
    }

    /// Leaves out the findings the baseline holds; returns how many.
    pub fn apply(&self, report: &mut Report) -> usize {
        let before = report.diagnostics.len();
        report.diagnostics.retain(|d| !self.fingerprints.contains(&d.fingerprint));
        let left_out = before - report.diagnostics.len();
        report.summary.baselined += left_out;
        report.recount();
        left_out
    }
}

/// A baseline file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BaselineError {
    #[error("cannot read baseline {0}: {1}")]
    Unreadable(String, std::io::Error),
    #[error("baseline {file} is not a baseline file (line {}: {error}); write one with --write-baseline", .error.line())]
    Invalid { file: String, error: serde_json::Error },
    #[error("baseline {0} has version {1}; this orchlint reads version 1")]
    Version(String, u32),
    #[error("cannot write {0}: {1}")]
    Unwritable(String, std::io::Error),
}

/// Writes the report's errors and warnings as a baseline; returns how many.
pub fn write(report: &Report, path: &Path) -> Result<usize, BaselineError> {
    let unwritable = |e: std::io::Error| BaselineError::Unwritable(path.display().to_string(), e);
    let mut findings: Vec<Entry> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .map(|d: &Diagnostic| Entry {
            fingerprint: d.fingerprint.clone(),
            rule: d.rule.to_string(),
            session: d.session.as_deref().map(str::to_string),
            phase: d.phase,
            subject: d.subject.clone(),
            file: d.file.to_string(),
        })
        .collect();
    findings.sort();
    findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let n = findings.len();
    let mut text = serde_json::to_string_pretty(&BaselineFile { version: 1, findings })
        .map_err(std::io::Error::from)
        .map_err(unwritable)?;
    text.push('\n');
    std::fs::write(path, text).map_err(unwritable)?;
    Ok(n)
}
