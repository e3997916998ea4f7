//! `orchlint serve` and `orchlint record`: the Messages API from a
//! recording, to the real Claude Code CLI.

use std::io::Write;
use std::path::PathBuf;

use orchlint::outcome::Outcome;
use orchlint::serve::record::Note;
use orchlint::serve::script::Recording;
use orchlint::words::plural;

use super::{ForFlag, SettingsArgs};

/// Where `serve` and `record` take their answers from.
#[derive(clap::Args, Clone)]
#[group(skip)]
#[command(group(clap::ArgGroup::new("answering").required(true).args(["replay", "agents"])))]
pub struct Answering {
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
pub struct ServeArgs {
    #[command(flatten)]
    answering: Answering,
    #[command(flatten)]
    settings: SettingsArgs,
    /// The port on 127.0.0.1 (0: any free port; the address is printed).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Write a JSON line per request (what it was, what it got) to this file.
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    answering: Answering,
    #[command(flatten)]
    settings: SettingsArgs,
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

/// The recording `serve` and `record` answer from.
fn serve_config(a: &Answering, wfs: &orchlint::workflow::Workflows) -> miette::Result<orchlint::serve::Config> {
    let recording = match (&a.replay, &a.agents) {
        (Some(t), _) => Recording::load(t, wfs).map_err(|e| ForFlag::new("--replay", e))?,
        (None, Some(c)) => {
            let cassette = orchlint::replay::load_cassette(c, wfs).map_err(|e| ForFlag::new("--agents", e))?;
            Recording::of_cassette(&cassette)
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

pub fn run_record(args: RecordArgs) -> miette::Result<Outcome> {
    let workflows = args.settings.sources().workflows()?;
    let config = serve_config(&args.answering, &workflows)?;
    let opts = orchlint::serve::record::Options {
        out: args.out,
        claude: args.claude,
        cwd: args.cwd,
        timeout: std::time::Duration::from_secs(args.timeout),
        rest: args.rest,
        replay: args.answering.replay.is_some(),
        workflows,
    };
    let mut note = |note: Note<'_>| match note {
        Note::Progress(line) => eprintln!("{line}"),
        Note::Checked(line) => println!("{line}"),
    };
    Ok(orchlint::serve::record::run(&config, &opts, &mut note)?)
}

pub fn run_serve(args: ServeArgs) -> miette::Result<Outcome> {
    let workflows = args.settings.sources().workflows()?;
    let config = serve_config(&args.answering, &workflows)?;
    let (turns, agents) = (config.recording.turns.len(), config.recording.agents.len());
    let server = orchlint::serve::Server::start(config, args.port, args.log.as_deref())
        .map_err(|e| miette::miette!("cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    println!("ANTHROPIC_BASE_URL=http://{}", server.addr);
    let _ = std::io::stdout().flush();
    eprintln!(
        "orchlint serve: listening on http://{} ({}, {}); Ctrl-C stops",
        server.addr,
        plural(turns, "orchestrator turn"),
        plural(agents, "agent report")
    );
    let refusals = server.watch_refusals();
    std::thread::spawn(move || {
        for line in refusals {
            eprintln!("orchlint serve: request {}: {} {}", line.request, line.status, line.what);
        }
    });
    let summary = server.wait();
    eprintln!("orchlint serve: {}, {} not answered", plural(summary.requests, "request"), summary.refused);
    Ok(Outcome::failure_if(summary.refused > 0))
}
