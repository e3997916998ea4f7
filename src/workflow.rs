//! Workflows as data: rules files (`rules/*.toml`, language version 2) and
//! their compiled form.
//!
//! Rust knows kinds of check (`src/checks/`); a rules file says which kinds a
//! workflow uses, with what parameters, in which phases. Loading happens in
//! two steps: a raw serde form that rejects unknown keys, then a compiled
//! [`Workflow`] with regexes built and phase names resolved. Every failure is
//! a [`SettingsError`] naming the file, the line, the key and a likely fix.
//! `docs/rules-language.md` is the guide to the language.

// A rules error is built once, on the way out of the program; its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::settings::SettingsError;

/// The rules files bundled with orchlint: (file name, text).
pub const BUNDLED: &[(&str, &str)] = &[
    ("rules/ml-flow.toml", include_str!("../rules/ml-flow.toml")),
    ("rules/feature-dev.toml", include_str!("../rules/feature-dev.toml")),
];

/// The text of the first bundled rules file (ml-flow).
pub const DEFAULT_RULES: &str = BUNDLED[0].1;

// ---------------------------------------------------------------------------
// Step 1: the raw form, as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: Spanned<i64>,
    workflow: RawHeader,
    #[serde(default)]
    agents: RawAgents,
    phases: RawPhases,
    announcement: Option<RawAnnouncement>,
    phase: Vec<RawPhase>,
    #[serde(default)]
    gate: Vec<RawGate>,
    approach: Option<RawApproach>,
    todo: Option<RawTodo>,
    #[serde(default)]
    argument: Vec<RawArgument>,
    read: Option<RawRead>,
    orchestrator: Option<RawOrchestrator>,
    #[serde(default)]
    agent_policy: Vec<RawAgentPolicy>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    help: BTreeMap<Spanned<String>, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Spanned<String>,
    description: Option<String>,
    commands: Spanned<Vec<String>>,
    launch_tools: Spanned<Vec<String>>,
    #[serde(default)]
    ask_tools: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgents {
    namespace: Option<String>,
    names: Option<Spanned<String>>,
    over_max: Option<Spanned<String>>,
    unlisted: Option<Spanned<String>>,
    #[serde(default)]
    anywhere: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhases {
    headers: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnnouncement {
    header: Spanned<String>,
    next: Option<String>,
    next_last: Option<String>,
    agents: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    name: Spanned<String>,
    number: Option<Spanned<i64>>,
    agents: Option<BTreeMap<String, Spanned<String>>>,
    steps: Option<Vec<RawStep>>,
    unlisted: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    agents: BTreeMap<String, Spanned<String>>,
    launch: Option<Spanned<String>>,
}

/// A phase named by its position (1-based) or its name.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawPhaseRef {
    Number(i64),
    Name(String),
}

/// A set of phases: `"all"`, `"5+"`, `"1-4"`, a phase, or a list of phases.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawPhaseSet {
    One(RawPhaseRef),
    List(Vec<RawPhaseRef>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGate {
    name: String,
    ask_phase: Spanned<RawPhaseRef>,
    question: Option<Spanned<String>>,
    #[serde(default)]
    holds: RawHolds,
    opens: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    approve: Vec<String>,
    #[serde(default)]
    negate: Vec<String>,
    #[serde(default)]
    hold: Vec<String>,
    #[serde(default)]
    changes: Vec<String>,
    #[serde(default)]
    choice: Vec<Spanned<String>>,
    #[serde(default)]
    back_to: Vec<Spanned<RawPhaseRef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolds {
    #[serde(default)]
    phases: Vec<Spanned<RawPhaseRef>>,
    #[serde(default)]
    agents: Vec<Spanned<String>>,
    #[serde(default)]
    tools: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproach {
    ask_phase: Spanned<RawPhaseRef>,
    gated_phase: Spanned<RawPhaseRef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTodo {
    phase: Spanned<RawPhaseRef>,
    tools: Vec<String>,
    #[serde(default)]
    replace: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgument {
    flag: Spanned<String>,
    read: Option<String>,
    say: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRead {
    tools: Vec<String>,
    policy: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrchestrator {
    #[serde(default)]
    shell_tools: Vec<String>,
    other_shell: Option<Spanned<String>>,
    #[serde(default, deserialize_with = "ordered_classes")]
    shell_classes: Vec<(Spanned<String>, Vec<Spanned<String>>)>,
    #[serde(default)]
    policy: Vec<RawPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    phases: Spanned<RawPhaseSet>,
    #[serde(default)]
    forbid: Vec<String>,
    #[serde(default)]
    forbid_shell: Vec<Spanned<String>>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    allow_shell: Vec<Spanned<String>>,
    #[serde(default)]
    after_agents: bool,
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgentPolicy {
    agents: Option<Spanned<RawAgentSet>>,
    #[serde(default)]
    forbid: Vec<String>,
    #[serde(default)]
    forbid_shell: Vec<Spanned<String>>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    allow_shell: Vec<Spanned<String>>,
    reason: Option<String>,
}

/// The agent types an agent policy entry speaks for: `"all"` or a list of types.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawAgentSet {
    All(String),
    List(Vec<String>),
}

/// The shell classes in the order they are written: the first that matches wins.
#[allow(clippy::type_complexity)]
fn ordered_classes<'de, D>(de: D) -> Result<Vec<(Spanned<String>, Vec<Spanned<String>>)>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Ordered;
    impl<'de> serde::de::Visitor<'de> for Ordered {
        type Value = Vec<(Spanned<String>, Vec<Spanned<String>>)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table of class names to lists of regexes")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    de.deserialize_map(Ordered)
}

// ---------------------------------------------------------------------------
// Step 2: the compiled form.

/// `--workflow NAME` names no workflow in play.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("--workflow {name}: no such workflow")]
pub struct NoSuchWorkflow {
    pub name: String,
    #[help]
    pub help: String,
}

/// How many agents of one type a step takes: `N`, `MIN-MAX` or `MIN+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub min: u32,
    /// `u32::MAX` for `MIN+`.
    pub max: u32,
}

impl Count {
    pub fn describe(&self) -> String {
        if self.max == u32::MAX {
            format!("{}+", self.min)
        } else if self.min == self.max {
            self.min.to_string()
        } else {
            format!("{}-{}", self.min, self.max)
        }
    }
}

/// How the agents of a step are launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchStyle {
    /// All in one message (a breach is `parallel-launch`).
    Parallel,
    /// Each only after the one before returned (a breach is `sequential-steps`).
    OneAtATime,
}

/// One launch step of a phase.
#[derive(Debug, Clone)]
pub struct Step {
    pub agents: BTreeMap<String, Count>,
    pub launch: LaunchStyle,
}

/// What happens to a launch of a type that the phase does not list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlisted {
    Error,
    Allow,
}

/// One phase of the workflow.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Position in the workflow's order, 1-based.
    pub number: u8,
    pub name: String,
    pub steps: Vec<Step>,
    pub unlisted: Unlisted,
}

impl Phase {
    /// The step (0-based) that launches agents of this type, if any.
    pub fn step_of(&self, agent_type: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.agents.contains_key(agent_type))
    }
}

/// How agent types must be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// `namespace:type` only.
    Namespaced,
    /// Bare `type` only (project agents).
    Bare,
    /// Either; a foreign namespace is still a breach.
    Either,
}

/// The workflow's agents.
#[derive(Debug, Clone)]
pub struct Agents {
    pub namespace: Option<String>,
    pub names: Names,
    /// Severity of a count above the maximum; `None`: allowed.
    pub over_max: Option<Severity>,
    /// Types that may be launched in any phase, uncounted.
    pub anywhere: Vec<String>,
}

/// The exact announcement format (`phase-announcement`), when the workflow prescribes one.
#[derive(Debug, Clone)]
pub struct AnnouncementFormat {
    pub header: String,
    pub next: Option<String>,
    pub next_last: Option<String>,
    pub agents: Option<String>,
}

/// Finds phase starts in orchestrator text; derived from the header templates.
#[derive(Debug, Clone)]
pub struct Detector {
    /// `Phase N of M` anywhere on a line.
    pub of_total: Regex,
    /// `Phase N: Name` at the start of a line.
    pub named: Regex,
}

/// Word lists that judge a genuine user reply.
#[derive(Debug, Clone)]
pub struct Words {
    pub approve: WordList,
    pub negate: WordList,
    pub hold: WordList,
    pub changes: WordList,
    /// Whether any change words are listed.
    pub has_changes: bool,
}

/// What opens a gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Opens {
    /// An approval (approval words, not negated, no hold, no change request).
    pub approval: bool,
    /// Any genuine user reply.
    pub reply: bool,
    /// A choice among offered options (the `choice` patterns).
    pub choice: bool,
}

/// A user gate: a question in one phase that holds things back until answered.
#[derive(Debug, Clone)]
pub struct Gate {
    pub name: String,
    pub ask_phase: u8,
    /// What the question looks like; `None`: any text with a question mark.
    pub question: Option<ShortRegex>,
    pub holds_phases: Vec<u8>,
    pub holds_agents: Vec<String>,
    pub holds_tools: Vec<String>,
    pub opens: Opens,
    pub words: Words,
    pub choice: Vec<ShortRegex>,
    /// After a change request at the ask phase, the run may go back to these.
    pub back_to: Vec<u8>,
}

/// The approach-selection instance: the gated phase starts only after a user reply.
#[derive(Debug, Clone, Copy)]
pub struct Approach {
    pub ask_phase: u8,
    pub gated_phase: u8,
}

/// The todo-list instance.
#[derive(Debug, Clone)]
pub struct Todo {
    pub phase: u8,
    pub tools: Vec<String>,
    /// Tools whose call replaces the whole list (the others add items).
    pub replace: Vec<String>,
}

/// An argument of the command that requires actions (`capsule`).
#[derive(Debug, Clone)]
pub struct Argument {
    pub flag: String,
    /// A file to read, with `{value}`.
    pub read: Option<String>,
    /// A line to say, with `{value}`.
    pub say: Option<String>,
}

/// What the orchestrator may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadRule {
    /// No restriction.
    Any,
    /// Only files an agent named, only after the phase's agents returned.
    NamedByAgents,
}

#[derive(Debug, Clone)]
pub struct ReadPolicy {
    pub tools: Vec<String>,
    pub rule: ReadRule,
}

/// A named class of shell commands.
#[derive(Debug, Clone)]
pub struct ShellClass {
    pub name: String,
    pub patterns: Vec<ShortRegex>,
}

/// One entry of the orchestrator's tool policy.
#[derive(Debug, Clone)]
pub struct PolicyEntry {
    pub phases: Vec<u8>,
    pub forbid: Vec<String>,
    pub forbid_shell: Vec<String>,
    pub allow: Vec<String>,
    pub allow_shell: Vec<String>,
    pub after_agents: bool,
    pub reason: Option<String>,
}

/// The orchestrator's own tool use, per phase.
#[derive(Debug, Clone)]
pub struct ToolPolicy {
    pub shell_tools: Vec<String>,
    pub classes: Vec<ShellClass>,
    /// Severity of a shell command in no allowed class; `None`: allowed.
    pub other_shell: Option<Severity>,
    pub entries: Vec<PolicyEntry>,
}

/// The verdict of the tool policy on one tool or shell class at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<'a> {
    Allowed,
    /// Forbidden, with the entry's reason.
    Forbidden(Option<&'a str>),
    /// Allowed in this phase only after the phase's agents returned.
    NotYet,
    /// Not mentioned for this phase (shell classes: judged by `other_shell`).
    Unmentioned,
}

impl ToolPolicy {
    fn decide(&self, phase: u8, agents_back: bool, item: &str, shell: bool) -> Verdict<'_> {
        let mut verdict = Verdict::Unmentioned;
        for e in self.entries.iter().filter(|e| e.phases.contains(&phase)) {
            let (forbid, allow) = if shell { (&e.forbid_shell, &e.allow_shell) } else { (&e.forbid, &e.allow) };
            if forbid.iter().any(|f| f == item) {
                verdict = Verdict::Forbidden(e.reason.as_deref());
            }
            if allow.iter().any(|a| a == item) {
                verdict = if e.after_agents && !agents_back { Verdict::NotYet } else { Verdict::Allowed };
            }
        }
        verdict
    }

    /// The verdict on a tool call (not a shell command) in a phase.
    pub fn tool(&self, phase: u8, agents_back: bool, tool: &str) -> Verdict<'_> {
        match self.decide(phase, agents_back, tool, false) {
            Verdict::Unmentioned => Verdict::Allowed,
            v => v,
        }
    }

    /// The verdict on a class of shell command in a phase.
    pub fn shell_class(&self, phase: u8, agents_back: bool, class: &str) -> Verdict<'_> {
        self.decide(phase, agents_back, class, true)
    }

    /// The class of a simple shell command: the first class with a matching pattern.
    pub fn class_of(&self, command: &str) -> Option<&str> {
        self.classes.iter().find(|c| c.patterns.iter().any(|p| p.is_match(command))).map(|c| c.name.as_str())
    }

    /// The phases in which a shell class is allowed, and whether only after the agents returned.
    pub fn allowed_phases(&self, class: &str) -> (Vec<u8>, bool) {
        let mut phases = Vec::new();
        let mut after = false;
        for e in self.entries.iter().filter(|e| e.allow_shell.iter().any(|a| a == class)) {
            phases.extend(e.phases.iter().copied());
            after |= e.after_agents;
        }
        phases.sort_unstable();
        phases.dedup();
        (phases, after)
    }

    /// The shell classes allowed somewhere.
    pub fn allowed_classes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.entries {
            for a in &e.allow_shell {
                if !out.contains(&a.as_str()) {
                    out.push(a);
                }
            }
        }
        out
    }
}

/// In an agent policy's lists: every tool, or every shell command (of any
/// class or of none).
pub const ANY: &str = "*";

/// One entry of the agents' own tool policy (`[[agent_policy]]`).
#[derive(Debug, Clone)]
pub struct AgentPolicyEntry {
    /// The agent types it speaks for (normalized); `None`: every agent.
    pub agents: Option<Vec<String>>,
    pub forbid: Vec<String>,
    pub forbid_shell: Vec<String>,
    pub allow: Vec<String>,
    pub allow_shell: Vec<String>,
    pub reason: Option<String>,
}

/// What the agents themselves may do, by agent type: the tools and shell
/// classes an agent of a type must not use, whatever phase it runs in.
#[derive(Debug, Clone, Default)]
pub struct AgentPolicy {
    pub entries: Vec<AgentPolicyEntry>,
}

impl AgentPolicy {
    /// The entries read in order, a later one overriding earlier ones for
    /// the items it names (`*` names every item); within one entry `allow`
    /// wins over `forbid`. `item` is `None` for a shell command of no class.
    fn decide(&self, agent_type: &str, item: Option<&str>, shell: bool) -> Verdict<'_> {
        let mut verdict = Verdict::Unmentioned;
        for e in self.entries.iter().filter(|e| e.speaks_for(agent_type)) {
            let (forbid, allow) = if shell { (&e.forbid_shell, &e.allow_shell) } else { (&e.forbid, &e.allow) };
            let names = |list: &[String]| list.iter().any(|x| x == ANY || Some(x.as_str()) == item);
            if names(forbid) {
                verdict = Verdict::Forbidden(e.reason.as_deref());
            }
            if names(allow) {
                verdict = Verdict::Allowed;
            }
        }
        verdict
    }

    /// The verdict on an agent's call of a tool (not a shell command):
    /// allowed unless an entry forbids it.
    pub fn tool(&self, agent_type: &str, tool: &str) -> Verdict<'_> {
        self.decide(agent_type, Some(tool), false)
    }

    /// The verdict on an agent's shell command of a class (`None`: of no class).
    pub fn shell_class(&self, agent_type: &str, class: Option<&str>) -> Verdict<'_> {
        self.decide(agent_type, class, true)
    }

    /// Whether any entry speaks for an agent type.
    pub fn speaks_for(&self, agent_type: &str) -> bool {
        self.entries.iter().any(|e| e.speaks_for(agent_type))
    }
}

impl AgentPolicyEntry {
    /// Whether the entry speaks for agents of this type.
    fn speaks_for(&self, agent_type: &str) -> bool {
        self.agents.as_ref().is_none_or(|a| a.iter().any(|t| t == agent_type))
    }
}

/// A compiled workflow: one rules file.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    pub description: Option<String>,
    /// The file it was read from, as shown in messages.
    pub source_name: String,
    pub commands: Vec<String>,
    pub launch_tools: Vec<String>,
    pub ask_tools: Vec<String>,
    pub agents: Agents,
    pub headers: Vec<String>,
    pub detector: Detector,
    pub announcement: Option<AnnouncementFormat>,
    pub phases: Vec<Phase>,
    pub gates: Vec<Gate>,
    pub approach: Option<Approach>,
    pub todo: Option<Todo>,
    pub arguments: Vec<Argument>,
    pub read: ReadPolicy,
    pub orchestrator: ToolPolicy,
    /// The agents' own tool use, by agent type.
    pub agent_policy: AgentPolicy,
    pub help: BTreeMap<String, Arc<str>>,
    /// Per-rule severity of this workflow; `None` switches the rule off.
    pub severity: BTreeMap<String, Option<Severity>>,
}

impl Workflow {
    /// The bundled ml-flow workflow.
    pub fn builtin() -> Workflow {
        Workflows::builtin().list[0].as_ref().clone()
    }

    /// Loads a rules file from disk.
    pub fn load(path: &Path) -> Result<Workflow, SettingsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SettingsError::unreadable("rules file", path, &e, "check the path of the rules file"))?;
        Workflow::parse(&text, &path.display().to_string())
    }

    /// Parses and compiles a rules file.
    pub fn parse(text: &str, name: &str) -> Result<Workflow, SettingsError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            SettingsError::at("rules file", name, text, e.span(), message, toml_fix_hint(e.message()))
        })?;
        Compiler { text, name }.compile(raw)
    }

    pub fn phase(&self, number: u8) -> Option<&Phase> {
        number.checked_sub(1).and_then(|i| self.phases.get(i as usize))
    }

    pub fn total_phases(&self) -> u8 {
        self.phases.len() as u8
    }

    pub fn is_launch_tool(&self, name: &str) -> bool {
        self.launch_tools.iter().any(|t| t == name)
    }

    pub fn help_for(&self, rule: &str) -> Option<&str> {
        self.help.get(rule).map(|h| &**h)
    }

    /// The help text of a rule, shared by every diagnostic of the rule.
    pub fn help_shared(&self, rule: &str) -> Option<Arc<str>> {
        self.help.get(rule).cloned()
    }

    /// The severity of a finding of a rule reported at `reported`, in this
    /// workflow (`[severity]`, and the config's, applied to it): `None` when
    /// the rule is off. A finding at the rule's default level takes the set
    /// level; one a kind reports at a lower level of its own (an agent count
    /// above the maximum, a missing `Next:` line, a note) keeps it, capped by
    /// the set level.
    pub fn severity_of(&self, rule: &str, reported: Severity) -> Option<Severity> {
        let Some(set) = self.severity.get(rule) else { return Some(reported) };
        let set = (*set)?;
        let default = crate::checks::rule(rule).map_or(reported, |r| r.severity);
        Some(if reported == default { set } else { reported.min(set) })
    }

    /// Whether the workflow uses a rule at all: switched on, and its
    /// instance declared where the kind needs one.
    pub fn uses(&self, rule: &str) -> bool {
        if self.severity.get(rule) == Some(&None) {
            return false;
        }
        match rule {
            "phase-announcement" => self.announcement.is_some(),
            "agent-namespace" => self.agents.namespace.is_some() || self.agents.names == Names::Bare,
            "sequential-steps" => self
                .phases
                .iter()
                .any(|p| p.steps.len() > 1 || p.steps.iter().any(|s| s.launch == LaunchStyle::OneAtATime)),
            "parallel-launch" => self.phases.iter().flat_map(|p| &p.steps).any(|s| s.launch == LaunchStyle::Parallel),
            "read-policy" => self.read.rule != ReadRule::Any,
            "approval-gate" => !self.gates.is_empty(),
            "approach-selection" => self.approach.is_some(),
            "todo-list" => self.todo.is_some(),
            "capsule" => !self.arguments.is_empty(),
            "forbidden-tool" => !self.orchestrator.entries.is_empty() || self.orchestrator.other_shell.is_some(),
            "agent-tool" => !self.agent_policy.entries.is_empty(),
            _ => true,
        }
    }

    /// Whether an agent type appears in any phase of the workflow.
    pub fn knows_type(&self, agent_type: &str) -> bool {
        self.phases.iter().any(|p| p.step_of(agent_type).is_some())
            || self.agents.anywhere.iter().any(|t| t == agent_type)
    }

    /// The phase announcement header the workflow expects for a phase.
    pub fn expected_header(&self, phase: &Phase) -> Option<String> {
        self.announcement.as_ref().map(|a| self.fill(&a.header, phase))
    }

    /// The line expected after the header of a phase, if the format has one.
    pub fn expected_next(&self, phase: &Phase) -> Option<String> {
        let a = self.announcement.as_ref()?;
        match self.phase(phase.number + 1) {
            Some(next) => a.next.as_ref().map(|n| self.fill(n, next)),
            None => a.next_last.clone().or_else(|| a.next.as_ref().map(|_| String::new())),
        }
        .filter(|s| !s.is_empty())
    }

    /// The literal start of the `next` line (`Next:`), which tells an announcement from a recap.
    pub fn next_prefix(&self) -> Option<&str> {
        let next = self.announcement.as_ref()?.next.as_deref()?;
        let prefix = next.split('{').next().unwrap_or("").trim();
        let word_end = prefix.find(char::is_whitespace).unwrap_or(prefix.len());
        Some(&prefix[..word_end]).filter(|p| !p.is_empty())
    }

    fn fill(&self, template: &str, phase: &Phase) -> String {
        template
            .replace("{n}", &phase.number.to_string())
            .replace("{total}", &self.total_phases().to_string())
            .replace("{name}", &phase.name)
    }

    /// The phase numbers shown as a list: `9, 10, 11`.
    pub fn list_phases(phases: &[u8]) -> String {
        phases.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
    }
}

// ---------------------------------------------------------------------------
// Compilation.

struct Compiler<'t> {
    text: &'t str,
    name: &'t str,
}

impl Compiler<'_> {
    fn err(&self, span: Range<usize>, message: String, help: impl Into<String>) -> SettingsError {
        SettingsError::at("rules file", self.name, self.text, Some(span), message, help.into())
    }

    /// An error at the first place a piece of text is written (for values that carry no span).
    fn err_at_text(&self, needle: &str, message: String, help: impl Into<String>) -> SettingsError {
        let at = self.text.find(needle).unwrap_or(0);
        self.err(at..at + needle.len(), message, help)
    }

    fn regex(&self, pattern: &Spanned<String>) -> Result<ShortRegex, SettingsError> {
        short_regex(pattern.get_ref()).map_err(|e| {
            self.err(
                pattern.span(),
                format!("invalid regex {:?}: {}", pattern.get_ref(), first_line(&e.to_string())),
                "fix the regular expression (syntax of the Rust regex crate); in TOML use single quotes so backslashes stay as written",
            )
        })
    }

    fn severity(
        &self,
        value: &Spanned<String>,
        what: &str,
        allow_off: bool,
    ) -> Result<Option<Severity>, SettingsError> {
        match value.get_ref().as_str() {
            "off" if allow_off => Ok(None),
            "allow" if !allow_off => Ok(None),
            other => Severity::parse(other).map(Some).ok_or_else(|| {
                let levels = if allow_off {
                    "\"error\", \"warning\", \"note\" or \"off\""
                } else {
                    "\"error\", \"warning\", \"note\" or \"allow\""
                };
                self.err(value.span(), format!("unknown severity {other:?} for {what}"), format!("use {levels}"))
            }),
        }
    }

    fn phase_ref(&self, phases: &[Phase], r: &Spanned<RawPhaseRef>, key: &str) -> Result<u8, SettingsError> {
        match r.get_ref() {
            RawPhaseRef::Number(n) if *n >= 1 && (*n as usize) <= phases.len() => Ok(*n as u8),
            RawPhaseRef::Number(n) => Err(self.err(
                r.span(),
                format!("{key} names phase {n}, but the workflow has {} phases", phases.len()),
                "name a phase by its position (1-based) or by its name as written in [[phase]]",
            )),
            RawPhaseRef::Name(name) => self.phase_named(phases, name, r.span(), key),
        }
    }

    fn phase_named(&self, phases: &[Phase], name: &str, span: Range<usize>, key: &str) -> Result<u8, SettingsError> {
        if let Some(p) = phases.iter().find(|p| p.name == name) {
            return Ok(p.number);
        }
        if let Ok(n) = name.trim().parse::<usize>() {
            if n >= 1 && n <= phases.len() {
                return Ok(n as u8);
            }
        }
        let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
        Err(self.err(
            span,
            format!("{key} names phase {name:?}, which the workflow does not have"),
            suggest(name, &names, "phase"),
        ))
    }

    fn phase_set(&self, phases: &[Phase], set: &Spanned<RawPhaseSet>, key: &str) -> Result<Vec<u8>, SettingsError> {
        let total = phases.len() as u8;
        let bad_range = || {
            self.err(
                set.span(),
                format!("{key}: cannot read the phase range"),
                "write \"all\", \"N\", \"N+\", \"N-M\", a phase name, or a list of phases",
            )
        };
        let mut out = match set.get_ref() {
            RawPhaseSet::List(list) => list
                .iter()
                .map(|r| self.phase_ref(phases, &Spanned::new(set.span(), r.clone()), key))
                .collect::<Result<Vec<u8>, _>>()?,
            RawPhaseSet::One(RawPhaseRef::Number(_)) => {
                let RawPhaseSet::One(r) = set.get_ref() else { unreachable!() };
                vec![self.phase_ref(phases, &Spanned::new(set.span(), r.clone()), key)?]
            }
            RawPhaseSet::One(RawPhaseRef::Name(text)) => {
                let t = text.trim();
                if t == "all" {
                    (1..=total).collect()
                } else if let Some(from) = t.strip_suffix('+') {
                    let from = self.phase_named(phases, from.trim(), set.span(), key)?;
                    (from..=total).collect()
                } else if let Some((a, b)) =
                    t.split_once('-').filter(|(a, b)| a.trim().parse::<u8>().is_ok() && b.trim().parse::<u8>().is_ok())
                {
                    let a = self.phase_named(phases, a.trim(), set.span(), key)?;
                    let b = self.phase_named(phases, b.trim(), set.span(), key)?;
                    if a > b {
                        return Err(bad_range());
                    }
                    (a..=b).collect()
                } else {
                    vec![self.phase_named(phases, t, set.span(), key)?]
                }
            }
        };
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    fn count(&self, raw: &Spanned<String>) -> Result<Count, SettingsError> {
        let bad = || {
            self.err(
                raw.span(),
                format!("invalid agent count {:?}", raw.get_ref()),
                "write a count as \"N\", \"MIN-MAX\" or \"MIN+\", for example \"3\", \"1-2\" or \"2+\"",
            )
        };
        let t = raw.get_ref().trim();
        let (min, max) = if let Some(min) = t.strip_suffix('+') {
            (min.trim().parse().map_err(|_| bad())?, u32::MAX)
        } else if let Some((a, b)) = t.split_once('-') {
            (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?)
        } else {
            let n = t.parse().map_err(|_| bad())?;
            (n, n)
        };
        if min > max || max == 0 {
            return Err(bad());
        }
        Ok(Count { min, max })
    }

    fn unlisted(&self, raw: &Spanned<String>) -> Result<Unlisted, SettingsError> {
        match raw.get_ref().as_str() {
            "error" => Ok(Unlisted::Error),
            "allow" => Ok(Unlisted::Allow),
            other => {
                Err(self.err(raw.span(), format!("unknown value {other:?} for unlisted"), "use \"error\" or \"allow\""))
            }
        }
    }

    fn steps(&self, p: &RawPhase, index: usize) -> Result<Vec<Step>, SettingsError> {
        let agents_step = |agents: &BTreeMap<String, Spanned<String>>, launch: Option<&Spanned<String>>| {
            let mut counts = BTreeMap::new();
            for (ty, count) in agents {
                // As launches are read: case and separators do not matter.
                counts.insert(crate::model::normalize_type(ty), self.count(count)?);
            }
            let launch = match launch.map(|l| (l.get_ref().as_str(), l)) {
                None | Some(("parallel", _)) => LaunchStyle::Parallel,
                Some(("one-at-a-time", _)) => LaunchStyle::OneAtATime,
                Some((other, l)) => return Err(self.err(
                    l.span(),
                    format!("unknown launch {other:?}"),
                    "use \"parallel\" (all in one message) or \"one-at-a-time\" (each after the one before returned)",
                )),
            };
            Ok(Step { agents: counts, launch })
        };
        match (&p.agents, &p.steps) {
            (Some(_), Some(_)) => Err(self.err(
                p.name.span(),
                format!("phase {} ({}) has both `agents` and `steps`", index + 1, p.name.get_ref()),
                "use `agents = { type = \"N\" }` for one parallel step, or `steps = [...]` for several",
            )),
            (Some(agents), None) if agents.is_empty() => Ok(Vec::new()),
            (Some(agents), None) => Ok(vec![agents_step(agents, None)?]),
            (None, Some(steps)) => {
                let steps: Vec<Step> =
                    steps.iter().map(|s| agents_step(&s.agents, s.launch.as_ref())).collect::<Result<_, _>>()?;
                for (i, s) in steps.iter().enumerate() {
                    if let Some(ty) = s.agents.keys().find(|t| steps[..i].iter().any(|e| e.agents.contains_key(*t))) {
                        return Err(self.err(
                            p.name.span(),
                            format!("phase {} ({}) lists {ty} in two steps", index + 1, p.name.get_ref()),
                            "list each agent type in one step of a phase; counts are per phase visit",
                        ));
                    }
                }
                Ok(steps)
            }
            (None, None) => Ok(Vec::new()),
        }
    }

    fn words(list: &[String]) -> WordList {
        WordList::new(list)
    }

    /// A shell class a policy names: one of `classes`, or (`any`, in
    /// `[[agent_policy]]`) `*`.
    fn shell_class_name(
        &self,
        c: &Spanned<String>,
        classes: &[ShellClass],
        any: bool,
    ) -> Result<String, SettingsError> {
        let name = c.get_ref();
        if (any && name == ANY) || classes.iter().any(|k| k.name == *name) {
            return Ok(name.clone());
        }
        let names: Vec<&str> = classes.iter().map(|k| k.name.as_str()).collect();
        let (place, what) = if any {
            (" in [[agent_policy]]", "class in [orchestrator.shell_classes], or \"*\"")
        } else {
            ("", "class in [orchestrator.shell_classes]")
        };
        Err(self.err(c.span(), format!("unknown shell class {name:?}{place}"), suggest(name, &names, what)))
    }

    /// `[[agent_policy]]`: agent types the workflow launches, shell classes
    /// of `[orchestrator.shell_classes]` (or `*`).
    fn agent_policy(
        &self,
        raw: &[RawAgentPolicy],
        phases: &[Phase],
        agents: &Agents,
        orchestrator: &ToolPolicy,
    ) -> Result<AgentPolicy, SettingsError> {
        let mut types = launched_types(phases);
        types.extend(agents.anywhere.iter().map(String::as_str));
        types.sort_unstable();
        types.dedup();
        let check_class = |c: &Spanned<String>| self.shell_class_name(c, &orchestrator.classes, true);
        let mut entries = Vec::with_capacity(raw.len());
        for e in raw {
            let agents = match e.agents.as_ref().map(|a| (a.span(), a.get_ref())) {
                None => None,
                Some((_, RawAgentSet::All(all))) if all == "all" => None,
                Some((span, RawAgentSet::All(other))) => {
                    return Err(self.err(
                        span,
                        format!("agents = {other:?} is neither \"all\" nor a list of agent types"),
                        format!("write agents = \"all\" or agents = [\"{other}\"]"),
                    ))
                }
                Some((span, RawAgentSet::List(list))) => {
                    let mut out = Vec::with_capacity(list.len());
                    for t in list {
                        let normalized = crate::model::normalize_type(split_type(t).1);
                        if !types.contains(&normalized.as_str()) {
                            return Err(self.err(
                                span.clone(),
                                format!("[[agent_policy]] names agent type {t:?}, which the workflow never launches"),
                                suggest(&normalized, &types, "agent type of a [[phase]] or of [agents] anywhere"),
                            ));
                        }
                        out.push(normalized);
                    }
                    Some(out)
                }
            };
            entries.push(AgentPolicyEntry {
                agents,
                forbid: e.forbid.clone(),
                forbid_shell: e.forbid_shell.iter().map(check_class).collect::<Result<_, _>>()?,
                allow: e.allow.clone(),
                allow_shell: e.allow_shell.iter().map(check_class).collect::<Result<_, _>>()?,
                reason: e.reason.clone(),
            });
        }
        Ok(AgentPolicy { entries })
    }

    fn compile(&self, raw: RawFile) -> Result<Workflow, SettingsError> {
        if *raw.version.get_ref() != 2 {
            return Err(self.err(
                raw.version.span(),
                format!("rules language version {} is not known", raw.version.get_ref()),
                "write `version = 2` (docs/rules-language.md describes version 2)",
            ));
        }
        let h = &raw.workflow;
        if h.name.get_ref().trim().is_empty() {
            return Err(self.err(h.name.span(), "the workflow has no name".into(), "name it: name = \"my-flow\""));
        }
        if h.commands.get_ref().is_empty() || h.commands.get_ref().iter().any(|c| !c.starts_with('/')) {
            return Err(self.err(
                h.commands.span(),
                "commands must list the slash commands that start a run".into(),
                "for example commands = [\"/my-plugin:my-flow\", \"/my-flow\"]",
            ));
        }
        if h.launch_tools.get_ref().is_empty() {
            return Err(self.err(
                h.launch_tools.span(),
                "launch_tools is empty".into(),
                "name the delegation tool: launch_tools = [\"Task\", \"Agent\"]",
            ));
        }
        // Phases.
        if raw.phase.is_empty() {
            return Err(self.err_at_text(
                "[workflow]",
                "the workflow has no phases".into(),
                "add [[phase]] tables, each with a name (and agents or steps where it launches agents)",
            ));
        }
        let mut phases = Vec::with_capacity(raw.phase.len());
        for (i, p) in raw.phase.iter().enumerate() {
            if let Some(n) = &p.number {
                if *n.get_ref() != i as i64 + 1 {
                    return Err(self.err(
                        n.span(),
                        format!("phase {} is listed at position {}", n.get_ref(), i + 1),
                        "list the [[phase]] tables in order; `number` is optional and, when given, is the position",
                    ));
                }
            }
            if phases.iter().any(|q: &Phase| q.name == *p.name.get_ref()) {
                return Err(self.err(
                    p.name.span(),
                    format!("two phases are named {:?}", p.name.get_ref()),
                    "give every phase its own name",
                ));
            }
            if i >= 250 {
                return Err(self.err(
                    p.name.span(),
                    "more than 250 phases".into(),
                    "a workflow has at most 250 phases",
                ));
            }
            let unlisted = match &p.unlisted {
                Some(u) => self.unlisted(u)?,
                None => match &raw.agents.unlisted {
                    Some(u) => self.unlisted(u)?,
                    None => Unlisted::Error,
                },
            };
            phases.push(Phase {
                number: i as u8 + 1,
                name: p.name.get_ref().clone(),
                steps: self.steps(p, i)?,
                unlisted,
            });
        }
        // Agents.
        let a = &raw.agents;
        let names = match a.names.as_ref().map(|n| (n.get_ref().as_str(), n)) {
            None => Names::Either,
            Some(("namespaced", _)) => Names::Namespaced,
            Some(("bare", _)) => Names::Bare,
            Some(("either", _)) => Names::Either,
            Some((other, n)) => {
                return Err(self.err(
                    n.span(),
                    format!("unknown value {other:?} for names"),
                    "use \"namespaced\", \"bare\" or \"either\"",
                ))
            }
        };
        if names == Names::Namespaced && a.namespace.is_none() {
            return Err(self.err(
                a.names.as_ref().map(|n| n.span()).unwrap_or(0..0),
                "names = \"namespaced\" needs a namespace".into(),
                "add namespace = \"my-plugin\" to [agents]",
            ));
        }
        let over_max = match &a.over_max {
            Some(s) => self.severity(s, "over_max", false)?,
            None => Some(Severity::Warning),
        };
        let anywhere = a.anywhere.iter().map(|t| crate::model::normalize_type(t)).collect();
        let agents = Agents { namespace: a.namespace.clone(), names, over_max, anywhere };
        // Detection.
        let headers = raw.phases.headers.get_ref();
        if headers.is_empty() {
            return Err(self.err(
                raw.phases.headers.span(),
                "no header templates".into(),
                "give at least one template, e.g. headers = [\"## Phase {n}: {name}\"]",
            ));
        }
        let mut keywords = Vec::new();
        for t in headers {
            let Some(at) = t.get_ref().find("{n}") else {
                return Err(self.err(
                    t.span(),
                    format!("header template {:?} has no {{n}}", t.get_ref()),
                    "a header template shows the phase number as {n}, e.g. \"## Phase {n}: {name}\"",
                ));
            };
            let before = &t.get_ref()[..at];
            let keyword: String = before
                .trim_end()
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if keyword.is_empty() {
                return Err(self.err(
                    t.span(),
                    format!("header template {:?} has no word before {{n}}", t.get_ref()),
                    "put the word that names a phase before the number, e.g. \"Phase {n}\" or \"Stage {n}\"",
                ));
            }
            // `Phase {n}` needs a space in the text too; `P{n}` or `Step-{n}` none.
            let spaced = before.ends_with(char::is_whitespace);
            if !keywords.contains(&(keyword.clone(), spaced)) {
                keywords.push((keyword, spaced));
            }
        }
        let detector = detector(&keywords);
        let announcement = match &raw.announcement {
            None => None,
            Some(an) => {
                if !an.header.get_ref().contains("{n}") {
                    return Err(self.err(
                        an.header.span(),
                        "the announcement header has no {n}".into(),
                        "write the exact header with {n} (number), {total} and {name}",
                    ));
                }
                Some(AnnouncementFormat {
                    header: an.header.get_ref().clone(),
                    next: an.next.clone(),
                    next_last: an.next_last.clone(),
                    agents: an.agents.clone(),
                })
            }
        };
        // Gates.
        let mut gates = Vec::new();
        for g in &raw.gate {
            let ask_phase = self.phase_ref(&phases, &g.ask_phase, "ask_phase")?;
            let mut opens = Opens::default();
            for o in g.opens.get_ref() {
                match o.get_ref().as_str() {
                    "approval" => opens.approval = true,
                    "reply" => opens.reply = true,
                    "choice" => opens.choice = true,
                    other => {
                        return Err(self.err(
                            o.span(),
                            format!("unknown opener {other:?} in opens"),
                            "use \"approval\" (approval words), \"reply\" (any genuine reply) or \"choice\" (the choice patterns)",
                        ))
                    }
                }
            }
            if opens == Opens::default() {
                return Err(self.err(
                    g.opens.span(),
                    format!("gate {:?} has nothing that opens it", g.name),
                    "give opens = [\"approval\"], [\"reply\"] or [\"choice\"]",
                ));
            }
            if opens.approval && g.approve.is_empty() {
                return Err(self.err(
                    g.opens.span(),
                    format!("gate {:?} opens on approval but lists no approve words", g.name),
                    "add approve = [\"yes\", \"approve\", …] to the gate",
                ));
            }
            if opens.choice && g.choice.is_empty() {
                return Err(self.err(
                    g.opens.span(),
                    format!("gate {:?} opens on a choice but lists no choice patterns", g.name),
                    "add choice = ['(?i)\\boption\\s*\\d'] to the gate",
                ));
            }
            let mut holds_agents = Vec::new();
            for t in &g.holds.agents {
                let t = &Spanned::new(t.span(), crate::model::normalize_type(t.get_ref()));
                if !phases.iter().any(|p| p.step_of(t.get_ref()).is_some()) && !agents.anywhere.contains(t.get_ref()) {
                    let types = launched_types(&phases);
                    return Err(self.err(
                        t.span(),
                        format!("gate {:?} holds agent type {:?}, which no phase launches", g.name, t.get_ref()),
                        suggest(t.get_ref(), &types, "agent type"),
                    ));
                }
                holds_agents.push(t.get_ref().clone());
            }
            let holds_phases = g
                .holds
                .phases
                .iter()
                .map(|r| self.phase_ref(&phases, r, "holds.phases"))
                .collect::<Result<Vec<_>, _>>()?;
            let back_to =
                g.back_to.iter().map(|r| self.phase_ref(&phases, r, "back_to")).collect::<Result<Vec<_>, _>>()?;
            if let Some(i) = back_to.iter().position(|&b| b >= ask_phase) {
                return Err(self.err(
                    g.back_to[i].span(),
                    format!("back_to names phase {}, which does not come before the ask phase {ask_phase}", back_to[i]),
                    "back_to names earlier phases the run may go back to after a change request",
                ));
            }
            gates.push(Gate {
                name: g.name.clone(),
                ask_phase,
                question: g.question.as_ref().map(|q| self.regex(q)).transpose()?,
                holds_phases,
                holds_agents,
                holds_tools: g.holds.tools.clone(),
                opens,
                words: Words {
                    approve: Self::words(&g.approve),
                    negate: Self::words(&g.negate),
                    hold: Self::words(&g.hold),
                    changes: Self::words(&g.changes),
                    has_changes: !g.changes.is_empty(),
                },
                choice: g.choice.iter().map(|c| self.regex(c)).collect::<Result<_, _>>()?,
                back_to,
            });
        }
        let approach = match &raw.approach {
            None => None,
            Some(ap) => Some(Approach {
                ask_phase: self.phase_ref(&phases, &ap.ask_phase, "ask_phase")?,
                gated_phase: self.phase_ref(&phases, &ap.gated_phase, "gated_phase")?,
            }),
        };
        let todo = match &raw.todo {
            None => None,
            Some(t) => {
                if t.tools.is_empty() {
                    return Err(self.err(
                        t.phase.span(),
                        "[todo] lists no tools".into(),
                        "name the tools that make a todo list: tools = [\"TodoWrite\"]",
                    ));
                }
                Some(Todo {
                    phase: self.phase_ref(&phases, &t.phase, "[todo] phase")?,
                    tools: t.tools.clone(),
                    replace: t.replace.clone(),
                })
            }
        };
        let mut arguments = Vec::new();
        for arg in &raw.argument {
            if arg.read.is_none() && arg.say.is_none() {
                return Err(self.err(
                    arg.flag.span(),
                    format!("argument {:?} requires nothing", arg.flag.get_ref()),
                    "give `read` (a file, with {value}) or `say` (a line, with {value})",
                ));
            }
            arguments.push(Argument { flag: arg.flag.get_ref().clone(), read: arg.read.clone(), say: arg.say.clone() });
        }
        if let (Some(arg), true) = (raw.argument.iter().find(|a| a.read.is_some()), raw.read.is_none()) {
            return Err(self.err(
                arg.flag.span(),
                format!("argument {:?} requires a read, but the file has no [read] table", arg.flag.get_ref()),
                "add [read] with tools = [\"Read\"] (and policy = \"any\" if reading is not restricted)",
            ));
        }
        let read = match &raw.read {
            None => ReadPolicy { tools: Vec::new(), rule: ReadRule::Any },
            Some(r) => ReadPolicy {
                tools: r.tools.clone(),
                rule: match r.policy.get_ref().as_str() {
                    "any" => ReadRule::Any,
                    "named-by-agents" => ReadRule::NamedByAgents,
                    other => {
                        return Err(self.err(
                            r.policy.span(),
                            format!("unknown read policy {other:?}"),
                            "use \"any\" or \"named-by-agents\"",
                        ))
                    }
                },
            },
        };
        let orchestrator = match &raw.orchestrator {
            None => ToolPolicy { shell_tools: Vec::new(), classes: Vec::new(), other_shell: None, entries: Vec::new() },
            Some(o) => {
                let mut classes = Vec::new();
                for (name, patterns) in &o.shell_classes {
                    classes.push(ShellClass {
                        name: name.get_ref().clone(),
                        patterns: patterns.iter().map(|p| self.regex(p)).collect::<Result<_, _>>()?,
                    });
                }
                let check_class = |c: &Spanned<String>| self.shell_class_name(c, &classes, false);
                let mut entries = Vec::new();
                for e in &o.policy {
                    entries.push(PolicyEntry {
                        phases: self.phase_set(&phases, &e.phases, "phases")?,
                        forbid: e.forbid.clone(),
                        forbid_shell: e.forbid_shell.iter().map(check_class).collect::<Result<_, _>>()?,
                        allow: e.allow.clone(),
                        allow_shell: e.allow_shell.iter().map(check_class).collect::<Result<_, _>>()?,
                        after_agents: e.after_agents,
                        reason: e.reason.clone(),
                    });
                }
                let other_shell = match &o.other_shell {
                    Some(s) => self.severity(s, "other_shell", false)?,
                    None => None,
                };
                ToolPolicy { shell_tools: o.shell_tools.clone(), classes, other_shell, entries }
            }
        };
        let agent_policy = self.agent_policy(&raw.agent_policy, &phases, &agents, &orchestrator)?;
        let rule_ids = crate::checks::rule_ids();
        let mut severity = BTreeMap::new();
        for (rule, level) in &raw.severity {
            if crate::checks::rule(rule.get_ref()).is_none() {
                return Err(self.err(
                    rule.span(),
                    format!("unknown rule {:?} in [severity]", rule.get_ref()),
                    suggest(rule.get_ref(), &rule_ids, "rule"),
                ));
            }
            severity.insert(rule.get_ref().clone(), self.severity(level, rule.get_ref(), true)?);
        }
        let mut help = BTreeMap::new();
        for (rule, text) in &raw.help {
            if crate::checks::rule(rule.get_ref()).is_none() {
                return Err(self.err(
                    rule.span(),
                    format!("unknown rule {:?} in [help]", rule.get_ref()),
                    suggest(rule.get_ref(), &rule_ids, "rule"),
                ));
            }
            help.insert(rule.get_ref().clone(), Arc::from(text.as_str()));
        }
        Ok(Workflow {
            name: h.name.get_ref().clone(),
            description: h.description.clone(),
            source_name: self.name.to_string(),
            commands: h.commands.get_ref().clone(),
            launch_tools: h.launch_tools.get_ref().clone(),
            ask_tools: h.ask_tools.clone(),
            agents,
            headers: headers.iter().map(|h| h.get_ref().clone()).collect(),
            detector,
            announcement,
            phases,
            gates,
            approach,
            todo,
            arguments,
            read,
            orchestrator,
            agent_policy,
            help,
            severity,
        })
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .unwrap_or(s.lines().next().unwrap_or(""))
        .trim()
        .to_string()
}

/// "did you mean" for a name, or the list of what is known.
/// The agent types the phases launch (with repeats).
fn launched_types(phases: &[Phase]) -> Vec<&str> {
    phases.iter().flat_map(|p| p.steps.iter().flat_map(|s| s.agents.keys())).map(String::as_str).collect()
}

fn suggest(name: &str, known: &[&str], what: &str) -> String {
    match crate::words::closest(name, known.iter().copied()) {
        Some(k) => format!("did you mean `{k}`?"),
        None if known.is_empty() => format!("no {what} is declared"),
        None => format!("use a {what}: {}", known.join(", ")),
    }
}

fn toml_fix_hint(message: &str) -> String {
    if message.contains("unknown field") {
        "remove or rename the key; docs/rules-language.md lists the keys of every table".into()
    } else if message.contains("missing field") {
        "add the missing key; docs/rules-language.md shows every table with its required keys".into()
    } else if message.contains("invalid type") || message.contains("did not match any variant") {
        "give the value the type docs/rules-language.md shows (string, integer, array or table)".into()
    } else {
        "fix the TOML syntax at the marked place; compare with rules/ml-flow.toml".into()
    }
}

/// The lenient detector of phase starts, from the words that name a phase.
fn detector(keywords: &[(String, bool)]) -> Detector {
    let alternation: Vec<String> = keywords
        .iter()
        .map(|(k, spaced)| format!("{}{}", regex::escape(k), if *spaced { r"\s+" } else { r"\s*" }))
        .collect();
    let words = alternation.join("|");
    Detector {
        of_total: Regex::new(&format!(r"(?i)\b(?:{words})(\d{{1,3}})\s*(?:of\s*|/\s*|\(\s*of\s*)\d{{1,3}}"))
            .expect("escaped keywords form a valid regex"),
        named: Regex::new(&format!(r"(?i)^[\s#>*_`]*(?:{words})(\d{{1,3}})\s*[:\-–—.]\s*\S"))
            .expect("escaped keywords form a valid regex"),
    }
}

/// A regex of a rules file (a question, a choice, a shell class, a word
/// list). It matches as [`Regex`] does (the same engine, syntax, Unicode and
/// leftmost-first semantics), and is built first with the NFA engines only
/// (PikeVM and bounded backtracker): a third of the build time, which is most
/// of a rules file's load (`orchlint guard` loads it at every hook call).
/// Once it has been used [`BUSY`] times, a process that judges many texts
/// (`check` of many sessions, `replay`, `serve`) builds it again with every
/// engine, the lazy DFA among them, and uses that from then on: the same
/// matches, found faster in long texts.
#[derive(Debug)]
pub struct ShortRegex {
    pattern: String,
    nfa: regex_automata::meta::Regex,
    full: std::sync::OnceLock<regex_automata::meta::Regex>,
    uses: std::sync::atomic::AtomicU32,
}

/// Uses after which a [`ShortRegex`] is built with every engine.
const BUSY: u32 = 256;

impl Clone for ShortRegex {
    fn clone(&self) -> ShortRegex {
        ShortRegex {
            pattern: self.pattern.clone(),
            nfa: self.nfa.clone(),
            full: self.full.clone(),
            uses: std::sync::atomic::AtomicU32::new(self.uses.load(std::sync::atomic::Ordering::Relaxed)),
        }
    }
}

impl std::ops::Deref for ShortRegex {
    type Target = regex_automata::meta::Regex;

    fn deref(&self) -> &regex_automata::meta::Regex {
        if let Some(full) = self.full.get() {
            return full;
        }
        if self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < BUSY {
            return &self.nfa;
        }
        // The same pattern built with the defaults cannot fail where the NFA
        // alone was built; were it to, the NFA goes on alone.
        self.full.get_or_init(|| regex_automata::meta::Regex::new(&self.pattern).unwrap_or_else(|_| self.nfa.clone()))
    }
}

/// Builds a [`ShortRegex`]; the error is the one [`Regex::new`] gives.
fn short_regex(pattern: &str) -> Result<ShortRegex, regex::Error> {
    let config = regex_automata::meta::Config::new()
        .hybrid(false)
        .dfa(false)
        .onepass(false)
        .nfa_size_limit(Some(10 * (1 << 20)));
    match regex_automata::meta::Builder::new().configure(config).build(pattern) {
        Ok(nfa) => Ok(ShortRegex {
            pattern: pattern.to_string(),
            nfa,
            full: std::sync::OnceLock::new(),
            uses: std::sync::atomic::AtomicU32::new(0),
        }),
        // Said as the regex crate says it (and it fails the same way).
        Err(e) => Err(Regex::new(pattern).err().unwrap_or_else(|| regex::Error::Syntax(e.to_string()))),
    }
}

/// A case-insensitive whole-word alternation of phrases: a phrase matches
/// where neither side is a word character (Unicode `\w`) or an apostrophe;
/// the match starts at the character before it (or the text's start).
///
/// Written with word-boundary assertions rather than as `(^|[^\w'])…($|[^\w'])`,
/// which matches the same: a phrase that starts with a word character has a
/// boundary (`\b`) before it where the character before is none, one that
/// starts with another character has none (`\B`), and likewise at its end;
/// what is left to say of the neighbours is that they are no apostrophe.
/// Classes of all Unicode word characters are most of such a regex's build.
fn words_regex(words: &[String]) -> ShortRegex {
    let edge = |c: Option<char>| if c.is_some_and(regex_syntax::is_word_character) { r"\b" } else { r"\B" };
    let alternation: Vec<String> = words
        .iter()
        .map(|w| {
            let escaped = regex::escape(w).replace("\\ ", r"\s+").replace(' ', r"\s+");
            format!("{}{escaped}{}", edge(w.chars().next()), edge(w.chars().last()))
        })
        .collect();
    let pattern = if alternation.is_empty() {
        r"[^\s\S]".to_string()
    } else {
        format!(r"(^|[^'])(?i:({}))($|[^'])", alternation.join("|"))
    };
    short_regex(&pattern).expect("escaped words form a valid regex")
}

/// A word list's regex, built the first time a reply is judged with it: a
/// list matches whole words by Unicode word characters, which makes its
/// regex costly to build (most of a rules file's load time), and most lists
/// of a workflow are never needed by one run, nor by one guard call.
#[derive(Debug, Clone)]
pub struct WordList {
    words: Vec<String>,
    regex: std::sync::OnceLock<ShortRegex>,
}

impl WordList {
    fn new(words: &[String]) -> WordList {
        WordList { words: words.to_vec(), regex: std::sync::OnceLock::new() }
    }
}

impl std::ops::Deref for WordList {
    type Target = ShortRegex;

    fn deref(&self) -> &ShortRegex {
        self.regex.get_or_init(|| words_regex(&self.words))
    }
}

// ---------------------------------------------------------------------------
// Several workflows at once.

/// The workflows in play: the bundled ones and the user's rules files. A user
/// file whose workflow has the name of a bundled one replaces it.
#[derive(Debug, Clone)]
pub struct Workflows {
    pub list: Vec<Arc<Workflow>>,
}

impl Workflows {
    /// The bundled workflows.
    pub fn builtin() -> Workflows {
        static BUILTIN: std::sync::LazyLock<Vec<Arc<Workflow>>> = std::sync::LazyLock::new(|| {
            BUNDLED
                .iter()
                .map(|(name, text)| {
                    Arc::new(
                        Workflow::parse(text, &format!("{name} (bundled)")).expect("the bundled rules files are valid"),
                    )
                })
                .collect()
        });
        Workflows { list: BUILTIN.clone() }
    }

    /// One workflow alone.
    pub fn only(wf: Workflow) -> Workflows {
        Workflows { list: vec![Arc::new(wf)] }
    }

    /// Adds a workflow, replacing one of the same name.
    pub fn add(&mut self, wf: Workflow) {
        match self.list.iter().position(|w| w.name == wf.name) {
            Some(i) => self.list[i] = Arc::new(wf),
            None => self.list.push(Arc::new(wf)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Workflow>> {
        self.list.iter().find(|w| w.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.list.iter().map(|w| w.name.as_str()).collect()
    }

    /// Keeps only the named workflow (`--workflow NAME`).
    pub fn narrow(&mut self, name: &str) -> Result<(), NoSuchWorkflow> {
        match self.get(name) {
            Some(wf) => {
                self.list = vec![wf.clone()];
                Ok(())
            }
            None => Err(NoSuchWorkflow {
                name: name.to_string(),
                help: match crate::words::closest(name, self.names()) {
                    Some(n) => format!("did you mean `{n}`? the workflows are: {}", self.names().join(", ")),
                    None => format!("the workflows are: {}", self.names().join(", ")),
                },
            }),
        }
    }

    /// The workflow a command starts, if any (its index).
    pub fn for_command(&self, command: &str) -> Option<usize> {
        self.list.iter().position(|w| w.commands.iter().any(|c| c == command))
    }

    /// Whether a tool is the delegation tool of any workflow.
    pub fn is_launch_tool(&self, name: &str) -> bool {
        self.list.iter().any(|w| w.is_launch_tool(name))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.list.iter()
    }
}

impl std::ops::Index<usize> for Workflows {
    type Output = Workflow;
    fn index(&self, i: usize) -> &Workflow {
        &self.list[i]
    }
}

/// Splits `ns:type` into the namespace and the agent type.
pub fn split_type(raw: &str) -> (Option<&str>, &str) {
    match raw.rsplit_once(':') {
        Some((ns, ty)) => (Some(ns), ty),
        None => (None, raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-list regex as it was written first: classes of word
    /// characters on both sides.
    fn words_by_classes(words: &[String]) -> Regex {
        let alternation: Vec<String> =
            words.iter().map(|w| regex::escape(w).replace("\\ ", r"\s+").replace(' ', r"\s+")).collect();
        Regex::new(&format!(r"(?i)(^|[^\w'])({})($|[^\w'])", alternation.join("|"))).unwrap()
    }

    type Spans = Vec<(usize, usize)>;

    /// The matches of both regexes.
    fn starts(words: &[String], text: &str) -> (Spans, Spans) {
        let by_classes = words_by_classes(words).find_iter(text).map(|m| (m.start(), m.end())).collect();
        let by_edges = words_regex(words).find_iter(text).map(|m| (m.start(), m.end())).collect();
        (by_classes, by_edges)
    }

    #[test]
    fn word_lists_match_where_the_class_regex_does() {
        let words: Vec<String> =
            ["yes", "ok", "go ahead", "don't", "👍", "+1", "'s", "ship it!", "sí", "Straße"].map(String::from).to_vec();
        for text in [
            "yes",
            "Yes, go  ahead.",
            "yes yes yes",
            "yesterday",
            "okay ok",
            "I don't know",
            "dont",
            "👍👍",
            "a👍b",
            "+1",
            "x+1",
            "it's",
            "'s'",
            "SHIP IT!",
            "ship it!!",
            "sí señor",
            "síx",
            "STRASSE straße",
            "_yes_",
            "yes'",
            "'yes",
            "é yes é",
            "日本yes",
            "yes\n",
        ] {
            let (a, b) = starts(&words, text);
            assert_eq!(a, b, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn word_lists_match_as_the_class_regex_on_any_text(
            words in proptest::collection::vec("[a-zA-Z'+ é👍_]{1,6}", 1..5),
            text in "[a-zA-Z'+ é👍_.,\n]{0,40}",
        ) {
            let words: Vec<String> = words.into_iter().filter(|w| !w.trim().is_empty()).collect();
            proptest::prop_assume!(!words.is_empty());
            let (a, b) = starts(&words, &text);
            proptest::prop_assert_eq!(a, b);
        }
    }

    /// A regex used [`BUSY`] times more, which then has every engine.
    fn busy(re: &ShortRegex) -> &ShortRegex {
        for _ in 0..=BUSY {
            let _ = re.is_match("");
        }
        assert!(re.full.get().is_some(), "built again with every engine");
        re
    }

    fn spans(re: &regex_automata::meta::Regex, text: &str) -> Spans {
        re.find_iter(text).map(|m| (m.start(), m.end())).collect()
    }

    #[test]
    fn a_busy_regex_is_built_again_and_matches_the_same() {
        let words: Vec<String> = ["yes", "go ahead", "👍", "'s", "sí"].map(String::from).to_vec();
        let texts = ["yes, go  ahead", "日本yes sí", "👍👍 it's", "yesterday", "_yes_ é yes é"];
        let re = words_regex(&words);
        let nfa: Vec<Spans> = texts.iter().map(|t| spans(&re, t)).collect();
        assert!(re.full.get().is_none(), "still the NFA after {} uses", texts.len());
        let re = busy(&re);
        let full: Vec<Spans> = texts.iter().map(|t| spans(re, t)).collect();
        assert_eq!(nfa, full);
        assert_eq!(full[0], vec![(0, 4), (4, 14)]);
        // A clone keeps what was built.
        assert!(re.clone().full.get().is_some());
    }

    proptest::proptest! {
        #[test]
        fn a_busy_regex_matches_as_the_nfa_on_any_text(
            words in proptest::collection::vec("[a-zA-Z'+ é👍_]{1,6}", 1..5),
            texts in proptest::collection::vec("[a-zA-Z'+ é👍_.,\n]{0,40}", 1..4),
        ) {
            let words: Vec<String> = words.into_iter().filter(|w| !w.trim().is_empty()).collect();
            proptest::prop_assume!(!words.is_empty());
            let re = words_regex(&words);
            let nfa: Vec<Spans> = texts.iter().map(|t| spans(&re.nfa, t)).collect();
            let full: Vec<Spans> = texts.iter().map(|t| spans(busy(&re), t)).collect();
            proptest::prop_assert_eq!(nfa, full);
        }
    }

    #[test]
    fn bundled_rules_compile() {
        let wfs = Workflows::builtin();
        let wf = wfs.get("ml-flow").unwrap();
        assert_eq!(wf.total_phases(), 12);
        assert_eq!(wf.phase(5).unwrap().steps.len(), 2);
        assert_eq!(wf.phase(1).unwrap().steps[0].agents["ml-explorer"], Count { min: 1, max: 2 });
        assert_eq!(wf.gates[0].ask_phase, 6);
        assert_eq!(wf.gates[0].back_to, vec![4, 5]);
        let fd = wfs.get("feature-dev").unwrap();
        assert_eq!(fd.total_phases(), 7);
        assert_eq!(fd.gates.len(), 3);
        assert!(fd.announcement.is_none());
        assert_eq!(fd.orchestrator.entries[0].phases, vec![1, 2, 3, 4]);
    }

    #[test]
    fn shell_classes_keep_their_written_order() {
        let wf = Workflow::builtin();
        let names: Vec<&str> = wf.orchestrator.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["test", "edit", "explore"]);
    }

    #[test]
    fn unknown_key_names_line_and_fix() {
        let text = DEFAULT_RULES.replace("namespace = \"ml-flow\"", "namespase = \"ml-flow\"");
        let err = Workflow::parse(&text, "r.toml").unwrap_err();
        assert!(err.message.contains("namespase"), "{}", err.message);
        assert_eq!(err.line, Some(text.lines().position(|l| l.starts_with("namespase")).unwrap() + 1));
        assert!(err.help.unwrap().contains("remove or rename"));
    }

    #[test]
    fn bad_count_is_reported_at_its_line() {
        let text = DEFAULT_RULES.replace("ml-architect = \"3\"", "ml-architect = \"three\"");
        let err = Workflow::parse(&text, "r.toml").unwrap_err();
        assert!(err.message.contains("three"));
        assert_eq!(err.line, Some(text.lines().position(|l| l.contains("\"three\"")).unwrap() + 1));
        assert!(err.help.unwrap().contains("MIN+"));
    }

    #[test]
    fn counts_read_all_three_forms() {
        let c = Compiler { text: "", name: "t" };
        let count = |s: &str| c.count(&Spanned::new(0..0, s.to_string())).map(|c| c.describe()).ok();
        assert_eq!(count("3"), Some("3".into()));
        assert_eq!(count("1-2"), Some("1-2".into()));
        assert_eq!(count("2+"), Some("2+".into()));
        assert_eq!(count("3-1"), None);
        assert_eq!(count("0"), None);
        assert_eq!(count("x+"), None);
    }

    #[test]
    fn unknown_phase_name_suggests_the_closest() {
        let text = DEFAULT_RULES.replace("ask_phase = \"Design Approval\"", "ask_phase = \"Design Aproval\"");
        let err = Workflow::parse(&text, "r.toml").unwrap_err();
        assert!(err.message.contains("Design Aproval"), "{}", err.message);
        assert!(err.help.unwrap().contains("did you mean `Design Approval`"));
    }

    #[test]
    fn bad_regex_is_reported() {
        let text = DEFAULT_RULES.replace(r"'^tox\b'", r"'^tox\b('");
        let err = Workflow::parse(&text, "r.toml").unwrap_err();
        assert!(err.message.contains("invalid regex"), "{}", err.message);
        assert_eq!(err.line, Some(text.lines().position(|l| l.contains(r"'^tox\b('")).unwrap() + 1));
    }

    #[test]
    fn severity_off_is_accepted() {
        let text = DEFAULT_RULES.replace("todo-list = \"warning\"", "todo-list = \"off\"");
        let wf = Workflow::parse(&text, "r.toml").unwrap();
        assert!(!wf.uses("todo-list"));
    }

    #[test]
    fn phase_sets_read_ranges_and_names() {
        let wfs = Workflows::builtin();
        let wf = wfs.get("ml-flow").unwrap();
        assert_eq!(wf.orchestrator.entries[1].phases, vec![9, 10, 11]);
        assert_eq!(wf.orchestrator.entries[0].phases.len(), 12);
    }

    #[test]
    fn words_match_whole_words_only() {
        let re = words_regex(&["ok".into(), "go ahead".into()]);
        assert!(re.is_match("OK, do it"));
        assert!(re.is_match("please go  ahead"));
        assert!(!re.is_match("look at the token"));
    }

    #[test]
    fn policy_decides_by_phase_and_return() {
        let wf = Workflow::builtin();
        let p = &wf.orchestrator;
        assert_eq!(p.tool(2, true, "Grep"), Verdict::Forbidden(Some("exploring and editing code is the agents' work")));
        assert_eq!(p.tool(2, true, "Read"), Verdict::Allowed);
        assert_eq!(p.shell_class(9, true, "test"), Verdict::Allowed);
        assert_eq!(p.shell_class(9, false, "test"), Verdict::NotYet);
        assert_eq!(p.shell_class(2, true, "test"), Verdict::Unmentioned);
        assert_eq!(p.class_of("pytest -q"), Some("test"));
        assert_eq!(p.class_of("grep -rn x ."), Some("explore"));
        assert_eq!(p.class_of("echo hi"), None);
    }
}
