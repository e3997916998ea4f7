//! The check pipeline: discover → parse each session (in parallel) → attach
//! subagents → find runs → run the checks → resolve places → one report.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use rayon::prelude::*;
use serde::Serialize;

use crate::checks::{self, Selection};
use crate::diagnostic::{self, Culprit, Diagnostic, Finding, Severity};
use crate::ingest::discover::{self, Discovery, InputError, Job, Origin};
use crate::ingest::input::{open_regular, OpenFailure, MAX_LINE};
use crate::ingest::{subagent, transcript};
use crate::model::run::{find_runs, Run};
use crate::model::{EventKind, Format, Session, Source, SubagentTranscript};
use crate::workflow::Workflows;

/// How to run a check.
#[derive(Clone, Default)]
pub struct Options {
    pub selection: Selection,
    /// Treat each session as one workflow run even without a command invocation.
    pub force_workflow: bool,
    /// Read subagent transcripts in full (tools used), for `inspect`.
    pub detail: bool,
    /// Keep the shortened source line of each diagnostic (human output).
    pub excerpts: bool,
    /// Paths not to check (from the config's `exclude`).
    pub config: Option<Arc<crate::config::Config>>,
    /// Told how far the check has come, project folder by project folder
    /// (the CLI draws a progress bar from it).
    pub progress: Option<Arc<dyn Progress>>,
    /// A session without a workflow run, and a run that never reached its
    /// first phase, are errors (`--require-run`): CI that expects the
    /// workflow to have run fails when it did not.
    pub require_run: bool,
    /// Keep the calls a PreToolUse hook denied as the calls the model made
    /// (`serve` replays what the model did); otherwise they were not made.
    pub keep_denied_calls: bool,
    /// The logs of `orchlint guard` for the sessions checked (`--guard-log`):
    /// what it decided live is told at the calls it decided about.
    pub guard_log: Option<Arc<crate::ingest::guard_log::GuardLog>>,
    /// Check only this part of the inputs (`--shard K/N`).
    pub shard: Option<crate::shard::Shard>,
    /// Stamp the files the report's timelines and excerpts are drawn from
    /// ([`Report::stamps`]), for `merge` to read them again.
    pub stamps: bool,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("selection", &self.selection)
            .field("force_workflow", &self.force_workflow)
            .field("detail", &self.detail)
            .field("excerpts", &self.excerpts)
            .field("config", &self.config)
            .field("progress", &self.progress.is_some())
            .field("require_run", &self.require_run)
            .field("keep_denied_calls", &self.keep_denied_calls)
            .field("guard_log", &self.guard_log.as_ref().map(|l| !l.is_empty()))
            .field("shard", &self.shard)
            .field("stamps", &self.stamps)
            .finish()
    }
}

/// Told how far a check has come: the project folders to check, then each
/// one checked.
pub trait Progress: Send + Sync {
    /// The check of `folders` project folders begins.
    fn start(&self, folders: usize);
    /// One more folder is checked.
    fn done(&self);
    /// Every folder is checked.
    fn finish(&self);
}

impl Options {
    fn excluded(&self, path: &std::path::Path) -> bool {
        self.config.as_ref().is_some_and(|c| c.excludes(path))
    }

    /// Whether an input (a file, or a folder excluded whole) is this
    /// shard's: every input when not sharded.
    fn owns(&self, path: &str) -> bool {
        self.shard.is_none_or(|s| s.owns(path))
    }
}

/// Totals of a check.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Session and stream-json files read that hold a conversation.
    pub transcripts: usize,
    /// Subagent transcript files attached to their sessions.
    pub subagent_files: usize,
    /// Workflow runs checked.
    pub runs: usize,
    /// Sessions with conversation but no workflow run.
    pub sessions_without_run: usize,
    /// Files with nothing to check, skipped: not transcripts, empty, or
    /// without conversation (summaries only). Not counted as transcripts.
    pub skipped_files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Findings left out by suppressions of the config.
    pub suppressed: usize,
    /// Findings left out because the baseline holds them.
    pub baselined: usize,
    /// Paths left out by the config's `exclude`.
    pub excluded: usize,
    /// Files that could not be read whole (an I/O error, a file gone between
    /// discovery and reading): the check exits 2. Written only when not 0.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub unreadable_files: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The outcome of `check`: sorted diagnostics and totals.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// The transcripts checked, in order (for reports that list clean ones too).
    pub files: Vec<Arc<str>>,
    /// The ids of the sessions checked.
    pub sessions: std::collections::BTreeSet<Arc<str>>,
    /// With [`Options::stamps`], the stamp ([`crate::merge::stamp`]) of each
    /// file an HTML timeline or a finding's excerpt is drawn from: every
    /// session checked (skipped files aside), each of its subagent files, and
    /// the file of each finding with a span.
    pub stamps: crate::merge::Stamps,
}

/// One checked session, for `check` and `inspect`.
pub struct Checked {
    pub session: Session,
    pub runs: Vec<Run>,
    /// Read in parts: the runs of the parts before `session`, which is the
    /// last part (0 when read whole).
    pub earlier_runs: usize,
    pub diagnostics: Vec<Diagnostic>,
    pub subagent_files: usize,
    /// Not a transcript: skipped.
    pub skipped: bool,
    /// The session file or one of its subagent files could not be read whole.
    pub unreadable: bool,
}

/// Discovers the inputs and checks every session.
///
/// Project folders are discovered and checked one at a time (several in
/// parallel): only their diagnostics are kept, so memory stays flat however
/// large the tree.
pub fn check(paths: &[PathBuf], wfs: &Workflows, opts: &Options) -> Result<Report, InputError> {
    let mut plan = discover::plan(paths, opts.detail)?;
    // A folder excluded whole counts once, in the shard its name goes to.
    let mut excluded_folders = 0;
    plan.folders.retain(|f| {
        let excluded = opts.excluded(f);
        excluded_folders += usize::from(excluded && opts.owns(&f.to_string_lossy()));
        !excluded
    });
    if let Some(p) = &opts.progress {
        p.start(plan.folders.len());
    }
    let mut report = check_discovered(plan.direct, wfs, opts);
    let folders: Vec<Report> = plan
        .folders
        .par_iter()
        .map(|folder| {
            let r = check_discovered(discover::discover_folder(folder, opts.detail), wfs, opts);
            if let Some(p) = &opts.progress {
                p.done();
            }
            r
        })
        .collect();
    if let Some(p) = &opts.progress {
        p.finish();
    }
    for r in folders {
        report.merge(r);
    }
    report.summary.excluded += excluded_folders;
    report.files.sort();
    diagnostic::sort(&mut report.diagnostics);
    report.recount();
    Ok(report)
}

/// Like [`check`], keeping every checked session too (for the HTML timeline,
/// which draws them; memory grows with the input).
pub fn check_collect(paths: &[PathBuf], wfs: &Workflows, opts: &Options) -> Result<(Report, Vec<Checked>), InputError> {
    collect(paths, wfs, opts).map(|c| (c.report, c.checked))
}

/// What [`collect`] read.
pub struct Collected {
    pub report: Report,
    /// The sessions checked (not those skipped or excluded), in order.
    pub checked: Vec<Checked>,
    /// The transcripts discovery found, excluded ones included: none
    /// means there was nothing to read at all.
    pub found: usize,
}

/// [`check_collect`], telling also how many transcripts discovery found
/// before the config's excludes (for `inspect`).
pub fn collect(paths: &[PathBuf], wfs: &Workflows, opts: &Options) -> Result<Collected, InputError> {
    let discovery = discover::discover(paths, opts.detail)?;
    let found = discovery.jobs.len();
    let (report, checked) = check_jobs(discovery, wfs, opts, true);
    Ok(Collected { report, checked, found })
}

impl Report {
    /// The report of one checked session: its diagnostics (taken from it
    /// unless `keep`) and its totals.
    fn of(c: &mut Checked, keep: bool) -> Report {
        let diagnostics = if keep { c.diagnostics.clone() } else { std::mem::take(&mut c.diagnostics) };
        let mut report = Report { diagnostics, ..Report::default() };
        let s = &mut report.summary;
        s.unreadable_files = usize::from(c.unreadable);
        // Empty and summary-only files are no sessions: they do not count
        // as transcripts, nor show as test suites of their own.
        if c.skipped || !c.session.has_conversation() {
            s.skipped_files = 1;
            return report;
        }
        s.transcripts = 1;
        s.runs = c.earlier_runs + c.runs.len();
        s.subagent_files = c.subagent_files;
        s.sessions_without_run = usize::from(s.runs == 0 && c.session.has_conversation());
        report.files.push(c.session.file.clone());
        report.sessions.extend(c.session.id.as_deref().map(Arc::from));
        report
    }

    /// Adds another report's diagnostics and totals (sort afterwards).
    pub fn merge(&mut self, other: Report) {
        self.diagnostics.extend(other.diagnostics);
        let (a, b) = (&mut self.summary, other.summary);
        a.transcripts += b.transcripts;
        a.subagent_files += b.subagent_files;
        a.runs += b.runs;
        a.sessions_without_run += b.sessions_without_run;
        a.skipped_files += b.skipped_files;
        a.errors += b.errors;
        a.warnings += b.warnings;
        a.notes += b.notes;
        a.suppressed += b.suppressed;
        a.baselined += b.baselined;
        a.excluded += b.excluded;
        a.unreadable_files += b.unreadable_files;
        self.files.extend(other.files);
        self.sessions.extend(other.sessions);
        self.stamps.extend(other.stamps);
    }

    /// The reports of the parts of a sharded check as one: the report of one
    /// unsharded run (every input is in exactly one part).
    pub fn merged(parts: Vec<Report>) -> Report {
        let mut out = Report::default();
        for part in parts {
            out.merge(part);
        }
        out.files.sort();
        out.files.dedup();
        diagnostic::sort(&mut out.diagnostics);
        out
    }

    /// Counts the diagnostics by severity again (after some were left out).
    pub fn recount(&mut self) {
        let s = &mut self.summary;
        (s.errors, s.warnings, s.notes) = (0, 0, 0);
        for d in &self.diagnostics {
            match d.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
    }
}

/// Checks a transcript held in memory (standard input, tests).
pub fn check_bytes(bytes: Vec<u8>, display: &str, wfs: &Workflows, opts: &Options) -> Report {
    check_discovered(Discovery { jobs: vec![memory_job(bytes, display)], ..Discovery::default() }, wfs, opts)
}

/// Checks a session held in memory and keeps it whole (the guard judges
/// the run so far this way).
pub fn check_memory(bytes: Vec<u8>, display: &str, wfs: &Workflows, opts: &Options) -> Checked {
    check_job(&memory_job(bytes, display), wfs, opts)
}

fn memory_job(bytes: Vec<u8>, display: &str) -> Job {
    let format = match discover::sniff_format(&bytes[..]) {
        discover::Sniffed::Transcript(f) => f,
        discover::Sniffed::NotTranscript => crate::model::Format::Session,
    };
    Job {
        origin: Origin::Memory(Arc::new(bytes)),
        display: Arc::from(display),
        format: Some(format),
        explicit: true,
        subagents: Vec::new(),
        listed: false,
    }
}

pub fn check_discovered(discovery: Discovery, wfs: &Workflows, opts: &Options) -> Report {
    check_jobs(discovery, wfs, opts, false).0
}

/// Checks every job of a discovery; with `keep`, the checked sessions are
/// returned too, otherwise each is reduced to its diagnostics and totals as
/// soon as it is checked.
fn check_jobs(discovery: Discovery, wfs: &Workflows, opts: &Options, keep: bool) -> (Report, Vec<Checked>) {
    let Discovery { mut jobs, findings, skipped } = discovery;
    // Sharded, each input is checked (or counted as skipped, excluded or
    // found wanting) by the one shard its file name goes to.
    jobs.retain(|j| opts.owns(&j.display));
    let jobs_before = jobs.len();
    jobs.retain(|j| !matches!(&j.origin, Origin::File(p) if opts.excluded(p)));
    let mut report = Report::default();
    report.summary.excluded = jobs_before - jobs.len();
    report.summary.skipped_files = skipped.iter().filter(|s| opts.owns(s)).count();
    let selected: Vec<Finding> =
        findings.into_iter().filter(|f| opts.selection.enabled(f.rule) && opts.owns(&f.place.file)).collect();
    let mut top = resolve(selected, None, wfs, &[], opts.excerpts);
    diagnostic::sort(&mut top);
    diagnostic::fingerprint(&mut top);
    report.diagnostics = top;
    let parts: Vec<(Report, Option<Checked>)> = jobs
        .par_iter()
        .map(|job| {
            let mut c = check_job_read(job, wfs, opts, !keep);
            let mut part = Report::of(&mut c, keep);
            if opts.stamps && !c.skipped {
                let files = std::iter::once(&job.display).chain(job.subagents.iter().map(|s| &s.display));
                part.stamps.extend(files.filter_map(|f| Some((f.clone(), crate::merge::stamp(f).ok()?))));
            }
            (part, (keep && !c.skipped).then_some(c))
        })
        .collect();
    let mut kept = Vec::new();
    for (part, c) in parts {
        report.merge(part);
        kept.extend(c);
    }
    diagnostic::sort(&mut report.diagnostics);
    report.recount();
    if opts.stamps {
        // The files of the findings with a span: their excerpts are shown.
        let shown: std::collections::BTreeSet<&Arc<str>> = report
            .diagnostics
            .iter()
            .filter(|d| d.span.is_some() && !report.stamps.contains_key(&d.file))
            .map(|d| &d.file)
            .collect();
        let stamped: Vec<(Arc<str>, String)> =
            shown.into_par_iter().filter_map(|f| Some((f.clone(), crate::merge::stamp(f).ok()?))).collect();
        report.stamps.extend(stamped);
    }
    (report, kept)
}

/// Puts checked sessions in the order an HTML page shows them: by folder,
/// then by file, however the paths were given (a folder, its files, in any
/// order), so that `merge` draws the same page from the files alone.
pub fn page_order(checked: &mut [Checked]) {
    fn key(file: &str) -> (&str, &str) {
        (file.rfind('/').map_or("", |i| &file[..i]), file)
    }
    checked.sort_by(|a, b| key(&a.session.file).cmp(&key(&b.session.file)));
}

/// The sessions of one path (a session file, or a folder) that `keep`
/// accepts, checked: for commands that work on a single session.
pub fn sessions_at(
    path: &std::path::Path,
    wfs: &Workflows,
    opts: &Options,
    keep: impl Fn(&Checked) -> bool,
) -> Result<Vec<Checked>, InputError> {
    let discovery = discover::discover(&[path.to_path_buf()], false)?;
    Ok(discovery.jobs.iter().map(|job| check_job(job, wfs, opts)).filter(|c| !c.skipped && keep(c)).collect())
}

/// Parses one session, attaches its subagents, finds its runs and checks them.
pub fn check_job(job: &Job, wfs: &Workflows, opts: &Options) -> Checked {
    check_job_read(job, wfs, opts, false)
}

/// [`check_job`]; with `in_parts`, a long session is read and judged in
/// parts ([`transcript::parse_parts`]) so that it is never held whole: the
/// checked session returned is then its last part, and `earlier_runs`
/// counts the runs judged before it. When a line reached back into a part
/// already judged, the session is read again whole: the verdict is the same
/// either way.
fn check_job_read(job: &Job, wfs: &Workflows, opts: &Options, in_parts: bool) -> Checked {
    // The guard's log is told at the session's calls: all of them at once.
    let in_parts = in_parts && opts.guard_log.is_none() && !opts.force_workflow;
    let mut findings = Vec::new();
    let mut judge = Judge::new(job, wfs, opts);
    let source = || Source::start_of(job.display.clone());
    let mut parse = |reader: &mut (dyn Read + Send), format: Option<Format>, findings: &mut Vec<Finding>| {
        if !in_parts {
            return transcript::parse(reader, job.display.clone(), format, wfs, findings);
        }
        // Each part is prepared (in order) and its runs are checked on a
        // thread of their own, started at the first part, while the reading
        // goes on; a few parts at most wait, so memory stays bounded.
        let mut idle = Some(&mut judge);
        let read = std::thread::scope(|scope| {
            let mut judging: Option<(mpsc::SyncSender<transcript::Part>, std::thread::ScopedJoinHandle<()>)> = None;
            let mut emit = |part: transcript::Part| {
                let (send, _) = judging.get_or_insert_with(|| {
                    let judge = idle.take().expect("the judging thread starts once");
                    let (send, receive) = mpsc::sync_channel::<transcript::Part>(PARTS_IN_FLIGHT);
                    let thread = scope.spawn(move || {
                        for transcript::Part { mut session, findings } in receive {
                            let (runs, findings) = judge.prepare(&mut session, findings);
                            let diagnostics = judge.checking.judge_runs(&session, &runs, findings);
                            judge.diagnostics.extend(diagnostics);
                        }
                    });
                    (send, thread)
                });
                // Refused only when the thread is gone: its panic is
                // resumed when it is joined, below.
                let _ = send.send(part);
            };
            let read = transcript::parse_parts(reader, job.display.clone(), format, wfs, findings, &mut emit);
            if let Some((send, thread)) = judging {
                drop(send);
                if let Err(panic) = thread.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            read
        });
        let (session, crossed) = read?;
        judge.crossed |= crossed;
        Some(session)
    };
    // A read error, or a file gone since discovery, fails the check (exit 2).
    let failed = std::sync::atomic::AtomicBool::new(false);
    let parsed = match &job.origin {
        Origin::Memory(bytes) => parse(&mut &bytes[..], job.format, &mut findings),
        Origin::File(path) => match crate::ingest::input::open(path, job.listed) {
            Ok(file) => parse(&mut Watched { inner: file, failed: &failed }, job.format, &mut findings),
            Err(OpenFailure::Special(kind)) => {
                let message = OpenFailure::Special(kind).to_string();
                findings.push(Finding { severity: Severity::Note, ..Finding::input(source(), message) });
                return Checked::skipped(Session::empty(job.display.clone()), findings, wfs, opts, false);
            }
            Err(OpenFailure::Io(e)) => {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                findings.push(Finding::unreadable(&source(), format!("cannot read the file: {e}")));
                parse(&mut &b""[..], Some(Format::Session), &mut findings)
            }
        },
    };
    if judge.crossed {
        // A line reached back into a part already judged: read it whole.
        return check_job_read(job, wfs, opts, false);
    }
    let unreadable = failed.load(std::sync::atomic::Ordering::Relaxed);
    let Some(mut session) = parsed else {
        if job.explicit {
            findings
                .push(Finding::input(source(), "not a Claude Code transcript (no session entries); skipped".into()));
        }
        return Checked::skipped(Session::empty(job.display.clone()), findings, wfs, opts, unreadable);
    };
    if judge.parts == 0 && session.entries == 0 && session.events.is_empty() {
        // Nothing to judge: empty, or no line of it is a transcript entry
        // (a file that is no transcript at all). One diagnostic says so,
        // rather than one a line.
        let damaged = findings.iter().filter(|f| f.place.file == job.display).count();
        let message = if unreadable {
            // Not read: its error diagnostic says so.
            None
        } else if damaged == 0 {
            Some("the transcript is empty: no entries to check; skipped".to_string())
        } else if !looks_like_json_lines(&job.origin) {
            // No line even starts like a JSON object: not JSON lines at all
            // (a text log, a TOML file, pretty-printed JSON).
            findings.retain(|f| f.place.file != job.display);
            Some(format!(
                "not a Claude Code transcript: none of its {} is a transcript entry; skipped",
                crate::words::plural(text_lines(&job.origin).max(damaged), "line")
            ))
        } else {
            // A damaged transcript: its lines say what is wrong with them.
            None
        };
        if let Some(message) = message.filter(|_| job.explicit) {
            findings.push(Finding::input(source(), message));
        }
        return Checked::skipped(session, findings, wfs, opts, unreadable);
    }
    let runs = judge.part(&mut session, findings);
    let earlier_runs = judge.runs as usize - runs.len();
    let (diagnostics, subagent_files, subagent_unreadable) = judge.finish(&session);
    let unreadable = unreadable || subagent_unreadable;
    Checked { session, runs, earlier_runs, diagnostics, subagent_files, skipped: false, unreadable }
}

impl Checked {
    /// A file with nothing to judge, skipped, and what was found reading it.
    fn skipped(session: Session, findings: Vec<Finding>, wfs: &Workflows, opts: &Options, unreadable: bool) -> Checked {
        let mut diagnostics = resolve(findings, None, wfs, &[], opts.excerpts);
        diagnostic::sort(&mut diagnostics);
        diagnostic::fingerprint(&mut diagnostics);
        Checked {
            session,
            runs: Vec::new(),
            earlier_runs: 0,
            diagnostics,
            subagent_files: 0,
            skipped: true,
            unreadable,
        }
    }
}

/// Parts of a session read in parts that wait for their runs to be checked
/// on the judging thread; past this many, the reader waits.
const PARTS_IN_FLIGHT: usize = 2;

/// Judges a session part by part (one part when it is read whole): each
/// part's runs are found, checked and its findings resolved, then what
/// concerns the whole session is said at the end.
struct Judge<'a> {
    checking: Checking<'a>,
    /// The session's subagent files, once read (at its first part).
    subagents: Option<Vec<Subagent<'a>>>,
    /// Whether a subagent file could not be read whole.
    subagents_unreadable: bool,
    /// Agent ids and call ids of files attached other than by their agent
    /// id: a later part's launch with one of them would have taken the file.
    attached_loosely: std::collections::BTreeSet<String>,
    /// Parts judged, and their runs.
    parts: usize,
    runs: u32,
    /// The source of the session's first event.
    first_event: Option<Source>,
    diagnostics: Vec<Diagnostic>,
    /// The session must be read again whole (see [`check_job_read`]).
    crossed: bool,
}

/// A subagent file of a session, read, and whether it is attached.
struct Subagent<'a> {
    file: &'a discover::SubagentFile,
    info: subagent::SubagentInfo,
    /// The call id its `.meta.json` names, once looked for.
    meta: Option<Option<String>>,
    attached: bool,
}

impl<'a> Judge<'a> {
    fn new(job: &'a Job, wfs: &'a Workflows, opts: &'a Options) -> Judge<'a> {
        Judge {
            checking: Checking { job, wfs, opts },
            subagents: None,
            subagents_unreadable: false,
            attached_loosely: Default::default(),
            parts: 0,
            runs: 0,
            first_event: None,
            diagnostics: Vec::new(),
            crossed: false,
        }
    }

    /// Judges a part: its events and launches, and the findings of its lines.
    fn part(&mut self, session: &mut Session, findings: Vec<Finding>) -> Vec<Run> {
        let (runs, findings) = self.prepare(session, findings);
        let mut diagnostics = self.checking.judge_runs(session, &runs, findings);
        self.diagnostics.append(&mut diagnostics);
        runs
    }

    /// What a part needs of the parts before it, in order: denied calls
    /// left out, subagent files attached, runs found and numbered on.
    /// Returns its runs, and its findings so far.
    fn prepare(&mut self, session: &mut Session, mut findings: Vec<Finding>) -> (Vec<Run>, Vec<Finding>) {
        let (job, wfs, opts) = (self.checking.job, self.checking.wfs, self.checking.opts);
        self.parts += 1;
        if !opts.keep_denied_calls {
            drop_denied_calls(session, &job.origin, &mut findings);
        }
        self.attach_subagents(session, &mut findings);
        if !opts.keep_denied_calls {
            drop_denied_agent_calls(session, &mut findings);
        }
        if self.first_event.is_none() {
            self.first_event = session.events.first().map(|e| e.source.clone());
        }
        let mut runs = find_runs(session, wfs, opts.force_workflow);
        for run in &mut runs {
            run.index += self.runs;
        }
        self.runs += runs.len() as u32;
        if let (Some(log), Some(id)) = (&opts.guard_log, session.id.as_deref()) {
            guard_decisions(session, log.of(id), &mut findings);
        }
        (runs, findings)
    }
}

/// What a session is checked with: its job, the workflows and the options.
#[derive(Clone, Copy)]
struct Checking<'a> {
    job: &'a Job,
    wfs: &'a Workflows,
    opts: &'a Options,
}

impl Checking<'_> {
    /// Checks the runs of a part (prepared by [`Judge::prepare`]) and
    /// resolves its findings: its diagnostics. Needs nothing of other
    /// parts, so parts are judged in parallel with the reading.
    fn judge_runs(&self, session: &Session, runs: &[Run], mut findings: Vec<Finding>) -> Vec<Diagnostic> {
        let (wfs, opts) = (self.wfs, self.opts);
        findings.retain(|f| opts.selection.enabled(f.rule));
        place_in_runs(session, runs, &mut findings);
        checks::check_runs(wfs, session, runs, &opts.selection, &mut findings);
        // --require-run: a run that did not reach its first phase is an
        // error, whatever the selection.
        let mut required = Vec::new();
        if opts.require_run {
            for run in runs.iter().filter(|r| r.visits.is_empty()) {
                let wf = &wfs[run.workflow];
                let message = format!("the {} workflow never reached its first phase: no phase was announced", wf.name);
                // It says more than incomplete-run's note on the same run.
                findings.retain(|f| !(f.rule == "incomplete-run" && f.run == Some(run.index) && f.phase.is_none()));
                required.push(message.clone());
                findings.push(Finding {
                    rule: "transcript",
                    severity: Severity::Error,
                    message,
                    phase: None,
                    place: session.events[run.start].source.place(Culprit::Line),
                    run: Some(run.index),
                });
            }
        }
        self.resolve(findings, runs, session, &required)
    }

    /// Resolves findings of the session into its diagnostics; those with a
    /// `required` message are errors whatever severity the rules set.
    fn resolve(&self, findings: Vec<Finding>, runs: &[Run], session: &Session, required: &[String]) -> Vec<Diagnostic> {
        let memory = match &self.job.origin {
            Origin::Memory(bytes) => Some(bytes.clone()),
            Origin::File(_) => None,
        };
        let mut diagnostics = resolve(findings, memory, self.wfs, runs, self.opts.excerpts);
        let session_id: Option<Arc<str>> = session.id.as_deref().map(Arc::from);
        for d in &mut diagnostics {
            if d.rule == "transcript" && required.contains(&d.message) {
                d.severity = Severity::Error;
            }
            d.session = session_id.clone();
        }
        diagnostics
    }
}

impl Judge<'_> {
    /// What concerns the whole session (`last` is its last part): subagent
    /// files attached to no launch, a session without run. Returns the
    /// session's diagnostics, sorted, the subagent files attached and
    /// whether one could not be read whole.
    fn finish(mut self, last: &Session) -> (Vec<Diagnostic>, usize, bool) {
        let (wfs, opts) = (self.checking.wfs, self.checking.opts);
        let mut findings = Vec::new();
        let subagents = self.subagents.take().unwrap_or_default();
        for s in subagents.iter().filter(|s| !s.attached && attachable(s)) {
            findings.push(Finding::input(
                Source::start_of(s.file.display.clone()),
                format!(
                    "orphan subagent transcript: agent {} matches no launch of session {}",
                    s.file.agent_id,
                    last.id.as_deref().unwrap_or("(unknown)")
                ),
            ));
        }
        let attached = subagents.iter().filter(|s| s.attached).count();
        let first_event = self.first_event.clone();
        if first_event.is_none() {
            if let Origin::File(path) = &self.checking.job.origin {
                if let Some(side) = subagent::sidechain_of(path) {
                    findings.push(Finding::input(
                        Source::start_of(self.checking.job.display.clone()),
                        misnamed_subagent(&side),
                    ));
                }
            }
        }
        let no_run = self.runs == 0 && first_event.is_some();
        if no_run {
            let place = first_event.as_ref().map(|s| s.place(Culprit::Line));
            findings.push(Finding {
                rule: "transcript",
                severity: Severity::Note,
                message: no_run_message(wfs),
                phase: None,
                place: place.expect("a first event"),
                run: None,
            });
        }
        findings.retain(|f| opts.selection.enabled(f.rule));
        // --require-run: no run is an error, whatever the selection.
        let mut required = Vec::new();
        if opts.require_run && no_run {
            findings.retain(|f| !(f.rule == "transcript" && f.run.is_none() && f.message == no_run_message(wfs)));
            required.push(no_run_message(wfs));
            findings.push(Finding {
                rule: "transcript",
                severity: Severity::Error,
                message: no_run_message(wfs),
                phase: None,
                place: first_event.as_ref().expect("a first event").place(Culprit::Line),
                run: None,
            });
        }
        let mut diagnostics = self.checking.resolve(findings, &[], last, &required);
        diagnostics.append(&mut self.diagnostics);
        diagnostic::sort(&mut diagnostics);
        diagnostic::fingerprint(&mut diagnostics);
        (diagnostics, attached, self.subagents_unreadable)
    }

    /// Attaches the session's subagent files to the part's launches, by
    /// agent id, else by the call id of its `.meta.json`, else by prompt.
    /// The files are read at the first part.
    fn attach_subagents(&mut self, session: &mut Session, findings: &mut Vec<Finding>) {
        let subagents = self.subagents.get_or_insert_with(|| {
            let mut read = Vec::new();
            for file in &self.checking.job.subagents {
                let info = match &file.read {
                    Some((info, read_findings)) => {
                        findings.extend(read_findings.iter().cloned());
                        info.clone()
                    }
                    None => subagent::read(&file.path, file.listed, &file.display, self.checking.opts.detail, findings),
                };
                self.subagents_unreadable |= info.unreadable;
                read.push(Subagent { file, info, meta: None, attached: false });
            }
            read
        });
        let launches = &mut session.launches;
        // A file an earlier part took by its meta or prompt belonged here by its agent id.
        self.crossed |= launches.iter().any(|l| {
            l.agent_id.as_ref().is_some_and(|a| self.attached_loosely.contains(a))
                || self.attached_loosely.contains(&l.tool_use_id)
        });
        for s in subagents.iter_mut().filter(|s| !s.attached && attachable(s)) {
            let by_id = launches.iter().position(|l| l.agent_id.as_deref() == Some(s.file.agent_id.as_str()));
            let by_prompt = |s: &Subagent<'_>| {
                let prompt = s.info.prompt.as_deref()?;
                launches.iter().position(|l| l.transcript.is_none() && l.prompt.as_deref() == Some(prompt))
            };
            let l = match by_id {
                Some(l) => l,
                None => {
                    // The sidecar is looked for only when the agent id does not tell.
                    let meta = s.meta.get_or_insert_with(|| subagent::meta_tool_use_id(&s.file.path)).clone();
                    let by_meta = meta.as_deref().and_then(|m| launches.iter().position(|l| l.tool_use_id == m));
                    let Some(l) = by_meta.or_else(|| by_prompt(s)) else { continue };
                    self.attached_loosely.insert(s.file.agent_id.clone());
                    self.attached_loosely.extend(meta);
                    l
                }
            };
            s.attached = true;
            launches[l].transcript = Some(SubagentTranscript {
                file: s.file.display.to_string(),
                inline: false,
                entries: s.info.entries,
                tools: std::mem::take(&mut s.info.tools),
                calls: std::mem::take(&mut s.info.calls),
            });
        }
    }
}

/// Whether a subagent file is one to attach: not an internal agent's, a
/// warm-up or empty.
fn attachable(s: &Subagent<'_>) -> bool {
    !(subagent::is_internal(&s.file.agent_id) || s.info.is_warmup() || s.info.entries == 0)
}

/// The lines of an input that hold more than whitespace (the file is read
/// again: only for an input found to be no transcript at all).
fn text_lines(origin: &Origin) -> usize {
    let reader: Box<dyn Read + '_> = match origin {
        Origin::Memory(bytes) => Box::new(&bytes[..]),
        Origin::File(path) => match open_regular(path) {
            Ok(f) => Box::new(f),
            Err(_) => return 0,
        },
    };
    // Byte by byte over the buffer, never holding a line: a file of one
    // endless line costs no memory.
    let mut reader = BufReader::new(reader);
    let (mut lines, mut in_text) = (0, false);
    loop {
        let chunk = match reader.fill_buf() {
            Ok([]) | Err(_) => break,
            Ok(chunk) => chunk,
        };
        for &b in chunk {
            if b == b'\n' {
                lines += usize::from(in_text);
                in_text = false;
            } else if !b.is_ascii_whitespace() {
                in_text = true;
            }
        }
        let n = chunk.len();
        reader.consume(n);
    }
    lines + usize::from(in_text)
}

/// Whether one of the first lines starts like a JSON Lines record: `{"` at
/// the start of the line. A text log that prints indented JSON between its
/// lines, or pretty-printed JSON, does not.
fn looks_like_json_lines(origin: &Origin) -> bool {
    let reader: Box<dyn Read + '_> = match origin {
        Origin::Memory(bytes) => Box::new(&bytes[..]),
        Origin::File(path) => match open_regular(path) {
            Ok(f) => Box::new(f),
            Err(_) => return false,
        },
    };
    BufReader::new(reader).split(b'\n').take(discover::SNIFF_LINES as usize).map_while(Result::ok).any(|line| {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
        line.starts_with(b"{\"") || line.starts_with(b"{ \"")
    })
}

/// What `orchlint guard` decided about the session's calls, from its log:
/// a note at each call it let run with a warning or only logged (audit
/// mode), or reported after its message, under the rule it found; and a
/// warning where the log says it denied a call the transcript shows made,
/// or names a call the session does not hold.
fn guard_decisions(session: &Session, decisions: &[crate::ingest::guard_log::Decision], findings: &mut Vec<Finding>) {
    for d in decisions {
        let Some(id) = d.tool_use_id.as_deref() else { continue };
        let said = match d.decision.as_str() {
            "warn" => "let this call run with a warning to the model (warn mode)",
            "audit" => "would have denied this call; it let it run (audit mode)",
            "report" => "reported this to the model after the message",
            "deny" => "denied this call",
            _ => continue,
        };
        let call = session.events.iter().find(|e| match &e.kind {
            EventKind::ToolCall { id: i, .. } | EventKind::Denied { tool_use_id: i, .. } => i == id,
            _ => false,
        });
        let place = format!("{}:{}", d.file, d.line);
        let Some(call) = call else {
            let Some(first) = session.events.first() else { continue };
            findings.push(Finding {
                severity: Severity::Warning,
                ..Finding::input(
                    first.source.clone(),
                    format!("{place}: the guard's log names call {id}, which this session does not hold"),
                )
            });
            continue;
        };
        let denied = matches!(call.kind, EventKind::Denied { .. });
        if d.decision == "deny" {
            if !denied {
                findings.push(Finding {
                    severity: Severity::Warning,
                    ..Finding::input_at(
                        &call.source,
                        Culprit::ToolName { tool_use_id: id.to_string() },
                        format!("{place}: the guard's log says it denied this call, but the transcript shows it made"),
                    )
                });
            }
            // A denial the transcript shows has its note already.
            continue;
        }
        let Some(rule) = d.rule.as_deref().and_then(checks::rule) else { continue };
        let found = d.message.as_deref().unwrap_or("");
        findings.push(Finding {
            rule: rule.id,
            severity: Severity::Note,
            message: format!("orchlint guard {said}: {found} ({place})"),
            phase: None,
            place: call.source.place(Culprit::ToolName { tool_use_id: id.to_string() }),
            run: None,
        });
    }
}

/// Calls a PreToolUse hook denied (`orchlint guard`, or any other hook)
/// were not made: their events become [`EventKind::Denied`], their launches
/// go, and a note says so at the call. Only error results are read back.
fn drop_denied_calls(session: &mut Session, origin: &Origin, findings: &mut Vec<Finding>) {
    let mut reader = crate::ingest::blocks::Reader::default();
    let mut denied: Vec<(String, String)> = Vec::new();
    for ev in &session.events {
        let EventKind::ToolResult { tool_use_id, is_error: true, .. } = &ev.kind else { continue };
        let line = match origin {
            Origin::Memory(bytes) => {
                let start = ev.source.offset as usize;
                let end =
                    memchr::memchr(b'\n', bytes.get(start..).unwrap_or_default()).map_or(bytes.len(), |n| start + n);
                bytes.get(start..end).map(<[u8]>::to_vec)
            }
            Origin::File(_) => reader.line_at(&ev.source),
        };
        let text = line.and_then(|l| crate::ingest::blocks::tool_result_text(&l, tool_use_id));
        if let Some(text) = text.filter(|t| crate::ingest::blocks::is_hook_denial(t)) {
            denied.push((tool_use_id.clone(), text));
        }
    }
    if denied.is_empty() {
        return;
    }
    for ev in &mut session.events {
        let (id, name) = match &ev.kind {
            EventKind::ToolCall { id, name, .. } => (id.clone(), name.clone()),
            EventKind::ToolResult { tool_use_id, .. } => (tool_use_id.clone(), String::new()),
            _ => continue,
        };
        let Some((_, reason)) = denied.iter().find(|(d, _)| *d == id) else { continue };
        if matches!(ev.kind, EventKind::ToolCall { .. }) {
            let shown = crate::words::shorten(reason, 160);
            findings.push(Finding {
                severity: Severity::Note,
                ..Finding::input_at(
                    &ev.source,
                    Culprit::ToolName { tool_use_id: id.clone() },
                    format!("this {name} call was denied by a PreToolUse hook before it ran: {shown}"),
                )
            });
        }
        ev.kind = EventKind::Denied { tool_use_id: id, name, reason: reason.clone() };
    }
    session.launches.retain(|l| !denied.iter().any(|(d, _)| *d == l.tool_use_id));
}

/// The same for the agents' own calls: a call whose result is a PreToolUse
/// hook's denial was not made; a note says so at the call.
fn drop_denied_agent_calls(session: &mut Session, findings: &mut Vec<Finding>) {
    for t in session.launches.iter_mut().filter_map(|l| l.transcript.as_mut()) {
        t.calls.retain(|call| {
            let Some(reason) = &call.denied else { return true };
            let shown = crate::words::shorten(reason, 160);
            findings.push(Finding {
                severity: Severity::Note,
                ..Finding::input_at(
                    &call.source,
                    Culprit::ToolName { tool_use_id: call.id.clone() },
                    format!("this {} call was denied by a PreToolUse hook before it ran: {shown}", call.name),
                )
            });
            false
        });
    }
}

/// What to say of a subagent transcript found under another name than
/// `agent-<id>.jsonl`, which is the only name that attaches it.
fn misnamed_subagent(side: &subagent::Sidechain) -> String {
    let of = side.session_id.as_deref().map(|s| format!(" of session {s}")).unwrap_or_default();
    format!(
        "a subagent transcript (agent {}{of}) under another name than agent-{}.jsonl: it is not attached to its \
         launch nor checked; keep it as Claude Code names it, beside its session file or in <session>/subagents/",
        side.agent_id, side.agent_id
    )
}

/// The note for a session with conversation but no workflow run.
fn no_run_message(wfs: &Workflows) -> String {
    let commands: Vec<&str> = wfs.iter().filter_map(|w| w.commands.first().map(String::as_str)).collect();
    match wfs.list.as_slice() {
        [one] => format!("no {} workflow run in this session (no {} invocation)", one.name, commands.join(", ")),
        _ => format!("no workflow run in this session (no invocation of {})", commands.join(", ")),
    }
}

/// Gives input findings of the session file the run and phase in force at their line.
fn place_in_runs(session: &Session, runs: &[Run], findings: &mut [Finding]) {
    for f in findings.iter_mut().filter(|f| f.phase.is_none() && f.place.file == session.file) {
        // The last event at or before the finding's line.
        let at = session.events.partition_point(|e| e.source.line <= f.place.line);
        let Some(ev) = at.checked_sub(1) else { continue };
        if let Some(run) = runs.iter().find(|r| r.events().contains(&ev)) {
            f.run = Some(run.index);
            f.phase = run.phase_at(ev);
        }
    }
}

/// A reader that notes whether a read failed (the parser reports the error
/// as a finding and stops; the flag makes the check exit 2).
struct Watched<'a, R> {
    inner: R,
    failed: &'a std::sync::atomic::AtomicBool,
}

impl<R: Read> Read for Watched<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf);
        if read.as_ref().is_err_and(|e| e.kind() != std::io::ErrorKind::Interrupted) {
            self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        read
    }
}

/// Turns findings into diagnostics: reads each culprit's line back to find
/// its column and span, and attaches the rule's help.
pub fn resolve(
    mut findings: Vec<Finding>,
    memory: Option<Arc<Vec<u8>>>,
    wfs: &Workflows,
    runs: &[Run],
    excerpts: bool,
) -> Vec<Diagnostic> {
    findings.sort_by(|a, b| (&a.place.file, a.place.offset).cmp(&(&b.place.file, b.place.offset)));
    let mut out = Vec::with_capacity(findings.len());
    let mut open: Option<(Arc<str>, Option<BufReader<std::fs::File>>)> = None;
    let mut line = Vec::new();
    for f in findings {
        line.clear();
        match &memory {
            Some(bytes) => {
                let start = (f.place.offset as usize).min(bytes.len());
                let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |e| start + e);
                line.extend_from_slice(&bytes[start..end]);
            }
            None => {
                if open.as_ref().is_none_or(|(name, _)| *name != f.place.file) {
                    // Never a device or a FIFO (a link noted as not followed may be one).
                    let file = open_regular(std::path::Path::new(&*f.place.file)).ok().map(BufReader::new);
                    open = Some((f.place.file.clone(), file));
                }
                if let Some((_, Some(reader))) = &mut open {
                    if reader.seek(SeekFrom::Start(f.place.offset)).is_ok() {
                        // At most one line cap: the line may be one skipped as too long.
                        let _ = reader.by_ref().take(MAX_LINE as u64).read_until(b'\n', &mut line);
                    }
                }
            }
        }
        let (start, end) = diagnostic::locate(&line, &f.place.culprit);
        let (column, excerpt) = diagnostic::excerpt(&line, start, end);
        let span = (!line.is_empty()).then(|| [f.place.offset + start as u64, f.place.offset + end as u64]);
        // A severity set for the rule (rules file, config) applies to every
        // finding of it, input findings (`transcript`) included.
        // The workflow of the finding's run; input findings outside runs take the first.
        let wf =
            f.run.and_then(|r| runs.get(r as usize - 1)).map(|r| &wfs[r.workflow]).or(wfs.list.first().map(|w| &**w));
        let Some(severity) = wf.map_or(Some(f.severity), |wf| wf.severity_of(f.rule, f.severity)) else { continue };
        out.push(Diagnostic {
            rule: f.rule,
            severity,
            message: f.message,
            phase: f.phase,
            file: f.place.file.clone(),
            line: f.place.line,
            column,
            span,
            session: None,
            run: f.run,
            help: wf.and_then(|wf| wf.help_shared(f.rule)),
            subject: if matches!(f.place.culprit, Culprit::Line) || line.is_empty() {
                None
            } else {
                diagnostic::subject(&line[start..end])
            },
            fingerprint: String::new(),
            excerpt: (excerpts && !line.is_empty()).then_some(excerpt),
        });
    }
    out
}
