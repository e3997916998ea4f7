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

/// `1 error`, `2 errors`, `3 launches`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    match (n, word.ends_with("ch")) {
        (1, _) => format!("1 {word}"),
        (_, true) => format!("{n} {word}es"),
        _ => format!("{n} {word}s"),
    }
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
