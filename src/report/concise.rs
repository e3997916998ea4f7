//! `path:line:col: severity[rule] message`, one diagnostic a line.

use std::io::{self, Write};

use crate::words::plural;

use crate::diagnostic::Severity;
use crate::engine::Report;

/// With `color`, the place is bold and the severity red (error), yellow
/// (warning) or cyan (note), as ruff and rustc colour theirs.
pub fn render(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        let severity = d.severity.as_str();
        if color {
            let code = match d.severity {
                Severity::Error => "31",
                Severity::Warning => "33",
                Severity::Note => "36",
            };
            writeln!(
                out,
                "\x1b[1m{}:{}:{}:\x1b[0m \x1b[1;{code}m{severity}\x1b[0m[{}] {}",
                d.file, d.line, d.column, d.rule, d.message
            )?;
        } else {
            writeln!(out, "{}:{}:{}: {severity}[{}] {}", d.file, d.line, d.column, d.rule, d.message)?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "Found {}, {}, {} in {}.",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
        plural(s.runs, "workflow run")
    )?;
    let mut left_out = Vec::new();
    if s.baselined > 0 {
        left_out.push(format!("{} in the baseline", plural(s.baselined, "finding")));
    }
    if s.suppressed > 0 {
        left_out.push(format!("{} suppressed", plural(s.suppressed, "finding")));
    }
    if !left_out.is_empty() {
        writeln!(out, "Left out {}.", left_out.join(" and "))?;
    }
    Ok(())
}
