//! `orchlint merge`: the JSON reports of `check --shard K/N` combined into
//! one report in any format but human and html, the bytes of one unsharded run.

use std::path::PathBuf;

use clap::ValueEnum;

use orchlint::config::FailLevel;
use orchlint::engine::Report;
use orchlint::outcome::Outcome;
use orchlint::report::{self, Format};

#[derive(clap::Args)]
pub struct Args {
    /// The parts' JSON reports (`orchlint check --shard K/N --format json`), all N of them.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Output format of the merged report.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the merged report in another format: `sarif=orchlint.sarif`, `junit=junit.xml` (repeatable).
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    also: Vec<String>,
    /// Exit with status 1 on findings of this severity or worse.
    #[arg(long, value_enum, default_value_t = FailLevel::Error)]
    fail_level: FailLevel,
}

/// Why a format cannot be merged: it needs the transcripts, not the findings.
fn needs_transcripts(format: Format) -> bool {
    matches!(format, Format::Human | Format::Html)
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let main = args.output.as_ref().map_or_else(|| "-".to_string(), |p| p.display().to_string());
    let mut targets = vec![(args.format, main)];
    targets.extend(super::check::other_reports(&args.also, args.output.is_none())?);
    if let Some((format, _)) = targets.iter().find(|(f, _)| needs_transcripts(*f)) {
        let name = format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        miette::bail!(
            help = "merge writes json, jsonl, concise, sarif, junit and github; for html, write each part's own \
                    (`check --shard K/N --report html=part-K.html`) or check the whole tree in one run",
            "merge cannot write {name}: it shows the transcripts' lines, which the parts' JSON reports do not hold"
        );
    }
    let mut parts = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = std::fs::read_to_string(path).map_err(|e| {
            miette::miette!(help = "name the parts' JSON reports", "cannot read {}: {e}", path.display())
        })?;
        parts.push(report::json::read(&text, &path.display().to_string())?);
    }
    let merged = Report::merged(parts);
    for (format, target) in &targets {
        super::check::write_output(*format, target, &merged, None, false)?;
    }
    Ok(Outcome::failure_if(merged.diagnostics.iter().any(|d| args.fail_level.fails(d.severity))))
}
