//! `orchlint merge`: the JSON reports of `check --shard K/N` combined into
//! one report in any format, the bytes of one unsharded run. html and human
//! show the transcripts themselves: for them the transcripts the parts
//! stamped are read again (`orchlint::merge`).

use std::path::PathBuf;

use orchlint::config::FailLevel;
use orchlint::engine::{self, Report};
use orchlint::outcome::Outcome;
use orchlint::report::{self, Format};

use super::check::Color;
use super::SettingsArgs;

#[derive(clap::Args)]
pub struct Args {
    /// The parts' JSON reports (`orchlint check --shard K/N --format json`), all N of them.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// Output format of the merged report. html and human read the transcripts again, where the
    /// parts were checked (with the --rules, --workflow and --config they were checked with), and
    /// stop if one is gone or changed since.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the merged report in another format: `sarif=orchlint.sarif`, `html=orchlint.html` (repeatable).
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    also: Vec<String>,
    /// Exit with status 1 on findings of this severity or worse.
    #[arg(long, value_enum, default_value_t = FailLevel::Error)]
    fail_level: FailLevel,
    /// When to color human and concise output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    // For html: the rules, workflow and config the parts were checked with, to find the runs again.
    #[command(flatten)]
    settings: SettingsArgs,
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let main = args.output.as_ref().map_or_else(|| "-".to_string(), |p| p.display().to_string());
    let mut targets = vec![(args.format, main)];
    targets.extend(super::check::other_reports(&args.also, args.output.is_none())?);
    let mut parts = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = std::fs::read_to_string(path).map_err(|e| {
            miette::miette!(help = "name the parts' JSON reports", "cannot read {}: {e}", path.display())
        })?;
        parts.push(report::json::read(&text, &path.display().to_string())?);
    }
    let mut merged = Report::merged(parts);
    // The stamps are for merging only: one unsharded check writes none.
    let stamps = std::mem::take(&mut merged.stamps);
    let html = targets.iter().any(|(f, _)| *f == Format::Html);
    let doc = if html || targets.iter().any(|(f, _)| *f == Format::Human) {
        let settings = args.settings.sources().resolve(&[], &[])?;
        let opts = engine::Options { detail: true, ..settings.engine_options() };
        let wfs = &settings.workflows;
        let sessions = orchlint::merge::read_again(&mut merged, &stamps, wfs, &opts, html)?;
        html.then(|| report::inspect::build(&sessions, wfs))
    } else {
        None
    };
    let color = args.color.on(args.output.is_none());
    for (i, (format, target)) in targets.iter().enumerate() {
        super::check::write_output(*format, target, &merged, doc.as_ref(), color && i == 0)?;
    }
    Ok(Outcome::failure_if(merged.diagnostics.iter().any(|d| args.fail_level.fails(d.severity))))
}
