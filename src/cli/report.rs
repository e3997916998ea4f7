//! `orchlint report`: the HTML timeline of the runs, written to a file.

use std::path::PathBuf;

use orchlint::engine;
use orchlint::outcome::Outcome;
use orchlint::report::{self, Format};
use orchlint::settings::BaselineUse;
use orchlint::words::plural;

use super::Common;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "orchlint-report.html")]
    output: PathBuf,
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let settings = args.common.settings.sources().resolve(&[], &[])?;
    let opts = engine::Options { detail: true, excerpts: true, require_run: false, ..settings.engine_options() };
    let (mut report, mut checked) = engine::check_collect(&args.common.paths, &settings.workflows, &opts)?;
    if checked.is_empty() && report.diagnostics.is_empty() {
        miette::bail!("no transcripts found");
    }
    settings.settle(&mut report, &BaselineUse::Ignore, false)?;
    engine::page_order(&mut checked);
    let doc = report::inspect::build(&checked, &settings.workflows);
    super::check::write_output(Format::Html, &args.output.display().to_string(), &report, Some(&doc), false)?;
    eprintln!(
        "wrote {} ({}, {})",
        args.output.display(),
        plural(report.summary.runs, "workflow run"),
        plural(report.summary.errors, "error")
    );
    Ok(Outcome::Success)
}
