//! Finding transcripts: files, project folders, whole `~/.claude/projects`.
//!
//! Session files become jobs; subagent transcripts are attached to their
//! session (`<session>/subagents/agent-<id>.jsonl` in 2.1.x, sibling
//! `agent-<id>.jsonl` files in 2.0.x) instead of being checked as sessions;
//! files that are not transcripts (histories, workflow journals) are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::diagnostic::{Culprit, Finding};
use crate::ingest::lines::LineReader;
use crate::model::{Format, Source};

/// Where a transcript's bytes come from.
#[derive(Debug, Clone)]
pub enum Origin {
    File(PathBuf),
    /// Standard input, read whole.
    Memory(Arc<Vec<u8>>),
}

/// A subagent transcript file and the agent id its name carries.
#[derive(Debug, Clone)]
pub struct SubagentFile {
    pub path: PathBuf,
    pub display: Arc<str>,
    pub agent_id: String,
    /// Listed by its folder as a regular file (not a link): opened without
    /// looking at its type first ([`crate::ingest::input::open_listed`]).
    pub listed: bool,
    /// What discovery already read of it (2.0.x siblings are read to learn
    /// their session), with the problems found; `None` when not read yet.
    pub read: Option<(crate::ingest::subagent::SubagentInfo, Vec<Finding>)>,
}

/// One session to check.
#[derive(Debug, Clone)]
pub struct Job {
    pub origin: Origin,
    pub display: Arc<str>,
    /// The format, when known; otherwise the job sniffs it from the first lines.
    pub format: Option<Format>,
    /// Named on the command line (a non-transcript is then reported, not just skipped).
    pub explicit: bool,
    pub subagents: Vec<SubagentFile>,
    /// Listed by its folder as a regular file (not a link).
    pub listed: bool,
}

/// The outcome of discovery.
#[derive(Debug, Default)]
pub struct Discovery {
    pub jobs: Vec<Job>,
    /// Problems found while discovering (orphan subagent files).
    pub findings: Vec<Finding>,
    /// Files skipped as not being transcripts.
    pub skipped: Vec<String>,
}

/// An input that could not be used at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InputError {
    /// The path, and why it is not there (no such file, a link loop, a dangling link).
    #[error("{0}: {1}")]
    Missing(String, String),
    #[error("cannot read standard input: {0}")]
    Stdin(std::io::Error),
    #[error("standard input: line {0} is longer than the {max} MiB line cap; stopped reading", max = crate::ingest::input::MAX_LINE >> 20)]
    StdinLineTooLong(u32),
}

/// How a candidate file looks from its first lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Transcript(Format),
    NotTranscript,
}

/// The envelope fields that tell formats apart; everything else is skipped.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: crate::ingest::raw::LStr<'a>,
    #[serde(default, borrow)]
    subtype: crate::ingest::raw::LStr<'a>,
    #[serde(rename = "sessionId", default)]
    session_id: Option<serde::de::IgnoredAny>,
    #[serde(rename = "session_id", default)]
    session_id_snake: Option<serde::de::IgnoredAny>,
}

/// What one line says about its file's format: `None` when the line does not
/// parse as a JSON object (look at the next one).
pub fn sniff_line(bytes: &[u8]) -> Option<Sniffed> {
    let env = serde_json::from_slice::<Envelope<'_>>(bytes).ok()?;
    let ty = env.kind.as_deref();
    if ty == Some("system") && env.subtype.as_deref() == Some("init") {
        return Some(Sniffed::Transcript(Format::StreamJson));
    }
    if ty == Some("result") || (env.session_id_snake.is_some() && env.session_id.is_none()) {
        return Some(Sniffed::Transcript(Format::StreamJson));
    }
    if env.session_id.is_some() || ty.is_some_and(crate::ingest::known::is_session_type) {
        return Some(Sniffed::Transcript(Format::Session));
    }
    if ty.is_some() {
        // An entry type of a newer Claude Code: look at the next line.
        return None;
    }
    Some(Sniffed::NotTranscript)
}

/// How many unparseable lines to look past before calling a file a session.
pub const SNIFF_LINES: u32 = 20;

/// Tells a session file from stream-json output and from JSONL that is not a
/// transcript, by the first lines that parse.
pub fn sniff_format<R: Read>(reader: R) -> Sniffed {
    let mut lines = LineReader::new(reader);
    let mut seen = 0;
    while let Ok(Some(line)) = lines.next_line() {
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        seen += 1;
        if seen > SNIFF_LINES {
            break;
        }
        if let Some(sniffed) = sniff_line(line.bytes) {
            return sniffed;
        }
    }
    // Empty or wholly damaged: read it as a session so its problems are reported.
    Sniffed::Transcript(Format::Session)
}

/// A path's folder, by bytes (no `Path` component parsing: it is called for
/// every file of a walk).
fn parent_of(path: &Path) -> OsString {
    parent_path(path).as_os_str().to_owned()
}

fn parent_path(path: &Path) -> &Path {
    let bytes = path.as_os_str().as_encoded_bytes();
    let end = memchr::memrchr(std::path::MAIN_SEPARATOR as u8, bytes).unwrap_or(0);
    // SAFETY: a prefix of an OsStr's encoded bytes ending before an ASCII separator.
    Path::new(unsafe { std::ffi::OsStr::from_encoded_bytes_unchecked(&bytes[..end]) })
}

/// The last component of a path, as bytes (no `Path` component parsing: it
/// is called for every file of a walk).
fn name_bytes(path: &Path) -> &[u8] {
    let bytes = path.as_os_str().as_encoded_bytes();
    match memchr::memrchr(std::path::MAIN_SEPARATOR as u8, bytes) {
        Some(at) => &bytes[at + 1..],
        None => bytes,
    }
}

fn is_jsonl(path: &Path) -> bool {
    name_bytes(path).ends_with(b".jsonl")
}

/// The agent id in a file name `agent-<id>.jsonl`.
pub fn agent_file_id(path: &Path) -> Option<String> {
    let name = name_bytes(path);
    let id = name.strip_prefix(b"agent-")?.strip_suffix(b".jsonl")?;
    std::str::from_utf8(id).ok().map(str::to_string)
}

fn display(path: &Path) -> Arc<str> {
    Arc::from(path.to_string_lossy().as_ref())
}

/// Where a file sits in a projects folder.
enum Role {
    /// `<session>/subagents/agent-<id>.jsonl`: belongs to `<session>.jsonl` beside the session folder.
    NestedSubagent {
        session_file: PathBuf,
    },
    /// `agent-<id>.jsonl` beside session files (2.0.x).
    SiblingSubagent,
    /// Not a transcript of a delegation (workflow journals, compaction copies in workflows/).
    Ignored,
    Candidate,
}

fn role(path: &Path) -> Role {
    static MARKER: std::sync::LazyLock<memchr::memmem::FinderRev<'static>> = std::sync::LazyLock::new(|| {
        let sep = std::path::MAIN_SEPARATOR_STR;
        memchr::memmem::FinderRev::new(format!("{sep}subagents{sep}").into_bytes().leak())
    });
    let bytes = path.as_os_str().as_encoded_bytes();
    let name = name_bytes(path);
    let sep = std::path::MAIN_SEPARATOR as u8;
    if let Some(at) = MARKER.rfind(bytes) {
        let after = &bytes[at + MARKER.needle().len()..];
        if name == b"journal.jsonl" || memchr::memchr(sep, after).is_some() || agent_file_id(path).is_none() {
            // journal.jsonl, workflows/<run>/…: lifecycle records, not transcripts.
            return Role::Ignored;
        }
        // `<dir>/<session>/subagents/agent-x.jsonl` belongs to `<dir>/<session>.jsonl`.
        let mut session_file = bytes[..at].to_vec();
        session_file.extend_from_slice(b".jsonl");
        // SAFETY: made of a prefix of an OsStr's encoded bytes and ASCII.
        let session_file = unsafe { OsString::from_encoded_bytes_unchecked(session_file) };
        return Role::NestedSubagent { session_file: PathBuf::from(session_file) };
    }
    if agent_file_id(path).is_some() {
        return Role::SiblingSubagent;
    }
    Role::Candidate
}

/// The project folders under a path: every folder holding `.jsonl` files of
/// its own (session files, 2.0.x agent files), and every folder holding session
/// folders with `subagents/` (so that orphans are found). Only folders are kept,
/// never the files: a folder's files are listed when its turn comes.
pub fn project_folders(root: &Path, findings: &mut Vec<Finding>) -> Vec<PathBuf> {
    let mut folders: BTreeSet<OsString> = BTreeSet::new();
    let mut walk = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        // Into `subagents/` folders, but not below them: they are the session's.
        .filter_entry(|e| e.depth() == 0 || name_bytes(parent_path(e.path())) != b"subagents");
    loop {
        let entry = match walk.next() {
            None => break,
            Some(Ok(entry)) => entry,
            Some(Err(err)) => {
                let place = err.path().map(display).unwrap_or_else(|| display(root));
                findings.push(Finding::input(Source::start_of(place), format!("cannot read: {err}")));
                continue;
            }
        };
        if entry.file_type().is_symlink() && (is_jsonl(entry.path()) || entry.path().is_dir()) {
            let message = "symbolic link not followed; give its target to check it".to_string();
            let source = Source::start_of(display(entry.path()));
            findings.push(Finding { severity: crate::diagnostic::Severity::Note, ..Finding::input(source, message) });
        } else if entry.file_type().is_file() && is_jsonl(entry.path()) {
            folders.insert(parent_of(entry.path()));
        } else if let Some(kind) =
            crate::ingest::input::special_kind(entry.file_type()).filter(|_| is_jsonl(entry.path()))
        {
            let message = crate::ingest::input::OpenFailure::Special(kind).to_string();
            let source = Source::start_of(display(entry.path()));
            findings.push(Finding { severity: crate::diagnostic::Severity::Note, ..Finding::input(source, message) });
        } else if entry.file_type().is_dir() && entry.depth() > 1 && entry.file_name() == "subagents" {
            // `<project>/<session>/subagents/`: the project folder holds the session.
            folders.insert(parent_of(Path::new(&parent_of(entry.path()))));
        }
    }
    folders.into_iter().map(PathBuf::from).collect()
}

/// The files of one project folder: its own `.jsonl` files, and the subagent
/// transcripts under its session folders (`<session>/subagents/…`).
fn folder_files(dir: &Path, files: &mut Files, findings: &mut Vec<Finding>) {
    let mut entries: Vec<std::fs::DirEntry> = match std::fs::read_dir(dir) {
        Ok(read) => read.filter_map(Result::ok).collect(),
        Err(e) => {
            findings.push(Finding::input(Source::start_of(display(dir)), format!("cannot read: {e}")));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_file() && is_jsonl(&path) {
            files.sort_into(&path);
        } else if kind.is_dir() {
            let sub = path.join("subagents");
            if !sub.is_dir() {
                continue;
            }
            for e in WalkDir::new(&sub).follow_links(false).sort_by_file_name() {
                match e {
                    Ok(e) if e.file_type().is_file() && is_jsonl(e.path()) => files.sort_into(e.path()),
                    Ok(_) => {}
                    Err(err) => {
                        let place = err.path().map(display).unwrap_or_else(|| display(&sub));
                        let message = format!("cannot read: {err}");
                        findings.push(Finding::input(Source::start_of(place), message));
                    }
                }
            }
        }
    }
}

/// What to check: standard input and files named on the command line, as
/// jobs; and project folders, each discovered and checked on its own so that
/// memory does not grow with the size of the tree.
#[derive(Debug, Default)]
pub struct Plan {
    pub direct: Discovery,
    pub folders: Vec<PathBuf>,
}

/// Plans the check of the given paths (`-` is standard input).
pub fn plan(paths: &[PathBuf], detail: bool) -> Result<Plan, InputError> {
    let mut plan = Plan::default();
    let mut files = Files::default();
    let mut folders: BTreeSet<OsString> = BTreeSet::new();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    let mut real_folders: BTreeSet<PathBuf> = BTreeSet::new();
    // Folders listed for the 2.0.x agent files beside a named session.
    let mut listed: BTreeSet<PathBuf> = BTreeSet::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let bytes = crate::ingest::input::read_capped(std::io::stdin().lock())
                .map_err(InputError::Stdin)?
                .map_err(InputError::StdinLineTooLong)?;
            let format = match sniff_format(&bytes[..]) {
                Sniffed::Transcript(f) => f,
                Sniffed::NotTranscript => Format::Session,
            };
            plan.direct.jobs.push(Job {
                origin: Origin::Memory(Arc::new(bytes)),
                display: Arc::from("<stdin>"),
                format: Some(format),
                explicit: true,
                subagents: Vec::new(),
                listed: false,
            });
            continue;
        }
        if !path.exists() {
            let why = crate::ingest::input::missing_reason(path);
            return Err(InputError::Missing(path.display().to_string(), why));
        }
        // A session's own folder (`<sid>/` holding `subagents/`): check that session.
        let session_file = path.with_extension("jsonl");
        let path = if path.is_dir() && path.join("subagents").is_dir() && session_file.is_file() {
            &session_file
        } else {
            path
        };
        if path.is_dir() {
            for f in project_folders(path, &mut plan.direct.findings) {
                // The same folder under another spelling is checked once.
                let real = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
                if real_folders.insert(real) {
                    folders.insert(f.into_os_string());
                }
            }
            continue;
        }
        // The same file under another spelling (`a.jsonl`, `./a.jsonl`) is checked once.
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if !seen.insert(canonical) {
            continue;
        }
        files.explicit.push(path.clone());
        match role(path) {
            // Attached to its session when that is named too (in any
            // order); otherwise reported when the files are assembled.
            Role::NestedSubagent { .. } | Role::SiblingSubagent => {
                files.named_subagents.insert(path.clone());
                files.sort_into(path);
            }
            _ => {
                files.candidates.push(path.clone());
                // Look beside it for its subagent transcripts.
                let sub = path.with_extension("").join("subagents");
                if sub.is_dir() {
                    for entry in WalkDir::new(&sub).max_depth(1).sort_by_file_name().into_iter().filter_map(Result::ok)
                    {
                        if entry.file_type().is_file() && is_jsonl(entry.path()) {
                            files.sort_into(entry.path());
                        }
                    }
                }
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                let bare = dir.as_os_str().is_empty();
                let dir = if bare { PathBuf::from(".") } else { dir };
                // Each folder is listed once, however many of its files are named
                // (`check dir/*.jsonl` with thousands of sessions).
                if !listed.insert(dir.clone()) {
                    continue;
                }
                if let Ok(read) = std::fs::read_dir(&dir) {
                    let mut names: Vec<PathBuf> = read.filter_map(Result::ok).map(|e| e.path()).collect();
                    names.sort();
                    for p in names {
                        if p.is_file() && is_jsonl(&p) && agent_file_id(&p).is_some() {
                            let p = if bare { p.strip_prefix("./").map(Path::to_path_buf).unwrap_or(p) } else { p };
                            files.siblings.push(p);
                        }
                    }
                }
            }
        }
    }
    // A file named on the command line inside a folder also given is checked with the folder.
    files.candidates.retain(|f| {
        let real_parent = std::fs::canonicalize(f).ok().and_then(|r| r.parent().map(Path::to_path_buf));
        !real_parent.is_some_and(|p| real_folders.contains(&p))
    });
    assemble(files, detail, &mut plan.direct);
    plan.folders = folders.into_iter().map(PathBuf::from).collect();
    Ok(plan)
}

/// Discovers the sessions of one project folder.
pub fn discover_folder(dir: &Path, detail: bool) -> Discovery {
    let mut out = Discovery::default();
    // Every file of the folder is listed by it as a regular file.
    let mut files = Files { listed: true, ..Files::default() };
    folder_files(dir, &mut files, &mut out.findings);
    assemble(files, detail, &mut out);
    out
}

/// Every job for the given paths at once (for `inspect` and tests; `check`
/// goes folder by folder).
pub fn discover(paths: &[PathBuf], detail: bool) -> Result<Discovery, InputError> {
    let plan = plan(paths, detail)?;
    let mut out = plan.direct;
    for folder in plan.folders {
        let d = discover_folder(&folder, detail);
        out.jobs.extend(d.jobs);
        out.findings.extend(d.findings);
        out.skipped.extend(d.skipped);
    }
    Ok(out)
}

/// Files found, sorted by role, before they are assembled into jobs.
#[derive(Debug, Default)]
struct Files {
    candidates: Vec<PathBuf>,
    nested: BTreeMap<OsString, Vec<SubagentFile>>,
    siblings: Vec<PathBuf>,
    /// Named on the command line.
    explicit: Vec<PathBuf>,
    /// Subagent transcripts named on the command line.
    named_subagents: BTreeSet<PathBuf>,
    /// Every file was listed by its folder as a regular file.
    listed: bool,
}

impl Files {
    fn sort_into(&mut self, p: &Path) {
        sort_into(p, self.listed, &mut self.candidates, &mut self.nested, &mut self.siblings);
    }
}

/// Turns files into jobs: sibling agent files grouped by the session named
/// inside them, subagent folders by their session file, leftovers as orphans.
fn assemble(files: Files, detail: bool, out: &mut Discovery) {
    let Files { mut candidates, nested, mut siblings, explicit: explicit_files, named_subagents, listed } = files;
    let by_bytes = |a: &PathBuf, b: &PathBuf| a.as_os_str().cmp(b.as_os_str());
    candidates.sort_by(by_bytes);
    candidates.dedup();
    siblings.sort_by(by_bytes);
    siblings.dedup();

    // Sibling agent files belong to the session named inside them.
    let mut by_session: BTreeMap<OsString, Vec<SubagentFile>> = BTreeMap::new();
    // Sibling agent files name their session inside: read each once, here.
    let sibling_reads: Vec<_> = siblings
        .par_iter()
        .map(|p| {
            let mut findings = Vec::new();
            let info = crate::ingest::subagent::read(p, listed, &display(p), detail, &mut findings);
            (info, findings)
        })
        .collect();
    for (p, (info, findings)) in siblings.into_iter().zip(sibling_reads) {
        let agent_id = agent_file_id(&p).unwrap_or_default();
        let session_id = info.session_id.clone();
        let empty = info.entries == 0 && findings.is_empty();
        let file =
            SubagentFile { display: display(&p), agent_id, path: p.clone(), listed, read: Some((info, findings)) };
        match session_id {
            Some(sid) => {
                let session_file = p.with_file_name(format!("{sid}.jsonl"));
                by_session.entry(session_file.into_os_string()).or_default().push(file);
            }
            // Empty agent files are what Claude Code leaves of aborted agents.
            None if empty => {}
            None => by_session.entry(OsString::new()).or_default().push(file),
        }
    }
    for (k, v) in nested {
        by_session.entry(k).or_default().extend(v);
    }

    for path in candidates {
        let subagents = by_session.remove(path.as_os_str()).unwrap_or_default();
        let explicit = explicit_files.contains(&path);
        out.jobs.push(Job {
            origin: Origin::File(path.clone()),
            display: display(&path),
            format: None,
            explicit,
            subagents,
            listed,
        });
    }

    // Whatever is left has no session file to belong to.
    for (session_file, files) in by_session {
        for f in files {
            let warmup = f.read.as_ref().is_some_and(|(info, _)| info.is_warmup());
            if crate::ingest::subagent::is_internal(&f.agent_id) || warmup {
                continue;
            }
            // Beside a session file named on the command line: it belongs to
            // another session of the folder, one not being checked; named
            // itself, it is said where it belongs.
            if !session_file.is_empty() && Path::new(&session_file).is_file() {
                if named_subagents.contains(&f.path) {
                    let name = Path::new(&session_file).file_name().map(|n| n.to_string_lossy().into_owned());
                    out.findings.push(Finding::input(
                        Source::start_of(f.display.clone()),
                        format!(
                            "this is a subagent transcript of {}; check that session file, which attaches it",
                            name.unwrap_or_default()
                        ),
                    ));
                }
                continue;
            }
            let why = if session_file.is_empty() {
                "names no session".to_string()
            } else {
                let name = Path::new(&session_file).file_name().map(|n| n.to_string_lossy().into_owned());
                format!("belongs to session file {}, which is not there", name.unwrap_or_default())
            };
            out.findings.push(Finding::input_at(
                &Source::start_of(f.display.clone()),
                Culprit::Line,
                format!("orphan subagent transcript: it {why}"),
            ));
        }
    }
}

fn sort_into(
    p: &Path,
    listed: bool,
    candidates: &mut Vec<PathBuf>,
    nested: &mut BTreeMap<OsString, Vec<SubagentFile>>,
    siblings: &mut Vec<PathBuf>,
) {
    match role(p) {
        Role::NestedSubagent { session_file } => {
            let agent_id = agent_file_id(p).unwrap_or_default();
            let list = nested.entry(session_file.into_os_string()).or_default();
            if !list.iter().any(|f| f.path == p) {
                list.push(SubagentFile { path: p.to_path_buf(), display: display(p), agent_id, listed, read: None });
            }
        }
        Role::SiblingSubagent => siblings.push(p.to_path_buf()),
        Role::Ignored => {}
        Role::Candidate => candidates.push(p.to_path_buf()),
    }
}
