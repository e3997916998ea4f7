//! The command line: arguments (clap), one module per subcommand, and the
//! one place where an outcome becomes an exit status. The library does the
//! work; modules here gather flags into its settings, call it, and print.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use orchlint::outcome::Outcome;
use orchlint::settings::Sources;

mod cassette;
mod check;
mod diff;
mod explain;
mod guard;
mod inspect;
mod man;
mod merge;
mod replay;
mod report;
mod rules;
mod serve;

/// Check recorded Claude Code orchestrator transcripts against delegation rules.
#[derive(Parser)]
#[command(name = "orchlint", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
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
    Check(check::Args),
    /// Show a session as the model saw it: agent tree, launches, user messages, phases.
    Inspect(inspect::Args),
    /// Combine the JSON reports of `check --shard K/N` into one report, in any format.
    Merge(merge::Args),
    /// Write the HTML timeline of the runs (like `check --format html --output FILE`, exit 0 once written).
    Report(report::Args),
    /// Compare the behaviour of two runs (or, with --corpus, two corpora of runs).
    Diff(diff::Args),
    /// Replay recorded runs with the agents answered by a mock, and report where they diverge.
    Replay(replay::Args),
    /// Serve the Messages API to the real Claude Code CLI, answering its agents (and, with --replay, its orchestrator) from a recording.
    Serve(serve::ServeArgs),
    /// Drive the real Claude Code CLI through a recorded run against `serve`, and keep the transcript it writes.
    Record(serve::RecordArgs),
    /// Agent answers of a run, for mocked agent backends.
    #[command(subcommand)]
    Cassette(cassette::Command),
    /// Print a rule kind's documentation (with --workflow, also that workflow's instance of it).
    Explain(explain::Args),
    /// List the rule kinds and the workflows; check or show a rules file.
    Rules {
        #[command(subcommand)]
        action: Option<rules::Command>,
    },
    /// Enforce the rules live, as Claude Code hooks: answer a hook call, install the hooks, or explain them.
    Guard(guard::Args),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): orchlint(1), or a subcommand's page; or write them all to a folder.
    Man(man::Args),
}

/// The paths to read and the settings to read them with.
#[derive(clap::Args)]
struct Common {
    /// Session files, project folders, stream-json output, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
}

/// Which workflow and settings to use.
#[derive(clap::Args, Clone, Default)]
struct SettingsArgs {
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

impl SettingsArgs {
    fn sources(&self) -> Sources {
        Sources {
            rules: self.rules.clone(),
            workflow: self.workflow.clone(),
            config: self.config.clone(),
            isolated: self.isolated,
        }
    }
}

/// Human or JSON output.
#[derive(Clone, Copy, ValueEnum)]
enum InspectFormat {
    Human,
    Json,
}

/// Runs the command line; the process's exit status.
pub fn main() -> ExitCode {
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
        Command::Check(args) => check::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Report(args) => report::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve::run_serve(args),
        Command::Record(args) => serve::run_record(args),
        Command::Cassette(command) => cassette::run(command),
        Command::Explain(args) => explain::run(args),
        Command::Rules { action } => rules::run(action),
        Command::Guard(args) => guard::run(args),
        Command::Completions { shell } => {
            let mut out = io::stdout().lock();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "orchlint", &mut out);
            Ok(Outcome::Success)
        }
        Command::Man(args) => man::run(args),
    };
    exit_code(result)
}

/// The one mapping from what a subcommand came to, to the exit status:
/// 0 clean, 1 the answer is no, 2 no answer (incomplete, or an error,
/// printed here with its code and help).
fn exit_code(result: miette::Result<Outcome>) -> ExitCode {
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_status()),
        Err(err) => {
            let _ = writeln!(io::stderr(), "{err:?}");
            ExitCode::from(2)
        }
    }
}

/// Writes to standard output; a reader that went away (`| head`) is no error.
fn print_all(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> miette::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => miette::bail!("cannot write: {e}"),
        _ => Ok(()),
    }
}

/// The paths given, for a message.
fn shown_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Sets the size of the worker pool (`--threads`).
fn threads(n: Option<usize>) {
    if let Some(n) = n {
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
}

/// A library error about the value of a flag, said with the flag first
/// (`--script x.toml:3: …`); its help and labels are the error's own.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{flag} {inner}")]
#[diagnostic(forward(inner))]
struct ForFlag<E: miette::Diagnostic + 'static> {
    flag: &'static str,
    inner: E,
}

impl<E: miette::Diagnostic + 'static> ForFlag<E> {
    fn new(flag: &'static str, inner: E) -> ForFlag<E> {
        ForFlag { flag, inner }
    }
}
