//! `orchlint replay`: a recorded run's decisions driven through a
//! deterministic runtime, with every agent answered by a mocked backend.
//!
//! The run is first reduced to its canonical [`Trace`]. The runtime walks
//! the trace's steps:
//! - a *decision* (an orchestrator API message) is replayed only once every
//!   agent result it saw in the recording is available and is what the
//!   recording saw; otherwise the replay diverges there;
//! - each launch of a decision is put to the backend, which answers it or
//!   cannot ([`backend::Unmatched`]: a divergence, never a fall-through);
//! - results reach the orchestrator where the recording delivered them; the
//!   agents delivered together (a *window* of consecutive returns) complete
//!   in an order chosen by the scheduler (`recorded`, `reverse`, or `random`
//!   with a seed), then by the backend's delays.
//!
//! The replayed trace is rebuilt into a session and checked: for a replay
//! without faults its verdicts are `check`'s verdicts on the recording.

pub mod backend;
pub mod trace;

use std::collections::HashMap;
use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::cassette::{self, Cassette};
use crate::checks::{self, Selection};
use crate::diagnostic::{Finding, Severity};
use crate::engine::Checked;
use crate::model::run::find_runs;
use crate::model::{ReturnStatus, Session};
use crate::workflow::Workflows;
use backend::{Answer, Backend, Match, Outcome, Request};
use trace::{Step, StepKind, Trace};

/// The order in which agents delivered together complete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Order {
    /// As in the recording.
    #[default]
    Recorded,
    /// The recording's order reversed.
    Reverse,
    /// Shuffled by a generator seeded with `--seed`.
    Random,
}

/// How to schedule and compare a replay.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plan {
    pub order: Order,
    pub seed: u64,
    pub matching: Match,
}

/// Why a replay could not go on as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The backend has no answer for a launch.
    Unmatched,
    /// A result the decision saw never arrived.
    NeverReturned,
    /// A result the decision saw arrived only after it.
    Late,
    /// A result the decision saw as a report is an error.
    Failed,
    /// A result the decision saw as a report is empty.
    Empty,
    /// A result the decision saw as an error (or empty) is a report.
    Succeeded,
    /// A report differs from the one the decision saw.
    DifferentReport,
}

/// The first point where the replay could not follow the recording.
#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    /// The step of the recorded trace that could not be replayed.
    pub step: usize,
    pub decision: Option<u32>,
    pub phase: Option<u8>,
    pub launch: usize,
    pub agent: String,
    pub cause: Cause,
    /// What happened, in a sentence.
    pub message: String,
    /// Where the replayed answer came from (cassette entry, script agent, fault).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The recorded step (the return the decision saw, or the decision).
    pub recorded: String,
    /// The replayed counterpart, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed: Option<String>,
    /// A unified diff: recorded against replayed trace up to the divergence
    /// (or, for an unmatched launch, the closest prompt against the launch's).
    pub diff: String,
}

/// The outcome of running a trace: the replayed trace and where it diverged.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub trace: Trace,
    pub divergence: Option<Divergence>,
}

/// Runs a recorded trace against a backend.
pub fn run(recorded: &Trace, backend: &mut dyn Backend, plan: &Plan) -> Replayed {
    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
    let steps = &recorded.steps;
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    let mut answers: HashMap<usize, Answer> = HashMap::new();
    let mut to_check: Vec<usize> = Vec::new();
    let mut saw: Vec<usize> = Vec::new();
    // Results a `late` fault holds back, delivered at the end if nothing needed them.
    let mut held_back: Vec<usize> = Vec::new();
    let mut i = 0;
    let push = |out: &mut Vec<Step>, kind: StepKind, from: &Step| {
        let step = out.len() + 1;
        out.push(Step { step, kind, source: from.source.clone(), origin: from.origin });
    };
    while i < steps.len() {
        match &steps[i].kind {
            StepKind::Return { .. } => {
                let end = steps[i..]
                    .iter()
                    .position(|s| !matches!(s.kind, StepKind::Return { .. }))
                    .map_or(steps.len(), |n| i + n);
                let mut window: Vec<usize> = (i..end).collect();
                match plan.order {
                    Order::Recorded => {}
                    Order::Reverse => window.reverse(),
                    Order::Random => window.shuffle(&mut rng),
                }
                let delay = |k: &usize| match &steps[*k].kind {
                    StepKind::Return { launch, .. } => answers.get(launch).map_or(0, |a| a.delay),
                    _ => 0,
                };
                window.sort_by_key(delay);
                for k in window {
                    let StepKind::Return { launch, .. } = &steps[k].kind else {
                        continue;
                    };
                    if answers.get(launch).is_some_and(|a| a.late) {
                        held_back.push(k);
                        continue;
                    }
                    if let Some(kind) = replayed_return(&steps[k].kind, &answers) {
                        push(&mut out, kind, &steps[k]);
                        saw.push(*launch);
                    }
                }
                to_check.extend(i..end);
                i = end;
                continue;
            }
            StepKind::Decision { decision, phase, blocks, .. } => {
                for &k in &to_check {
                    if let Some(d) = check_dependency(recorded, k, i, &answers, plan.matching, &out) {
                        return Replayed {
                            trace: Trace { header: recorded.header.clone(), steps: out },
                            divergence: Some(d),
                        };
                    }
                }
                to_check.clear();
                saw.sort_unstable();
                let kind = StepKind::Decision {
                    decision: *decision,
                    phase: *phase,
                    saw: std::mem::take(&mut saw),
                    blocks: blocks.clone(),
                };
                push(&mut out, kind, &steps[i]);
                for b in blocks {
                    let Some(number) = b.launch else { continue };
                    let input = b.input.as_ref();
                    let subagent_type = input.and_then(|i| i.subagent_type.as_deref()).unwrap_or("");
                    let agent_type =
                        crate::model::normalize_type(subagent_type.rsplit(':').next().unwrap_or(subagent_type));
                    let request = Request {
                        launch: number,
                        subagent_type,
                        agent_type: &agent_type,
                        prompt: input.and_then(|i| i.prompt.as_deref()).unwrap_or(""),
                        background: b.background,
                        phase: *phase,
                    };
                    match backend.answer(&request) {
                        Ok(answer) => {
                            answers.insert(number, answer);
                        }
                        Err(unmatched) => {
                            out.pop();
                            let message = format!(
                                "launch {number} ({subagent_type}) of decision {decision}{} has no answer: {}",
                                in_phase(*phase),
                                unmatched.reason
                            );
                            let diff = unmatched
                                .closest
                                .as_deref()
                                .map(|closest| {
                                    let (a, b) = (format!("{closest}\n"), format!("{}\n", request.prompt));
                                    unified(&a, &b, "closest answer's prompt", "launch prompt")
                                })
                                .unwrap_or_default();
                            let d = Divergence {
                                step: steps[i].step,
                                decision: Some(*decision),
                                phase: *phase,
                                launch: number,
                                agent: subagent_type.to_string(),
                                cause: Cause::Unmatched,
                                message,
                                origin: None,
                                recorded: steps[i].line(),
                                replayed: None,
                                diff,
                            };
                            return Replayed {
                                trace: Trace { header: recorded.header.clone(), steps: out },
                                divergence: Some(d),
                            };
                        }
                    }
                }
            }
            other => push(&mut out, other.clone(), &steps[i]),
        }
        i += 1;
    }
    for k in held_back {
        if let Some(kind) = replayed_return(&steps[k].kind, &answers) {
            push(&mut out, kind, &steps[k]);
        }
    }
    Replayed { trace: Trace { header: recorded.header.clone(), steps: out }, divergence: None }
}

/// A recorded return as the replay delivers it: with the backend's answer,
/// or nothing when the agent never returns. A return of a launch the trace
/// never made is kept as recorded.
fn replayed_return(recorded: &StepKind, answers: &HashMap<usize, Answer>) -> Option<StepKind> {
    let StepKind::Return { launch, agent, via, call, status, response } = recorded else { return None };
    let (status, response) = match answers.get(launch).map(|a| &a.outcome) {
        Some(Outcome::Never) => return None,
        Some(outcome) => (outcome.status().unwrap_or(*status), outcome.shared_response()),
        None => (*status, response.clone()),
    };
    Some(StepKind::Return { launch: *launch, agent: agent.clone(), via: *via, call: call.clone(), status, response })
}

fn in_phase(phase: Option<u8>) -> String {
    phase.map(|p| format!(" (phase {p})")).unwrap_or_default()
}

/// Whether the recorded return at step `k` is available, as the decision at
/// step `at` saw it.
fn check_dependency(
    recorded: &Trace,
    k: usize,
    at: usize,
    answers: &HashMap<usize, Answer>,
    matching: Match,
    replayed: &[Step],
) -> Option<Divergence> {
    let StepKind::Return { launch, agent, status, response, .. } = &recorded.steps[k].kind else { return None };
    let StepKind::Decision { decision, phase, .. } = &recorded.steps[at].kind else { return None };
    let answer = answers.get(launch)?;
    #[derive(PartialEq)]
    enum Class {
        Report,
        Empty,
        Error,
    }
    let was = match (status, response.is_empty()) {
        (ReturnStatus::Error, _) => Class::Error,
        (_, true) => Class::Empty,
        _ => Class::Report,
    };
    let (cause, what) = match &answer.outcome {
        _ if answer.late => (Cause::Late, "returned only after it".to_string()),
        Outcome::Never => (Cause::NeverReturned, "never returned".to_string()),
        Outcome::Error(_) if was != Class::Error => (Cause::Failed, "failed".to_string()),
        Outcome::Empty if was != Class::Empty => (Cause::Empty, "returned nothing".to_string()),
        Outcome::Report(_) if was != Class::Report => (
            Cause::Succeeded,
            format!(
                "returned a report where the recording had {}",
                if was == Class::Error { "an error" } else { "nothing" }
            ),
        ),
        Outcome::Report(text) if !matching.same_text(text, response) => {
            (Cause::DifferentReport, format!("returned a different report (--match {matching})"))
        }
        _ => return None,
    };
    let replayed_line = replayed
        .iter()
        .rev()
        .find(|s| matches!(&s.kind, StepKind::Return { launch: l, .. } if l == launch))
        .map(Step::line);
    let message = format!(
        "decision {decision}{} depended on the result of launch {launch} ({agent}), which {what} in the replay ({})",
        in_phase(*phase),
        answer.origin
    );
    Some(Divergence {
        step: recorded.steps[at].step,
        decision: Some(*decision),
        phase: *phase,
        launch: *launch,
        agent: agent.clone(),
        cause,
        message,
        origin: Some(answer.origin.clone()),
        recorded: recorded.steps[k].line(),
        replayed: replayed_line,
        diff: String::new(),
    })
}

/// A unified diff of two texts, by line.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// The backend that answers from the trace's own returns.
pub fn own_cassette(t: &Trace) -> Cassette {
    let mut returns: HashMap<usize, (ReturnStatus, &Arc<str>)> = HashMap::new();
    for s in &t.steps {
        if let StepKind::Return { launch, status, response, .. } = &s.kind {
            returns.entry(*launch).or_insert((*status, response));
        }
    }
    let mut entries = Vec::new();
    for (i, b) in t.launches() {
        let Some(number) = b.launch else { continue };
        let input = b.input.as_deref().cloned().unwrap_or_default();
        let raw = input.subagent_type.clone().unwrap_or_default();
        let phase = match &t.steps[i].kind {
            StepKind::Decision { phase, .. } => *phase,
            _ => None,
        };
        let (status, response) = match returns.get(&number) {
            Some((status, response)) => (*status, response.to_string()),
            None => (if b.background { ReturnStatus::Outstanding } else { ReturnStatus::Missing }, String::new()),
        };
        entries.push(cassette::Entry {
            launch: number,
            phase,
            agent_type: crate::model::normalize_type(raw.rsplit(':').next().unwrap_or(&raw)),
            subagent_type: raw,
            description: input.description,
            prompt: input.prompt,
            background: b.background,
            status,
            response,
        });
    }
    Cassette { version: cassette::VERSION, source: String::new(), session: None, claude_code: None, entries }
}

/// A rule verdict on a replayed (or recorded) run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Verdict {
    /// The trace step it is placed at.
    pub step: usize,
    pub rule: &'static str,
    pub severity: Severity,
    pub phase: Option<u8>,
    /// The line of the recording (or trace) the step comes from.
    pub line: u32,
    pub message: String,
}

impl Verdict {
    /// What two verdicts must share to be the same: not the step or line,
    /// which move when results complete in another order or are withheld
    /// (a run that ends on returns is judged at its last event).
    fn key(&self) -> (&str, Severity, Option<u8>, &str) {
        (self.rule, self.severity, self.phase, &self.message)
    }
}

/// The checks' verdicts on a session, placed at the steps of its trace.
pub fn verdicts(session: &Session, t: &Trace, wfs: &Workflows, selection: &Selection, force: bool) -> Vec<Verdict> {
    let mut findings: Vec<Finding> = Vec::new();
    let runs = find_runs(session, wfs, force);
    checks::check_runs(wfs, session, &runs, selection, &mut findings);
    let mut step_at: HashMap<(u32, u64), usize> = HashMap::new();
    for s in &t.steps {
        if let Some(src) = &s.source {
            step_at.entry((src.line, src.offset)).or_insert(s.step);
        }
        if let StepKind::Decision { blocks, .. } = &s.kind {
            for b in blocks {
                if let Some(src) = &b.source {
                    step_at.entry((src.line, src.offset)).or_insert(s.step);
                }
            }
        }
    }
    let mut out: Vec<Verdict> = findings
        .into_iter()
        // The agents' own calls are not replayed.
        .filter(|f| !checks::rule(f.rule).is_some_and(checks::Rule::judges_agents))
        .filter_map(|f| {
            let wf = f.run.and_then(|r| runs.get(r as usize - 1)).map_or(&wfs[0], |r| &wfs[r.workflow]);
            Some((wf.severity_of(f.rule, f.severity)?, f))
        })
        .map(|(severity, f)| Verdict {
            step: step_at.get(&(f.place.line, f.place.offset)).copied().unwrap_or(0),
            rule: f.rule,
            severity,
            phase: f.phase,
            line: f.place.line,
            message: f.message,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The verdicts of a checked session, placed at the steps of its trace:
/// [`verdicts`] on its session, taken from the diagnostics its check already
/// gave instead of checking it again. The check must have used the replay's
/// selection and `force_workflow`, and not `require_run` (which rewrites
/// verdicts): [`replay_paths`] sees to it.
pub fn checked_verdicts(c: &Checked, t: &Trace) -> Vec<Verdict> {
    // The checks place findings at events, and every event of a session is a
    // line of its file: within the file, the line is the step's key.
    let mut step_at: HashMap<u32, usize> = HashMap::new();
    for s in &t.steps {
        let blocks = match &s.kind {
            StepKind::Decision { blocks, .. } => blocks.as_slice(),
            _ => &[],
        };
        for src in s.source.iter().chain(blocks.iter().filter_map(|b| b.source.as_ref())) {
            if src.file == c.session.file {
                step_at.entry(src.line).or_insert(s.step);
            }
        }
    }
    let mut out: Vec<Verdict> = c
        .diagnostics
        .iter()
        // Input problems are the reading's, not the checks' verdicts; the
        // agents' own calls are not replayed.
        .filter(|d| d.rule != "transcript" && !checks::rule(d.rule).is_some_and(checks::Rule::judges_agents))
        .map(|d| Verdict {
            step: if d.file == c.session.file { step_at.get(&d.line).copied().unwrap_or(0) } else { 0 },
            rule: d.rule,
            severity: d.severity,
            phase: d.phase,
            line: d.line,
            message: d.message.clone(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Verdicts of the replay that the recording does not have, and the reverse.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct VerdictChanges {
    pub added: Vec<Verdict>,
    pub removed: Vec<Verdict>,
}

impl VerdictChanges {
    /// Compared as multisets of [`Verdict::key`].
    pub fn between(recorded: &[Verdict], replayed: &[Verdict]) -> VerdictChanges {
        fn counts(v: &[Verdict]) -> std::collections::BTreeMap<(&str, Severity, Option<u8>, &str), usize> {
            let mut m = std::collections::BTreeMap::new();
            for x in v {
                *m.entry(x.key()).or_insert(0) += 1;
            }
            m
        }
        fn extra(of: &[Verdict], over: &[Verdict]) -> Vec<Verdict> {
            let mut left = counts(over);
            let mut out = Vec::new();
            for v in of {
                match left.get_mut(&v.key()) {
                    Some(n) if *n > 0 => *n -= 1,
                    _ => out.push(v.clone()),
                }
            }
            out
        }
        VerdictChanges { added: extra(replayed, recorded), removed: extra(recorded, replayed) }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Where a replay's agent answers come from.
#[derive(Clone)]
pub enum Answers {
    /// The recording's own results.
    Own,
    /// A cassette (from a cassette file, or extracted from another transcript).
    Cassette { cassette: Arc<Cassette>, name: String },
    /// A script of answers.
    Script(Arc<backend::Scripted>),
}

/// Everything a replay needs besides the run.
#[derive(Clone)]
pub struct Options {
    pub plan: Plan,
    pub answers: Answers,
    pub faults: Vec<backend::Fault>,
    pub selection: Selection,
    pub force_workflow: bool,
}

/// A replayed session, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct SessionReplay {
    pub file: Arc<str>,
    pub session: Option<String>,
    /// `replayed` or `diverged`.
    pub outcome: &'static str,
    /// Steps of the recorded trace, and of the replay.
    pub recorded_steps: usize,
    pub replayed_steps: usize,
    pub decisions: usize,
    pub launches: usize,
    /// Problems reading the input (`orchlint check` lists them).
    pub input_problems: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub divergence: Option<Divergence>,
    /// The verdicts of the checks on the replayed run.
    pub verdicts: Vec<Verdict>,
    /// How they differ from the verdicts on the recording.
    pub verdict_changes: VerdictChanges,
    /// `--fault`s that hit no launch of this session (as far as it was replayed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_faults: Vec<String>,
    /// The replayed trace, for `--format trace` and `--trace-dir`.
    #[serde(skip)]
    pub trace: Trace,
}

/// Replays one session given as its recorded trace and the recording's verdicts.
pub fn replay(
    file: Arc<str>,
    session_id: Option<String>,
    recorded: &Trace,
    recorded_verdicts: &[Verdict],
    input_problems: usize,
    wfs: &Workflows,
    opts: &Options,
) -> SessionReplay {
    let matching = opts.plan.matching;
    let inner: Box<dyn Backend> = match &opts.answers {
        Answers::Own => Box::new(backend::Recorded::new(own_cassette(recorded), matching, "the recording")),
        Answers::Cassette { cassette, name } => {
            Box::new(backend::Recorded::new((**cassette).clone(), matching, name.clone()))
        }
        Answers::Script(s) => Box::new((**s).clone()),
    };
    let mut backend = backend::Faulty::new(inner, opts.faults.clone());
    let mut result = run(recorded, &mut backend, &opts.plan);
    let unused_faults = backend.unused();
    if let Some(d) = &mut result.divergence {
        if d.cause == Cause::DifferentReport {
            // The two reports, line by line: where they differ is the point.
            let report = |line: Option<&str>| {
                line.and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                    .and_then(|v| v.get("response").and_then(|r| r.as_str()).map(|r| format!("{r}\n")))
                    .unwrap_or_default()
            };
            d.diff = unified(
                &report(Some(&d.recorded)),
                &report(d.replayed.as_deref()),
                "recorded report",
                "replayed report",
            );
        } else if d.cause != Cause::Unmatched {
            // Against the same schedule without faults, so that only what the
            // answers changed shows.
            let mut own = backend::Recorded::new(own_cassette(recorded), Match::Exact, "the recording");
            let expected = run(recorded, &mut own, &opts.plan).trace;
            let upto = |t: &Trace| {
                t.steps.iter().take_while(|s| s.origin < d.step).map(|s| s.line() + "\n").collect::<String>()
            };
            d.diff = unified(&upto(&expected), &upto(&result.trace), "recorded", "replayed");
        }
    }
    let session = result.trace.to_session(&file);
    let verdicts = verdicts(&session, &result.trace, wfs, &opts.selection, opts.force_workflow);
    // A replay cut short by a divergence lacks the rest of the run: its
    // verdicts are not compared with the recording's.
    let verdict_changes = if result.divergence.is_some() {
        VerdictChanges::default()
    } else {
        VerdictChanges::between(recorded_verdicts, &verdicts)
    };
    SessionReplay {
        file,
        session: session_id,
        outcome: if result.divergence.is_some() { "diverged" } else { "replayed" },
        recorded_steps: recorded.steps.len(),
        replayed_steps: result.trace.steps.len(),
        decisions: recorded.decisions().count(),
        launches: recorded.launches().count(),
        input_problems,
        divergence: result.divergence,
        verdicts,
        verdict_changes,
        unused_faults,
        trace: result.trace,
    }
}

/// Replays one session of a transcript as `check` read it: the recorded
/// verdicts are the check's own ([`checked_verdicts`]), so only the replayed
/// run is checked.
pub fn replay_checked(c: &Checked, wfs: &Workflows, opts: &Options) -> SessionReplay {
    let recorded = Trace::of(&c.session, &c.runs);
    let recorded_verdicts = checked_verdicts(c, &recorded);
    let problems = c.diagnostics.iter().filter(|d| d.rule == "transcript" && d.severity != Severity::Note).count();
    replay(c.session.file.clone(), c.session.id.clone(), &recorded, &recorded_verdicts, problems, wfs, opts)
}

/// What `replay` found over all its inputs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplayReport {
    pub version: u32,
    pub order: Order,
    pub seed: u64,
    pub matching: Match,
    pub sessions: Vec<SessionReplay>,
    /// Inputs that could not be read at all (file and line, why).
    pub unreadable: Vec<String>,
    /// `--fault`s that hit no launch in any session that ran to the end: a
    /// launch number past the end, or a type no session launched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_faults: Vec<String>,
    pub summary: Summary,
}

/// Totals of a replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub sessions: usize,
    pub replayed: usize,
    pub diverged: usize,
    /// Sessions whose verdicts differ from the recording's.
    pub verdicts_changed: usize,
    pub unreadable: usize,
}

/// Replays every session of the inputs (bulk: every divergence is reported).
pub fn replay_paths(
    paths: &[std::path::PathBuf],
    wfs: &Workflows,
    engine_opts: &crate::engine::Options,
    opts: &Options,
) -> Result<ReplayReport, crate::ingest::discover::InputError> {
    use rayon::prelude::*;
    let mut traces: Vec<(Arc<str>, Trace)> = Vec::new();
    let mut unreadable: Vec<String> = Vec::new();
    let mut transcripts: Vec<std::path::PathBuf> = Vec::new();
    for p in paths {
        match read_trace(p) {
            Some(Ok((name, t))) => traces.push((name, t)),
            Some(Err(e)) => unreadable.push(e.to_string()),
            None => transcripts.push(p.clone()),
        }
        // Traces kept in a folder beside (or instead of) transcripts.
        if p.is_dir() {
            let mut found: Vec<std::path::PathBuf> = walkdir::WalkDir::new(p)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".jsonl"))
                .map(|e| e.into_path())
                .collect();
            found.sort();
            for f in found {
                match read_trace(&f) {
                    Some(Ok((name, t))) => traces.push((name, t)),
                    Some(Err(e)) => unreadable.push(e.to_string()),
                    None => {}
                }
            }
        }
    }
    let mut sessions: Vec<SessionReplay> = Vec::new();
    if !transcripts.is_empty() {
        // Checked as the replay judges: its verdicts on the recording are the check's.
        let engine_opts = crate::engine::Options {
            selection: opts.selection.clone(),
            force_workflow: opts.force_workflow,
            require_run: false,
            ..engine_opts.clone()
        };
        let (_, checked) = crate::engine::check_collect(&transcripts, wfs, &engine_opts)?;
        sessions.par_extend(
            checked
                .par_iter()
                .filter(|c| !c.skipped && c.session.has_conversation())
                .map(|c| replay_checked(c, wfs, opts)),
        );
    }
    sessions.par_extend(traces.par_iter().map(|(name, t)| {
        let session = t.to_session(name);
        let recorded_verdicts = verdicts(&session, t, wfs, &opts.selection, opts.force_workflow);
        replay(name.clone(), None, t, &recorded_verdicts, 0, wfs, opts)
    }));
    sessions.sort_by(|a, b| (&a.file, &a.session).cmp(&(&b.file, &b.session)));
    unreadable.sort();
    let summary = Summary {
        sessions: sessions.len(),
        replayed: sessions.iter().filter(|s| s.divergence.is_none()).count(),
        diverged: sessions.iter().filter(|s| s.divergence.is_some()).count(),
        verdicts_changed: sessions.iter().filter(|s| !s.verdict_changes.is_empty()).count(),
        unreadable: unreadable.len(),
    };
    // A fault no session's launches met, where some session was replayed to
    // its end: a launch number past the end, or a type no session launched.
    let unused_faults: Vec<String> = if sessions.iter().all(|s| s.divergence.is_some()) {
        Vec::new()
    } else {
        opts.faults
            .iter()
            .map(|f| f.spec.clone())
            .filter(|spec| sessions.iter().all(|s| s.unused_faults.contains(spec)))
            .collect()
    };
    Ok(ReplayReport {
        unused_faults,
        version: 1,
        order: opts.plan.order,
        seed: opts.plan.seed,
        matching: opts.plan.matching,
        sessions,
        unreadable,
        summary,
    })
}

/// Reads a path as a trace, if it is one: `None` when it is not a trace file.
pub fn read_trace(path: &std::path::Path) -> Option<Result<(Arc<str>, Trace), LoadError>> {
    if !path.is_file() {
        return None;
    }
    let mut first = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).ok()?;
        f.read(&mut first).ok()?
    };
    if !trace::is_trace(&first[..n]) {
        return None;
    }
    let name: Arc<str> = Arc::from(path.display().to_string());
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Some(Err(LoadError::UnreadableTrace(name.to_string(), e))),
    };
    Some(Trace::parse(&text, &name).map(|t| (name.clone(), t)).map_err(|e| LoadError::Trace {
        file: name.to_string(),
        line: e.line,
        message: e.message,
    }))
}

/// A trace or cassette that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("{0}: cannot read the trace: {1}")]
    UnreadableTrace(String, std::io::Error),
    #[error("{file}:{line}: {message}")]
    Trace { file: String, line: u32, message: String },
    #[error("{0}: cannot read: {1}")]
    Unreadable(String, std::io::Error),
    #[error("{0}: {1}")]
    Cassette(String, crate::cassette::CassetteError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] crate::ingest::discover::InputError),
    #[error("{0}: not a cassette, trace or transcript with agent launches")]
    NoLaunch(String),
    #[error("{0}: {1} sessions with launches; name one session file")]
    Several(String, usize),
}

/// Reads `--cassette FILE`: a cassette file, a trace, or a transcript.
pub fn load_cassette(path: &std::path::Path, wfs: &Workflows) -> Result<Cassette, LoadError> {
    let name = path.display().to_string();
    if let Some(t) = read_trace(path) {
        return t.map(|(_, t)| own_cassette(&t));
    }
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Unreadable(name.clone(), e))?;
        // A cassette is one JSON document with `entries`; a transcript is JSON Lines.
        let document = serde_json::from_str::<serde_json::Value>(&text).ok();
        if document.as_ref().is_some_and(|d| d.get("entries").is_some()) {
            return Cassette::parse(&text).map_err(|e| LoadError::Cassette(name, e));
        }
    }
    let checked =
        crate::engine::sessions_at(path, wfs, &crate::engine::Options::default(), |c| !c.session.launches.is_empty())?;
    match checked.len() {
        1 => Ok(cassette::extract(&checked[0])),
        0 => Err(LoadError::NoLaunch(name)),
        n => Err(LoadError::Several(name, n)),
    }
}
