//! The rules: one file per rule id, each a function over one workflow run.

mod agent_count;
mod agent_namespace;
pub mod agent_tool;
mod agent_type;
mod approach_selection;
mod approval_gate;
mod capsule;
mod forbidden_tool;
mod incomplete_run;
mod parallel_launch;
mod phase_announcement;
mod phase_order;
mod read_policy;
mod sequential_steps;
mod todo_list;
mod wait_for_agents;

use std::collections::BTreeSet;

use crate::diagnostic::{Culprit, Finding, Severity};
use crate::model::run::{Run, Visit};
use crate::model::{EventKind, Launch, Session};
use crate::workflow::{Workflow, Workflows};

/// A rule: its id, default severity, one-line summary, documentation and check.
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// The rule's documentation: the text of `docs/rules/<id>.md`.
    pub doc: &'static str,
    /// The check over one run; `None` for rules reported while reading input.
    pub check: Option<fn(&Ctx, &mut Sink)>,
}

macro_rules! rule {
    ($id:literal, $sev:ident, $summary:literal, $check:expr) => {
        Rule {
            id: $id,
            severity: Severity::$sev,
            summary: $summary,
            doc: include_str!(concat!("../../docs/rules/", $id, ".md")),
            check: $check,
        }
    };
}

/// Every rule, in the order of the rules spec.
pub static RULES: &[Rule] = &[
    rule!(
        "phase-announcement",
        Error,
        "each phase start uses the announcement format",
        Some(phase_announcement::check)
    ),
    rule!(
        "phase-order",
        Error,
        "phases start in order, back-edges only after a change request",
        Some(phase_order::check)
    ),
    rule!("agent-count", Error, "each phase launches its number of agents of each type", Some(agent_count::check)),
    rule!("agent-type", Error, "each phase launches only its agent types", Some(agent_type::check)),
    rule!("agent-namespace", Error, "agent types carry the workflow's namespace", Some(agent_namespace::check)),
    rule!(
        "parallel-launch",
        Error,
        "the agents of a phase step are launched in one message",
        Some(parallel_launch::check)
    ),
    rule!(
        "sequential-steps",
        Error,
        "a later step launches only after every agent of the step before returned",
        Some(sequential_steps::check)
    ),
    rule!(
        "wait-for-agents",
        Error,
        "no phase start or new launch while agents of the phase are outstanding",
        Some(wait_for_agents::check)
    ),
    rule!(
        "forbidden-tool",
        Error,
        "the orchestrator uses only the tools and shell commands its phase allows",
        Some(forbidden_tool::check)
    ),
    rule!(
        "agent-tool",
        Error,
        "each agent uses only the tools and shell commands its type may use",
        Some(agent_tool::check)
    ),
    rule!(
        "read-policy",
        Error,
        "the orchestrator reads only files agents named, after they returned",
        Some(read_policy::check)
    ),
    rule!(
        "approval-gate",
        Error,
        "what a user gate holds back waits for the user's answer",
        Some(approval_gate::check)
    ),
    rule!(
        "approach-selection",
        Warning,
        "a phase waits for the user's reply to the choice offered before it",
        Some(approach_selection::check)
    ),
    rule!("todo-list", Warning, "the todo phase creates a todo list covering every phase", Some(todo_list::check)),
    rule!(
        "capsule",
        Error,
        "command arguments that require actions get them before the first launch",
        Some(capsule::check)
    ),
    rule!("incomplete-run", Note, "the run stopped before the last phase", Some(incomplete_run::check)),
    rule!("transcript", Warning, "input problems: damaged lines, unmatched results and subagent files", None),
];

pub fn rule_ids() -> Vec<&'static str> {
    RULES.iter().map(|r| r.id).collect()
}

/// "did you mean" for a mistyped rule id, else the list of ids.
pub fn suggest_rule(id: &str) -> String {
    match crate::words::closest(id, rule_ids()) {
        Some(r) => format!("did you mean `{r}`? (`orchlint rules` lists them)"),
        None => format!("rule ids: {}", rule_ids().join(", ")),
    }
}

/// How `orchlint guard` enforces a rule kind while the model works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    /// Judged from the run so far and the call about to run: the call is
    /// denied before it runs.
    Deny,
    /// Known only once the call's message is done (a split launch, a count):
    /// told to the model after it, and at the end of the turn.
    Report,
    /// Left to `orchlint check` after the run.
    Check,
}

impl Rule {
    /// How the guard enforces this kind.
    pub fn live(&self) -> Live {
        match self.id {
            "agent-type" | "agent-namespace" | "sequential-steps" | "wait-for-agents" | "forbidden-tool"
            | "agent-tool" | "read-policy" | "approval-gate" | "approach-selection" => Live::Deny,
            "phase-announcement" | "phase-order" | "agent-count" | "parallel-launch" | "todo-list"
            | "incomplete-run" => Live::Report,
            _ => Live::Check,
        }
    }
}

impl Rule {
    /// Whether the kind judges the agents' own calls (their transcripts),
    /// not the orchestrator's: a replay answers each launch with the agent's
    /// report and replays no agent's calls, so it has no verdicts of it.
    pub fn judges_agents(&self) -> bool {
        self.id == "agent-tool"
    }
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Which rules run and at which severity.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only these rules (all when empty).
    pub only: BTreeSet<String>,
    /// Rules switched off.
    pub ignore: BTreeSet<String>,
}

impl Selection {
    pub fn enabled(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.contains(id)) && !self.ignore.contains(id)
    }
}

/// What a check sees: the workflow, the session and one run of it.
pub struct Ctx<'a> {
    pub wf: &'a Workflow,
    pub session: &'a Session,
    pub run: &'a Run,
    message_starts: &'a MessageStarts,
}

/// The first event index of each API message of a session (by message key),
/// found once per session and shared by its runs' checks. Keys are counted
/// from the least one in the session (a part of a session read in parts
/// starts with a high key).
pub struct MessageStarts {
    base: u32,
    starts: Vec<usize>,
}

impl MessageStarts {
    pub fn of(session: &Session) -> MessageStarts {
        let key = |ev: &crate::model::Event| match &ev.kind {
            EventKind::Text { message, .. } | EventKind::ToolCall { message, .. } => Some(*message),
            _ => None,
        };
        let base = session.events.iter().filter_map(key).min().unwrap_or(0);
        let mut starts: Vec<usize> = Vec::new();
        for (i, ev) in session.events.iter().enumerate() {
            let Some(k) = key(ev) else { continue };
            let k = (k - base) as usize;
            if k >= starts.len() {
                starts.resize(k + 1, usize::MAX);
            }
            if starts[k] == usize::MAX {
                starts[k] = i;
            }
        }
        MessageStarts { base, starts }
    }
}

impl<'a> Ctx<'a> {
    pub fn new(wf: &'a Workflow, session: &'a Session, run: &'a Run, message_starts: &'a MessageStarts) -> Ctx<'a> {
        Ctx { wf, session, run, message_starts }
    }

    pub fn launch(&self, l: usize) -> &Launch {
        &self.session.launches[l]
    }

    /// Launches of the run, in order.
    pub fn launches(&self) -> impl Iterator<Item = (usize, &Launch)> {
        let lo = self.session.launches.partition_point(|l| l.event < self.run.start);
        let hi = self.session.launches.partition_point(|l| l.event < self.run.end);
        (lo..hi).map(move |i| (i, &self.session.launches[i]))
    }

    /// The first event of the API message a launch belongs to.
    pub fn message_start(&self, message: u32) -> usize {
        let Some(k) = message.checked_sub(self.message_starts.base) else { return usize::MAX };
        self.message_starts.starts.get(k as usize).copied().unwrap_or(usize::MAX)
    }

    /// Whether a launch's result had reached the orchestrator before an event.
    pub fn returned_before(&self, l: usize, ev: usize) -> bool {
        self.launch(l).returned_at.is_some_and(|r| r < ev)
    }

    pub fn visit(&self, v: usize) -> &Visit {
        &self.run.visits[v]
    }

    /// The source place of an event with a culprit.
    pub fn place(&self, ev: usize, culprit: Culprit) -> crate::diagnostic::Place {
        self.session.events[ev].source.place(culprit)
    }

    /// The place of a launch's `subagent_type`.
    pub fn launch_place(&self, l: usize) -> crate::diagnostic::Place {
        let launch = self.launch(l);
        self.place(
            launch.event,
            Culprit::ToolInput { tool_use_id: launch.tool_use_id.clone(), key: "subagent_type".into() },
        )
    }

    /// The place of a visit's announcement header.
    pub fn visit_place(&self, v: usize) -> crate::diagnostic::Place {
        let visit = self.visit(v);
        let start = &self.run.starts[visit.start];
        self.place(start.event, Culprit::Text(start.announcement.header.trim().to_string()))
    }

    /// Whether a visit is the last of a run that stopped before the final
    /// phase: it may have been cut short, so what it did not do yet is not judged.
    pub fn cut_short(&self, v: usize) -> bool {
        v + 1 == self.run.visits.len() && !self.run.completed(self.wf)
    }

    /// Whether an agent type belongs to a phase.
    pub fn type_in_phase(&self, phase: u8, agent_type: &str) -> bool {
        self.wf.phase(phase).is_some_and(|p| p.step_of(agent_type).is_some())
    }
}

/// Collects findings of one rule.
pub struct Sink<'s> {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub run: u32,
    pub out: &'s mut Vec<Finding>,
}

impl Sink<'_> {
    pub fn report(&mut self, place: crate::diagnostic::Place, phase: Option<u8>, message: String) {
        let severity = self.severity;
        self.report_as(severity, place, phase, message);
    }

    /// Reports at a severity other than the rule's (agent-count above max).
    pub fn report_as(
        &mut self,
        severity: Severity,
        place: crate::diagnostic::Place,
        phase: Option<u8>,
        message: String,
    ) {
        self.out.push(Finding { rule: self.rule.id, severity, message, phase, place, run: Some(self.run) });
    }
}

/// Runs every selected check over each run of a session.
pub fn check_runs(wfs: &Workflows, session: &Session, runs: &[Run], selection: &Selection, out: &mut Vec<Finding>) {
    if runs.is_empty() {
        return;
    }
    let message_starts = MessageStarts::of(session);
    for run in runs {
        check_run(&wfs[run.workflow], session, run, &message_starts, selection, out);
    }
}

/// Runs every selected check over a run.
pub fn check_run(
    wf: &Workflow,
    session: &Session,
    run: &Run,
    message_starts: &MessageStarts,
    selection: &Selection,
    out: &mut Vec<Finding>,
) {
    let ctx = Ctx::new(wf, session, run, message_starts);
    for rule in RULES {
        let Some(check) = rule.check else { continue };
        if !selection.enabled(rule.id) || !wf.uses(rule.id) {
            continue;
        }
        // A severity set for the rule is applied when findings are resolved.
        let mut sink = Sink { rule, severity: rule.severity, run: run.index, out };
        check(&ctx, &mut sink);
    }
}

/// Formats a list of agent counts: `2 ml-explorer, 1 data-scientist`.
pub fn describe_types<'a>(types: impl Iterator<Item = &'a str>) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for t in types {
        *counts.entry(t).or_default() += 1;
    }
    counts.iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
}

/// A value from the transcript shown inside a one-line message: control
/// characters escaped (`\n`), at most 80 characters.
pub fn shown(value: &str) -> String {
    let escaped: String = value.chars().flat_map(char::escape_default).collect::<String>();
    let escaped = if value.chars().all(|c| !c.is_control()) { value.to_string() } else { escaped };
    if escaped.chars().count() > 80 {
        format!("{}…", escaped.chars().take(80).collect::<String>())
    } else {
        escaped
    }
}

/// `a code-explorer`, `an ml-architect`: the article for a word, by its sound
/// (a leading abbreviation such as `ml-` or `mlops-` is read letter by letter).
pub fn article(word: &str) -> &'static str {
    let w = word.trim_start_matches(['`', '(']);
    let head = w.split(['-', '_', ' ', ':']).next().unwrap_or("");
    let abbreviation = head.len() > 1 && head.len() <= 5 && !head.contains(['a', 'e', 'i', 'o', 'u', 'y']);
    let vowel_sound = if abbreviation {
        head.starts_with(['a', 'e', 'f', 'h', 'i', 'l', 'm', 'n', 'o', 'r', 's', 'x'])
    } else {
        w.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U'])
    };
    if vowel_sound {
        "an"
    } else {
        "a"
    }
}

/// `1 agent` / `3 agents`.
pub fn agents(n: usize) -> String {
    if n == 1 {
        "1 agent".into()
    } else {
        format!("{n} agents")
    }
}
