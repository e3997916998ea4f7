//! `orchlint guard install`: the hooks that run the guard, written into a
//! plugin's `hooks/hooks.json` (and, for the events only 2.1 knows, a file
//! of their own named in its plugin.json) or a project's
//! `.claude/settings.json`, and
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

/// Events Claude Code 2.0.x does not know. It ignores a whole hooks file
/// that names one, and a whole settings file (measured with 2.0.77: no hook
/// of a plugin's hooks.json with a PostToolBatch entry ran, and a project
/// settings.json with one lost its `env` too).
pub const NEWER_EVENTS: &[&str] = &["PostToolBatch"];

/// A plugin's hooks file for [`NEWER_EVENTS`], named in its
/// `.claude-plugin/plugin.json` (`hooks`): 2.0.x skips this file alone and
/// keeps `hooks/hooks.json`; 2.1 loads both.
pub const PLUGIN_NEWER_FILE: &str = "hooks/orchlint-guard-2.1.json";

/// What an install writes: each file with its whole content, and what the
/// user should know about it.
#[derive(Debug)]
pub struct Plan {
    pub files: Vec<(PathBuf, Value)>,
    pub notes: Vec<String>,
}

fn read_object(path: &Path) -> Result<Value, InstallError> {
    let doc = match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| InstallError::NotJson(path.display().to_string(), e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({}),
        Err(e) => return Err(InstallError::Unreadable(path.display().to_string(), e)),
    };
    if !doc.is_object() {
        return Err(InstallError::NotJson(path.display().to_string(), "the top level is not an object".into()));
    }
    Ok(doc)
}

/// The hooks files with the guard's hooks in them: what was there (other
/// hooks and settings kept, an earlier guard's hooks replaced) and ours.
/// `command` is the guard command without its event (e.g. `orchlint guard
/// --mode enforce`). In a plugin, the events 2.0.x does not know go into
/// [`PLUGIN_NEWER_FILE`], which plugin.json is made to name.
pub fn plan(target: &Target, command: &str) -> Result<Plan, InstallError> {
    match target {
        Target::Project(dir) => {
            let path = dir.join(".claude/settings.json");
            let mut doc = read_object(&path)?;
            add_hooks(&mut doc, command, |_| true);
            let note = format!(
                "Claude Code 2.0.x ignores the whole of a settings file whose hooks name an event it does not know \
                 ({}, 2.1 only): with 2.0.x, install into the workflow's plugin (--plugin DIR) instead",
                NEWER_EVENTS.join(", ")
            );
            Ok(Plan { files: vec![(path, doc)], notes: vec![note] })
        }
        Target::Plugin(dir) => {
            let hooks_path = dir.join("hooks/hooks.json");
            let manifest_path = dir.join(".claude-plugin/plugin.json");
            let mut hooks = read_object(&hooks_path)?;
            let mut manifest = read_object(&manifest_path)?;
            if manifest.get("name").is_none() {
                // The name Claude Code gives a plugin without one: its folder's.
                let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                manifest["name"] = json!(name);
            }
            if !name_newer_file(&mut manifest) {
                add_hooks(&mut hooks, command, |_| true);
                let note = format!(
                    "{} gives its hooks inline, so {} went into {} too, which Claude Code 2.0.x then ignores whole",
                    manifest_path.display(),
                    NEWER_EVENTS.join(", "),
                    hooks_path.display()
                );
                return Ok(Plan { files: vec![(hooks_path, hooks)], notes: vec![note] });
            }
            add_hooks(&mut hooks, command, |e| !NEWER_EVENTS.contains(&e));
            let mut newer = json!({});
            add_hooks(&mut newer, command, |e| NEWER_EVENTS.contains(&e));
            Ok(Plan {
                files: vec![(hooks_path, hooks), (dir.join(PLUGIN_NEWER_FILE), newer), (manifest_path, manifest)],
                notes: Vec::new(),
            })
        }
    }
}

/// Has plugin.json's `hooks` name [`PLUGIN_NEWER_FILE`] (beside the files it
/// names already); false where it gives hooks inline.
fn name_newer_file(manifest: &mut Value) -> bool {
    let ours = format!("./{PLUGIN_NEWER_FILE}");
    let is_ours = |v: &Value| v.as_str().is_some_and(|s| s.trim_start_matches("./") == PLUGIN_NEWER_FILE);
    match manifest.get_mut("hooks") {
        None | Some(Value::Null) => manifest["hooks"] = json!(ours),
        Some(v) if is_ours(v) => {}
        Some(Value::String(theirs)) => {
            let theirs = theirs.clone();
            manifest["hooks"] = json!([theirs, ours]);
        }
        Some(Value::Array(files)) => {
            if !files.iter().any(is_ours) {
                files.push(json!(ours));
            }
        }
        Some(_) => return false,
    }
    true
}

/// The guard's hooks of the events `which` picks, into a hooks document
/// (`{"hooks": {...}}`): an earlier guard's entries of every event removed,
/// an event left with no entry removed.
fn add_hooks(doc: &mut Value, command: &str, which: impl Fn(&str) -> bool) {
    let root = doc.as_object_mut().expect("an object");
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
        if !which(event) {
            if list.is_empty() {
                hooks.remove(*event);
            }
            continue;
        }
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
}

fn is_guard(group: &Value) -> bool {
    group.get("hooks").and_then(Value::as_array).is_some_and(|hooks| {
        hooks.iter().any(|h| h.get("command").and_then(Value::as_str).is_some_and(|c| c.contains(" guard ")))
    })
}

/// Writes the planned files.
pub fn write(plan: &Plan) -> Result<(), InstallError> {
    for (path, doc) in &plan.files {
        let unwritable = |e| InstallError::Unwritable(path.display().to_string(), e);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(unwritable)?;
        }
        let mut text = serde_json::to_string_pretty(doc).unwrap_or_default();
        text.push('\n');
        std::fs::write(path, text).map_err(unwritable)?;
    }
    Ok(())
}

/// The events whose hooks a hooks document holds, in the order of [`EVENTS`].
pub fn events_in(doc: &Value) -> Vec<&'static str> {
    EVENTS
        .iter()
        .map(|(e, ..)| *e)
        .filter(|e| {
            doc.pointer(&format!("/hooks/{e}")).and_then(Value::as_array).is_some_and(|l| l.iter().any(is_guard))
        })
        .collect()
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

    /// The planned content of a file, by its path under `dir`.
    fn planned<'a>(plan: &'a Plan, dir: &Path, rel: &str) -> &'a Value {
        &plan.files.iter().find(|(p, _)| p == &dir.join(rel)).unwrap_or_else(|| panic!("{rel}: {plan:?}")).1
    }

    #[test]
    fn plan_keeps_other_hooks_and_replaces_an_earlier_guard() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Plugin(dir.path().to_path_buf());
        std::fs::create_dir_all(dir.path().join("hooks")).unwrap();
        let theirs =
            r#"{"hooks":{"Stop":[{"hooks":[{"type":"command","command":"./validate.sh"}]}]},"description":"x"}"#;
        std::fs::write(dir.path().join("hooks/hooks.json"), theirs).unwrap();
        write(&plan(&target, "orchlint guard --mode enforce").unwrap()).unwrap();
        let again = plan(&target, "orchlint guard --mode warn").unwrap();
        let hooks = planned(&again, dir.path(), "hooks/hooks.json");
        assert_eq!(hooks["description"], "x");
        let stop = hooks["hooks"]["Stop"].as_array().unwrap();
        assert_eq!(stop.len(), 2, "theirs and one guard: {stop:?}");
        assert_eq!(stop[0]["hooks"][0]["command"], "./validate.sh");
        assert_eq!(stop[1]["hooks"][0]["command"], "orchlint guard --mode warn stop");
        let pre = &hooks["hooks"]["PreToolUse"][0];
        assert_eq!(pre["matcher"], "*");
        assert_eq!(pre["hooks"][0]["timeout"], 10);
        assert_eq!(pre["hooks"][0]["onFailure"], "block");
        assert_eq!(events_in(hooks), ["PreToolUse", "Stop"]);
    }

    #[test]
    fn in_a_plugin_the_events_2_0_does_not_know_go_into_a_file_of_their_own() {
        // Claude Code 2.0.x ignores a whole hooks file that names
        // PostToolBatch: hooks.json gets only what every version knows.
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Plugin(dir.path().to_path_buf());
        std::fs::create_dir_all(dir.path().join("hooks")).unwrap();
        std::fs::create_dir_all(dir.path().join(".claude-plugin")).unwrap();
        // An install of before, with PostToolBatch in hooks.json.
        let old = r#"{"hooks":{"PostToolBatch":[{"hooks":[{"type":"command","command":"orchlint guard post-tool-batch"}]}]}}"#;
        std::fs::write(dir.path().join("hooks/hooks.json"), old).unwrap();
        std::fs::write(dir.path().join(".claude-plugin/plugin.json"), r#"{"name":"p","version":"1"}"#).unwrap();
        let p = plan(&target, "orchlint guard").unwrap();
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        let hooks = planned(&p, dir.path(), "hooks/hooks.json");
        assert_eq!(events_in(hooks), ["PreToolUse", "Stop"]);
        assert!(hooks["hooks"].get("PostToolBatch").is_none(), "{hooks}");
        let newer = planned(&p, dir.path(), PLUGIN_NEWER_FILE);
        assert_eq!(events_in(newer), ["PostToolBatch"]);
        assert_eq!(newer["hooks"]["PostToolBatch"][0]["hooks"][0]["command"], "orchlint guard post-tool-batch");
        let manifest = planned(&p, dir.path(), ".claude-plugin/plugin.json");
        assert_eq!(manifest, &json!({"name": "p", "version": "1", "hooks": "./hooks/orchlint-guard-2.1.json"}));
        // Installed again: nothing named twice.
        write(&p).unwrap();
        let again = plan(&target, "orchlint guard").unwrap();
        assert_eq!(planned(&again, dir.path(), ".claude-plugin/plugin.json"), manifest);
        // Beside the plugin's own hooks files.
        for (theirs, named) in [
            (json!("./hooks/extra.json"), json!(["./hooks/extra.json", "./hooks/orchlint-guard-2.1.json"])),
            (json!(["./a.json"]), json!(["./a.json", "./hooks/orchlint-guard-2.1.json"])),
        ] {
            let mut m = json!({"name": "p", "hooks": theirs});
            assert!(name_newer_file(&mut m));
            assert_eq!(m["hooks"], named);
        }
        // Inline hooks cannot name a file: everything goes to hooks.json, and the user is told.
        std::fs::write(dir.path().join(".claude-plugin/plugin.json"), r#"{"name":"p","hooks":{"hooks":{}}}"#).unwrap();
        let inline = plan(&target, "orchlint guard").unwrap();
        assert_eq!(inline.files.len(), 1);
        assert_eq!(
            events_in(planned(&inline, dir.path(), "hooks/hooks.json")),
            ["PreToolUse", "PostToolBatch", "Stop"]
        );
        assert!(inline.notes[0].contains("2.0.x then ignores whole"), "{:?}", inline.notes);
    }

    #[test]
    fn command_quotes_what_the_shell_would_split() {
        let c =
            command(Path::new("/opt/my tools/orchlint"), &["--rules".into(), "${CLAUDE_PLUGIN_ROOT}/r.toml".into()]);
        assert_eq!(c, "'/opt/my tools/orchlint' guard --rules ${CLAUDE_PLUGIN_ROOT}/r.toml");
    }
}
