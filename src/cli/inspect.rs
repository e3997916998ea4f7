//! `orchlint inspect`: a session as the model saw it.

use orchlint::engine;
use orchlint::outcome::Outcome;
use orchlint::report;

use super::{Common, InspectFormat};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    format: InspectFormat,
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let settings = args.common.settings.sources().resolve(&[], &[])?;
    let opts = engine::Options { detail: true, require_run: false, ..settings.engine_options() };
    let wfs = &settings.workflows;
    let read = engine::collect(&args.common.paths, wfs, &opts)?;
    if read.found == 0 {
        // Subagent transcripts given alone: what each says about itself.
        let mut findings = Vec::new();
        let doc = report::inspect::subagents(&args.common.paths, &mut findings);
        if doc.subagents.is_empty() {
            miette::bail!("no transcripts found");
        }
        super::print_all(|out| match args.format {
            InspectFormat::Human => report::inspect::render_subagents_human(&doc, out),
            InspectFormat::Json => report::inspect::render_subagents_json(&doc, out),
        })?;
        return Ok(Outcome::Success);
    }
    if read.report.summary.excluded == read.found {
        eprintln!("nothing to check: every path given is excluded by {}", settings.config_file());
        return Ok(Outcome::Success);
    }
    let checked = read.checked;
    let doc = report::inspect::build(&checked, wfs);
    super::print_all(|out| match args.format {
        InspectFormat::Human => report::inspect::render_human(&doc, out),
        InspectFormat::Json => report::inspect::render_json(&doc, out),
    })?;
    Ok(Outcome::Success)
}
