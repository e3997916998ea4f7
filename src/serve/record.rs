//! `orchlint record`: starts `serve`, drives the real Claude Code CLI
//! through a recorded run's user prompts (the first with `-p`, each later
//! one with `--resume`), with `HOME` in a fresh temporary folder, then keeps
//! the project folder the CLI wrote under `OUT/projects/` and checks it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Config, Server};
use crate::outcome::Outcome;
use crate::words::plural;

/// How to drive the CLI.
pub struct Options {
    pub out: PathBuf,
    pub claude: PathBuf,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
    /// With a replay: extra CLI arguments; otherwise the command to run.
    pub rest: Vec<String>,
    pub replay: bool,
    /// The workflows the recorded run is checked with.
    pub workflows: crate::workflow::Workflows,
}

/// Why a record could not be made at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RecordError {
    #[error("cannot find the Claude Code CLI `{0}`: install it (npm install -g @anthropic-ai/claude-code) or name it with --claude PATH")]
    NoCli(String),
    /// A folder or file of the record: what was done to it, and why it failed.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("the recording has no user prompt to type")]
    NoPrompt,
    #[error("give the command to run after --, e.g. -- claude -p \"/my-plugin:my-flow …\"")]
    NoCommand,
}

/// What `record` has to say while it works (the CLI prints it).
pub enum Note<'a> {
    /// How far it has come, and what went wrong (standard error).
    Progress(&'a str),
    /// The check of what was recorded (standard output).
    Checked(&'a str),
}

/// Records a run: [`Outcome::Success`] when every CLI invocation succeeded
/// and every request was answered.
pub fn run(config: &Config, opts: &Options, note: &mut dyn FnMut(Note<'_>)) -> Result<Outcome, RecordError> {
    let io = |what: String| move |e: std::io::Error| RecordError::Io(what, e);
    if opts.replay && !runnable(&opts.claude) {
        return Err(RecordError::NoCli(opts.claude.display().to_string()));
    }
    std::fs::create_dir_all(&opts.out).map_err(io(format!("cannot create {}", opts.out.display())))?;
    let out = opts.out.canonicalize().map_err(io(opts.out.display().to_string()))?;
    let temp = tempfile::Builder::new()
        .prefix("orchlint-record-")
        .tempdir()
        .map_err(io("cannot create a temporary folder".into()))?;
    let home = temp.path().join("home");
    let cwd = match &opts.cwd {
        Some(c) => c.canonicalize().map_err(io(format!("--cwd {}", c.display())))?,
        None => temp.path().join("work"),
    };
    for dir in [&home, &cwd, &home.join("tmp")] {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    if opts.replay && config.recording.prompts.is_empty() {
        return Err(RecordError::NoPrompt);
    }
    // The CLI runs in another folder: paths given relative to ours are made absolute.
    let claude = absolute_if_path(&opts.claude.to_string_lossy());
    let claude = PathBuf::from(claude);
    let rest = absolute_path_args(&opts.rest);
    let server = Server::start(config.clone(), 0, Some(&out.join("serve.log.jsonl")))
        .map_err(io("cannot start the server".into()))?;
    let base = format!("http://{}", server.addr);
    note(Note::Progress(&format!("orchlint record: serving on {base}")));
    let mut failures = Vec::new();
    if opts.replay {
        let mut session: Option<String> = None;
        for (i, prompt) in config.recording.prompts.iter().enumerate() {
            let mut args: Vec<String> = Vec::new();
            if let Some(id) = &session {
                args.extend(["--resume".into(), id.clone()]);
            }
            args.extend([
                "-p".into(),
                prompt.clone(),
                "--output-format".into(),
                "stream-json".into(),
                "--verbose".into(),
                "--permission-mode".into(),
                "bypassPermissions".into(),
            ]);
            args.extend(rest.iter().cloned());
            let output = out.join(format!("cli-{}.stream.jsonl", i + 1));
            let shown: String = prompt.chars().take(60).collect();
            note(Note::Progress(&format!(
                "orchlint record: prompt {} of {}: {shown}",
                i + 1,
                config.recording.prompts.len()
            )));
            match invoke(&claude, &args, &home, &cwd, &base, &output, opts.timeout, false) {
                Ok(()) => {}
                Err(e) => failures.push(format!("prompt {}: {}", i + 1, e.0)),
            }
            if session.is_none() {
                session = crate::ingest::stream::session_id(&output);
                if session.is_none() {
                    failures.push(format!("prompt {}: the CLI printed no session id", i + 1));
                    break;
                }
            }
        }
    } else {
        let Some((program, args)) = rest.split_first() else {
            return Err(RecordError::NoCommand);
        };
        let output = out.join("cli-1.stream.jsonl");
        if let Err(e) = invoke(Path::new(program), args, &home, &cwd, &base, &output, opts.timeout, true) {
            failures.push(e.0);
        }
    }
    let summary = server.stop();
    let projects = home.join(".claude/projects");
    let kept = out.join("projects");
    let _ = std::fs::remove_dir_all(&kept);
    if projects.is_dir() {
        copy_dir(&projects, &kept).map_err(io(format!("cannot copy {}", projects.display())))?;
    } else {
        failures.push("the CLI wrote no project folder".into());
    }
    note(Note::Progress(&format!(
        "orchlint record: {} served, {} not answered",
        plural(summary.requests, "request"),
        summary.refused
    )));
    for u in &summary.refusals {
        note(Note::Progress(&format!("  request {}: {} {}", u.request, u.status, u.what)));
    }
    if summary.refused > summary.refusals.len() {
        note(Note::Progress(&format!("  … and {} more in serve.log.jsonl", summary.refused - summary.refusals.len())));
    }
    for f in &failures {
        note(Note::Progress(&format!("orchlint record: {f}")));
    }
    if kept.is_dir() {
        let options = crate::engine::Options::default();
        if let Ok(report) = crate::engine::check(std::slice::from_ref(&kept), &opts.workflows, &options) {
            let s = &report.summary;
            note(Note::Checked(&format!(
                "{}: {}, {}; check: {}, {}, {}",
                kept.display(),
                plural(s.transcripts, "transcript"),
                plural(s.runs, "workflow run"),
                plural(s.errors, "error"),
                plural(s.warnings, "warning"),
                plural(s.notes, "note")
            )));
        }
    }
    Ok(Outcome::failure_if(!failures.is_empty() || summary.refused > 0))
}

/// Why one CLI invocation failed: said in the record's summary (the record
/// goes on and fails), not an error of orchlint's.
struct Failure(String);

impl Failure {
    fn new(why: String) -> Failure {
        Failure(why)
    }
}

/// Runs the CLI once, its standard output to `output`. With `keep_key`
/// (requests forwarded to a real API) the caller's credentials are passed on.
#[allow(clippy::too_many_arguments)]
fn invoke(
    claude: &Path,
    args: &[String],
    home: &Path,
    cwd: &Path,
    base: &str,
    output: &Path,
    timeout: Duration,
    keep_key: bool,
) -> Result<(), Failure> {
    let file =
        std::fs::File::create(output).map_err(|e| Failure::new(format!("cannot write {}: {e}", output.display())))?;
    let is_js = claude.extension().is_some_and(|e| e == "js" || e == "mjs" || e == "cjs");
    let mut command = if is_js {
        let mut c = Command::new("node");
        c.arg(claude);
        c
    } else {
        Command::new(claude)
    };
    if !keep_key || std::env::var_os("ANTHROPIC_API_KEY").is_none() {
        command.env_remove("ANTHROPIC_AUTH_TOKEN").env("ANTHROPIC_API_KEY", "orchlint-record");
    }
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("CLAUDE_CODE_USE_BEDROCK")
        .env_remove("CLAUDE_CODE_USE_VERTEX")
        .env("HOME", home)
        .env("ANTHROPIC_BASE_URL", base)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("IS_SANDBOX", "1")
        .env("CLAUDE_CODE_TMPDIR", home.join("tmp"))
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| Failure::new(format!("cannot run {}: {e}", claude.display())))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                if !status.success() {
                    return Err(Failure::new(format!("{} exited with {status}: {}", claude.display(), err.trim())));
                }
                // 2.0.x exits 0 on some failures: the result line tells.
                if crate::ingest::stream::reports_error(output) {
                    return Err(Failure::new(format!("the CLI reported an error; see {}", output.display())));
                }
                return Ok(());
            }
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure::new(format!("{} did not finish in {} s", claude.display(), timeout.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Failure::new(format!("cannot wait for {}: {e}", claude.display()))),
        }
    }
}

/// Flags of the CLI whose value is a path.
const PATH_FLAGS: &[&str] = &["--plugin-dir", "--add-dir", "--settings", "--mcp-config", "--system-prompt-file"];

/// The arguments with the values of path flags made absolute, and the
/// program itself when it is a relative path.
fn absolute_path_args(args: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        let after_path_flag = i > 0 && PATH_FLAGS.contains(&args[i - 1].as_str());
        let flag_with_value = PATH_FLAGS.iter().find_map(|f| a.strip_prefix(&format!("{f}=")).map(|v| (f, v)));
        out.push(match flag_with_value {
            Some((f, v)) => format!("{f}={}", absolute_if_path(v)),
            None if after_path_flag || (i == 0 && a.contains('/')) => absolute_if_path(a),
            None => a.clone(),
        });
    }
    out
}

/// A relative path that exists, made absolute; anything else as it is.
/// Whether a program given as a path exists, or as a bare name is on `PATH`.
fn runnable(program: &Path) -> bool {
    if program.components().count() > 1 {
        return program.is_file();
    }
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn absolute_if_path(value: &str) -> String {
    let p = Path::new(value);
    if p.is_relative() && value.contains('/') || p.is_relative() && p.exists() {
        if let Ok(abs) = p.canonicalize() {
            return abs.display().to_string();
        }
    }
    value.to_string()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry.path().strip_prefix(from).map_err(std::io::Error::other)?;
        let target = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::absolute_path_args;

    #[test]
    fn path_flags_and_a_relative_program_become_absolute() {
        let here = std::env::current_dir().unwrap();
        let args: Vec<String> =
            ["--plugin-dir", "src", "-p", "/ml-flow:ml-flow do src", "--settings=Cargo.toml"].map(String::from).into();
        let out = absolute_path_args(&args);
        assert_eq!(out[1], here.join("src").canonicalize().unwrap().display().to_string());
        assert_eq!(out[3], "/ml-flow:ml-flow do src", "a prompt is left alone");
        assert_eq!(out[4], format!("--settings={}", here.join("Cargo.toml").canonicalize().unwrap().display()));
        let cmd: Vec<String> = ["claude", "-p", "x"].map(String::from).into();
        assert_eq!(absolute_path_args(&cmd), cmd, "a command on the PATH is left alone");
    }
}
