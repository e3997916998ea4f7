//! Renderers: one file per output format. Only these and the CLI print.

pub mod concise;
pub mod github;
pub mod html;
pub mod human;
pub mod inspect;
pub mod json;
pub mod jsonl;
pub mod junit;
pub mod replay;
pub mod rules;
pub mod sarif;

use clap::ValueEnum;

use crate::words::plural;

/// ` (phase N)` after a message, naming the phase in force where it is
/// reported; nothing when the message already says `phase N`.
pub(crate) fn phase_suffix(d: &crate::diagnostic::Diagnostic) -> String {
    match d.phase {
        Some(p) if !names_phase(&d.message, p) => format!(" (phase {p})"),
        _ => String::new(),
    }
}

fn names_phase(message: &str, phase: u8) -> bool {
    let needle = format!("phase {phase}");
    message.match_indices(&needle).any(|(at, _)| {
        let before = message[..at].chars().next_back();
        let after = message[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

/// `check --statistics`: per rule and severity, how many findings, most
/// first (ties by rule id), then the total.
pub fn statistics(report: &crate::engine::Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut counts: std::collections::BTreeMap<(&str, &str), usize> = std::collections::BTreeMap::new();
    for d in &report.diagnostics {
        *counts.entry((d.rule, d.severity.as_str())).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for ((rule, severity), n) in &rows {
        writeln!(out, "{n:>5}  {rule:<20} {severity}")?;
    }
    let rules: std::collections::BTreeSet<&str> = rows.iter().map(|((rule, _), _)| *rule).collect();
    writeln!(out, "{} of {}", plural(report.diagnostics.len(), "finding"), plural(rules.len(), "rule"))
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// miette reports with the offending line, then a summary.
    Human,
    /// `path:line:col: severity[rule] message`, one a line.
    Concise,
    /// One versioned JSON document (docs/json-format.md).
    Json,
    /// One diagnostic a line, the objects of the JSON document.
    Jsonl,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML: a test case per (session, rule).
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A self-contained HTML timeline of each run.
    Html,
}

/// A format name that is none of [`Format`]'s.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown format `{0}`")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        <Format as ValueEnum>::from_str(s, true).map_err(|_| UnknownFormat(s.to_string()))
    }
}
