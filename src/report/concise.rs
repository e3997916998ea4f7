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
