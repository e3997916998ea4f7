//! The orchlint command line: parses arguments, calls the library, maps the
//! outcome to an exit code (0 clean, 1 error-severity findings, 2 could not run).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use orchlint::checks::{self, Selection};
use orchlint::engine::{self, Options};
use orchlint::ingest::discover;
use orchlint::report;
use orchlint::workflow::Workflow;

/// Check recorded Claude Code orchestrator transcripts against delegation rules.
#[derive(Parser)]
#[command(name = "orchlint", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check transcripts and report every breach of the workflow's rules.
    Check(CheckArgs),
    /// Show a session as the model saw it: agent tree, launches, user messages, phases.
    Inspect(InspectArgs),
    /// Print a rule's documentation.
    Explain {
        /// The rule id, e.g. agent-count.
        rule: String,
    },
    /// List the rules.
    Rules,
}

#[derive(clap::Args)]
struct Common {
    /// Session files, project folders, stream-json output, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The rules file (default: the built-in rules/ml-flow.toml).
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Treat each session as a run of this workflow even without its command invocation.
    #[arg(long, value_name = "NAME")]
    workflow: Option<String>,
}

#[derive(clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = report::Format::Human)]
    format: report::Format,
    /// Run only these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Do not run these rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// When to color human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
}

#[derive(clap::Args)]
struct InspectArgs {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    format: InspectFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum InspectFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .width(100)
                .break_words(false)
                .word_splitter(textwrap::WordSplitter::NoHyphenation)
                .build(),
        )
    }));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Inspect(args) => run_inspect(args),
        Command::Explain { rule } => explain(&rule),
        Command::Rules => list_rules(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(io::stderr(), "{err:?}");
            ExitCode::from(2)
        }
    }
}

fn load_workflow(common: &Common) -> miette::Result<Workflow> {
    let wf = match &common.rules {
        Some(path) => Workflow::load(path)?,
        None => Workflow::builtin(),
    };
    if let Some(name) = &common.workflow {
        if *name != wf.name {
            miette::bail!(
                help = format!("the rules file defines the workflow `{}`", wf.name),
                "--workflow {name} does not match the rules file"
            );
        }
    }
    Ok(wf)
}

fn check_rule_ids(ids: &[String], flag: &str) -> miette::Result<()> {
    for id in ids {
        if checks::rule(id).is_none() {
            miette::bail!(help = format!("rule ids: {}", checks::rule_ids().join(", ")), "{flag}: unknown rule `{id}`");
        }
    }
    Ok(())
}

fn run_check(args: CheckArgs) -> miette::Result<ExitCode> {
    let wf = load_workflow(&args.common)?;
    check_rule_ids(&args.select, "--select")?;
    check_rule_ids(&args.ignore, "--ignore")?;
    if let Some(n) = args.threads {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    let opts = Options {
        selection: Selection { only: args.select.into_iter().collect(), ignore: args.ignore.into_iter().collect() },
        force_workflow: args.common.workflow.is_some(),
        detail: false,
        excerpts: args.format == report::Format::Human,
    };
    let report = engine::check(&args.common.paths, &wf, &opts).map_err(|e| miette::miette!("{e}"))?;
    if report.summary.transcripts == 0 && report.diagnostics.is_empty() {
        miette::bail!(
            help = "give session files (~/.claude/projects/<project>/<session>.jsonl), a projects folder, or stream-json output",
            "no transcripts found in {}",
            args.common.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let written = match args.format {
        report::Format::Human => report::human::render(&report, color, &mut out),
        report::Format::Concise => report::concise::render(&report, &mut out),
        report::Format::Json => report::json::render(&report, &mut out),
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            miette::bail!("cannot write the report: {e}");
        }
    }
    Ok(if report.summary.errors > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run_inspect(args: InspectArgs) -> miette::Result<ExitCode> {
    let wf = load_workflow(&args.common)?;
    let opts = Options { force_workflow: args.common.workflow.is_some(), detail: true, ..Options::default() };
    // inspect lists diagnostics in the timeline: no excerpts needed.
    let discovery = discover::discover(&args.common.paths, true).map_err(|e| miette::miette!("{e}"))?;
    if discovery.jobs.is_empty() {
        miette::bail!("no transcripts found");
    }
    let checked: Vec<_> =
        discovery.jobs.iter().map(|job| engine::check_job(job, &wf, &opts)).filter(|c| !c.skipped).collect();
    let doc = report::inspect::build(&checked, &wf);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = match args.format {
        InspectFormat::Human => report::inspect::render_human(&doc, &mut out),
        InspectFormat::Json => report::inspect::render_json(&doc, &mut out),
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            miette::bail!("cannot write: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn explain(id: &str) -> miette::Result<ExitCode> {
    let Some(rule) = checks::rule(id) else {
        miette::bail!(help = format!("rule ids: {}", checks::rule_ids().join(", ")), "unknown rule `{id}`");
    };
    print!("{}", rule.doc);
    Ok(ExitCode::SUCCESS)
}

fn list_rules() -> miette::Result<ExitCode> {
    let width = checks::RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in checks::RULES {
        println!("{:<width$}  {:<7}  {}", rule.id, rule.severity.as_str(), rule.summary);
    }
    Ok(ExitCode::SUCCESS)
}
