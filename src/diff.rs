//! `orchlint diff`: behaviour of two runs, or of two corpora, in terms that
//! matter — phases, agents, launch structure, tools, user messages, verdicts.
//!
//! A run is reduced to a canonical *profile*: one fact a line, in the order
//! the run did them, with no line numbers, ids or timestamps. Two runs behave
//! the same when their profiles are equal; otherwise the differing lines are
//! the answer, shown as a unified diff.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::diagnostic::Severity;
use crate::engine::{self, Checked, Options, Report};
use crate::model::{EventKind, UserKind};
use crate::words::shorten;
use crate::workflow::Workflows;

/// One section of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Section {
    Phases,
    Launches,
    Tools,
    UserMessages,
    Verdicts,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::Phases => "phases entered",
            Section::Launches => "agents and launch structure",
            Section::Tools => "orchestrator tool calls",
            Section::UserMessages => "genuine user messages",
            Section::Verdicts => "rule verdicts",
        }
    }
}

/// A run's behaviour: facts by section, each in the run's order.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Profile {
    /// Where it came from: the session file.
    pub file: String,
    pub phases: Vec<String>,
    pub launches: Vec<String>,
    pub tools: Vec<String>,
    pub user_messages: Vec<String>,
    pub verdicts: Vec<String>,
}

impl Profile {
    pub fn section(&self, s: Section) -> &[String] {
        match s {
            Section::Phases => &self.phases,
            Section::Launches => &self.launches,
            Section::Tools => &self.tools,
            Section::UserMessages => &self.user_messages,
            Section::Verdicts => &self.verdicts,
        }
    }

    /// The profile as text, a section header then its facts.
    pub fn text(&self, s: Section) -> String {
        let mut out = String::new();
        for fact in self.section(s) {
            out.push_str(fact);
            out.push('\n');
        }
        out
    }
}

const SECTIONS: [Section; 5] =
    [Section::Phases, Section::Launches, Section::Tools, Section::UserMessages, Section::Verdicts];

/// Builds the profile of the first workflow run of a checked session.
pub fn profile(c: &Checked, wfs: &Workflows) -> Option<Profile> {
    let run = c.runs.first()?;
    let wf = &wfs[run.workflow];
    let s = &c.session;
    let mut p = Profile { file: s.file.to_string(), ..Profile::default() };
    p.phases = vec![run.visits.iter().map(|v| v.phase.to_string()).collect::<Vec<_>>().join(" ")];
    for visit in &run.visits {
        // Launch messages of the visit in order; each a sorted group of types.
        let mut groups: Vec<(u32, Vec<String>, bool)> = Vec::new();
        for &l in &visit.launches {
            let launch = &s.launches[l];
            match groups.last_mut() {
                Some((m, types, bg)) if *m == launch.message => {
                    types.push(launch.raw_type.clone());
                    *bg |= launch.background;
                }
                _ => groups.push((launch.message, vec![launch.raw_type.clone()], launch.background)),
            }
        }
        let steps: Vec<String> = groups
            .into_iter()
            .map(|(_, mut types, bg)| {
                types.sort();
                format!("[{}]{}", types.join(" "), if bg { " background" } else { "" })
            })
            .collect();
        let name = wf.phase(visit.phase).map(|ph| ph.name.as_str()).unwrap_or("?");
        let what = if steps.is_empty() { "no agents".to_string() } else { steps.join(" then ") };
        p.launches.push(format!("phase {} ({name}): {what}", visit.phase));
    }
    for ev in run.events() {
        let phase = run.phase_at(ev).map_or("-".to_string(), |p| p.to_string());
        match &s.events[ev].kind {
            EventKind::ToolCall { name, input, .. } if !wf.is_launch_tool(name) => {
                let target = input
                    .file_path
                    .clone()
                    .or_else(|| input.command.as_deref().map(|c| c.split_whitespace().collect::<Vec<_>>().join(" ")))
                    .map(|t| format!(" {}", shorten(&t, 100)))
                    .unwrap_or_default();
                p.tools.push(format!("phase {phase}: {name}{target}"));
            }
            EventKind::User { kind: UserKind::Genuine, text } => {
                p.user_messages.push(format!("phase {phase}: {}", shorten(text, 100)));
            }
            _ => {}
        }
    }
    let mut verdicts: Vec<String> = c
        .diagnostics
        .iter()
        .filter(|d| d.run == Some(run.index) && d.severity >= Severity::Warning)
        .map(|d| {
            let phase = d.phase.map_or("-".to_string(), |p| p.to_string());
            format!("{}[{}] phase {phase}: {}", d.severity.as_str(), d.rule, d.message)
        })
        .collect();
    verdicts.sort();
    p.verdicts = verdicts;
    Some(p)
}

/// What differs in one section.
#[derive(Debug, Clone, Serialize)]
pub struct SectionDiff {
    pub section: Section,
    /// Facts only in A (removed) and only in B (added), in order.
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    /// A unified diff of the section's facts.
    #[serde(skip)]
    pub unified: String,
}

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct RunDiff {
    pub version: u32,
    pub same: bool,
    pub a: Profile,
    pub b: Profile,
    pub changes: Vec<SectionDiff>,
}

pub fn compare(a: Profile, b: Profile) -> RunDiff {
    let mut changes = Vec::new();
    for s in SECTIONS {
        let (ta, tb) = (a.text(s), b.text(s));
        if ta == tb {
            continue;
        }
        let diff = similar::TextDiff::from_lines(&ta, &tb);
        let mut only_in_a = Vec::new();
        let mut only_in_b = Vec::new();
        for change in diff.iter_all_changes() {
            let line = change.value().trim_end_matches('\n').to_string();
            match change.tag() {
                similar::ChangeTag::Delete => only_in_a.push(line),
                similar::ChangeTag::Insert => only_in_b.push(line),
                similar::ChangeTag::Equal => {}
            }
        }
        let unified = diff.unified_diff().context_radius(2).header("a", "b").to_string();
        changes.push(SectionDiff { section: s, only_in_a, only_in_b, unified });
    }
    RunDiff { version: 1, same: changes.is_empty(), a, b, changes }
}

/// Why a run could not be loaded for a diff.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] crate::ingest::discover::InputError),
    #[error("{0}: no workflow run found ({1})")]
    NoRun(String, String),
    #[error("{0}: {1} sessions with a workflow run; name one session file (or use --corpus to compare corpora)")]
    Several(String, usize),
}

/// Loads the one session of a path (a session file, or a folder holding one).
pub fn load(path: &std::path::Path, wfs: &Workflows, opts: &Options) -> Result<Profile, LoadError> {
    let checked = engine::sessions_at(path, wfs, opts, |c| !c.runs.is_empty())?;
    match checked.len() {
        0 => Err(LoadError::NoRun(path.display().to_string(), wfs.names().join(", "))),
        1 => Ok(profile(&checked[0], wfs).expect("a run")),
        n => Err(LoadError::Several(path.display().to_string(), n)),
    }
}

/// Per rule, how many runs of a corpus broke it.
#[derive(Debug, Clone, Serialize)]
pub struct CorpusDiff {
    pub version: u32,
    pub runs_a: usize,
    pub runs_b: usize,
    pub rules: Vec<RuleRates>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleRates {
    pub rule: &'static str,
    /// Runs with an error or warning of the rule.
    pub broken_a: usize,
    pub broken_b: usize,
    pub rate_a: f64,
    pub rate_b: f64,
    /// rate_b − rate_a, in percentage points.
    pub change: f64,
}

impl CorpusDiff {
    /// Whether some rule is broken by a larger share of the runs in B.
    pub fn regressed(&self) -> bool {
        !self.regressions(0.0).is_empty()
    }

    /// The rules broken by a larger share of the runs in B than in A, by
    /// more than `max_points` percentage points.
    pub fn regressions(&self, max_points: f64) -> Vec<&RuleRates> {
        self.rules.iter().filter(|r| r.rate_b > r.rate_a && r.change > max_points).collect()
    }
}

fn broken_runs(report: &Report) -> BTreeMap<&'static str, BTreeSet<(String, u32)>> {
    let mut by_rule: BTreeMap<&'static str, BTreeSet<(String, u32)>> = BTreeMap::new();
    for d in &report.diagnostics {
        if d.severity < Severity::Warning {
            continue;
        }
        if let (Some(session), Some(run)) = (&d.session, d.run) {
            by_rule.entry(d.rule).or_default().insert((format!("{}\u{1f}{session}", d.file), run));
        }
    }
    by_rule
}

pub fn compare_corpora(a: &Report, b: &Report) -> CorpusDiff {
    let (ba, bb) = (broken_runs(a), broken_runs(b));
    let rate = |n: usize, total: usize| if total == 0 { 0.0 } else { n as f64 / total as f64 };
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    let rules = crate::checks::RULES
        .iter()
        .filter(|r| r.check.is_some())
        .map(|r| {
            let na = ba.get(r.id).map_or(0, BTreeSet::len);
            let nb = bb.get(r.id).map_or(0, BTreeSet::len);
            let (ra, rb) = (rate(na, a.summary.runs), rate(nb, b.summary.runs));
            RuleRates {
                rule: r.id,
                broken_a: na,
                broken_b: nb,
                rate_a: round(ra),
                rate_b: round(rb),
                change: round((rb - ra) * 100.0),
            }
        })
        .collect();
    CorpusDiff { version: 1, runs_a: a.summary.runs, runs_b: b.summary.runs, rules }
}

/// Renders a run comparison for people: only what differs.
pub fn render_human(d: &RunDiff, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "a: {}", d.a.file)?;
    writeln!(out, "b: {}", d.b.file)?;
    if d.same {
        return writeln!(out, "same behaviour: phases, agents, launch structure, tools, user messages and verdicts");
    }
    for c in &d.changes {
        writeln!(out, "\n{} differ:", c.section.title())?;
        for line in c.unified.lines().skip(2) {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out, "\nbehaviour differs in {} of {} sections", d.changes.len(), SECTIONS.len())
}

/// Renders a corpus comparison as a table.
pub fn render_corpus_human(d: &CorpusDiff, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    writeln!(out, "runs: a {}, b {}", d.runs_a, d.runs_b)?;
    writeln!(out, "{:<20} {:>14} {:>14} {:>10}", "rule", "broken in a", "broken in b", "change")?;
    for r in &d.rules {
        if r.broken_a == 0 && r.broken_b == 0 {
            continue;
        }
        writeln!(
            out,
            "{:<20} {:>5} ({:>5.1}%) {:>5} ({:>5.1}%) {:>+9.1}pp",
            r.rule,
            r.broken_a,
            r.rate_a * 100.0,
            r.broken_b,
            r.rate_b * 100.0,
            r.change
        )?;
    }
    if d.rules.iter().all(|r| r.broken_a == 0 && r.broken_b == 0) {
        writeln!(out, "no rule broken in either corpus")?;
    }
    Ok(())
}
