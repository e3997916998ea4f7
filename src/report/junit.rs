//! JUnit XML as CI systems read it (Jenkins, GitLab, Azure Pipelines, the
//! test-report actions of GitHub): one `<testsuite>` per file, one
//! `<testcase>` per (file, rule) for every rule of [`RULES`]. A rule with
//! error- or warning-severity diagnostics in a file fails with one
//! `<failure>` listing them, one a line; notes go to the test case's
//! `<system-out>` and do not fail it.
//!
//! Limitation: a [`Report`] only knows the files that have diagnostics, so
//! [`render`] shows only those; a checked file without any diagnostic (a
//! clean run, which would show as all rules passed) appears only when the
//! caller names it in [`render_with_files`]. Rules switched off with
//! `--select`/`--ignore` show as passed, since the report does not record
//! the selection.

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::words::plural;

use crate::checks::RULES;
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::Report;

/// Writes the JUnit XML of a report: the files that have diagnostics.
pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    render_with_files(report, &[] as &[&str], out)
}

/// Writes the JUnit XML of a report with a test suite for every file of
/// `files` as well as for every file with diagnostics (the union, sorted).
/// Pass the checked session files so that clean ones appear as passed.
pub fn render_with_files<S: AsRef<str>>(report: &Report, files: &[S], out: &mut dyn Write) -> io::Result<()> {
    let mut names: BTreeSet<&str> = files.iter().map(AsRef::as_ref).collect();
    names.extend(report.diagnostics.iter().map(|d| &*d.file));

    let suites: Vec<Suite> = names
        .into_iter()
        .map(|file| {
            let diags: Vec<&Diagnostic> = report.diagnostics.iter().filter(|d| &*d.file == file).collect();
            Suite::new(file, &diags)
        })
        .collect();
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();

    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="orchlint" tests="{tests}" failures="{failures}" errors="0">"#)?;
    for suite in &suites {
        suite.write(out)?;
    }
    writeln!(out, "</testsuites>")
}

/// One file's test cases.
struct Suite<'a> {
    file: &'a str,
    cases: Vec<Case<'a>>,
}

/// One (file, rule) test case.
struct Case<'a> {
    rule: &'static str,
    summary: &'static str,
    /// Error- and warning-severity diagnostics: the failure.
    failing: Vec<&'a Diagnostic>,
    /// Notes: printed, not failing.
    notes: Vec<&'a Diagnostic>,
}

impl<'a> Suite<'a> {
    fn new(file: &'a str, diags: &[&'a Diagnostic]) -> Suite<'a> {
        let mut cases: Vec<Case> = RULES
            .iter()
            .map(|rule| Case { rule: rule.id, summary: rule.summary, failing: Vec::new(), notes: Vec::new() })
            .collect();
        for &d in diags {
            let at = match cases.iter().position(|c| c.rule == d.rule) {
                Some(at) => at,
                None => {
                    // A rule unknown to the registry still gets its test case.
                    cases.push(Case { rule: d.rule, summary: "", failing: Vec::new(), notes: Vec::new() });
                    cases.len() - 1
                }
            };
            let case = &mut cases[at];
            match d.severity {
                Severity::Error | Severity::Warning => case.failing.push(d),
                Severity::Note => case.notes.push(d),
            }
        }
        Suite { file, cases }
    }

    fn failures(&self) -> usize {
        self.cases.iter().filter(|c| !c.failing.is_empty()).count()
    }

    fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let file = attr(self.file);
        writeln!(
            out,
            r#"  <testsuite name="{file}" tests="{}" failures="{}" errors="0" skipped="0">"#,
            self.cases.len(),
            self.failures()
        )?;
        for case in &self.cases {
            let open = format!(r#"    <testcase classname="{file}" name="{}""#, attr(case.rule));
            if case.failing.is_empty() && case.notes.is_empty() {
                writeln!(out, "{open}/>")?;
                continue;
            }
            writeln!(out, "{open}>")?;
            if !case.failing.is_empty() {
                let message = failure_message(case);
                let body: String = case.failing.iter().map(|d| line(d) + "\n").collect();
                writeln!(
                    out,
                    r#"      <failure message="{}" type="{}">{}</failure>"#,
                    attr(&message),
                    attr(case.rule),
                    text(&body)
                )?;
            }
            if !case.notes.is_empty() {
                let body: String = case.notes.iter().map(|d| line(d) + "\n").collect();
                writeln!(out, "      <system-out>{}</system-out>", text(&body))?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")
    }
}

/// `2 errors, 1 warning: <the rule's summary>`.
fn failure_message(case: &Case) -> String {
    let errors = case.failing.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = case.failing.len() - errors;
    let mut counts = Vec::new();
    if errors > 0 {
        counts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        counts.push(plural(warnings, "warning"));
    }
    let counts = counts.join(", ");
    if case.summary.is_empty() {
        counts
    } else {
        format!("{counts}: {}", case.summary)
    }
}

/// `line:col: severity: message (phase N)`.
fn line(d: &Diagnostic) -> String {
    let phase = super::phase_suffix(d);
    format!("{}:{}: {}: {}{phase}", d.line, d.column, d.severity.as_str(), d.message)
}

/// Escapes text for an XML 1.0 attribute value: the five markup characters
/// become entities; tab, newline and carriage return become character
/// references, which attribute-value normalization keeps; characters XML 1.0
/// forbids (other control characters, U+FFFE, U+FFFF) are removed.
fn attr(text: &str) -> String {
    escape(text, true)
}

/// Escapes text for element content: as [`attr`], but quotes, tab and newline
/// stay as they are (carriage return is still a reference, or parsers would
/// turn it into a newline).
fn text(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, attr: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            '\t' | '\n' => out.push(c),
            c if allowed(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// The characters XML 1.0 allows (besides tab, newline and carriage return).
fn allowed(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(attr(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(text(r#"a&b<c>d"e'f]]>"#), r#"a&amp;b&lt;c&gt;d"e'f]]&gt;"#);
        assert_eq!(attr("x\u{0}\u{1b}[31my\u{7}\u{FFFE}\u{FFFF}"), "x[31my");
        assert_eq!(attr("a\nb\r\tc"), "a&#10;b&#13;&#9;c");
        assert_eq!(text("a\nb\r\tc"), "a\nb&#13;\tc");
        assert_eq!(text("é ✓ 😀 \u{85}"), "é ✓ 😀 \u{85}");
    }
}
