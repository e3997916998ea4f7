//! Mocked agent backends: what answers a launch during a replay.
//!
//! - [`Recorded`] answers from a cassette (extracted from the transcript
//!   itself, another transcript, or a cassette file);
//! - [`Scripted`] answers from a hand-written script: agent type and prompt
//!   pattern → response, with an optional delay or failure;
//! - [`Faulty`] wraps either and makes chosen launches fail, return nothing
//!   or never return.
//!
//! Matching is strict: a launch a backend cannot answer is [`Unmatched`],
//! which the replay reports as a divergence.

use std::fmt;
use std::sync::Arc;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::cassette::Cassette;
use crate::model::{normalize_type, ReturnStatus};

/// A launch as the backend sees it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// 1-based launch number in the session.
    pub launch: usize,
    /// `subagent_type` as written.
    pub subagent_type: &'a str,
    /// The type without namespace, normalized.
    pub agent_type: &'a str,
    pub prompt: &'a str,
    pub background: bool,
    /// The workflow phase the launch was made in, when known.
    pub phase: Option<u8>,
}

/// How a launch ends in the replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The agent reports this text.
    Report(Arc<str>),
    /// The agent fails with this text.
    Error(Arc<str>),
    /// The agent returns an empty report.
    Empty,
    /// The agent never returns.
    Never,
}

impl Outcome {
    pub fn status(&self) -> Option<ReturnStatus> {
        match self {
            Outcome::Report(_) | Outcome::Empty => Some(ReturnStatus::Completed),
            Outcome::Error(_) => Some(ReturnStatus::Error),
            Outcome::Never => None,
        }
    }

    pub fn response(&self) -> &str {
        match self {
            Outcome::Report(t) | Outcome::Error(t) => t,
            Outcome::Empty | Outcome::Never => "",
        }
    }

    /// The response, shared.
    pub fn shared_response(&self) -> Arc<str> {
        match self {
            Outcome::Report(t) | Outcome::Error(t) => t.clone(),
            Outcome::Empty | Outcome::Never => Arc::from(""),
        }
    }
}

/// A backend's answer to a launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: Outcome,
    /// Scheduling ticks before the result is ready: among agents running at
    /// the same time, smaller delays complete first.
    pub delay: u32,
    /// Where the answer came from, for reports: `cassette entry 3`, …
    pub origin: String,
    /// The result arrives only after the decision that saw it in the recording.
    pub late: bool,
}

/// A launch the backend has no answer for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// Why, in a sentence.
    pub reason: String,
    /// The closest candidate's prompt, when one of the same type exists.
    pub closest: Option<String>,
}

/// Answers launches. Called once per launch, in launch order.
pub trait Backend {
    fn answer(&mut self, request: &Request<'_>) -> Result<Answer, Unmatched>;
}

/// How strictly launches are matched to answers, and answers to what the
/// recording saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Match {
    /// Same `subagent_type` and byte-identical prompt; reports compared byte for byte.
    #[default]
    Exact,
    /// Same agent type (in the same phase) and the same prompt once
    /// normalized (whitespace, ids); reports likewise.
    Normalized,
    /// Same agent type in the same phase, in order; prompts and report texts
    /// not compared.
    Type,
}

impl Match {
    /// Whether two texts count as the same under this mode.
    pub fn same_text(self, a: &str, b: &str) -> bool {
        match self {
            Match::Exact => a == b,
            Match::Normalized => normalize(a) == normalize(b),
            Match::Type => true,
        }
    }

    fn same_type(self, request: &Request<'_>, subagent_type: &str) -> bool {
        match self {
            Match::Exact => request.subagent_type == subagent_type,
            Match::Normalized | Match::Type => {
                request.agent_type == normalize_type(subagent_type.rsplit(':').next().unwrap_or(subagent_type))
            }
        }
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Match::Exact => "exact",
            Match::Normalized => "normalized",
            Match::Type => "type",
        })
    }
}

/// Text compared under `--match normalized`: whitespace runs as one space,
/// trimmed; ids as `<id>` (UUIDs, `toolu_…`/`msg_…`/`req_…` tokens,
/// `agent-` and 6+ hex digits, runs of 7+ hex characters with both digits
/// and letters); case kept.
pub fn normalize(text: &str) -> String {
    use std::sync::LazyLock;
    static IDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?x)
            \b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b
            | \b(?:toolu|msg|req)_[A-Za-z0-9]+\b
            | \bagent-[0-9a-f]{6,}\b
            | \b[0-9a-f]{7,}\b",
        )
        .expect("the id pattern compiles")
    });
    let spaced = text.split_whitespace().collect::<Vec<_>>().join(" ");
    IDS.replace_all(&spaced, |c: &regex::Captures<'_>| {
        let m = &c[0];
        // A hex run is an id only with both digits and letters: not 1000000, not "effaced".
        let hex_only = m.bytes().all(|b| b.is_ascii_hexdigit());
        if hex_only && !(m.bytes().any(|b| b.is_ascii_digit()) && m.bytes().any(|b| b.is_ascii_alphabetic())) {
            m.to_string()
        } else {
            "<id>".to_string()
        }
    })
    .into_owned()
}

/// Answers from a cassette: each entry answers one launch, the first unused
/// entry that matches.
pub struct Recorded {
    cassette: Cassette,
    used: Vec<bool>,
    matching: Match,
    name: String,
}

impl Recorded {
    pub fn new(cassette: Cassette, matching: Match, name: impl Into<String>) -> Recorded {
        let used = vec![false; cassette.entries.len()];
        Recorded { cassette, used, matching, name: name.into() }
    }
}

impl Backend for Recorded {
    fn answer(&mut self, request: &Request<'_>) -> Result<Answer, Unmatched> {
        let m = self.matching;
        // Loose modes keep to the launch's phase where both sides know it.
        let same_phase = |e: &crate::cassette::Entry| {
            m == Match::Exact || request.phase.is_none() || e.phase.is_none() || e.phase == request.phase
        };
        let found = self.cassette.entries.iter().enumerate().position(|(i, e)| {
            !self.used[i]
                && m.same_type(request, &e.subagent_type)
                && same_phase(e)
                && m.same_text(request.prompt, e.prompt.as_deref().unwrap_or(""))
        });
        let Some(i) = found else {
            let closest = self
                .cassette
                .entries
                .iter()
                .enumerate()
                .find(|(i, e)| !self.used[*i] && Match::Type.same_type(request, &e.subagent_type) && same_phase(e))
                .and_then(|(_, e)| e.prompt.clone());
            let unused = self.used.iter().filter(|u| !**u).count();
            let what = match (m, request.phase) {
                (Match::Exact, _) => "with this prompt".to_string(),
                (Match::Type, Some(p)) => format!("in phase {p}"),
                (Match::Type, None) => "any more".to_string(),
                (Match::Normalized, Some(p)) => format!("in phase {p} with this prompt"),
                (Match::Normalized, None) => "with this prompt".to_string(),
            };
            return Err(Unmatched {
                reason: format!(
                    "no unused entry of {} matches {} {what} (--match {m}; {unused} of {} entries unused)",
                    self.name,
                    request.subagent_type,
                    self.cassette.entries.len()
                ),
                closest,
            });
        };
        self.used[i] = true;
        let e = &self.cassette.entries[i];
        let outcome = match e.status {
            ReturnStatus::Completed if e.response.is_empty() => Outcome::Empty,
            ReturnStatus::Completed => Outcome::Report(Arc::from(e.response.as_str())),
            ReturnStatus::Error => Outcome::Error(Arc::from(e.response.as_str())),
            ReturnStatus::Outstanding | ReturnStatus::Missing => Outcome::Never,
        };
        Ok(Answer { outcome, delay: 0, origin: format!("{} entry {}", self.name, e.launch), late: false })
    }
}

/// A hand-written script of agent answers (TOML):
///
/// ```toml
/// [[agent]]
/// type = "ml-explorer"          # agent type, namespace optional
/// prompt = "(?i)data loading"   # regex over the launch prompt; optional
/// response = "Findings: …"
/// status = "completed"          # completed | error | empty | timeout
/// delay = 2                     # scheduling ticks; optional
/// times = 1                     # how many launches it answers; unlimited if absent
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(default)]
    pub agent: Vec<ScriptEntry>,
}

/// One answer of a script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptEntry {
    #[serde(rename = "type")]
    pub agent_type: String,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub response: String,
    #[serde(default)]
    pub status: ScriptStatus,
    #[serde(default)]
    pub delay: u32,
    #[serde(default)]
    pub times: Option<u32>,
}

/// How a scripted agent ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptStatus {
    #[default]
    Completed,
    Error,
    Empty,
    Timeout,
}

/// Answers from a script: the first entry whose type and prompt pattern
/// match and whose `times` are not used up.
/// A script file that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ScriptError {
    #[error("{file}:{line}: {message}")]
    Invalid { file: String, line: usize, message: String },
    #[error("{file}: agent {agent} has a bad prompt pattern: {error}")]
    Pattern { file: String, agent: usize, error: regex::Error },
}

#[derive(Clone)]
pub struct Scripted {
    entries: Vec<(ScriptEntry, Option<Regex>, String)>,
    used: Vec<u32>,
    name: String,
}

impl Scripted {
    /// Reads a script; errors name the line.
    pub fn parse(text: &str, name: &str) -> Result<Scripted, ScriptError> {
        let script: Script = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(1, |s| text.as_bytes()[..s.start.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1);
            ScriptError::Invalid { file: name.to_string(), line, message: e.message().trim().to_string() }
        })?;
        let mut entries = Vec::new();
        for (i, entry) in script.agent.into_iter().enumerate() {
            let pattern = match &entry.prompt {
                Some(p) => Some(Regex::new(p).map_err(|error| ScriptError::Pattern {
                    file: name.to_string(),
                    agent: i + 1,
                    error,
                })?),
                None => None,
            };
            let ty = normalize_type(entry.agent_type.rsplit(':').next().unwrap_or(&entry.agent_type));
            entries.push((entry, pattern, ty));
        }
        let used = vec![0; entries.len()];
        Ok(Scripted { entries, used, name: name.to_string() })
    }
}

impl Backend for Scripted {
    fn answer(&mut self, request: &Request<'_>) -> Result<Answer, Unmatched> {
        let found = self.entries.iter().enumerate().position(|(i, (e, pattern, ty))| {
            *ty == request.agent_type
                && pattern.as_ref().is_none_or(|p| p.is_match(request.prompt))
                && e.times.is_none_or(|t| self.used[i] < t)
        });
        let Some(i) = found else {
            let closest =
                self.entries.iter().find(|(_, _, ty)| *ty == request.agent_type).and_then(|(e, _, _)| e.prompt.clone());
            let used_up = self.entries.iter().enumerate().any(|(i, (e, pattern, ty))| {
                *ty == request.agent_type
                    && pattern.as_ref().is_none_or(|p| p.is_match(request.prompt))
                    && e.times.is_some_and(|t| self.used[i] >= t)
            });
            let reason = if used_up {
                format!(
                    "every entry of {} for {} with this prompt has answered its `times`",
                    self.name, request.subagent_type
                )
            } else {
                format!("no entry of {} answers {} with this prompt", self.name, request.subagent_type)
            };
            return Err(Unmatched { reason, closest });
        };
        self.used[i] += 1;
        let e = &self.entries[i].0;
        let outcome = match e.status {
            ScriptStatus::Completed if e.response.is_empty() => Outcome::Empty,
            ScriptStatus::Completed => Outcome::Report(Arc::from(e.response.as_str())),
            ScriptStatus::Error => Outcome::Error(Arc::from(e.response.as_str())),
            ScriptStatus::Empty => Outcome::Empty,
            ScriptStatus::Timeout => Outcome::Never,
        };
        Ok(Answer { outcome, delay: e.delay, origin: format!("{} agent {}", self.name, i + 1), late: false })
    }
}

/// What a fault does to a launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The agent fails.
    Error,
    /// The agent returns an empty report.
    Empty,
    /// The agent never returns.
    Timeout,
    /// The agent returns, but after the decision that saw its result.
    Late,
}

/// Which launches a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The launch with this 1-based number.
    Launch(usize),
    /// Every launch of an agent type, or only its `nth` (1-based).
    Type { agent_type: String, nth: Option<usize> },
}

/// A fault: `--fault ml-architect:error`, `--fault 2:timeout`,
/// `--fault ml-architect#2:empty`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub target: Target,
    pub kind: FaultKind,
    /// The spec as given.
    pub spec: String,
}

/// A `--fault` spec that does not say a fault.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{spec}`: {why}")]
pub struct FaultSpecError {
    pub spec: String,
    pub why: String,
}

impl std::str::FromStr for Fault {
    type Err = FaultSpecError;

    fn from_str(spec: &str) -> Result<Fault, FaultSpecError> {
        let bad = |why: String| FaultSpecError { spec: spec.to_string(), why };
        let (target, kind) = spec
            .rsplit_once(':')
            .ok_or_else(|| bad("expected TARGET:KIND, e.g. ml-architect:error or 2:timeout".into()))?;
        let kind = match kind {
            "error" => FaultKind::Error,
            "empty" => FaultKind::Empty,
            "timeout" => FaultKind::Timeout,
            "late" => FaultKind::Late,
            other => {
                const KINDS: [&str; 4] = ["error", "empty", "timeout", "late"];
                return Err(bad(match crate::words::closest(other, KINDS) {
                    Some(k) => format!("unknown fault `{other}`; did you mean `{k}`?"),
                    None => format!("unknown fault `{other}`; expected error, empty, timeout or late"),
                }));
            }
        };
        let target = target.trim();
        if target.is_empty() {
            return Err(bad("no target; give a launch number or an agent type".into()));
        }
        let target = if let Ok(n) = target.parse::<usize>() {
            if n == 0 {
                return Err(bad("launches are numbered from 1".into()));
            }
            Target::Launch(n)
        } else {
            let (ty, nth) = match target.split_once('#') {
                Some((ty, n)) => {
                    let n = n
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| bad(format!("`#{n}` is not an occurrence number (1, 2, …)")))?;
                    (ty, Some(n))
                }
                None => (target, None),
            };
            Target::Type { agent_type: normalize_type(ty.rsplit(':').next().unwrap_or(ty)), nth }
        };
        Ok(Fault { target, kind, spec: spec.to_string() })
    }
}

/// A backend with faults layered on: the inner backend is asked first (an
/// unmatched launch stays unmatched), then the first fault that hits the
/// launch replaces its outcome.
pub struct Faulty<B> {
    pub inner: B,
    faults: Vec<Fault>,
    seen: std::collections::BTreeMap<String, usize>,
    hits: Vec<usize>,
}

impl<B: Backend> Faulty<B> {
    pub fn new(inner: B, faults: Vec<Fault>) -> Faulty<B> {
        let hits = vec![0; faults.len()];
        Faulty { inner, faults, seen: Default::default(), hits }
    }

    /// The faults that hit no launch so far, as given.
    pub fn unused(&self) -> Vec<String> {
        self.faults.iter().zip(&self.hits).filter(|(_, n)| **n == 0).map(|(f, _)| f.spec.clone()).collect()
    }
}

impl<B: Backend> Backend for Faulty<B> {
    fn answer(&mut self, request: &Request<'_>) -> Result<Answer, Unmatched> {
        let nth = {
            let n = self.seen.entry(request.agent_type.to_string()).or_default();
            *n += 1;
            *n
        };
        let mut answer = self.inner.answer(request)?;
        let hit = self.faults.iter().position(|f| match &f.target {
            Target::Launch(n) => *n == request.launch,
            Target::Type { agent_type, nth: want } => {
                *agent_type == request.agent_type && want.is_none_or(|w| w == nth)
            }
        });
        if let Some(k) = hit {
            self.hits[k] += 1;
            let f = &self.faults[k];
            answer.outcome = match f.kind {
                FaultKind::Error => Outcome::Error(Arc::from(format!("injected fault: {}", f.spec))),
                FaultKind::Empty => Outcome::Empty,
                FaultKind::Timeout => Outcome::Never,
                FaultKind::Late => {
                    answer.late = true;
                    answer.outcome
                }
            };
            answer.origin = format!("fault {}", f.spec);
        }
        Ok(answer)
    }
}

/// A backend lent to a wrapper.
impl<B: Backend + ?Sized> Backend for &mut B {
    fn answer(&mut self, request: &Request<'_>) -> Result<Answer, Unmatched> {
        (**self).answer(request)
    }
}

/// Any backend, boxed.
impl Backend for Box<dyn Backend + '_> {
    fn answer(&mut self, request: &Request<'_>) -> Result<Answer, Unmatched> {
        (**self).answer(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_and_refuse() {
        let f: Fault = "ml-flow:ml-architect#2:timeout".parse().unwrap();
        assert_eq!(f.target, Target::Type { agent_type: "ml-architect".into(), nth: Some(2) });
        assert_eq!(f.kind, FaultKind::Timeout);
        assert_eq!("3:error".parse::<Fault>().unwrap().target, Target::Launch(3));
        assert!("0:error".parse::<Fault>().unwrap_err().to_string().contains("numbered from 1"));
        assert!("x:explode".parse::<Fault>().unwrap_err().to_string().contains("unknown fault"));
        assert!("error".parse::<Fault>().unwrap_err().to_string().contains("TARGET:KIND"));
        assert!("x#0:error".parse::<Fault>().unwrap_err().to_string().contains("occurrence"));
    }

    #[test]
    fn normalization_ignores_spacing_and_ids() {
        assert_eq!(
            normalize("Read  src/a.py\n for toolu_01AbC and 3f2a9c1d-0000-4000-8000-123456789abc"),
            "Read src/a.py for <id> and <id>"
        );
        assert!(Match::Normalized.same_text("a  b", "a b"));
        assert!(!Match::Exact.same_text("a  b", "a b"));
        assert!(Match::Type.same_text("x", "y"));
        // Words and plain numbers are not ids.
        assert_eq!(normalize("agent-count 1000000 effaced agent-a42f9c1"), "agent-count 1000000 effaced <id>");
    }
}
