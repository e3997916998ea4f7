//! GitHub Actions workflow commands, one a diagnostic:
//! `::error file=F,line=L,col=C,title=orchlint(RULE)::MESSAGE` (`::warning`
//! for warnings, `::notice` for notes). Printed in a workflow step, each
//! becomes an annotation on the file and line.

use std::io::{self, Write};

use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        writeln!(out, "{}", command(d))?;
    }
    Ok(())
}

/// The workflow command of one diagnostic, without the newline.
pub fn command(d: &Diagnostic) -> String {
    let name = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    format!(
        "::{name} file={},line={},col={},title={}::{}",
        escape_property(&d.file),
        d.line,
        d.column,
        escape_property(&format!("orchlint({})", d.rule)),
        escape_data(&d.message)
    )
}

/// Escapes a command's message as the runner unescapes it: `%`, `\r`, `\n`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: as [`escape_data`], and `:` and `,`, which
/// would otherwise end the value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
