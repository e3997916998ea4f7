//! `orchlint.toml`: project settings for `check`, found upward from the
//! working directory or given with `--config`.
//!
//! ```toml
//! workflows = ["rules/my-flow.toml"]  # rules files beside the bundled ones (relative to this file)
//! exclude = ["archive/**"]           # paths not to check (globs)
//! fail-level = "error"               # error | warning | never
//! baseline = "orchlint-baseline.json"
//! require-run = true                 # a session without a workflow run is an error (like --require-run)
//!
//! [severity]                         # per rule: error | warning | note | off
//! todo-list = "off"
//!
//! [[suppress]]                       # known findings, each with a reason
//! session = "cd54f53c-d89b-4092-b357-82370c2b5dfc"
//! rule = "read-policy"
//! phase = 2                          # optional
//! reason = "the capsule file was read under an old name"
//! ```

// A config error is built once, on the way out of the program.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::checks;
use crate::diagnostic::{Diagnostic, Severity};
use crate::settings::SettingsError;

/// The file name looked for.
pub const FILE_NAME: &str = "orchlint.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    rules: Option<String>,
    #[serde(default)]
    workflows: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    fail_level: Option<String>,
    baseline: Option<String>,
    #[serde(default)]
    require_run: bool,
    #[serde(default)]
    severity: BTreeMap<String, toml::Spanned<String>>,
    #[serde(default)]
    suppress: Vec<toml::Spanned<RawSuppression>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuppression {
    session: String,
    rule: String,
    phase: Option<u8>,
    reason: String,
}

/// When `check` exits with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailLevel {
    /// Any error-severity diagnostic.
    Error,
    /// Any error or warning.
    Warning,
    /// Never (exit 0 whatever was found).
    Never,
}

impl FailLevel {
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailLevel::Error => severity == Severity::Error,
            FailLevel::Warning => severity >= Severity::Warning,
            FailLevel::Never => false,
        }
    }
}

/// A known finding not to report, with why.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub session: String,
    pub rule: String,
    pub phase: Option<u8>,
    pub reason: String,
    /// 1-based line of the `[[suppress]]` entry in the config file.
    pub line: usize,
}

impl Suppression {
    pub fn matches(&self, d: &Diagnostic) -> bool {
        d.rule == self.rule
            && d.session.as_deref() == Some(self.session.as_str())
            && self.phase.is_none_or(|p| d.phase == Some(p))
    }
}

/// The settings of an `orchlint.toml`.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// Rules files in play beside the bundled ones (`rules` and `workflows`).
    pub rules: Vec<PathBuf>,
    pub exclude: Option<globset::GlobSet>,
    pub exclude_patterns: Vec<String>,
    pub fail_level: Option<FailLevel>,
    pub baseline: Option<PathBuf>,
    /// A session without a workflow run, or a run that never reached its
    /// first phase, is an error (`require-run = true`, like `--require-run`).
    pub require_run: bool,
    /// Per-rule severity; `None` switches the rule off.
    pub severity: BTreeMap<String, Option<Severity>>,
    pub suppressions: Vec<Suppression>,
}

impl Config {
    /// The config to use: `explicit`, else the first `orchlint.toml` found
    /// from `start` upward, else none.
    pub fn find(explicit: Option<&Path>, start: &Path) -> Result<Config, SettingsError> {
        if let Some(path) = explicit {
            return Config::load(path);
        }
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate);
            }
            dir = d.parent();
        }
        Ok(Config::default())
    }

    pub fn load(path: &Path) -> Result<Config, SettingsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SettingsError::unreadable("config", path, &e, "check the path given to --config"))?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, SettingsError> {
        let name = path.display().to_string();
        let err = |message: String, span: Option<std::ops::Range<usize>>, help: String| {
            SettingsError::at("config", &name, text, span, message, help)
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().to_string();
            let help = if message.contains("unknown field") {
                "the keys are rules, workflows, exclude, fail-level, baseline, require-run, [severity] and [[suppress]] (session, rule, phase, reason)"
                    .to_string()
            } else if message.contains("missing field `reason`") {
                "every suppression needs a reason: say why the finding is accepted".to_string()
            } else if message.contains("missing field") {
                "a [[suppress]] entry takes session, rule, reason and optionally phase".to_string()
            } else {
                "fix the TOML at the marked place".to_string()
            };
            err(message, e.span(), help)
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = Config { path: Some(path.to_path_buf()), ..Config::default() };
        config.rules = raw.rules.iter().chain(&raw.workflows).map(|r| base.join(r)).collect();
        config.baseline = raw.baseline.map(|b| base.join(b));
        config.require_run = raw.require_run;
        if let Some(level) = raw.fail_level {
            config.fail_level = Some(match level.as_str() {
                "error" => FailLevel::Error,
                "warning" => FailLevel::Warning,
                "never" => FailLevel::Never,
                other => {
                    let at = text.find(&format!("\"{other}\"")).map(|s| s..s + other.len() + 2);
                    return Err(err(
                        format!("fail-level {other:?} is not a level"),
                        at,
                        "use \"error\", \"warning\" or \"never\"".into(),
                    ));
                }
            });
        }
        if !raw.exclude.is_empty() {
            let mut set = globset::GlobSetBuilder::new();
            for pattern in &raw.exclude {
                let glob = globset::GlobBuilder::new(pattern).literal_separator(true).build().map_err(|e| {
                    let at = text.find(pattern.as_str()).map(|s| s..s + pattern.len());
                    err(format!("exclude pattern {pattern:?}: {e}"), at, "write a glob such as \"archive/**\"".into())
                })?;
                set.add(glob);
            }
            config.exclude = Some(set.build().map_err(|e| err(e.to_string(), None, "check the exclude globs".into()))?);
            config.exclude_patterns = raw.exclude;
        }
        for (rule, level) in raw.severity {
            if checks::rule(&rule).is_none() {
                let at = text.find(&rule).map(|s| s..s + rule.len());
                return Err(err(format!("[severity] names unknown rule {rule:?}"), at, checks::suggest_rule(&rule)));
            }
            let parsed = match level.get_ref().as_str() {
                "off" => None,
                other => Some(Severity::parse(other).ok_or_else(|| {
                    err(
                        format!("severity {other:?} of {rule} is not a level"),
                        Some(level.span()),
                        "use \"error\", \"warning\", \"note\" or \"off\"".into(),
                    )
                })?),
            };
            config.severity.insert(rule, parsed);
        }
        for entry in raw.suppress {
            let span = entry.span();
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let s = entry.into_inner();
            if checks::rule(&s.rule).is_none() {
                let at = text[span.clone()].find(&s.rule).map(|i| span.start + i..span.start + i + s.rule.len());
                return Err(err(
                    format!("[[suppress]] names unknown rule {:?}", s.rule),
                    at,
                    checks::suggest_rule(&s.rule),
                ));
            }
            if s.reason.trim().is_empty() {
                return Err(err(
                    "a suppression has an empty reason".into(),
                    Some(span),
                    "every suppression needs a reason: say why the finding is accepted".into(),
                ));
            }
            config.suppressions.push(Suppression {
                session: s.session,
                rule: s.rule,
                phase: s.phase,
                reason: s.reason,
                line,
            });
        }
        Ok(config)
    }

    /// Whether a path is excluded: its globs are relative to the config's
    /// folder; a path outside that folder is matched as given.
    pub fn excludes(&self, path: &Path) -> bool {
        let Some(set) = &self.exclude else { return false };
        let base = self.path.as_deref().and_then(Path::parent).and_then(|b| std::fs::canonicalize(b).ok());
        let real = std::fs::canonicalize(path).ok();
        match (base, real) {
            (Some(base), Some(real)) => match real.strip_prefix(&base) {
                Ok(rel) => set.is_match(rel),
                Err(_) => set.is_match(path),
            },
            _ => set.is_match(path),
        }
    }
}

/// A suppression of the config that matched no finding.
#[derive(Debug, Clone)]
pub struct UnusedSuppression {
    pub line: usize,
    pub rule: String,
    pub session: String,
}

impl Config {
    /// The suppressions (of rules that ran) whose session is not among the
    /// sessions of `report`: after a check of folders, sessions that may be
    /// gone from the corpus.
    pub fn absent_sessions(
        &self,
        report: &crate::engine::Report,
        selection: &crate::checks::Selection,
    ) -> Vec<UnusedSuppression> {
        self.suppressions
            .iter()
            .filter(|s| selection.enabled(&s.rule) && !report.sessions.contains(s.session.as_str()))
            .map(|s| UnusedSuppression { line: s.line, rule: s.rule.clone(), session: s.session.clone() })
            .collect()
    }

    /// Leaves out the findings the suppressions match; returns the
    /// suppressions that matched nothing.
    /// Unused ones are only those about a session that was checked, with a rule that ran.
    pub fn suppress(
        &self,
        report: &mut crate::engine::Report,
        selection: &crate::checks::Selection,
    ) -> Vec<UnusedSuppression> {
        if self.suppressions.is_empty() {
            return Vec::new();
        }
        let mut used = vec![false; self.suppressions.len()];
        let before = report.diagnostics.len();
        report.diagnostics.retain(|d| {
            let mut hit = false;
            for (i, s) in self.suppressions.iter().enumerate() {
                if s.matches(d) {
                    used[i] = true;
                    hit = true;
                }
            }
            !hit
        });
        report.summary.suppressed += before - report.diagnostics.len();
        report.recount();
        self.suppressions
            .iter()
            .zip(used)
            .filter(|(s, used)| !used && selection.enabled(&s.rule) && report.sessions.contains(s.session.as_str()))
            .map(|(s, _)| UnusedSuppression { line: s.line, rule: s.rule.clone(), session: s.session.clone() })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, SettingsError> {
        Config::parse(text, Path::new("/p/orchlint.toml"))
    }

    #[test]
    fn reads_every_key() {
        let c = parse(
            "rules = \"r.toml\"\nexclude = [\"old/**\"]\nfail-level = \"warning\"\n[severity]\ntodo-list = \"off\"\nagent-count = \"warning\"\n[[suppress]]\nsession = \"s\"\nrule = \"read-policy\"\nphase = 2\nreason = \"known\"\n",
        )
        .unwrap();
        assert_eq!(c.rules, vec![PathBuf::from("/p/r.toml")]);
        assert_eq!(c.fail_level, Some(FailLevel::Warning));
        assert_eq!(c.severity["todo-list"], None);
        assert_eq!(c.severity["agent-count"], Some(Severity::Warning));
        assert_eq!(c.suppressions[0].line, 7);
        assert!(c.exclude.unwrap().is_match("old/a.jsonl"));
    }

    #[test]
    fn names_the_key_and_suggests_a_fix() {
        let e = parse("[severity]\nagent-cuont = \"off\"\n").unwrap_err();
        assert!(e.message.contains("agent-cuont"));
        assert!(e.help.unwrap().contains("did you mean `agent-count`"));
        let e = parse("[[suppress]]\nsession = \"s\"\nrule = \"capsule\"\n").unwrap_err();
        assert!(e.help.unwrap().contains("needs a reason"), "{}", e.message);
        let e = parse("fail_level = \"error\"\n").unwrap_err();
        assert!(e.message.contains("unknown field"));
        let e = parse("[severity]\ncapsule = \"loud\"\n").unwrap_err();
        assert!(e.help.unwrap().contains("\"off\""));
    }
}
