//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use orchlint::checks::Selection;
use orchlint::engine::{self, Options, Report};
use orchlint::workflow::Workflows;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    repo().join("fixtures/transcripts")
}

/// `../shared` beside the repository, when it is there (it is in CI).
pub fn shared() -> Option<PathBuf> {
    let p = repo().join("../shared");
    p.is_dir().then_some(p)
}

/// Checks paths with only the given rules (all when empty).
pub fn check(paths: &[&Path], rules: &[&str]) -> Report {
    let wf = Workflows::builtin();
    let opts = Options {
        selection: Selection { only: rules.iter().map(|r| r.to_string()).collect(), ..Selection::default() },
        excerpts: true,
        ..Options::default()
    };
    let paths: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    engine::check(&paths, &wf, &opts).expect("inputs exist")
}

/// A fixture of `fixtures/transcripts/manifest.json`.
#[derive(Debug, serde::Deserialize)]
pub struct Fixture {
    pub file: String,
    pub rule: String,
    pub kind: String,
    pub generation: String,
    pub demonstrates: String,
    pub violation: Option<Violation>,
}

#[derive(Debug, serde::Deserialize)]
pub struct Violation {
    pub line: u32,
    pub phase: Option<u8>,
    /// The file of the line when it is not the fixture itself: a subagent
    /// transcript of the fixture's session (relative to `fixtures/transcripts`).
    #[serde(default)]
    pub file: Option<String>,
}

impl Violation {
    /// Whether a diagnostic is at the violation: its line in its file.
    pub fn at(&self, fixture: &Fixture, d: &orchlint::diagnostic::Diagnostic) -> bool {
        let file = self.file.as_deref().unwrap_or(&fixture.file);
        d.line == self.line && d.file.ends_with(file)
    }
}

#[derive(Debug, serde::Deserialize)]
struct Manifest {
    fixtures: Vec<Fixture>,
}

pub fn manifest() -> Vec<Fixture> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest.json");
    serde_json::from_str::<Manifest>(&text).expect("manifest.json parses").fixtures
}

/// Renders diagnostics as the human format does, without color.
pub fn human(report: &Report) -> String {
    let mut out = Vec::new();
    orchlint::report::human::render(report, false, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Rewrites absolute repository paths so snapshots do not depend on the checkout.
pub fn relative(text: &str) -> String {
    text.replace(&format!("{}/", repo().display()), "")
}

/// Runs the orchlint binary in the repository root: exit code, stdout, stderr.
pub fn orchlint(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orchlint"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("orchlint runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Where `.ci/run` and the README install a Claude Code CLI version:
/// `${XDG_CACHE_HOME:-~/.cache}/orchlint/claude-code/VERSION/node_modules/@anthropic-ai/claude-code/`.
pub fn claude_code_dir(version: &str) -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("orchlint/claude-code").join(version).join("node_modules/@anthropic-ai/claude-code")
}

/// The Claude Code CLI of a version: the env var `var` when set, else
/// [`claude_code_dir`]`/bin`. None skips the calling test, and says so on
/// the terminal (not captured, so `cargo test` shows which tests did not
/// run); under `CI` a missing CLI fails the test.
pub fn claude_cli(var: &str, version: &str, bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| claude_code_dir(version).join(bin));
    if path.exists() {
        return Some(path);
    }
    assert!(std::env::var_os("CI").is_none(), "{var}: {} is missing; .ci/run installs it", path.display());
    skipped(var, &path)
}

/// A Claude Code CLI that `.ci/run` does not install: tested where it is
/// there (the env var `var`, else [`claude_code_dir`]`/bin`), skipped
/// elsewhere, CI included.
pub fn claude_cli_if_present(var: &str, version: &str, bin: &str) -> Option<PathBuf> {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| claude_code_dir(version).join(bin));
    if path.exists() {
        return Some(path);
    }
    skipped(var, &path)
}

fn skipped(var: &str, path: &Path) -> Option<PathBuf> {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    // Written to the stream itself, past the test harness's capture.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: no Claude Code CLI at {} (set {var}, or install it as the README says)",
        path.display()
    );
    None
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let target = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The orchestrator's session file that `record` kept under `out/projects`
/// (the largest .jsonl that is not an agent's).
pub fn recorded_session(out: &Path) -> PathBuf {
    let mut best: Option<(u64, PathBuf)> = None;
    for e in walkdir::WalkDir::new(out.join("projects")) {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".jsonl") && !name.starts_with("agent-") {
            let len = e.metadata().unwrap().len();
            if best.as_ref().is_none_or(|(l, _)| len > *l) {
                best = Some((len, e.path().to_path_buf()));
            }
        }
    }
    best.expect("a session file").1
}

/// `check --format json` on a path: `rule@phase` for an error,
/// `warning:rule@phase` for a warning (notes left out), phase `-` for a
/// finding outside any phase.
pub fn verdicts(path: &Path, extra: &[&str]) -> std::collections::BTreeSet<String> {
    let mut args = vec!["check", path.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = orchlint(&args);
    assert!(code == 0 || code == 1, "check failed ({code}): {err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| {
            let phase = d["phase"].as_u64().map_or("-".to_string(), |p| p.to_string());
            let rule = d["rule"].as_str().unwrap();
            match d["severity"].as_str() {
                Some("error") => Some(format!("{rule}@{phase}")),
                Some("warning") => Some(format!("warning:{rule}@{phase}")),
                _ => None,
            }
        })
        .collect()
}
