//! Settings resolution: the config (`orchlint.toml`), the workflows in play
//! (bundled, the config's, `--rules`), per-rule severities, the rule
//! selection, then after a check the config's suppressions and the baseline.
//! Every subcommand gets its settings here, so they mean the same
//! everywhere; the CLI only gathers the flags into [`Sources`].

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use crate::baseline::{self, Baseline, BaselineError};
use crate::checks::{self, Selection};
use crate::config::{Config, FailLevel, UnusedSuppression};
use crate::engine::Report;
use crate::workflow::{Workflow, Workflows};

/// An error in a settings file (a rules file, `orchlint.toml`), with its
/// place and a likely fix.
#[derive(Debug, Error, Diagnostic)]
#[error("invalid {kind} {file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
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
        span: Option<Range<usize>>,
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

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Why the settings could not be resolved.
#[derive(Debug, Error, Diagnostic)]
pub enum Error {
    /// A rules file or the config is invalid or unreadable.
    #[error(transparent)]
    #[diagnostic(transparent)]
    File(#[from] Box<SettingsError>),
    /// `--select`/`--ignore` names a rule that does not exist.
    #[error("{flag}: unknown rule `{id}`")]
    UnknownRule {
        flag: &'static str,
        id: String,
        #[help]
        help: String,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    UnknownWorkflow(#[from] crate::workflow::NoSuchWorkflow),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Baseline(#[from] BaselineError),
}

/// Where the settings come from: what the command line says.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Rules files in play beside the bundled workflows (`--rules`).
    pub rules: Vec<PathBuf>,
    /// Judge every session by this workflow (`--workflow`).
    pub workflow: Option<String>,
    /// The config file (`--config`); else `orchlint.toml` found upward from the working directory.
    pub config: Option<PathBuf>,
    /// Use no config file (`--isolated`).
    pub isolated: bool,
}

impl Sources {
    /// Only rules files, no other setting (`explain`, `rules describe`).
    pub fn with_rules(rules: &[PathBuf]) -> Sources {
        Sources { rules: rules.to_vec(), ..Sources::default() }
    }

    /// The config: `--config FILE`, else `orchlint.toml` found upward; none with `--isolated`.
    pub fn config(&self) -> Result<Config, Error> {
        if self.isolated {
            return Ok(Config::default());
        }
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Config::find(self.config.as_deref(), &cwd).map_err(|e| Error::File(Box::new(e)))
    }

    /// The workflows in play: the bundled ones, the config's `workflows` and
    /// `--rules` files, narrowed to `--workflow NAME`.
    pub fn workflows(&self) -> Result<Workflows, Error> {
        let config = self.config()?;
        self.workflows_with(&config)
    }

    fn workflows_with(&self, config: &Config) -> Result<Workflows, Error> {
        let mut wfs = Workflows::builtin();
        for path in config.rules.iter().chain(&self.rules) {
            wfs.add(Workflow::load(path).map_err(Box::new)?);
        }
        if let Some(name) = &self.workflow {
            wfs.narrow(name)?;
        }
        Ok(wfs)
    }

    /// Everything a checking subcommand needs: the config, the workflows
    /// with the config's severities, and the rule selection.
    pub fn resolve(&self, select: &[String], ignore: &[String]) -> Result<Settings, Error> {
        let config = self.config()?;
        let mut workflows = self.workflows_with(&config)?;
        known_rules(select, "--select")?;
        known_rules(ignore, "--ignore")?;
        let selection = Selection { only: select.iter().cloned().collect(), ignore: ignore.iter().cloned().collect() };
        for wf in &mut workflows.list {
            let wf = Arc::make_mut(wf);
            for (rule, level) in &config.severity {
                wf.severity.insert(rule.clone(), *level);
            }
        }
        Ok(Settings { config: Arc::new(config), workflows, selection, force_workflow: self.workflow.is_some() })
    }
}

fn known_rules(ids: &[String], flag: &'static str) -> Result<(), Error> {
    match ids.iter().find(|id| checks::rule(id).is_none()) {
        Some(id) => Err(Error::UnknownRule { flag, id: id.clone(), help: checks::suggest_rule(id) }),
        None => Ok(()),
    }
}

/// The resolved settings of a checking subcommand.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Arc<Config>,
    /// The workflows in play, with the config's severities.
    pub workflows: Workflows,
    pub selection: Selection,
    /// `--workflow` was given: every session is judged by it.
    pub force_workflow: bool,
}

/// What to do with the baseline after a check.
#[derive(Debug, Clone, Default)]
pub enum BaselineUse {
    /// `--baseline FILE`, else the config's: leave out the findings it holds.
    #[default]
    Apply,
    /// `--baseline FILE` given on the command line.
    ApplyFile(PathBuf),
    /// `--write-baseline FILE`: record what is left instead.
    Write(PathBuf),
    /// Leave the report as it is.
    Ignore,
}

/// What [`Settings::settle`] did.
#[derive(Debug, Default)]
pub struct Settled {
    /// The config's suppressions that matched no finding.
    pub unused_suppressions: Vec<UnusedSuppression>,
    /// After a check of folders: the suppressions whose session was not
    /// among those checked (gone from the corpus, or never in it).
    pub absent_sessions: Vec<UnusedSuppression>,
    /// With [`BaselineUse::Write`]: how many findings were written.
    pub written: Option<usize>,
}

impl Settings {
    /// The engine's options for these settings (the rest at their defaults).
    pub fn engine_options(&self) -> crate::engine::Options {
        crate::engine::Options {
            selection: self.selection.clone(),
            force_workflow: self.force_workflow,
            config: Some(self.config.clone()),
            require_run: self.config.require_run,
            ..crate::engine::Options::default()
        }
    }

    /// The config file's name as the user knows it.
    pub fn config_file(&self) -> String {
        self.config.path.as_deref().map_or_else(|| crate::config::FILE_NAME.into(), |p| p.display().to_string())
    }

    /// Applies the config's suppressions, then the baseline (or writes one).
    /// `corpus`: folders were checked, so a suppression of a session not
    /// found in them is worth a word.
    pub fn settle(&self, report: &mut Report, baseline: &BaselineUse, corpus: bool) -> Result<Settled, Error> {
        let unused_suppressions = self.config.suppress(report, &self.selection);
        let absent_sessions = if corpus { self.config.absent_sessions(report, &self.selection) } else { Vec::new() };
        let mut written = None;
        match baseline {
            BaselineUse::Write(path) => written = Some(baseline::write(report, path)?),
            BaselineUse::ApplyFile(path) => {
                Baseline::load(path)?.apply(report);
            }
            BaselineUse::Apply => {
                if let Some(path) = &self.config.baseline {
                    Baseline::load(path)?.apply(report);
                }
            }
            BaselineUse::Ignore => {}
        }
        Ok(Settled { unused_suppressions, absent_sessions, written })
    }

    /// The fail level: `--exit-zero` or a baseline being written is never;
    /// else the flag's, the config's, or error.
    pub fn fail_level(&self, flag: Option<FailLevel>, never: bool) -> FailLevel {
        if never {
            return FailLevel::Never;
        }
        flag.or(self.config.fail_level).unwrap_or(FailLevel::Error)
    }
}
