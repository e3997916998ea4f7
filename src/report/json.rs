//! The versioned JSON document (format documented in docs/json-format.md).

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::engine::{Report, Summary};

/// The version of the JSON document's shape; bumped on incompatible change.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    diagnostics: &'a [Diagnostic],
    summary: &'a Summary,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document { version: VERSION, diagnostics: &report.diagnostics, summary: &report.summary };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
