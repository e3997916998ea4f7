//! `path:line:col: severity[rule] message`, one diagnostic a line.

use std::io::{self, Write};

use crate::engine::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        writeln!(out, "{}:{}:{}: {}[{}] {}", d.file, d.line, d.column, d.severity.as_str(), d.rule, d.message)?;
    }
    let s = &report.summary;
    writeln!(out, "Found {} errors, {} warnings, {} notes in {} runs.", s.errors, s.warnings, s.notes, s.runs)
}
