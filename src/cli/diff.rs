//! `orchlint diff`: two runs by behaviour, or two corpora by per-rule rates.

use std::io::Write;
use std::path::PathBuf;

use orchlint::engine::{self, Report};
use orchlint::outcome::Outcome;
use orchlint::settings::BaselineUse;
use orchlint::words::plural;

use super::{InspectFormat, SettingsArgs};

#[derive(clap::Args)]
pub struct Args {
    /// The first run: a session file, or a folder holding one session (with --corpus: a folder of runs).
    a: PathBuf,
    /// The second run.
    b: PathBuf,
    /// Compare two corpora: per rule, how many runs broke it in each, the rates and the change.
    #[arg(long)]
    corpus: bool,
    /// With --corpus: exit 1 only when a rule's share of broken runs grew by more than PP percentage points.
    #[arg(long, value_name = "PP", default_value_t = 0.0, requires = "corpus")]
    max_regression: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    format: InspectFormat,
    #[command(flatten)]
    settings: SettingsArgs,
}

fn json(value: &impl serde::Serialize, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
    writeln!(out)
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let settings = args.settings.sources().resolve(&[], &[])?;
    let opts = engine::Options { require_run: false, ..settings.engine_options() };
    let wfs = &settings.workflows;
    if !args.corpus {
        let a = orchlint::diff::load(&args.a, wfs, &opts)?;
        let b = orchlint::diff::load(&args.b, wfs, &opts)?;
        let d = orchlint::diff::compare(a, b);
        super::print_all(|out| match args.format {
            InspectFormat::Human => orchlint::diff::render_human(&d, out),
            InspectFormat::Json => json(&d, out),
        })?;
        return Ok(Outcome::failure_if(!d.same));
    }
    let check = |p: &PathBuf| -> miette::Result<Report> {
        if !p.is_dir() {
            miette::bail!(help = "give two folders of runs", "--corpus: {} is not a folder", p.display());
        }
        let mut report = engine::check(std::slice::from_ref(p), wfs, &opts)?;
        if report.summary.runs == 0 {
            miette::bail!(
                help = "--corpus compares folders of recorded runs",
                "{}: no workflow run found ({})",
                p.display(),
                wfs.names().join(", ")
            );
        }
        settings.settle(&mut report, &BaselineUse::Ignore, false)?;
        Ok(report)
    };
    let d = orchlint::diff::compare_corpora(&check(&args.a)?, &check(&args.b)?);
    super::print_all(|out| match args.format {
        InspectFormat::Human => orchlint::diff::render_corpus_human(&d, out),
        InspectFormat::Json => json(&d, out),
    })?;
    let regressions = d.regressions(args.max_regression);
    for r in &regressions {
        eprintln!(
            "error: {} regressed: broken in {} of a ({:.1}%), {} of b ({:.1}%): {:+.1} percentage points{}",
            r.rule,
            plural(r.broken_a, "run"),
            r.rate_a * 100.0,
            plural(r.broken_b, "run"),
            r.rate_b * 100.0,
            r.change,
            if args.max_regression > 0.0 {
                format!(", more than --max-regression {}", args.max_regression)
            } else {
                String::new()
            }
        );
    }
    Ok(Outcome::failure_if(!regressions.is_empty()))
}
