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

/// `1 error`, `2 errors`, `3 launches`, `4 entries`: every count printed
/// goes through it.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        return format!("1 {word}");
    }
    let before_y = word.strip_suffix('y').and_then(|w| w.chars().next_back());
    match before_y {
        Some(c) if !"aeiou".contains(c) => format!("{n} {}ies", &word[..word.len() - 1]),
        _ if word.ends_with("ch") || word.ends_with('s') => format!("{n} {word}es"),
        _ => format!("{n} {word}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::plural;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "entry"), "1 entry");
        assert_eq!(plural(2, "entry"), "2 entries");
        assert_eq!(plural(0, "error"), "0 errors");
        assert_eq!(plural(3, "launch"), "3 launches");
        assert_eq!(plural(2, "day"), "2 days");
    }
}

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

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        <Format as ValueEnum>::from_str(s, true)
    }
}
