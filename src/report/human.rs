//! miette reports: the offending JSONL line with the culprit underlined, the
//! rule id, the message and help; then a summary.

use std::fmt;
use std::io::{self, Write};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::Report;
use crate::words::plural;

/// The excerpt of one line, numbered as in its file.
struct LineSource {
    name: String,
    text: String,
    /// 1-based line and column of the culprit in the file.
    line: usize,
    column: usize,
}

impl SourceCode for LineSource {
    fn read_span<'a>(
        &'a self,
        _span: &SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            self.text.as_bytes(),
            SourceSpan::from(0..self.text.len()),
            self.line.saturating_sub(1),
            self.column.saturating_sub(1),
            1,
        )))
    }
}

struct Rendered<'a> {
    d: &'a Diagnostic,
    source: Option<LineSource>,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.d.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.d.message, super::phase_suffix(self.d))
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.d.rule))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        None
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let ex = self.d.excerpt.as_ref()?;
        let label = LabeledSpan::new(None, ex.start, ex.end.saturating_sub(ex.start).max(1));
        Some(Box::new(std::iter::once(label)))
    }
}

/// Renders every diagnostic and the summary.
pub fn render(report: &Report, color: bool, out: &mut dyn Write) -> io::Result<()> {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(120)
        .with_links(false)
        .with_break_words(false)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    for d in &report.diagnostics {
        let source = d.excerpt.as_ref().map(|ex| LineSource {
            name: d.file.to_string(),
            text: ex.text.clone(),
            line: d.line as usize,
            column: d.column as usize,
        });
        let rendered = Rendered { d, source };
        let mut text = String::new();
        handler.render_report(&mut text, &rendered).map_err(io::Error::other)?;
        write!(out, "{text}")?;
        writeln!(out)?;
    }
    summary(report, out)
}

pub fn summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "checked {} ({}), {}: {}, {}, {}",
        plural(s.transcripts, "transcript"),
        plural(s.subagent_files, "subagent file"),
        plural(s.runs, "workflow run"),
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
    )?;
    if s.sessions_without_run > 0 {
        writeln!(
            out,
            "{} no workflow run",
            crate::words::plural_phrase(s.sessions_without_run, "session has", "sessions have")
        )?;
    }
    if s.baselined > 0 || s.suppressed > 0 {
        let mut left_out = Vec::new();
        if s.baselined > 0 {
            left_out.push(format!("{} in the baseline", plural(s.baselined, "finding")));
        }
        if s.suppressed > 0 {
            left_out.push(format!("{} suppressed by the config", plural(s.suppressed, "finding")));
        }
        writeln!(out, "left out: {}", left_out.join(", "))?;
    }
    if s.skipped_files > 0 {
        writeln!(
            out,
            "skipped {} with nothing to check (not transcripts, empty, or summaries only)",
            plural(s.skipped_files, "file")
        )?;
    }
    Ok(())
}
