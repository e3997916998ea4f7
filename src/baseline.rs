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
    pub fn load(path: &Path) -> Result<Baseline, String> {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
        let file: BaselineFile = serde_json::from_str(&text).map_err(|e| {
            format!(
                "baseline {} is not a baseline file (line {}: {e}); write one with --write-baseline",
                path.display(),
                e.line()
            )
        })?;
        if file.version != 1 {
            return Err(format!(
                "baseline {} has version {}; this orchlint reads version 1",
                path.display(),
                file.version
            ));
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

/// Writes the report's errors and warnings as a baseline; returns how many.
pub fn write(report: &Report, path: &Path) -> std::io::Result<usize> {
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
    let mut text = serde_json::to_string_pretty(&BaselineFile { version: 1, findings })?;
    text.push('\n');
    std::fs::write(path, text)?;
    Ok(n)
}
