//! JSON Lines: one diagnostic a line, the same object as in the `diagnostics`
//! of `--format json` (docs/json-format.md), and nothing else: no summary, no
//! version, so that the output can be concatenated, streamed and grepped.

use std::io::{self, Write};

use crate::engine::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        serde_json::to_writer(&mut *out, d)?;
        writeln!(out)?;
    }
    Ok(())
}
