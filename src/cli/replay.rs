//! `orchlint replay`: recorded runs replayed against mocked agents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::ValueEnum;

use orchlint::outcome::Outcome;
use orchlint::replay::backend::{Fault, Match, Scripted};
use orchlint::replay::{self, Answers, Order, ReplayReport};
use orchlint::report;
use orchlint::words::plural;
use orchlint::workflow::Workflows;

use super::{shown_paths, threads, Common, ForFlag};

#[derive(clap::Args)]
pub struct Args {
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
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Also write each session's replayed trace to this folder.
    #[arg(long, value_name = "DIR")]
    trace_dir: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Human,
    Json,
    Trace,
}

pub fn run(args: Args) -> miette::Result<Outcome> {
    let settings = args.common.settings.sources().resolve(&[], &[])?;
    let wfs = &settings.workflows;
    threads(args.threads);
    let answers = if let Some(path) = &args.cassette {
        let cassette = replay::load_cassette(path, wfs).map_err(|e| ForFlag::new("--cassette", e))?;
        Answers::Cassette { cassette: Arc::new(cassette), name: path.display().to_string() }
    } else if let Some(path) = &args.script {
        let text = std::fs::read_to_string(path).map_err(|e| miette::miette!("cannot read {}: {e}", path.display()))?;
        let script = Scripted::parse(&text, &path.display().to_string()).map_err(|e| ForFlag::new("--script", e))?;
        Answers::Script(Arc::new(script))
    } else {
        Answers::Own
    };
    let opts = replay::Options {
        plan: replay::Plan { order: args.order, seed: args.seed, matching: args.matching },
        answers,
        faults: args.faults.clone(),
        selection: settings.selection.clone(),
        force_workflow: settings.force_workflow,
    };
    let engine_opts = orchlint::engine::Options { require_run: false, ..settings.engine_options() };
    let report = replay::replay_paths(&args.common.paths, wfs, &engine_opts, &opts)?;
    if report.sessions.is_empty() && report.unreadable.is_empty() {
        miette::bail!(
            help = "give session files, project folders, stream-json output or canonical traces",
            "no sessions to replay in {}",
            shown_paths(&args.common.paths)
        );
    }
    if let Some(dir) = &args.trace_dir {
        write_traces(dir, &report)?;
    }
    if let (Format::Trace, many) = (args.format, report.sessions.len()) {
        if many != 1 {
            miette::bail!(
                help = "write one trace per session with --trace-dir DIR",
                "--format trace prints one session's trace; {many} sessions were replayed"
            );
        }
    }
    super::print_all(|out| match args.format {
        Format::Human => report::replay::render_human(&report, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::other)?;
            writeln!(out)
        }
        Format::Trace => out.write_all(report.sessions[0].trace.to_jsonl().as_bytes()),
    })?;
    for u in &report.unreadable {
        eprintln!("error: {u}");
    }
    for f in &report.unused_faults {
        eprintln!(
            "error: --fault {f} hit no launch in any session: no session has that launch, or that many launches of that type{}",
            suggest_agent_type(f, wfs)
        );
    }
    Ok(if !report.unreadable.is_empty() || !report.unused_faults.is_empty() {
        Outcome::Incomplete
    } else {
        Outcome::failure_if(report.summary.diverged > 0)
    })
}

/// One `<name>.trace.jsonl` a session, named after its file (and session id
/// where a file holds several sessions).
fn write_traces(dir: &Path, report: &ReplayReport) -> miette::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| miette::miette!("cannot create {}: {e}", dir.display()))?;
    let mut taken = std::collections::BTreeSet::new();
    for s in &report.sessions {
        let stem: String = Path::new(&*s.file)
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
    match orchlint::words::closest(ty, known) {
        Some(k) => format!("; did you mean `{k}{}`?", nth.map(|n| format!("#{n}")).unwrap_or_default()),
        None => String::new(),
    }
}
