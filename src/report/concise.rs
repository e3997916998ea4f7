//! `path:line:col: severity[rule] message`, one diagnostic a line.

use std::io::{self, Write};

use super::plural;

use crate::engine::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        writeln!(out, "{}:{}:{}: {}[{}] {}", d.file, d.line, d.column, d.severity.as_str(), d.rule, d.message)?;
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
    if s.baselined > 0 || s.suppressed > 0 {
        writeln!(out, "Left out {} in the baseline and {} suppressed.", s.baselined, s.suppressed)?;
    }
    Ok(())
}
