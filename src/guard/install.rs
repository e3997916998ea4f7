//! `orchlint guard install`: the hooks that run the guard, written into a
//! plugin's `hooks/hooks.json` or a project's `.claude/settings.json`, and
//! `orchlint guard --explain`: what the guard will do for a workflow.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::checks::{Live, RULES};
use crate::workflow::Workflow;

/// Where the hooks go.
pub enum Target {
    /// A plugin folder: `DIR/hooks/hooks.json` (the command may use `${CLAUDE_PLUGIN_ROOT}`).
    Plugin(PathBuf),
    /// A project folder: `DIR/.claude/settings.json`.
    Project(PathBuf),
}

/// A hooks file that cannot be read or written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InstallError {
    #[error("cannot read {0}: {1}")]
    Unreadable(String, std::io::Error),
    #[error("{0} is not a JSON object: {1}")]
    NotJson(String, String),
    #[error("cannot write {0}: {1}")]
    Unwritable(String, std::io::Error),
}

/// The hook events the guard answers, each with its timeout in seconds and
/// whether a failure of the guard blocks (2.1; 2.0.x ignores `onFailure`,
/// and Claude Code ignores it on Stop).
pub const EVENTS: &[(&str, &str, u32, bool)] = &[
    // (event, hook argument, timeout, onFailure block)
    ("PreToolUse", "pre-tool-use", 10, true),
    ("PostToolBatch", "post-tool-batch", 10, false),
    ("Stop", "stop", 10, false),
];

/// The file the hooks go into.
pub fn file(target: &Target) -> PathBuf {
    match target {
        Target::Plugin(dir) => dir.join("hooks/hooks.json"),
        Target::Project(dir) => dir.join(".claude/settings.json"),
    }
}

/// The hooks file with the guard's hooks in it: what was there (other hooks
/// and settings kept, an earlier guard's hooks replaced) and ours.
/// `command` is the guard command without its event (e.g. `orchlint guard
/// --mode enforce`).
pub fn plan(target: &Target, command: &str) -> Result<Value, InstallError> {
    let path = file(target);
    let mut doc = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| InstallError::NotJson(path.display().to_string(), e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(e) => return Err(InstallError::Unreadable(path.display().to_string(), e)),
    };
    let Some(root) = doc.as_object_mut() else {
        return Err(InstallError::NotJson(path.display().to_string(), "the top level is not an object".into()));
    };
    let hooks = root.entry("hooks").or_insert_with(|| Value::Object(Map::new()));
    if !hooks.is_object() {
        *hooks = Value::Object(Map::new());
    }
    let hooks = hooks.as_object_mut().expect("an object");
    for (event, arg, timeout, block) in EVENTS {
        let list = hooks.entry(*event).or_insert_with(|| Value::Array(Vec::new()));
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        let list = list.as_array_mut().expect("an array");
        // An earlier install's entry is replaced, not doubled.
        list.retain(|group| !is_guard(group));
        let mut hook = json!({"type": "command", "command": format!("{command} {arg}"), "timeout": timeout});
        if *block {
            hook["onFailure"] = json!("block");
        }
        let mut group = json!({"hooks": [hook]});
        if *event == "PreToolUse" {
            group["matcher"] = json!("*");
        }
        list.push(group);
    }
    Ok(doc)
}

fn is_guard(group: &Value) -> bool {
    group.get("hooks").and_then(Value::as_array).is_some_and(|hooks| {
        hooks.iter().any(|h| h.get("command").and_then(Value::as_str).is_some_and(|c| c.contains(" guard ")))
    })
}

/// Writes the planned file.
pub fn write(target: &Target, doc: &Value) -> Result<PathBuf, InstallError> {
    let path = file(target);
    let unwritable = |e| InstallError::Unwritable(path.display().to_string(), e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(unwritable)?;
    }
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
    text.push('\n');
    std::fs::write(&path, text).map_err(unwritable)?;
    Ok(path)
}

/// The guard command for an orchlint binary and its options, quoted for `sh`.
pub fn command(orchlint: &Path, args: &[String]) -> String {
    let quote = |s: &str| {
        if s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=${}".contains(c)) {
            s.to_string()
        } else {
            format!("'{}'", s.replace('\'', r"'\''"))
        }
    };
    let mut parts = vec![quote(&orchlint.display().to_string()), "guard".to_string()];
    parts.extend(args.iter().map(|a| quote(a)));
    parts.join(" ")
}

/// What the guard will deny, report and leave to `check` for a workflow,
/// rule kind by rule kind (only the kinds the workflow declares).
pub fn explain(wf: &Workflow) -> String {
    let mut out = format!("workflow {} ({})\n", wf.name, wf.source_name);
    let section = |title: &str, live: Live, out: &mut String| {
        let kinds: Vec<&str> = RULES.iter().filter(|r| r.live() == live && wf.uses(r.id)).map(|r| r.id).collect();
        out.push_str(&format!("\n{title}\n"));
        if kinds.is_empty() {
            out.push_str("  (none)\n");
        }
        for id in kinds {
            let summary = RULES.iter().find(|r| r.id == id).map(|r| r.summary).unwrap_or_default();
            out.push_str(&format!("  {id:<20} {summary}\n"));
        }
    };
    section(
        "Denied before the call runs (PreToolUse; the model reads why and can correct itself):",
        Live::Deny,
        &mut out,
    );
    section(
        "Told to the model after its message (PostToolBatch), as they can only be judged then:",
        Live::Report,
        &mut out,
    );
    section("Left to `orchlint check` after the run:", Live::Check, &mut out);
    if let Some(last) = wf.phases.last() {
        out.push_str(&format!(
            "\nA Stop before phase {} ({}) has the model go on, once per run, with what is missing \
             (not a turn that ends asking the user a question: it waits for the answer).\n",
            last.number, last.name
        ));
    }
    out.push_str("Subagents' own calls are not judged by the orchestrator's rules.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_keeps_other_hooks_and_replaces_an_earlier_guard() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Plugin(dir.path().to_path_buf());
        std::fs::create_dir_all(dir.path().join("hooks")).unwrap();
        let theirs =
            r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"./validate.sh"}]}]},"description":"x"}"#;
        std::fs::write(dir.path().join("hooks/hooks.json"), theirs).unwrap();
        let doc = plan(&target, "orchlint guard --mode enforce").unwrap();
        write(&target, &doc).unwrap();
        let again = plan(&target, "orchlint guard --mode warn").unwrap();
        assert_eq!(again["description"], "x");
        let stop = again["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2, "theirs and one guard: {stop:?}");
        assert_eq!(stop[0]["hooks"][0]["command"], "./validate.sh");
        assert_eq!(stop[1]["hooks"][0]["command"], "orchlint guard --mode warn stop");
        let pre = &again["hooks"]["PreToolUse"][0];
        assert_eq!(pre["matcher"], "*");
        assert_eq!(pre["hooks"][0]["timeout"], 10);
        assert_eq!(pre["hooks"][0]["onFailure"], "block");
    }

    #[test]
    fn command_quotes_what_the_shell_would_split() {
        let c =
            command(Path::new("/opt/my tools/orchlint"), &["--rules".into(), "${CLAUDE_PLUGIN_ROOT}/r.toml".into()]);
        assert_eq!(c, "'/opt/my tools/orchlint' guard --rules ${CLAUDE_PLUGIN_ROOT}/r.toml");
    }
}
