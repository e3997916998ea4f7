//! `orchlint guard`: the hooks' side. `guard EVENT` answers one hook call
//! (the JSON on standard input); `guard install` writes the hooks;
//! `guard --explain` says what will be enforced.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use orchlint::guard::{self, install, Mode};
use orchlint::outcome::Outcome;

use super::SettingsArgs;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The hook event of this call: pre-tool-use, post-tool-batch, stop (the input's `hook_event_name` wins).
    #[arg(value_name = "EVENT", required_unless_present = "explain")]
    event: Option<String>,
    /// Print what the guard will deny, report, and leave to `check`, for each workflow in play.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    guard: GuardArgs,
}

#[derive(clap::Args, Clone)]
struct GuardArgs {
    /// enforce: deny breaches; warn: let them run and tell the model; audit: only log.
    #[arg(long, value_enum, default_value_t = Mode::Enforce)]
    mode: Mode,
    #[command(flatten)]
    settings: SettingsArgs,
    /// Where to keep each session's state (default: $CLAUDE_PLUGIN_DATA, else ~/.cache/orchlint/guard).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// How long a PreToolUse waits for its call to show in the transcript, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    wait_ms: u64,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Write the hooks that run the guard into a plugin's hooks/hooks.json or a project's .claude/settings.json.
    Install {
        /// The plugin folder (its hooks/hooks.json).
        #[arg(long, value_name = "DIR", conflicts_with = "project", required_unless_present = "project")]
        plugin: Option<PathBuf>,
        /// The project folder (its .claude/settings.json).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// Print the file as it would be written, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The orchlint the hooks run (default: this one, by its absolute path).
        #[arg(long, value_name = "PATH")]
        orchlint: Option<PathBuf>,
        #[command(flatten)]
        guard: GuardArgs,
    },
}

/// Hook inputs are small; a tool input (a file to write) can be large.
const MAX_INPUT: u64 = 64 << 20;

pub fn run(args: Args) -> miette::Result<Outcome> {
    if let Some(Command::Install { plugin, project, dry_run, orchlint, guard }) = args.command {
        return install_hooks(plugin, project, dry_run, orchlint, &guard);
    }
    if args.explain {
        let wfs = args.guard.settings.sources().workflows()?;
        let text: Vec<String> = wfs.iter().map(|wf| install::explain(wf)).collect();
        super::print_all(|out| out.write_all(text.join("\n").as_bytes()))?;
        return Ok(Outcome::Success);
    }
    let event = args.event.unwrap_or_default();
    // An invalid rules file or config is an error (exit 2): with
    // `onFailure: "block"` every call is then blocked, so it is seen at once.
    let opts = options(&args.guard)?;
    let mut raw = Vec::new();
    let _ = std::io::stdin().lock().take(MAX_INPUT).read_to_end(&mut raw);
    // Whatever goes wrong with this call lets it through (exit 0, said on
    // standard error): docs/guard.md, "Failure".
    match guard::answer(&event, &raw, &opts) {
        Ok(answer) => {
            if let Some(json) = answer.json() {
                println!("{json}");
            }
        }
        Err(e) => eprintln!("orchlint guard: cannot judge this call, so it is let through: {e:?}"),
    }
    Ok(Outcome::Success)
}

fn options(g: &GuardArgs) -> miette::Result<guard::Options> {
    let sources = g.settings.sources();
    let settings = sources.resolve(&[], &[])?;
    let state_dir = g.state_dir.clone().unwrap_or_else(|| match std::env::var_os("CLAUDE_PLUGIN_DATA") {
        Some(dir) => PathBuf::from(dir).join("orchlint-guard"),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir);
            cache.join("orchlint/guard")
        }
    });
    Ok(guard::Options {
        mode: g.mode,
        workflows: settings.workflows,
        force_workflow: settings.force_workflow,
        state_dir,
        wait: Duration::from_millis(g.wait_ms),
    })
}

fn install_hooks(
    plugin: Option<PathBuf>,
    project: Option<PathBuf>,
    dry_run: bool,
    orchlint: Option<PathBuf>,
    g: &GuardArgs,
) -> miette::Result<Outcome> {
    let target = match (plugin, project) {
        (Some(dir), _) => install::Target::Plugin(dir),
        (None, Some(dir)) => install::Target::Project(dir),
        (None, None) => miette::bail!("give --plugin DIR or --project DIR"),
    };
    let orchlint = match orchlint {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| miette::miette!("cannot tell where this orchlint is: {e}"))?,
    };
    // The options the hooks run with; rules files by absolute path, as the
    // hooks run in the project folder.
    let mut args = vec!["--mode".to_string(), format!("{:?}", g.mode).to_lowercase()];
    for rules in &g.settings.rules {
        let abs = std::path::absolute(rules).unwrap_or_else(|_| rules.clone());
        args.extend(["--rules".to_string(), abs.display().to_string()]);
    }
    if let Some(wf) = &g.settings.workflow {
        args.extend(["--workflow".to_string(), wf.clone()]);
    }
    if let Some(dir) = &g.state_dir {
        args.extend(["--state-dir".to_string(), dir.display().to_string()]);
    }
    // Rules files must load now, not at the first hook call.
    g.settings.sources().workflows()?;
    let plan = install::plan(&target, &install::command(&orchlint, &args))?;
    if dry_run {
        let text: Vec<String> = plan
            .files
            .iter()
            .map(|(path, doc)| {
                format!("{}:\n{}", path.display(), serde_json::to_string_pretty(doc).unwrap_or_default())
            })
            .collect();
        super::print_all(|out| writeln!(out, "{}", text.join("\n\n")))?;
        eprintln!("--dry-run: nothing written");
    } else {
        install::write(&plan)?;
        for (path, doc) in &plan.files {
            let events = install::events_in(doc);
            if events.is_empty() {
                eprintln!("wrote {}: it names {}", path.display(), install::PLUGIN_NEWER_FILE);
                continue;
            }
            let why = if events.iter().all(|e| install::NEWER_EVENTS.contains(e)) {
                " (Claude Code 2.1 only; 2.0.x skips this file)"
            } else if events.contains(&"PreToolUse") {
                " (timeout 10 s; a failing PreToolUse hook blocks the call on Claude Code 2.1)"
            } else {
                ""
            };
            eprintln!("wrote {}: orchlint guard on {}{why}", path.display(), events.join(", "));
        }
    }
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    Ok(Outcome::Success)
}
