//! `orchlint guard`: the workflow's rules enforced while the model works,
//! as Claude Code hooks (`docs/guard.md`).
//!
//! Each hook call rebuilds the run so far from the transcript (through a
//! mirror of the lines the checks read, kept in [`state`] and extended with
//! what was written since the last call), puts the call about to run at its
//! end when the transcript does not hold it yet, and runs the same checks
//! as `orchlint check`. A finding of a kind judged before the fact
//! ([`Live::Deny`]) about that call denies it, with the finding's message
//! and help as the reason the model reads; kinds known only after the
//! message ([`Live::Report`]) are told at PostToolBatch; a Stop before the
//! workflow's last phase has the model go on, once, unless the turn ended
//! asking the user a question.

pub mod hook;
pub mod install;
pub mod state;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::checks::{self, Live};
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::{self, Checked};
use crate::model::EventKind;
use crate::workflow::Workflows;
use hook::{Answer, Input};
use state::SessionState;

/// What the guard does with a breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Deny the call; have the model go on at a Stop before the last phase.
    Enforce,
    /// Let the call run and tell the model what is wrong.
    Warn,
    /// Let everything run; only log.
    Audit,
}

/// How the guard runs.
pub struct Options {
    pub mode: Mode,
    pub workflows: Workflows,
    /// Judge every session by the one workflow given (`--workflow`).
    pub force_workflow: bool,
    /// Where the per-session state is kept.
    pub state_dir: PathBuf,
    /// How long a PreToolUse waits for its call to show in the transcript
    /// (Claude Code writes it up to ~130 ms after the hook starts).
    pub wait: Duration,
}

/// A breach found by the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    pub rule: &'static str,
    pub message: String,
    pub help: Option<String>,
}

impl Breach {
    fn of(d: &Diagnostic) -> Breach {
        Breach {
            rule: d.rule,
            message: format!("{}{}", d.message, crate::report::phase_suffix(d)),
            help: d.help.as_deref().map(str::to_string),
        }
    }

    /// What the model reads: rule, message and help.
    pub fn reason(&self) -> String {
        match &self.help {
            Some(help) => format!("orchlint guard: {}: {}. {help}", self.rule, self.message),
            None => format!("orchlint guard: {}: {}", self.rule, self.message),
        }
    }
}

/// The call a PreToolUse is about.
pub struct Pending<'a> {
    pub tool_use_id: &'a str,
}

fn engine_options(force_workflow: bool) -> engine::Options {
    engine::Options { force_workflow, ..engine::Options::default() }
}

fn holds(mirror: &[u8], id: &str) -> bool {
    memchr::memmem::find(mirror, &id_needle(id)).is_some()
}

/// The byte needle of a tool_use id as the transcript writes it.
fn id_needle(id: &str) -> Vec<u8> {
    format!("\"id\":\"{id}\"").into_bytes()
}

/// The lines of the API message holding the calls `ids`, and the lines of
/// that message's other calls.
fn message_lines(c: &Checked, ids: &[&str]) -> (Vec<u32>, Vec<u32>) {
    let message = c.session.events.iter().find_map(|e| match &e.kind {
        EventKind::ToolCall { message, id, .. } if ids.contains(&id.as_str()) => Some(*message),
        _ => None,
    });
    let Some(m) = message else { return (Vec::new(), Vec::new()) };
    let (mut own, mut others) = (Vec::new(), Vec::new());
    for e in &c.session.events {
        match &e.kind {
            EventKind::ToolCall { message, id, .. } if *message == m => {
                if ids.contains(&id.as_str()) {
                    own.push(e.source.line);
                } else {
                    others.push(e.source.line);
                }
            }
            EventKind::Text { message, .. } if *message == m => own.push(e.source.line),
            _ => {}
        }
    }
    others.retain(|l| !own.contains(l));
    (own, others)
}

fn breaches(c: &Checked, lines: &[u32], live: Live) -> Vec<Breach> {
    let mut found: Vec<Breach> = c
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning && lines.contains(&d.line))
        .filter(|d| checks::rule(d.rule).is_some_and(|r| r.live() == live))
        .map(Breach::of)
        .collect();
    found.dedup();
    found
}

/// The breaches of kinds judged before the fact that the pending call
/// commits, given the transcript so far, which holds the call's message
/// (Claude Code writes a message's blocks together, before their hooks run;
/// a call not in it is not judged: see [`answer`]).
///
/// The calls of the same message before it that the guard denies are taken
/// as not made. Their hooks run at the same time as this one, so the
/// transcript cannot show their denials yet; and a rule that reports a
/// breach once, at its first event (the first of three `ml-engineer`
/// launches before the approval), would otherwise find it at the first call
/// only and let the others through.
pub fn judge_call(transcript: Vec<u8>, p: &Pending<'_>, wfs: &Workflows, force: bool) -> Judged<Vec<Breach>> {
    let pending = id_needle(p.tool_use_id);
    if memchr::memmem::find(&transcript, &pending).is_none() {
        return Judged { found: Vec::new(), last_run: None };
    }
    let check = |bytes: Vec<u8>| engine::check_memory(bytes, "transcript", wfs, &engine_options(force));
    let checked = check(transcript.clone());
    let last_run = last_run(&checked, &transcript);
    let found = deny_breaches(&checked, p.tool_use_id);
    let earlier = earlier_calls_of_its_message(&checked, p.tool_use_id);
    let judged = |found| Judged { found, last_run: last_run.clone() };
    if !found.is_empty() || earlier.is_empty() {
        return judged(found);
    }
    let mut not_made: Vec<u32> = Vec::new();
    for (id, line) in earlier {
        // A line holding this call too (a format with several blocks a line) stays.
        if line_holds(&transcript, line, &pending) {
            continue;
        }
        if !deny_breaches(&check(without_lines(&transcript, &not_made)), &id).is_empty() {
            not_made.push(line);
        }
    }
    if not_made.is_empty() {
        return judged(found);
    }
    judged(deny_breaches(&check(without_lines(&transcript, &not_made)), p.tool_use_id))
}

/// What a judgement found, and the session's last run.
pub struct Judged<T> {
    pub found: T,
    pub last_run: Option<LastRun>,
}

/// The session's last run as the mirror holds it.
#[derive(Clone)]
pub struct LastRun {
    /// Its first line.
    pub first_line: Vec<u8>,
    /// Whether lines come before it (runs that are over): the mirror can let go of them.
    pub after_others: bool,
}

impl LastRun {
    /// The run's name in the state: a hash of its first line.
    fn key(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.first_line.hash(&mut h);
        format!("{:016x}", h.finish())
    }
}

fn last_run(c: &Checked, transcript: &[u8]) -> Option<LastRun> {
    let run = c.runs.last()?;
    let start = c.session.events.get(run.start)?.source.offset as usize;
    let rest = transcript.get(start..)?;
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    Some(LastRun { first_line: rest[..end].to_vec(), after_others: start > 0 })
}

/// The transcript as made: without the calls the guard denied (their
/// `tool_use` lines and their results), as the denial kept them from
/// running. Otherwise a rule that reports a breach once would find it at
/// the denied call, and let the next attempt through; and what is told
/// after the message or at its end would count calls that never ran.
/// (Claude Code 2.x writes one content block a line; a line holding a
/// denied call with others would go with it.)
fn without_denied(mirror: &[u8], state: &SessionState) -> Vec<u8> {
    let denied = state.denied();
    if denied.is_empty() {
        return mirror.to_vec();
    }
    // The call's own line names it by `id`, its result's by `tool_use_id`:
    // the quoted ids are looked for (rarer than the keys, so the search
    // skips ahead), then the key before them.
    let needles: Vec<Vec<u8>> = denied.iter().map(|id| format!("\"{id}\"").into_bytes()).collect();
    let Ok(finder) = aho_corasick::AhoCorasick::new(&needles) else { return mirror.to_vec() };
    let mut out = Vec::with_capacity(mirror.len());
    let mut kept_to = 0;
    for m in finder.find_iter(mirror) {
        if m.start() < kept_to || !mirror[..m.start()].ends_with(b"id\":") {
            continue;
        }
        let start = memchr::memrchr(b'\n', &mirror[..m.start()]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &mirror[m.end()..]).map_or(mirror.len(), |i| m.end() + i + 1);
        out.extend_from_slice(&mirror[kept_to..start]);
        kept_to = end;
    }
    out.extend_from_slice(&mirror[kept_to..]);
    out
}

/// The breaches of kinds judged before the fact at a call's lines (its own
/// and its message's text).
fn deny_breaches(c: &Checked, id: &str) -> Vec<Breach> {
    let (own, _) = message_lines(c, &[id]);
    breaches(c, &own, Live::Deny)
}

/// The calls of the message holding the call `id` that come before it: (id, line).
fn earlier_calls_of_its_message(c: &Checked, id: &str) -> Vec<(String, u32)> {
    let mut calls = Vec::new();
    let Some(message) = c.session.events.iter().find_map(|e| match &e.kind {
        EventKind::ToolCall { message, id: i, .. } if i == id => Some(*message),
        _ => None,
    }) else {
        return calls;
    };
    for e in &c.session.events {
        match &e.kind {
            EventKind::ToolCall { id: i, .. } if i == id => break,
            EventKind::ToolCall { message: m, id: i, .. } if *m == message => calls.push((i.clone(), e.source.line)),
            _ => {}
        }
    }
    calls
}

/// The transcript without the lines given (1-based).
fn without_lines(transcript: &[u8], lines: &[u32]) -> Vec<u8> {
    if lines.is_empty() {
        return transcript.to_vec();
    }
    let mut out = Vec::with_capacity(transcript.len());
    for (i, line) in transcript.split_inclusive(|b| *b == b'\n').enumerate() {
        if !lines.contains(&(i as u32 + 1)) {
            out.extend_from_slice(line);
        }
    }
    out
}

fn line_holds(transcript: &[u8], line: u32, needle: &[u8]) -> bool {
    transcript
        .split(|b| *b == b'\n')
        .nth(line.saturating_sub(1) as usize)
        .is_some_and(|l| memchr::memmem::find(l, needle).is_some())
}

/// The breaches of kinds known only after the fact that the message holding
/// these calls commits.
pub fn judge_message(transcript: Vec<u8>, ids: &[&str], wfs: &Workflows, force: bool) -> Judged<Vec<Breach>> {
    let checked = engine::check_memory(transcript.clone(), "transcript", wfs, &engine_options(force));
    let (own, _) = message_lines(&checked, ids);
    Judged { found: breaches(&checked, &own, Live::Report), last_run: last_run(&checked, &transcript) }
}

/// At the end of a turn: the last run stopped before its last phase? Then
/// what is missing, with the run's errors. A
/// turn that ends asking the user something waits for the answer: it has
/// not stopped (told to go on, the model would answer its own question, and
/// the gates would deny what it does next).
pub fn judge_end(transcript: Vec<u8>, wfs: &Workflows, force: bool) -> Judged<Option<String>> {
    let checked = engine::check_memory(transcript.clone(), "transcript", wfs, &engine_options(force));
    let last_run = last_run(&checked, &transcript);
    let judged = |found| Judged { found, last_run: last_run.clone() };
    if asks_the_user(&checked, wfs) {
        return judged(None);
    }
    let Some(last) = checked.runs.last().map(|r| r.index) else { return judged(None) };
    let of_last = |d: &&Diagnostic| d.run == Some(last);
    let Some(open) = checked.diagnostics.iter().filter(of_last).find(|d| d.rule == "incomplete-run") else {
        return judged(None);
    };
    let mut text = Breach::of(open).reason();
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(of_last)
        .filter(|d| d.severity == Severity::Error)
        .take(5)
        .map(|d| format!("- {}: {}{}", d.rule, d.message, crate::report::phase_suffix(d)))
        .collect();
    if !errors.is_empty() {
        text.push_str("\nAlso found in this run:\n");
        text.push_str(&errors.join("\n"));
    }
    judged(Some(text))
}

/// Whether the orchestrator's last message asks the user a question: a
/// question mark in its text, or a call of an ask tool (`AskUserQuestion`).
fn asks_the_user(c: &Checked, wfs: &Workflows) -> bool {
    let last = c.session.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Text { message, .. } | EventKind::ToolCall { message, .. } => Some(*message),
        _ => None,
    });
    let Some(last) = last else { return false };
    c.session.events.iter().any(|e| match &e.kind {
        EventKind::Text { message, text } => *message == last && text.contains('?'),
        EventKind::ToolCall { message, name, .. } => {
            *message == last && wfs.iter().any(|wf| wf.ask_tools.contains(name))
        }
        _ => false,
    })
}

/// Why a hook call could not be judged; the call is let through (see
/// docs/guard.md, "Failure").
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum GuardError {
    #[error(transparent)]
    Input(#[from] hook::BadInput),
    #[error("the hook input has no {0}")]
    Missing(&'static str),
    #[error(transparent)]
    State(#[from] state::StateError),
}

/// Answers one hook call.
pub fn answer(event: &str, raw: &[u8], opts: &Options) -> Result<Answer, GuardError> {
    let input = Input::parse(raw)?;
    let event = canonical_event(input.hook_event_name.as_deref().unwrap_or(event));
    let session = input.session_id.as_deref().ok_or(GuardError::Missing("session_id"))?;
    let transcript = PathBuf::from(input.transcript_path.as_deref().ok_or(GuardError::Missing("transcript_path"))?);
    let state = SessionState::open(&opts.state_dir, session)?;
    let wfs = &opts.workflows;
    let force = opts.force_workflow;
    let answer = match event.as_str() {
        "PreToolUse" => {
            let Some(id) = input.tool_use_id.as_deref() else { return Ok(Answer::Allow) };
            if let Some(agent_type) = input.agent_type.as_deref().filter(|_| input.agent_id.is_some()) {
                // 2.1 names the agent whose call it is: judged by its type's policy.
                let agent = AgentOf::Type(crate::workflow::split_type(agent_type).1.to_string());
                return judge_agent_call(&input, &state, &transcript, agent, opts, &event, id);
            }
            if input.agent_id.is_some() {
                log(&state, &event, Some(id), "allow", None, "a subagent's call of no agent type: not judged");
                return Ok(Answer::Allow);
            }
            let mut mirror = state.locked(|s| s.catch_up(&transcript, wfs))?;
            if !holds(&mirror, id) {
                // 2.0.x gives no agent_id: a call that is not in the session
                // file while a foreground launch runs is its agent's (the
                // orchestrator waits for it). Otherwise the call's message
                // is about to be written: wait for it.
                // (2.1, which gives every event a prompt_id, names a
                // subagent's call by agent_id: no guess there.)
                if input.prompt_id.is_none() {
                    if let Some(running) = foreground_agents(&without_denied(&mirror, &state), opts) {
                        let agent = AgentOf::Running { launches: running, call: id.to_string() };
                        return judge_agent_call(&input, &state, &transcript, agent, opts, &event, id);
                    }
                }
                mirror = wait_for(&state, &transcript, wfs, id, opts.wait)?;
                if !holds(&mirror, id) {
                    let note = format!(
                        "not judged: the call did not show in the transcript within {} ms",
                        opts.wait.as_millis()
                    );
                    log(&state, &event, Some(id), "allow", None, &note);
                    return Ok(Answer::Allow);
                }
            }
            let pending = Pending { tool_use_id: id };
            let judged = judge_call(without_denied(&mirror, &state), &pending, wfs, force);
            let_go_of_runs_before(&state, &judged)?;
            match judged.found.into_iter().next() {
                None => Answer::Allow,
                Some(b) => decide(&state, &event, id, b, opts.mode),
            }
        }
        "PostToolBatch" => {
            let ids: Vec<&str> = input.tool_calls.iter().flatten().filter_map(|c| c.tool_use_id.as_deref()).collect();
            if ids.is_empty() || input.agent_id.is_some() {
                return Ok(Answer::Allow);
            }
            let mirror = wait_for(&state, &transcript, wfs, ids[ids.len() - 1], opts.wait)?;
            let judged = judge_message(without_denied(&mirror, &state), &ids, wfs, force);
            let_go_of_runs_before(&state, &judged)?;
            let found = judged.found;
            for b in &found {
                log(&state, &event, ids.first().copied(), "report", Some(b), "");
            }
            if found.is_empty() || opts.mode == Mode::Audit {
                Answer::Allow
            } else {
                let text: Vec<String> = found.iter().map(Breach::reason).collect();
                Answer::Context { event: event.clone(), text: text.join("\n") }
            }
        }
        "Stop" => {
            if input.stop_hook_active == Some(true) || input.running_agents() > 0 {
                return Ok(Answer::Allow);
            }
            // 2.1 says what the turn ended with: a question waits for the user.
            if input.last_assistant_message.as_deref().is_some_and(|m| m.contains('?')) {
                return Ok(Answer::Allow);
            }
            // The turn's last message may not be written yet: judged on the
            // run without it, a finished run would look stopped short.
            let mirror = wait_until(&state, &transcript, wfs, opts.wait, turn_ended)?;
            if !turn_ended(&mirror) {
                let note = format!(
                    "not judged: the end of the turn did not show in the transcript within {} ms",
                    opts.wait.as_millis()
                );
                log(&state, &event, None, "allow", None, &note);
                return Ok(Answer::Allow);
            }
            let judged = judge_end(without_denied(&mirror, &state), wfs, force);
            let_go_of_runs_before(&state, &judged)?;
            let run = judged.last_run.as_ref().map(LastRun::key).unwrap_or_default();
            match judged.found {
                Some(reason) if !state.reminded(&run) => {
                    state.locked(|s| s.set_reminded(&run))?;
                    log(
                        &state,
                        &event,
                        None,
                        if opts.mode == Mode::Audit { "audit" } else { "continue" },
                        None,
                        &reason,
                    );
                    if opts.mode == Mode::Audit {
                        Answer::Allow
                    } else {
                        Answer::Continue { reason }
                    }
                }
                _ => Answer::Allow,
            }
        }
        _ => Answer::Allow,
    };
    Ok(answer)
}

/// The runs before the session's last are over: the mirror lets go of
/// them, so that a call is judged on the run it belongs to, not the whole
/// session (a run's checks read nothing before its first line).
fn let_go_of_runs_before<T>(state: &SessionState, judged: &Judged<T>) -> Result<(), GuardError> {
    if let Some(run) = judged.last_run.as_ref().filter(|r| r.after_others) {
        state.locked(|s| s.cut_before(&run.first_line))?;
    }
    Ok(())
}

/// Brings the mirror up to date, polling until the call `id` shows in it or
/// `wait` has passed; the mirror's bytes.
fn wait_for(
    state: &SessionState,
    transcript: &Path,
    wfs: &Workflows,
    id: &str,
    wait: Duration,
) -> Result<Vec<u8>, GuardError> {
    let needle = id_needle(id);
    wait_until(state, transcript, wfs, wait, |mirror| memchr::memmem::find(mirror, &needle).is_some())
}

/// Brings the mirror up to date, polling until `done` holds of it or `wait`
/// has passed; the mirror's bytes.
fn wait_until(
    state: &SessionState,
    transcript: &Path,
    wfs: &Workflows,
    wait: Duration,
    done: impl Fn(&[u8]) -> bool,
) -> Result<Vec<u8>, GuardError> {
    let start = Instant::now();
    loop {
        let mirror = state.locked(|s| s.catch_up(transcript, wfs))?;
        if done(&mirror) || start.elapsed() >= wait {
            return Ok(mirror);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether the transcript holds the end of the turn: its last line of the
/// conversation is an assistant message that ended (a stop reason other
/// than `tool_use`; 2.0.x and 2.1 both write one on the turn's last line),
/// not a prompt or a tool result the model has yet to answer.
fn turn_ended(mirror: &[u8]) -> bool {
    for line in mirror.rsplit(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(entry) = serde_json::from_slice::<serde_json::Value>(line) else { continue };
        if entry.get("isSidechain").and_then(serde_json::Value::as_bool) == Some(true) {
            continue;
        }
        match entry.get("type").and_then(serde_json::Value::as_str) {
            Some("assistant") => {
                let reason = entry.pointer("/message/stop_reason").and_then(serde_json::Value::as_str);
                return reason.is_some_and(|r| r != "tool_use");
            }
            Some("user") => return false,
            _ => {}
        }
    }
    false
}

/// The foreground launches of the session so far without a result, with the
/// workflow of the run they belong to; `None` when there is none. The
/// orchestrator waits for them, so a call now is one of their agents'.
fn foreground_agents(mirror: &[u8], opts: &Options) -> Option<Running> {
    let checked =
        engine::check_memory(mirror.to_vec(), "transcript", &opts.workflows, &engine_options(opts.force_workflow));
    let launches: Vec<(String, Option<String>)> = checked
        .session
        .launches
        .iter()
        .filter(|l| !l.background && l.status == crate::model::ReturnStatus::Missing)
        .map(|l| (l.agent_type.clone(), l.prompt.clone()))
        .collect();
    if launches.is_empty() {
        return None;
    }
    Some(Running { launches, workflow: checked.runs.last().map(|r| r.workflow) })
}

/// The foreground agents running while the orchestrator waits (2.0.x).
struct Running {
    /// Type and prompt of each.
    launches: Vec<(String, Option<String>)>,
    /// The index of the workflow of the session's last run.
    workflow: Option<usize>,
}

/// Whose call a subagent's call is.
enum AgentOf {
    /// Claude Code 2.1 says: the agent type as launched (without namespace).
    Type(String),
    /// 2.0.x: one of these running agents; the call's id is looked for in
    /// their transcripts when their types differ.
    Running { launches: Running, call: String },
}

/// A subagent's call: judged by the `[[agent_policy]]` of the workflow of
/// the session's last run, for the agent's type. Never by the
/// orchestrator's rules.
fn judge_agent_call(
    input: &Input,
    state: &SessionState,
    transcript: &Path,
    agent: AgentOf,
    opts: &Options,
    event: &str,
    id: &str,
) -> Result<Answer, GuardError> {
    let wfs = &opts.workflows;
    let (agent_type, workflow) = match agent {
        AgentOf::Type(t) => {
            let t = crate::model::normalize_type(&t);
            if !wfs.iter().any(|wf| wf.uses("agent-tool") && wf.agent_policy.speaks_for(&t)) {
                log(state, event, Some(id), "allow", None, "a subagent's call: no agent policy for its type");
                return Ok(Answer::Allow);
            }
            let mirror = state.locked(|s| s.catch_up(transcript, wfs))?;
            let checked = engine::check_memory(
                without_denied(&mirror, state),
                "transcript",
                wfs,
                &engine_options(opts.force_workflow),
            );
            (Some(t), checked.runs.last().map(|r| r.workflow))
        }
        AgentOf::Running { launches, call } => {
            let mut types: Vec<&str> = launches.launches.iter().map(|(t, _)| t.as_str()).collect();
            types.sort_unstable();
            types.dedup();
            let t = match types.as_slice() {
                [one] => Some(one.to_string()),
                _ => agent_type_by_transcript(transcript, &call, &launches.launches),
            };
            (t, launches.workflow)
        }
    };
    let (Some(agent_type), Some(wf)) = (agent_type, workflow.map(|w| &wfs[w])) else {
        log(state, event, Some(id), "allow", None, "a subagent's call: its agent type or workflow run is not known");
        return Ok(Answer::Allow);
    };
    let tool = input.tool_name.as_deref().unwrap_or("");
    let field = |k: &str| input.tool_input.as_ref().and_then(|i| i.get(k)).and_then(|v| v.as_str());
    let file = field("file_path").or_else(|| field("notebook_path")).or_else(|| field("path"));
    let severity = wf.severity_of("agent-tool", crate::diagnostic::Severity::Error);
    let found = checks::agent_tool::judge(wf, &agent_type, tool, field("command"), file)
        .filter(|_| wf.uses("agent-tool") && severity.is_some_and(|s| s >= Severity::Warning));
    let Some(found) = found else {
        log(state, event, Some(id), "allow", None, "a subagent's call: allowed by its agent policy");
        return Ok(Answer::Allow);
    };
    let b = Breach { rule: "agent-tool", message: found.message, help: wf.help_for("agent-tool").map(str::to_string) };
    Ok(decide(state, event, id, b, opts.mode))
}

/// 2.0.x: the type of the running agent whose transcript (an `agent-*.jsonl`
/// beside the session file) holds the call, matched to its launch by the
/// prompt.
fn agent_type_by_transcript(transcript: &Path, call: &str, launches: &[(String, Option<String>)]) -> Option<String> {
    let dir = transcript.parent()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| crate::ingest::discover::agent_file_id(p).is_some())
        .collect();
    files.sort();
    for path in files {
        let display: std::sync::Arc<str> = path.display().to_string().into();
        let info = crate::ingest::subagent::read(&path, false, &display, false, &mut Vec::new());
        if !info.calls.iter().any(|c| c.id == call) {
            continue;
        }
        let prompt = info.prompt?;
        return launches.iter().find(|(_, p)| p.as_deref() == Some(prompt.as_str())).map(|(t, _)| t.clone());
    }
    None
}

/// The answer to a breach at PreToolUse, as the mode says, logged.
fn decide(state: &SessionState, event: &str, id: &str, b: Breach, mode: Mode) -> Answer {
    let decision = match mode {
        Mode::Enforce => "deny",
        Mode::Warn => "warn",
        Mode::Audit => "audit",
    };
    log(state, event, Some(id), decision, Some(&b), "");
    match mode {
        Mode::Enforce => Answer::Deny { reason: b.reason() },
        Mode::Warn => Answer::Context { event: event.to_string(), text: b.reason() },
        Mode::Audit => Answer::Allow,
    }
}

fn log(state: &SessionState, event: &str, id: Option<&str>, decision: &str, b: Option<&Breach>, note: &str) {
    let line = json!({
        "session_id": state.session(),
        "event": event,
        "tool_use_id": id,
        "decision": decision,
        "rule": b.map(|b| b.rule),
        "message": b.map(|b| b.message.clone()),
        "note": if note.is_empty() { None } else { Some(note) },
    });
    let _ = state.log(&line);
}

/// `pre-tool-use`, `PreToolUse`, `pretooluse` → `PreToolUse`.
pub fn canonical_event(name: &str) -> String {
    const EVENTS: [&str; 9] = [
        "SessionStart",
        "UserPromptSubmit",
        "UserPromptExpansion",
        "PreToolUse",
        "PostToolUse",
        "PostToolBatch",
        "SubagentStart",
        "SubagentStop",
        "Stop",
    ];
    let flat: String = name.chars().filter(|c| *c != '-' && *c != '_').collect::<String>().to_lowercase();
    EVENTS.iter().find(|e| e.to_lowercase() == flat).map_or_else(|| name.to_string(), |e| e.to_string())
}
