//! The orchlint command line: parses arguments, calls the library, maps the
//! outcome to an exit code (0 clean, 1 findings at or above the fail level,
//! 2 could not run).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use orchlint::baseline::{self, Baseline};
use orchlint::checks::{self, Selection};
use orchlint::config::{Config, FailLevel};
use orchlint::engine::{self, Options, Report};
use orchlint::replay::backend::{Fault, Match};
use orchlint::replay::Order;
use orchlint::report::{self, plural, Format};
use orchlint::workflow::{Workflow, Workflows};

/// Check recorded Claude Code orchestrator transcripts against delegation rules.
#[derive(Parser)]
#[command(name = "orchlint", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "Examples:
  orchlint check ~/.claude/projects                      check every recorded session
  orchlint check run.jsonl --require-run --format github  in CI: fail when the workflow did not run
  orchlint check runs/ --statistics                       count the findings per rule
  orchlint explain agent-count                           what a rule checks, and why
  orchlint explain --all                                 every rule's documentation
  orchlint diff --corpus before/ after/                  per-rule rates of two corpora of runs
  orchlint inspect session.jsonl                         the session as the model saw it

Exit status: 0 clean, 1 findings at or above the fail level, 2 could not run.";

#[derive(Subcommand)]
enum Command {
    /// Check transcripts and report every breach of the workflow's rules.
    Check(CheckArgs),
    /// Show a session as the model saw it: agent tree, launches, user messages, phases.
    Inspect(InspectArgs),
    /// Write the HTML timeline of the runs (like `check --format html --output FILE`, exit 0 once written).
    Report(ReportArgs),
    /// Compare the behaviour of two runs (or, with --corpus, two corpora of runs).
    Diff(DiffArgs),
    /// Replay recorded runs with the agents answered by a mock, and report where they diverge.
    Replay(ReplayArgs),
    /// Serve the Messages API to the real Claude Code CLI, answering its agents (and, with --replay, its orchestrator) from a recording.
    Serve(ServeArgs),
    /// Drive the real Claude Code CLI through a recorded run against `serve`, and keep the transcript it writes.
    Record(RecordArgs),
    /// Agent answers of a run, for mocked agent backends.
    #[command(subcommand)]
    Cassette(CassetteCommand),
    /// Print a rule kind's documentation (with --workflow, also that workflow's instance of it).
    Explain {
        /// The rule id, e.g. agent-count.
        #[arg(required_unless_present = "all")]
        rule: Option<String>,
        /// Print every rule's documentation, one after the other.
        #[arg(long, conflicts_with_all = ["rule", "workflow"])]
        all: bool,
        /// A rules file in play beside the bundled workflows (repeatable).
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
        /// Also show this workflow's instance: its phases, counts, gates or policy, in its own words.
        #[arg(long, value_name = "NAME")]
        workflow: Option<String>,
    },
    /// List the rule kinds and the workflows; check or show a rules file.
    Rules {
        #[command(subcommand)]
        action: Option<RulesCommand>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Validate a rules file and print what it declares, phase by phase (exit 2 on an error).
    Check {
        /// The rules file.
        file: PathBuf,
    },
    /// Print the rules file of a workflow (bundled or given with --rules), to copy and adapt.
    Show {
        /// The workflow's name, e.g. feature-dev.
        name: String,
        /// A rules file in play beside the bundled workflows (repeatable).
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Print what every workflow in play declares.
    Describe {
        /// A rules file in play beside the bundled workflows (repeatable).
        #[arg(long, value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
}

#[derive(clap::Args)]
struct Common {
    /// Session files, project folders, stream-json output, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    settings: Settings,
}

/// Which workflow and settings to use.
#[derive(clap::Args, Clone, Default)]
struct Settings {
    /// A rules file in play beside the bundled workflows (repeatable; one of the same name replaces it).
    #[arg(long, value_name = "FILE")]
    rules: Vec<PathBuf>,
    /// Judge every session by this workflow, even a session without its command invocation.
    #[arg(long, value_name = "NAME")]
    workflow: Option<String>,
    /// The config file (default: orchlint.toml in the working directory or above it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Use no config file.
    #[arg(long, conflicts_with = "config")]
    isolated: bool,
}

impl Settings {
    fn with_rules(rules: &[PathBuf]) -> Settings {
        Settings { rules: rules.to_vec(), ..Settings::default() }
    }
}

#[derive(clap::Args)]
struct CheckArgs {
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
}

#[derive(clap::Args)]
struct InspectArgs {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    format: InspectFormat,
}

#[derive(clap::Args)]
struct ReportArgs {
    #[command(flatten)]
    common: Common,
    /// The HTML file to write.
    #[arg(long, short = 'o', value_name = "FILE", default_value = "orchlint-report.html")]
    output: PathBuf,
}

#[derive(Subcommand)]
enum CassetteCommand {
    /// Write the answers of every launch of a session (agent type, prompt, response, status).
    Extract {
        /// A session file, stream-json output, or a folder holding one session.
        transcript: PathBuf,
        /// The cassette file to write (`-` for standard output).
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(clap::Args)]
struct DiffArgs {
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
    settings: Settings,
}

#[derive(clap::Args)]
struct ReplayArgs {
    #[command(flatten)]
    common: Common,
    /// Answer the agents from this cassette, trace or transcript (default: each recording's own answers).
    #[arg(long, value_name = "FILE", conflicts_with = "script")]
    cassette: Option<PathBuf>,
    /// Answer the agents from a script: agent type and prompt pattern → response (TOML, see docs/replay.md).
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// The order in which agents delivered together complete.
    #[arg(long, value_enum, default_value_t = Order::Recorded)]
    order: Order,
    /// The seed of `--order random`.
    #[arg(long, default_value_t = 0, value_name = "N")]
    seed: u64,
    /// Make a launch fail: TARGET:KIND, TARGET a launch number or an agent type (`ml-architect#2`: its second
    /// launch), KIND error, empty, timeout or late (repeatable).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<Fault>,
    /// How launches are matched to answers, and answers to what the recording saw.
    #[arg(long = "match", value_enum, default_value_t = Match::Exact)]
    matching: Match,
    /// Output format (`trace`: the replayed canonical trace of one session).
    #[arg(long, value_enum, default_value_t = ReplayFormat::Human)]
    format: ReplayFormat,
    /// Also write each session's replayed trace to this folder.
    #[arg(long, value_name = "DIR")]
    trace_dir: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
}

/// Where `serve` and `record` take their answers from.
#[derive(clap::Args, Clone)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("answering").required(true).args(["replay", "agents"])))]
struct Answering {
    /// Answer the orchestrator and its agents from this recorded session.
    #[arg(long, value_name = "TRANSCRIPT", conflicts_with_all = ["agents", "upstream"])]
    replay: Option<PathBuf>,
    /// Answer the agents from this cassette (or transcript, or trace)…
    #[arg(long, value_name = "CASSETTE", requires = "upstream")]
    agents: Option<PathBuf>,
    /// …and forward the orchestrator's requests to this Messages API, e.g. https://api.anthropic.com.
    #[arg(long, value_name = "URL", requires = "agents")]
    upstream: Option<String>,
    /// Serve recorded tool calls with side effects (Bash, Write, Edit, …) instead of withholding them.
    #[arg(long)]
    allow_side_effects: bool,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    answering: Answering,
    #[command(flatten)]
    settings: Settings,
    /// The port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write a JSON line per request (what it was, what it got) to this file.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RecordArgs {
    #[command(flatten)]
    answering: Answering,
    #[command(flatten)]
    settings: Settings,
    /// The folder to write: projects/ (the session as the CLI wrote it), the CLI's output, the server's log.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The Claude Code CLI to run (a `cli.js` is run with node).
    #[arg(long, value_name = "PATH", default_value = "claude")]
    claude: PathBuf,
    /// The working directory of the CLI (default: an empty temporary folder).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// Seconds each CLI invocation may take.
    #[arg(long, default_value_t = 600, value_name = "S")]
    timeout: u64,
    /// With --replay: more arguments for the CLI (e.g. --plugin-dir DIR); with --agents: the command to run.
    #[arg(last = true, value_name = "ARGS")]
    rest: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ReplayFormat {
    Human,
    Json,
    Trace,
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
        Command::Report(args) => run_report(args),
        Command::Diff(args) => run_diff(args),
        Command::Replay(args) => run_replay(args),
        Command::Serve(args) => run_serve(args),
        Command::Record(args) => run_record(args),
        Command::Cassette(CassetteCommand::Extract { transcript, output, settings }) => {
            run_extract(&transcript, &output, &settings)
        }
        Command::Explain { all: true, .. } => {
            let docs: Vec<&str> = checks::RULES.iter().map(|r| r.doc).collect();
            print!("{}", docs.join("\n"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { rule, rules, workflow, .. } => {
            explain(rule.as_deref().unwrap_or_default(), &rules, workflow.as_deref())
        }
        Command::Rules { action } => run_rules(action),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "orchlint", &mut io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut io::stdout())
            .map(|_| ExitCode::SUCCESS)
            .map_err(|e| miette::miette!("cannot write the man page: {e}")),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let _ = writeln!(io::stderr(), "{err:?}");
            ExitCode::from(2)
        }
    }
}

/// The config, the workflows (with the config's severities) and the rule selection.
fn setup(common: &Settings, select: &[String], ignore: &[String]) -> miette::Result<(Config, Workflows, Selection)> {
    let config = config_of(common)?;
    let mut wfs = workflows(common, &config.rules)?;
    check_rule_ids(select, "--select")?;
    check_rule_ids(ignore, "--ignore")?;
    let selection = Selection { only: select.iter().cloned().collect(), ignore: ignore.iter().cloned().collect() };
    for wf in &mut wfs.list {
        let wf = Arc::make_mut(wf);
        for (rule, level) in &config.severity {
            wf.severity.insert(rule.clone(), *level);
        }
    }
    Ok((config, wfs, selection))
}

/// The config: `--config FILE`, else `orchlint.toml` found upward; none with `--isolated`.
fn config_of(common: &Settings) -> miette::Result<Config> {
    if common.isolated {
        return Ok(Config::default());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    Ok(Config::find(common.config.as_deref(), &cwd)?)
}

/// The workflows in play for a command that takes no other setting: the
/// bundled ones, the config's `workflows` and `--rules` files.
fn workflows_of(common: &Settings) -> miette::Result<Workflows> {
    let config = config_of(common)?;
    workflows(common, &config.rules)
}

/// The workflows in play: the bundled ones, the config's and `--rules` files,
/// narrowed to `--workflow NAME`.
fn workflows(common: &Settings, from_config: &[PathBuf]) -> miette::Result<Workflows> {
    let mut wfs = Workflows::builtin();
    for path in from_config.iter().chain(&common.rules) {
        wfs.add(Workflow::load(path)?);
    }
    if let Some(name) = &common.workflow {
        wfs.narrow(name).map_err(|help| miette::miette!(help = help, "--workflow {name}: no such workflow"))?;
    }
    Ok(wfs)
}

fn check_rule_ids(ids: &[String], flag: &str) -> miette::Result<()> {
    for id in ids {
        if checks::rule(id).is_none() {
            miette::bail!(help = suggest_rule(id), "{flag}: unknown rule `{id}`");
        }
    }
    Ok(())
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

fn run_check(args: CheckArgs) -> miette::Result<ExitCode> {
    let (config, wfs, selection) = setup(&args.common.settings, &args.select, &args.ignore)?;
    let reports = args.reports.iter().map(|r| parse_report(r)).collect::<miette::Result<Vec<_>>>()?;
    let to_stdout = usize::from(args.output.is_none()) + reports.iter().filter(|(_, f)| f == "-").count();
    if to_stdout > 1 {
        miette::bail!(
            help = "send the main format to a file with --output, or the other reports to files",
            "{to_stdout} formats would be written to standard output, one after the other"
        );
    }
    if let Some(n) = args.threads {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    let formats: Vec<Format> = std::iter::once(args.format).chain(reports.iter().map(|(f, _)| *f)).collect();
    let config = Arc::new(config);
    let opts = Options {
        selection,
        force_workflow: args.common.settings.workflow.is_some(),
        detail: formats.contains(&Format::Html),
        excerpts: formats.iter().any(|f| matches!(f, Format::Human | Format::Html)),
        config: Some(config.clone()),
        progress: !args.no_progress,
        require_run: args.require_run || config.require_run,
    };
    let (mut report, checked) = if formats.contains(&Format::Html) {
        let (report, checked) =
            engine::check_collect(&args.common.paths, &wfs, &opts).map_err(|e| miette::miette!("{e}"))?;
        (report, Some(checked))
    } else {
        (engine::check(&args.common.paths, &wfs, &opts).map_err(|e| miette::miette!("{e}"))?, None)
    };
    if report.summary.transcripts == 0 && report.diagnostics.is_empty() && report.summary.excluded > 0 {
        let config_file = config.path.as_deref().map_or_else(|| "orchlint.toml".into(), |p| p.display().to_string());
        eprintln!("nothing to check: every path given is excluded by {config_file}");
        return Ok(ExitCode::SUCCESS);
    }
    if report.summary.transcripts == 0 && report.diagnostics.is_empty() {
        miette::bail!(
            help = "give session files (~/.claude/projects/<project>/<session>.jsonl), a projects folder, or stream-json output",
            "no transcripts found in {}",
            args.common.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    // Inputs were read, but none holds a conversation to judge: say why
    // (the diagnostics), then exit 2: a check of nothing is no pass.
    let nothing_checked = report.summary.transcripts == 0;

    // Suppressions, then the baseline; a new baseline records what is left.
    let unused = config.suppress(&mut report, &opts.selection);
    for u in &unused {
        let file = config.path.as_deref().map_or_else(|| "orchlint.toml".into(), |p| p.display().to_string());
        eprintln!(
            "warning: {file}:{}: the suppression of {} in session {} matched no finding; remove it",
            u.line, u.rule, u.session
        );
    }
    if let Some(path) = &args.write_baseline {
        let n = baseline::write(&report, path).map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
        eprintln!("wrote {} to the baseline {}", plural(n, "finding"), path.display());
    } else if let Some(path) = args.baseline.as_ref().or(config.baseline.as_ref()) {
        let baseline = Baseline::load(path).map_err(|e| miette::miette!("{e}"))?;
        baseline.apply(&mut report);
    }

    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => args.output.is_none() && io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let doc = checked.map(|c| report::inspect::build(&c, &wfs));
    let main_target = args.output.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "-".into());
    write_output(args.format, &main_target, &report, doc.as_ref(), color)?;
    for (format, file) in &reports {
        write_output(*format, file, &report, doc.as_ref(), false)?;
    }
    if args.statistics {
        let mut out = io::stdout().lock();
        let written = report::statistics(&report, &mut out).and_then(|_| out.flush());
        if let Err(e) = written {
            if e.kind() != io::ErrorKind::BrokenPipe {
                miette::bail!("cannot write: {e}");
            }
        }
    }

    // A file not read whole (an I/O error, a file gone) leaves its verdict
    // unknown: exit 2 whatever the fail level; its error diagnostic says where.
    if report.summary.unreadable_files > 0 {
        eprintln!(
            "error: {} could not be read whole; the check is incomplete",
            plural(report.summary.unreadable_files, "file")
        );
        return Ok(ExitCode::from(2));
    }
    if nothing_checked {
        eprintln!("error: nothing checked: no input holds a Claude Code conversation");
        return Ok(ExitCode::from(2));
    }
    let fail_level = if args.exit_zero || args.write_baseline.is_some() {
        FailLevel::Never
    } else {
        args.fail_level.or(config.fail_level).unwrap_or(FailLevel::Error)
    };
    let fails = report.diagnostics.iter().any(|d| fail_level.fails(d.severity));
    Ok(if fails { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Why an HTML report could not be written without the inspect document.
const NO_TIMELINES: &str = "the HTML report needs the runs' timelines, which were not collected (a bug in orchlint)";

/// Renders one format to a file, or to standard output for `-`.
fn write_output(
    format: Format,
    target: &str,
    report: &Report,
    doc: Option<&report::inspect::InspectDocument>,
    color: bool,
) -> miette::Result<()> {
    // run_check and run_report collect the runs whenever a format is html;
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

fn run_report(args: ReportArgs) -> miette::Result<ExitCode> {
    let (config, wfs, selection) = setup(&args.common.settings, &[], &[])?;
    let config = Arc::new(config);
    let opts = Options {
        selection,
        force_workflow: args.common.settings.workflow.is_some(),
        detail: true,
        excerpts: true,
        config: Some(config.clone()),
        progress: false,
        require_run: false,
    };
    let (mut report, checked) =
        engine::check_collect(&args.common.paths, &wfs, &opts).map_err(|e| miette::miette!("{e}"))?;
    if checked.is_empty() && report.diagnostics.is_empty() {
        miette::bail!("no transcripts found");
    }
    config.suppress(&mut report, &opts.selection);
    let doc = report::inspect::build(&checked, &wfs);
    write_output(Format::Html, &args.output.display().to_string(), &report, Some(&doc), false)?;
    eprintln!(
        "wrote {} ({}, {})",
        args.output.display(),
        plural(report.summary.runs, "workflow run"),
        plural(report.summary.errors, "error")
    );
    Ok(ExitCode::SUCCESS)
}

fn run_diff(args: DiffArgs) -> miette::Result<ExitCode> {
    let (config, wfs, selection) = setup(&args.settings, &[], &[])?;
    let config = Arc::new(config);
    let opts = Options {
        selection,
        force_workflow: args.settings.workflow.is_some(),
        config: Some(config.clone()),
        ..Options::default()
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let differs = if args.corpus {
        let check = |p: &PathBuf| -> miette::Result<Report> {
            if !p.is_dir() {
                miette::bail!(help = "give two folders of runs", "--corpus: {} is not a folder", p.display());
            }
            let mut report = engine::check(std::slice::from_ref(p), &wfs, &opts).map_err(|e| miette::miette!("{e}"))?;
            if report.summary.runs == 0 {
                miette::bail!(
                    help = "--corpus compares folders of recorded runs",
                    "{}: no workflow run found ({})",
                    p.display(),
                    wfs.names().join(", ")
                );
            }
            config.suppress(&mut report, &opts.selection);
            Ok(report)
        };
        let d = orchlint::diff::compare_corpora(&check(&args.a)?, &check(&args.b)?);
        match args.format {
            InspectFormat::Human => orchlint::diff::render_corpus_human(&d, &mut out),
            InspectFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &d).map_err(io::Error::other).and_then(|_| writeln!(out))
            }
        }
        .map_err(|e| miette::miette!("cannot write: {e}"))?;
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
        !regressions.is_empty()
    } else {
        let a = orchlint::diff::load(&args.a, &wfs, &opts).map_err(|e| miette::miette!("{e}"))?;
        let b = orchlint::diff::load(&args.b, &wfs, &opts).map_err(|e| miette::miette!("{e}"))?;
        let d = orchlint::diff::compare(a, b);
        match args.format {
            InspectFormat::Human => orchlint::diff::render_human(&d, &mut out),
            InspectFormat::Json => {
                serde_json::to_writer_pretty(&mut out, &d).map_err(io::Error::other).and_then(|_| writeln!(out))
            }
        }
        .map_err(|e| miette::miette!("cannot write: {e}"))?;
        !d.same
    };
    out.flush().map_err(|e| miette::miette!("cannot write: {e}"))?;
    Ok(if differs { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run_replay(args: ReplayArgs) -> miette::Result<ExitCode> {
    let (config, wfs, selection) = setup(&args.common.settings, &[], &[])?;
    if let Some(n) = args.threads {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    let answers = if let Some(path) = &args.cassette {
        let cassette = orchlint::replay::load_cassette(path, &wfs).map_err(|e| miette::miette!("--cassette {e}"))?;
        orchlint::replay::Answers::Cassette { cassette: Arc::new(cassette), name: path.display().to_string() }
    } else if let Some(path) = &args.script {
        let text = std::fs::read_to_string(path).map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
        let script = orchlint::replay::backend::Scripted::parse(&text, &path.display().to_string())
            .map_err(|e| miette::miette!("--script {e}"))?;
        orchlint::replay::Answers::Script(Arc::new(script))
    } else {
        orchlint::replay::Answers::Own
    };
    let force_workflow = args.common.settings.workflow.is_some();
    let opts = orchlint::replay::Options {
        plan: orchlint::replay::Plan { order: args.order, seed: args.seed, matching: args.matching },
        answers,
        faults: args.faults.clone(),
        selection: selection.clone(),
        force_workflow,
    };
    let engine_opts = Options { selection, force_workflow, config: Some(Arc::new(config)), ..Options::default() };
    let report = orchlint::replay::replay_paths(&args.common.paths, &wfs, &engine_opts, &opts)
        .map_err(|e| miette::miette!("{e}"))?;
    if report.sessions.is_empty() && report.unreadable.is_empty() {
        miette::bail!(
            help = "give session files, project folders, stream-json output or canonical traces",
            "no sessions to replay in {}",
            args.common.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(dir) = &args.trace_dir {
        write_traces(dir, &report)?;
    }
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = match args.format {
        ReplayFormat::Human => report::replay::render_human(&report, &mut out),
        ReplayFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::other).and_then(|_| writeln!(out))
        }
        ReplayFormat::Trace => match report.sessions.as_slice() {
            [one] => out.write_all(one.trace.to_jsonl().as_bytes()),
            many => miette::bail!(
                help = "write one trace per session with --trace-dir DIR",
                "--format trace prints one session's trace; {} sessions were replayed",
                many.len()
            ),
        },
    };
    if let Err(e) = written.and_then(|_| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            miette::bail!("cannot write: {e}");
        }
    }
    for u in &report.unreadable {
        eprintln!("error: {u}");
    }
    for f in &report.unused_faults {
        eprintln!(
            "error: --fault {f} hit no launch in any session: no session has that launch, or that many launches of that type{}",
            suggest_agent_type(f, &wfs)
        );
    }
    Ok(if !report.unreadable.is_empty() || !report.unused_faults.is_empty() {
        ExitCode::from(2)
    } else if report.summary.diverged > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One `<name>.trace.jsonl` a session, named after its file (and session id
/// where a file holds several sessions).
fn write_traces(dir: &std::path::Path, report: &orchlint::replay::ReplayReport) -> miette::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| miette::miette!("cannot create {}: {e}", dir.display()))?;
    let mut taken = std::collections::BTreeSet::new();
    for s in &report.sessions {
        let stem: String = std::path::Path::new(&*s.file)
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".jsonl").trim_end_matches(".trace").to_string())
            .unwrap_or_else(|| "session".into())
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        let mut name = format!("{stem}.trace.jsonl");
        let mut n = 1;
        while !taken.insert(name.clone()) {
            n += 1;
            name = format!("{stem}-{n}.trace.jsonl");
        }
        let path = dir.join(&name);
        std::fs::write(&path, s.trace.to_jsonl())
            .map_err(|e| miette::miette!("cannot write {}: {e}", path.display()))?;
    }
    eprintln!("wrote {} to {}", plural(report.sessions.len(), "trace"), dir.display());
    Ok(())
}

/// The recording `serve` and `record` answer from.
fn serve_config(a: &Answering, settings: &Settings) -> miette::Result<orchlint::serve::Config> {
    let wfs = workflows_of(settings)?;
    let recording = match (&a.replay, &a.agents) {
        (Some(t), _) => {
            orchlint::serve::script::Recording::load(t, &wfs).map_err(|e| miette::miette!("--replay {e}"))?
        }
        (None, Some(c)) => {
            let cassette = orchlint::replay::load_cassette(c, &wfs).map_err(|e| miette::miette!("--agents {e}"))?;
            orchlint::serve::script::Recording::of_cassette(&cassette)
        }
        (None, None) => miette::bail!("give --replay TRANSCRIPT, or --agents CASSETTE with --upstream URL"),
    };
    Ok(orchlint::serve::Config {
        recording,
        upstream: a.upstream.clone(),
        allow_side_effects: a.allow_side_effects,
        limits: orchlint::serve::Limits::default(),
    })
}

fn run_record(args: RecordArgs) -> miette::Result<ExitCode> {
    let config = serve_config(&args.answering, &args.settings)?;
    let opts = orchlint::serve::record::Options {
        out: args.out,
        claude: args.claude,
        cwd: args.cwd,
        timeout: std::time::Duration::from_secs(args.timeout),
        rest: args.rest,
        replay: args.answering.replay.is_some(),
        workflows: workflows_of(&args.settings)?,
    };
    orchlint::serve::record::run(&config, &opts).map_err(|e| miette::miette!("{e}"))
}

fn run_serve(args: ServeArgs) -> miette::Result<ExitCode> {
    let config = serve_config(&args.answering, &args.settings)?;
    let (turns, agents) = (config.recording.turns.len(), config.recording.agents.len());
    let server = orchlint::serve::Server::start(config, args.port, args.log.as_deref())
        .map_err(|e| miette::miette!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    println!("ANTHROPIC_BASE_URL=http://{}", server.addr);
    let _ = io::stdout().flush();
    eprintln!(
        "orchlint serve: listening on http://{} ({}, {}); Ctrl-C stops",
        server.addr,
        plural(turns, "orchestrator turn"),
        plural(agents, "agent report")
    );
    let summary = server.wait();
    eprintln!("orchlint serve: {}, {} not answered", plural(summary.requests, "request"), summary.refused);
    Ok(if summary.refused > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn run_extract(
    transcript: &std::path::Path,
    output: &std::path::Path,
    settings: &Settings,
) -> miette::Result<ExitCode> {
    let wfs = workflows_of(settings)?;
    let opts = Options::default();
    let checked = engine::sessions_at(transcript, &wfs, &opts, |c| !c.session.launches.is_empty())
        .map_err(|e| miette::miette!("{e}"))?;
    let c = match checked.len() {
        1 => &checked[0],
        0 => miette::bail!("{}: no agent launch found", transcript.display()),
        n => miette::bail!(help = "name one session file", "{}: {n} sessions with launches", transcript.display()),
    };
    let cassette = orchlint::cassette::extract(c);
    let mut text = serde_json::to_string_pretty(&cassette).map_err(|e| miette::miette!("{e}"))?;
    text.push('\n');
    if output.as_os_str() == "-" {
        print!("{text}");
    } else {
        std::fs::write(output, text).map_err(|e| miette::miette!("cannot write {}: {e}", output.display()))?;
        eprintln!("wrote {} to {}", plural(cassette.entries.len(), "entry"), output.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_inspect(args: InspectArgs) -> miette::Result<ExitCode> {
    let (config, wfs, selection) = setup(&args.common.settings, &[], &[])?;
    let config = Arc::new(config);
    let opts = Options {
        selection,
        force_workflow: args.common.settings.workflow.is_some(),
        detail: true,
        config: Some(config.clone()),
        ..Options::default()
    };
    let read = engine::collect(&args.common.paths, &wfs, &opts).map_err(|e| miette::miette!("{e}"))?;
    if read.found == 0 {
        miette::bail!("no transcripts found");
    }
    if read.report.summary.excluded == read.found {
        let config_file = config.path.as_deref().map_or_else(|| "orchlint.toml".into(), |p| p.display().to_string());
        eprintln!("nothing to check: every path given is excluded by {config_file}");
        return Ok(ExitCode::SUCCESS);
    }
    let doc = report::inspect::build(&read.checked, &wfs);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
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

fn explain(id: &str, rules: &[PathBuf], workflow: Option<&str>) -> miette::Result<ExitCode> {
    let Some(rule) = checks::rule(id) else {
        miette::bail!(help = suggest_rule(id), "unknown rule `{id}`");
    };
    let Some(name) = workflow else {
        print!("{}", rule.doc);
        return Ok(ExitCode::SUCCESS);
    };
    let wfs = workflows_of(&Settings::with_rules(rules))?;
    let wf = wfs.get(name).ok_or_else(|| {
        miette::miette!(help = format!("the workflows are: {}", wfs.names().join(", ")), "no workflow `{name}`")
    })?;
    print!("{}", report::rules::explain_instance(rule, wf));
    Ok(ExitCode::SUCCESS)
}

/// "; did you mean `TYPE`?" for the agent type of a `--fault` that hit
/// nothing, when a workflow's agent type is close to it.
fn suggest_agent_type(spec: &str, wfs: &Workflows) -> String {
    let target = spec.rsplit_once(':').map_or(spec, |(t, _)| t);
    let (ty, nth) = target.split_once('#').map_or((target, None), |(t, n)| (t, Some(n)));
    let ty = ty.rsplit(':').next().unwrap_or(ty);
    if ty.parse::<usize>().is_ok() {
        return String::new();
    }
    let known: std::collections::BTreeSet<&str> = wfs
        .iter()
        .flat_map(|wf| {
            let listed = wf.phases.iter().flat_map(|p| p.steps.iter().flat_map(|s| s.agents.keys()));
            listed.chain(&wf.agents.anywhere).map(String::as_str)
        })
        .collect();
    if known.contains(ty) {
        return String::new();
    }
    let best = known.iter().map(|k| (strsim::jaro_winkler(ty, k), *k)).max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((score, k)) if score > 0.8 => {
            format!("; did you mean `{k}{}`?", nth.map(|n| format!("#{n}")).unwrap_or_default())
        }
        _ => String::new(),
    }
}

/// "did you mean" for a rule id, or the list of ids.
fn suggest_rule(id: &str) -> String {
    let best = checks::rule_ids()
        .into_iter()
        .map(|r| (strsim::jaro_winkler(id, r), r))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match best {
        Some((_, r)) => format!("did you mean `{r}`? (`orchlint rules` lists them)"),
        None => format!("rule ids: {}", checks::rule_ids().join(", ")),
    }
}

fn run_rules(action: Option<RulesCommand>) -> miette::Result<ExitCode> {
    let text = match action {
        None => {
            let wfs = workflows_of(&Settings::default())?;
            format!(
                "{}
workflows:
{}",
                report::rules::kinds(),
                report::rules::list(&wfs)
            )
        }
        Some(RulesCommand::Check { file }) => {
            let wf = Workflow::load(&file)?;
            format!(
                "{}: valid

{}",
                file.display(),
                report::rules::describe(&wf)
            )
        }
        Some(RulesCommand::Describe { rules }) => {
            let wfs = workflows_of(&Settings::with_rules(&rules))?;
            wfs.iter().map(|wf| report::rules::describe(wf)).collect::<Vec<_>>().join("\n")
        }
        Some(RulesCommand::Show { name, rules }) => {
            let wfs = workflows_of(&Settings::with_rules(&rules))?;
            let Some(wf) = wfs.get(&name) else {
                miette::bail!(help = format!("the workflows are: {}", wfs.names().join(", ")), "no workflow `{name}`");
            };
            let bundled = orchlint::workflow::BUNDLED.iter().find(|(file, _)| wf.source_name.starts_with(file));
            match bundled {
                Some((_, text)) => text.to_string(),
                None => std::fs::read_to_string(&wf.source_name)
                    .map_err(|e| miette::miette!("cannot read {}: {e}", wf.source_name))?,
            }
        }
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => miette::bail!("cannot write: {e}"),
        _ => Ok(ExitCode::SUCCESS),
    }
}
