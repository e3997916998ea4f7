//! `orchlint check`: read, judge, settle (suppressions, baseline), write
//! every format asked for, and decide the outcome.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;

use clap::ValueEnum;

use orchlint::config::FailLevel;
use orchlint::engine::{self, Report};
use orchlint::outcome::Outcome;
use orchlint::report::{self, Format};
use orchlint::settings::BaselineUse;
use orchlint::words::plural;

use super::{shown_paths, threads, Common};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write a report in another format: `sarif=orchlint.sarif`, `junit=junit.xml`, `github=-` (repeatable).
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    reports: Vec<String>,
    /// Run only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Do not run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// Exit with status 1 on findings of this severity or worse (default: error, or the config's fail-level).
    #[arg(long, value_enum)]
    fail_level: Option<FailLevel>,
    /// Exit with status 0 whatever was found (same as --fail-level never).
    #[arg(long, conflicts_with = "fail_level")]
    exit_zero: bool,
    /// Report only findings that are not in this baseline (default: the config's baseline).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current errors and warnings in this baseline file (and exit 0).
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
    /// When to color human and concise output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
    /// Do not show a progress bar (it shows only on a terminal, never in CI).
    #[arg(long)]
    no_progress: bool,
    /// After the findings, print how many each rule has, most first (like ruff --statistics).
    #[arg(long)]
    statistics: bool,
    /// Make a session without a workflow run, and a run that never reached its first phase, errors
    /// (default: notes; or the config's `require-run`).
    #[arg(long)]
    require_run: bool,
    /// Read what `orchlint guard` decided live from its log (STATE/<session>/guard.jsonl; repeatable):
    /// each call it let run in audit or warn mode gets a note of what it found.
    #[arg(long, value_name = "FILE")]
    guard_log: Vec<PathBuf>,
    /// Check only part K of N of the sessions (the same part on every machine, a session's subagent
    /// files with it); `orchlint merge` combines the parts' JSON reports.
    #[arg(long, value_name = "K/N")]
    shard: Option<orchlint::shard::Shard>,
    /// With --shard, stamp (SHA-256) every file the part's findings and sessions are drawn from in
    /// its JSON report, so that `orchlint merge` can write html and human output: each file is
    /// read twice (about 70% more time on a part).
    #[arg(long, requires = "shard")]
    stamps: bool,
}

/// When to color human and concise output.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to color output written to standard output when `to_stdout`, else to a file.
    pub(super) fn on(self, to_stdout: bool) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => to_stdout && io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// `FORMAT=FILE` of `--report`.
fn parse_report(spec: &str) -> miette::Result<(Format, String)> {
    let Some((format, file)) = spec.split_once('=') else {
        miette::bail!(help = "write it as FORMAT=FILE, e.g. sarif=orchlint.sarif", "--report {spec}: no `=`");
    };
    let format: Format = format.parse().map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        miette::miette!(help = format!("formats: {}", names.join(", ")), "--report {spec}: unknown format `{format}`")
    })?;
    if file.is_empty() {
        miette::bail!(help = "name a file, or - for standard output", "--report {spec}: no file");
    }
    Ok((format, file.to_string()))
}

/// The `--report FORMAT=FILE` targets beside the main output (to standard
/// output when `main_to_stdout`): at most one of them all on standard output.
pub(super) fn other_reports(specs: &[String], main_to_stdout: bool) -> miette::Result<Vec<(Format, String)>> {
    let reports = specs.iter().map(|r| parse_report(r)).collect::<miette::Result<Vec<_>>>()?;
    let to_stdout = usize::from(main_to_stdout) + reports.iter().filter(|(_, f)| f == "-").count();
    if to_stdout > 1 {
        miette::bail!(
            help = "send the main format to a file with --output, or the other reports to files",
            "{to_stdout} formats would be written to standard output, one after the other"
        );
    }
    Ok(reports)
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let settings = args.common.settings.sources().resolve(&args.select, &args.ignore)?;
    let reports = other_reports(&args.reports, args.output.is_none())?;
    threads(args.threads);
    let mut guard_log = orchlint::ingest::guard_log::GuardLog::default();
    for path in &args.guard_log {
        for problem in guard_log.read(path)? {
            eprintln!("warning: {problem}");
        }
    }
    let formats: Vec<Format> = std::iter::once(args.format).chain(reports.iter().map(|(f, _)| *f)).collect();
    let opts = engine::Options {
        detail: formats.contains(&Format::Html),
        excerpts: formats.iter().any(|f| matches!(f, Format::Human | Format::Html)),
        progress: (!args.no_progress).then(|| std::sync::Arc::new(Bar::default()) as _),
        require_run: args.require_run || settings.config.require_run,
        guard_log: (!args.guard_log.is_empty()).then(|| std::sync::Arc::new(guard_log)),
        shard: args.shard,
        // A part's JSON report stamps the files for `merge --format html`.
        stamps: args.stamps && formats.contains(&Format::Json),
        ..settings.engine_options()
    };
    let wfs = &settings.workflows;
    let (mut report, checked) = if formats.contains(&Format::Html) {
        let (report, checked) = engine::check_collect(&args.common.paths, wfs, &opts)?;
        (report, Some(checked))
    } else {
        (engine::check(&args.common.paths, wfs, &opts)?, None)
    };
    if report.summary.transcripts == 0 && report.diagnostics.is_empty() && report.summary.excluded > 0 {
        eprintln!("nothing to check: every path given is excluded by {}", settings.config_file());
        return Ok(Outcome::Success);
    }
    // A shard may hold no session at all: its (empty) report is still a part.
    if report.summary.transcripts == 0 && report.diagnostics.is_empty() && args.shard.is_none() {
        miette::bail!(
            help = "give session files (~/.claude/projects/<project>/<session>.jsonl), a projects folder, or stream-json output",
            "no transcripts found in {}",
            shown_paths(&args.common.paths)
        );
    }
    // Inputs were read, but none holds a conversation to judge: say why
    // (the diagnostics), then exit 2: a check of nothing is no pass.
    let nothing_checked = report.summary.transcripts == 0 && args.shard.is_none();

    // Suppressions, then the baseline; a new baseline records what is left.
    let baseline = match (&args.write_baseline, &args.baseline) {
        (Some(path), _) => BaselineUse::Write(path.clone()),
        (None, Some(path)) => BaselineUse::ApplyFile(path.clone()),
        (None, None) => BaselineUse::Apply,
    };
    // A shard holds only part of the sessions: a suppression of another
    // shard's session is no sign that its session is gone.
    let corpus = args.common.paths.iter().any(|p| p.is_dir()) && args.shard.is_none();
    let settled = settings.settle(&mut report, &baseline, corpus)?;
    for u in &settled.unused_suppressions {
        eprintln!(
            "warning: {}:{}: the suppression of {} in session {} matched no finding; remove it",
            settings.config_file(),
            u.line,
            u.rule,
            u.session
        );
    }
    for u in &settled.absent_sessions {
        eprintln!(
            "note: {}:{}: the suppression of {} names session {}, which is in none of the folders checked; \
             remove it if that session is gone",
            settings.config_file(),
            u.line,
            u.rule,
            u.session
        );
    }
    if let (Some(n), Some(path)) = (settled.written, &args.write_baseline) {
        eprintln!("wrote {} to the baseline {}", plural(n, "finding"), path.display());
    }

    let color = args.color.on(args.output.is_none());
    let doc = checked.map(|mut c| {
        engine::page_order(&mut c);
        report::inspect::build(&c, wfs)
    });
    let main_target = args.output.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into());
    write_output(args.format, &main_target, &report, doc.as_ref(), color)?;
    for (format, file) in &reports {
        write_output(*format, file, &report, doc.as_ref(), false)?;
    }
    if args.statistics {
        super::print_all(|out| report::statistics(&report, out))?;
    }

    // A file not read whole (an I/O error, a file gone) leaves its verdict
    // unknown: exit 2 whatever the fail level; its error diagnostic says where.
    if report.summary.unreadable_files > 0 {
        eprintln!(
            "error: {} could not be read whole; the check is incomplete",
            plural(report.summary.unreadable_files, "file")
        );
        return Ok(Outcome::Incomplete);
    }
    if nothing_checked {
        eprintln!("error: nothing checked: no input holds a Claude Code conversation");
        return Ok(Outcome::Incomplete);
    }
    let fail_level = settings.fail_level(args.fail_level, args.exit_zero || args.write_baseline.is_some());
    Ok(Outcome::failure_if(report.diagnostics.iter().any(|d| fail_level.fails(d.severity))))
}

/// Why an HTML report could not be written without the inspect document.
const NO_TIMELINES: &str = "the HTML report needs the runs' timelines, which were not collected (a bug in orchlint)";

/// Renders one format to a file, or to standard output for `-`.
pub(super) fn write_output(
    format: Format,
    target: &str,
    report: &Report,
    doc: Option<&report::inspect::InspectDocument>,
    color: bool,
) -> miette::Result<()> {
    // `check` and `report` collect the runs whenever a format is html;
    // a page without them would be a page of nothing, so it is an error.
    if format == Format::Html && doc.is_none() {
        miette::bail!("cannot write {target}: {NO_TIMELINES}");
    }
    let mut out: Box<dyn Write> = if target == "-" {
        Box::new(BufWriter::new(io::stdout().lock()))
    } else {
        let file = File::create(target).map_err(|e| miette::miette!("cannot write {target}: {e}"))?;
        Box::new(BufWriter::new(file))
    };
    let written = match format {
        Format::Human => report::human::render(report, color, &mut out),
        Format::Concise => report::concise::render(report, color, &mut out),
        Format::Json => report::json::render(report, &mut out),
        Format::Jsonl => report::jsonl::render(report, &mut out),
        Format::Sarif => report::sarif::render(report, &mut out),
        Format::Junit => report::junit::render_with_files(report, &report.files, &mut out),
        Format::Github => report::github::render(report, &mut out),
        Format::Html => match doc {
            Some(doc) => report::html::render(doc, &report.diagnostics, &mut out),
            None => Err(io::Error::other(NO_TIMELINES)),
        },
    };
    match written.and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => miette::bail!("cannot write {target}: {e}"),
        _ => Ok(()),
    }
}

/// The progress bar over project folders, drawn only on a terminal, only
/// for more than one folder, and never in CI.
#[derive(Default)]
struct Bar(std::sync::OnceLock<indicatif::ProgressBar>);

impl engine::Progress for Bar {
    fn start(&self, folders: usize) {
        let show = folders > 1 && io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = if show { indicatif::ProgressBar::new(folders as u64) } else { indicatif::ProgressBar::hidden() };
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{spinner} checking {pos}/{len} project folders {wide_bar} {eta}")
        {
            bar.set_style(style);
        }
        let _ = self.0.set(bar);
    }

    fn done(&self) {
        if let Some(bar) = self.0.get() {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.0.get() {
            bar.finish_and_clear();
        }
    }
}
