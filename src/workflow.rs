//! The workflow definition: `rules/ml-flow.toml` and its compiled form.
//!
//! Loading happens in two steps: a raw serde form that rejects unknown keys,
//! then a compiled [`Workflow`] with regexes built and names resolved. Every
//! failure is a [`WorkflowError`] naming the file, the place and a likely fix.

// A rules error is built once, on the way out of the program; its size does not matter.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};
use regex::Regex;
use serde::Deserialize;
use thiserror::Error;

/// The rules file compiled into the binary.
pub const DEFAULT_RULES: &str = include_str!("../rules/ml-flow.toml");
/// The name the embedded rules file is reported under.
pub const DEFAULT_RULES_NAME: &str = "rules/ml-flow.toml (built in)";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflowFile {
    workflow: RawHeader,
    announcement: RawAnnouncement,
    phase: Vec<RawPhase>,
    approval: RawApproval,
    approach: RawApproach,
    todo: RawTodo,
    capsule: RawCapsule,
    tools: RawTools,
    #[serde(default)]
    help: BTreeMap<String, String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    commands: Vec<String>,
    namespace: String,
    launch_tools: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnnouncement {
    header: String,
    next: String,
    next_last: String,
    agents: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    number: u8,
    name: String,
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    agents: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    ask_phase: u8,
    question: String,
    gated_phase: u8,
    gated_agents: Vec<String>,
    approve: Vec<String>,
    negate: Vec<String>,
    hold: Vec<String>,
    changes: Vec<String>,
    back_edge_to: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproach {
    compare_phase: u8,
    gated_phase: u8,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTodo {
    phase: u8,
    tools: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCapsule {
    arg: String,
    path: String,
    announce: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTools {
    forbidden: Vec<String>,
    read: Vec<String>,
    shell: Vec<String>,
    shell_forbidden: Vec<String>,
    shell_tests: Vec<String>,
    test_phases: Vec<u8>,
}

/// An error in a settings file (the rules file, `orchlint.toml`), with its
/// place and a likely fix.
#[derive(Debug, Error, Diagnostic)]
#[error("invalid {kind} {file}: {message}")]
#[diagnostic(code(orchlint::settings))]
pub struct SettingsError {
    /// "rules file" or "config".
    pub kind: &'static str,
    pub file: String,
    pub message: String,
    #[source_code]
    pub src: Option<NamedSource<String>>,
    #[label("here")]
    pub span: Option<SourceSpan>,
    #[help]
    pub help: Option<String>,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
}

impl SettingsError {
    /// An error at a byte range of a settings file's text.
    pub fn at(
        kind: &'static str,
        name: &str,
        text: &str,
        span: Option<std::ops::Range<usize>>,
        message: String,
        help: String,
    ) -> SettingsError {
        let line = span.as_ref().map(|s| line_of(text, s.start));
        SettingsError {
            kind,
            file: name.to_string(),
            message,
            src: Some(NamedSource::new(name, text.to_string())),
            span: span.map(|s| SourceSpan::from(s.start..s.end.max(s.start + 1).min(text.len().max(1)))),
            help: Some(help),
            line,
        }
    }

    /// A file that could not be read at all.
    pub fn unreadable(kind: &'static str, path: &Path, e: &std::io::Error, help: &str) -> SettingsError {
        SettingsError {
            kind,
            file: path.display().to_string(),
            message: format!("cannot read it: {e}"),
            src: None,
            span: None,
            help: Some(help.to_string()),
            line: None,
        }
    }
}

/// The error type of rules files.
pub type WorkflowError = SettingsError;

/// How many agents of one type a step takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub min: u32,
    pub max: u32,
}

impl Count {
    pub fn describe(&self) -> String {
        if self.min == self.max {
            self.min.to_string()
        } else {
            format!("{}-{}", self.min, self.max)
        }
    }
}

/// One launch step of a phase: every agent in one message.
#[derive(Debug, Clone)]
pub struct Step {
    pub agents: BTreeMap<String, Count>,
}

/// One phase of the workflow.
#[derive(Debug, Clone)]
pub struct Phase {
    pub number: u8,
    pub name: String,
    pub steps: Vec<Step>,
}

impl Phase {
    /// The step (0-based) that launches agents of this type, if any.
    pub fn step_of(&self, agent_type: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.agents.contains_key(agent_type))
    }
}

/// Approval gate settings.
#[derive(Debug, Clone)]
pub struct Approval {
    pub ask_phase: u8,
    pub question: Regex,
    pub gated_phase: u8,
    pub gated_agents: Vec<String>,
    pub approve: Regex,
    pub negate: Regex,
    pub hold: Regex,
    pub changes: Regex,
    pub back_edge_to: Vec<u8>,
}

/// Tool policy of the orchestrator.
#[derive(Debug, Clone)]
pub struct ToolPolicy {
    pub forbidden: Vec<String>,
    pub read: Vec<String>,
    pub shell: Vec<String>,
    pub shell_forbidden: Vec<Regex>,
    pub shell_tests: Vec<Regex>,
    pub test_phases: Vec<u8>,
}

/// The compiled workflow definition.
#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    pub source_name: String,
    pub commands: Vec<String>,
    pub namespace: String,
    pub launch_tools: Vec<String>,
    pub header_format: String,
    pub next_format: String,
    pub next_last: String,
    pub agents_prefix: String,
    pub phases: Vec<Phase>,
    pub approval: Approval,
    pub compare_phase: u8,
    pub approach_gated_phase: u8,
    pub todo_phase: u8,
    pub todo_tools: Vec<String>,
    pub capsule_arg: String,
    pub capsule_path: String,
    pub capsule_announce: String,
    pub tools: ToolPolicy,
    pub help: BTreeMap<String, std::sync::Arc<str>>,
    pub severity: BTreeMap<String, crate::diagnostic::Severity>,
}

impl Workflow {
    /// The built-in ml-flow workflow.
    pub fn builtin() -> Workflow {
        Workflow::parse(DEFAULT_RULES, DEFAULT_RULES_NAME).expect("the built-in rules file is valid")
    }

    /// Loads a rules file from disk.
    pub fn load(path: &Path) -> Result<Workflow, WorkflowError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SettingsError::unreadable("rules file", path, &e, "check the path given to --rules"))?;
        Workflow::parse(&text, &path.display().to_string())
    }

    /// Parses and compiles a rules file.
    pub fn parse(text: &str, name: &str) -> Result<Workflow, WorkflowError> {
        let raw: RawWorkflowFile = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            SettingsError::at("rules file", name, text, e.span(), message, toml_fix_hint(e.message()))
        })?;
        compile(raw, text, name)
    }

    pub fn phase(&self, number: u8) -> Option<&Phase> {
        self.phases.iter().find(|p| p.number == number)
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
    pub fn help_shared(&self, rule: &str) -> Option<std::sync::Arc<str>> {
        self.help.get(rule).cloned()
    }

    /// Splits `ns:type` into the namespace and the agent type.
    pub fn split_type<'a>(&self, raw: &'a str) -> (Option<&'a str>, &'a str) {
        match raw.rsplit_once(':') {
            Some((ns, ty)) => (Some(ns), ty),
            None => (None, raw),
        }
    }

    /// The phase announcement header the workflow expects for a phase.
    pub fn expected_header(&self, phase: &Phase) -> String {
        self.header_format
            .replace("{n}", &phase.number.to_string())
            .replace("{total}", &self.total_phases().to_string())
            .replace("{name}", &phase.name)
    }

    /// The `Next:` line expected after the header of a phase.
    pub fn expected_next(&self, phase: &Phase) -> String {
        match self.phase(phase.number + 1) {
            Some(next) => self.next_format.replace("{n}", &next.number.to_string()).replace("{name}", &next.name),
            None => self.next_last.clone(),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn toml_fix_hint(message: &str) -> String {
    if message.contains("unknown field") {
        "remove or rename the key; the keys each table takes are listed in rules/ml-flow.toml".into()
    } else if message.contains("missing field") {
        "add the missing key; rules/ml-flow.toml shows every table with all of its keys".into()
    } else if message.contains("invalid type") {
        "give the value the type shown in rules/ml-flow.toml (string, integer, array or table)".into()
    } else {
        "fix the TOML syntax at the marked place; compare with rules/ml-flow.toml".into()
    }
}

fn key_error(text: &str, name: &str, key: &str, message: String, help: &str) -> WorkflowError {
    let at = text.find(key).unwrap_or(0);
    SettingsError::at("rules file", name, text, Some(at..at + key.len()), message, help.to_string())
}

fn compile_regex(text: &str, name: &str, pattern: &str) -> Result<Regex, WorkflowError> {
    Regex::new(pattern).map_err(|e| {
        key_error(
            text,
            name,
            pattern,
            format!("invalid regex {pattern:?}: {e}"),
            "fix the regular expression (syntax of the Rust regex crate); in TOML use single quotes so backslashes stay as written",
        )
    })
}

/// A case-insensitive whole-word alternation of phrases.
fn words_regex(words: &[String]) -> Regex {
    let alternation: Vec<String> =
        words.iter().map(|w| regex::escape(w).replace("\\ ", r"\s+").replace(' ', r"\s+")).collect();
    let pattern = if alternation.is_empty() {
        r"[^\s\S]".to_string()
    } else {
        format!(r"(?i)(^|[^\w']){}($|[^\w'])", format_args!("({})", alternation.join("|")))
    };
    Regex::new(&pattern).expect("escaped words form a valid regex")
}

fn parse_count(text: &str, name: &str, raw: &str) -> Result<Count, WorkflowError> {
    let bad = || {
        key_error(
            text,
            name,
            raw,
            format!("invalid agent count {raw:?}"),
            "write a count as \"N\" or \"MIN-MAX\", for example \"3\" or \"1-2\"",
        )
    };
    let (min, max) = match raw.split_once('-') {
        Some((a, b)) => (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?),
        None => {
            let n = raw.trim().parse().map_err(|_| bad())?;
            (n, n)
        }
    };
    if min > max {
        return Err(bad());
    }
    Ok(Count { min, max })
}

fn compile(raw: RawWorkflowFile, text: &str, name: &str) -> Result<Workflow, WorkflowError> {
    let mut phases = Vec::with_capacity(raw.phase.len());
    for (i, p) in raw.phase.iter().enumerate() {
        if p.number as usize != i + 1 {
            return Err(key_error(
                text,
                name,
                &format!("number = {}", p.number),
                format!("phase {} is listed at position {}", p.number, i + 1),
                "list the [[phase]] tables in order, numbered 1, 2, 3, …",
            ));
        }
        let mut steps = Vec::new();
        for s in &p.steps {
            let mut agents = BTreeMap::new();
            for (ty, count) in &s.agents {
                agents.insert(ty.clone(), parse_count(text, name, count)?);
            }
            steps.push(Step { agents });
        }
        phases.push(Phase { number: p.number, name: p.name.clone(), steps });
    }
    if phases.is_empty() {
        return Err(key_error(
            text,
            name,
            "[workflow]",
            "the workflow has no phases".into(),
            "add [[phase]] tables with number, name and steps",
        ));
    }
    let known_phase = |n: u8, key: &str| -> Result<u8, WorkflowError> {
        if n >= 1 && n as usize <= phases.len() {
            Ok(n)
        } else {
            Err(key_error(
                text,
                name,
                key,
                format!("{key} names phase {n}, which does not exist"),
                "name a phase number listed in the [[phase]] tables",
            ))
        }
    };
    let a = &raw.approval;
    known_phase(a.ask_phase, "ask_phase")?;
    known_phase(a.gated_phase, "gated_phase")?;
    for &b in &a.back_edge_to {
        known_phase(b, "back_edge_to")?;
    }
    known_phase(raw.approach.compare_phase, "compare_phase")?;
    known_phase(raw.todo.phase, "[todo]")?;
    let mut severity = BTreeMap::new();
    for (rule, level) in &raw.severity {
        if !crate::checks::RULES.iter().any(|r| r.id == rule) {
            return Err(key_error(
                text,
                name,
                rule,
                format!("unknown rule {rule:?} in [severity]"),
                &format!("use one of: {}", crate::checks::rule_ids().join(", ")),
            ));
        }
        let level = crate::diagnostic::Severity::parse(level).ok_or_else(|| {
            key_error(
                text,
                name,
                level,
                format!("unknown severity {level:?} for {rule}"),
                "use \"error\", \"warning\" or \"note\"",
            )
        })?;
        severity.insert(rule.clone(), level);
    }
    for rule in raw.help.keys() {
        if !crate::checks::RULES.iter().any(|r| r.id == rule) {
            return Err(key_error(
                text,
                name,
                rule,
                format!("unknown rule {rule:?} in [help]"),
                &format!("use one of: {}", crate::checks::rule_ids().join(", ")),
            ));
        }
    }
    let compile_all = |patterns: &[String]| -> Result<Vec<Regex>, WorkflowError> {
        patterns.iter().map(|p| compile_regex(text, name, p)).collect()
    };
    Ok(Workflow {
        name: raw.workflow.name,
        source_name: name.to_string(),
        commands: raw.workflow.commands,
        namespace: raw.workflow.namespace,
        launch_tools: raw.workflow.launch_tools,
        header_format: raw.announcement.header,
        next_format: raw.announcement.next,
        next_last: raw.announcement.next_last,
        agents_prefix: raw.announcement.agents,
        phases,
        approval: Approval {
            ask_phase: a.ask_phase,
            question: compile_regex(text, name, &a.question)?,
            gated_phase: a.gated_phase,
            gated_agents: a.gated_agents.clone(),
            approve: words_regex(&a.approve),
            negate: words_regex(&a.negate),
            hold: words_regex(&a.hold),
            changes: words_regex(&a.changes),
            back_edge_to: a.back_edge_to.clone(),
        },
        compare_phase: raw.approach.compare_phase,
        approach_gated_phase: raw.approach.gated_phase,
        todo_phase: raw.todo.phase,
        todo_tools: raw.todo.tools,
        capsule_arg: raw.capsule.arg,
        capsule_path: raw.capsule.path,
        capsule_announce: raw.capsule.announce,
        tools: ToolPolicy {
            forbidden: raw.tools.forbidden,
            read: raw.tools.read,
            shell: raw.tools.shell,
            shell_forbidden: compile_all(&raw.tools.shell_forbidden)?,
            shell_tests: compile_all(&raw.tools.shell_tests)?,
            test_phases: raw.tools.test_phases,
        },
        help: raw.help.into_iter().map(|(k, v)| (k, std::sync::Arc::from(v))).collect(),
        severity,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile() {
        let wf = Workflow::builtin();
        assert_eq!(wf.total_phases(), 12);
        assert_eq!(wf.phase(5).unwrap().steps.len(), 2);
        assert_eq!(wf.phase(1).unwrap().steps[0].agents["ml-explorer"], Count { min: 1, max: 2 });
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
    fn bad_count_is_reported() {
        let text = DEFAULT_RULES.replace("ml-architect = \"3\"", "ml-architect = \"three\"");
        let err = Workflow::parse(&text, "r.toml").unwrap_err();
        assert!(err.message.contains("three"));
        assert!(err.help.unwrap().contains("MIN-MAX"));
    }

    #[test]
    fn bad_regex_is_reported() {
        let text = DEFAULT_RULES.replace(r"'^tox\b'", r"'^tox\b('");
        let err = Workflow::parse(&text, "r.toml").unwrap_err();
        assert!(err.message.contains("invalid regex"), "{}", err.message);
    }

    #[test]
    fn words_match_whole_words_only() {
        let re = words_regex(&["ok".into(), "go ahead".into()]);
        assert!(re.is_match("OK, do it"));
        assert!(re.is_match("please go  ahead"));
        assert!(!re.is_match("look at the token"));
    }
}
