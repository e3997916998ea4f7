//! Subagent attribution: whose a user or assistant entry is, the
//! orchestrator's or a subagent's, and which launch that subagent is. A
//! stream-json line names its launch (`parent_tool_use_id`); a 1.0.x inline
//! sidechain chains by `parentUuid` to a root whose prompt is a launch's.
//! A subagent's entries count towards its launch's transcript, not the
//! orchestrator's events.
//!
//! Owns the sidechain uuid → launch map. Finds and changes launches through
//! [`Launches`], and records the subagents' calls in [`Calls`] (so that
//! their results are no orphans).

use rustc_hash::FxHashMap as HashMap;

use crate::ingest::raw::{Content, Entry};
use crate::model::{Launch, Source, SubagentTranscript};

use super::calls::Calls;
use super::launches::Launches;

/// Whose an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// The orchestrator's own: neither a sidechain nor a subagent's stream line.
    Orchestrator,
    /// A subagent's, of the launch with this index.
    Launch(usize),
    /// A subagent's whose launch is not known (a `parent_tool_use_id` that
    /// names no launch, a sidechain that leads to none): nobody's, skipped.
    UnknownLaunch,
}

#[derive(Default)]
pub(super) struct Attribution {
    /// Sidechain entry uuid → launch index (1.0.x inline subagents).
    sidechain: HashMap<String, usize>,
}

impl Attribution {
    /// The owner of entry `e` of session file `file`: for inline sidechains
    /// (1.0.x) and stream-json lines with `parent_tool_use_id`, a launch. A
    /// sidechain root matched to a launch by its prompt gets that launch's
    /// transcript attached (inline, in `file`).
    pub(super) fn owner(&mut self, e: &Entry<'_>, file: &str, launches: &mut Launches) -> Owner {
        if let Some(parent) = e.parent_tool_use_id.0.as_deref() {
            return launches.by_tool_use(parent).map_or(Owner::UnknownLaunch, Owner::Launch);
        }
        if !e.is_sidechain.0 {
            return Owner::Orchestrator;
        }
        if let Some(parent) = e.parent_uuid.0.as_deref() {
            if let Some(&l) = self.sidechain.get(parent) {
                if let Some(uuid) = e.uuid.to_owned_string() {
                    self.sidechain.insert(uuid, l);
                }
                return Owner::Launch(l);
            }
        }
        self.root(e, file, launches).map_or(Owner::UnknownLaunch, Owner::Launch)
    }

    /// A sidechain root: match its prompt to a launch not yet attached.
    fn root(&mut self, e: &Entry<'_>, file: &str, launches: &mut Launches) -> Option<usize> {
        let prompt = e.message.0.as_ref().map(|m| m.content.joined_text())?;
        let l = launches.unattached_with_prompt(&prompt)?;
        if let Some(uuid) = e.uuid.to_owned_string() {
            self.sidechain.insert(uuid, l);
        }
        launches.get_mut(l)?.transcript = Some(SubagentTranscript {
            file: file.to_string(),
            inline: true,
            entries: 0,
            tools: Vec::new(),
            calls: Vec::new(),
        });
        Some(l)
    }
}

/// Entry `e` of `launch`'s subagent: counted in its transcript (inline, in
/// the source's file, when none is attached yet), its calls recorded.
pub(super) fn subagent_entry(launch: &mut Launch, e: &Entry<'_>, source: &Source, calls: &mut Calls) {
    let t = launch.transcript.get_or_insert_with(|| SubagentTranscript {
        file: source.file.to_string(),
        inline: true,
        entries: 0,
        tools: Vec::new(),
        calls: Vec::new(),
    });
    t.entries += 1;
    if let Some(Content::Blocks(blocks)) = e.message.0.as_ref().map(|m| &m.content) {
        for b in blocks {
            // A call a PreToolUse hook denied was not made (its result says so).
            if let Some((id, reason)) = crate::ingest::subagent::hook_denial(b) {
                if let Some(call) = t.calls.iter_mut().rev().find(|c| c.id == id) {
                    call.denied = Some(reason);
                }
            }
            if b.kind.0.as_deref() == Some("tool_use") {
                let id = b.id.to_owned_string().unwrap_or_default();
                // The same call written twice is read once.
                if id.is_empty() || !calls.made(&id) {
                    t.calls.push(crate::ingest::subagent::agent_call(b, source));
                }
                calls.insert(id);
                if let Some(name) = b.name.as_deref() {
                    if !t.tools.iter().any(|t| t == name) {
                        t.tools.push(name.to_string());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::raw::parse_entry;
    use crate::ingest::transcript::launches::LaunchCall;
    use crate::model::ToolInput;
    use std::sync::Arc;

    /// Launch 0 of call `t1` with prompt "do it"; launch 1 of call `t2` with prompt "other".
    fn launches() -> Launches {
        let mut launches = Launches::default();
        for (id, prompt) in [("t1", "do it"), ("t2", "other")] {
            let mut input = ToolInput { prompt: Some(prompt.into()), ..ToolInput::default() };
            launches.add(LaunchCall::take(&mut input), id.into(), 0, 0, false);
        }
        launches
    }

    fn owner(a: &mut Attribution, launches: &mut Launches, line: &str) -> Owner {
        a.owner(&parse_entry(line.as_bytes()).expect("an entry"), "s.jsonl", launches)
    }

    #[test]
    fn entries_that_are_no_subagents_are_the_orchestrators() {
        let (mut a, mut l) = (Attribution::default(), launches());
        let line = r#"{"type":"user","uuid":"u1","message":{"role":"user","content":"do it"}}"#;
        assert_eq!(owner(&mut a, &mut l, line), Owner::Orchestrator);
        assert!(l.get_mut(0).unwrap().transcript.is_none());
    }

    #[test]
    fn a_stream_line_belongs_to_the_launch_it_names() {
        let (mut a, mut l) = (Attribution::default(), launches());
        let line = r#"{"type":"assistant","parent_tool_use_id":"t2","message":{"content":"x"}}"#;
        assert_eq!(owner(&mut a, &mut l, line), Owner::Launch(1));
        let line = r#"{"type":"assistant","parent_tool_use_id":"t9","message":{"content":"x"}}"#;
        assert_eq!(owner(&mut a, &mut l, line), Owner::UnknownLaunch);
        // The name wins over the sidechain flag.
        let line = r#"{"type":"user","isSidechain":true,"parent_tool_use_id":"t1","message":{"content":"other"}}"#;
        assert_eq!(owner(&mut a, &mut l, line), Owner::Launch(0));
    }

    #[test]
    fn a_sidechain_chains_from_the_root_its_prompt_matched() {
        let (mut a, mut l) = (Attribution::default(), launches());
        let root = r#"{"type":"user","isSidechain":true,"uuid":"u1","message":{"role":"user","content":"other"}}"#;
        assert_eq!(owner(&mut a, &mut l, root), Owner::Launch(1));
        let t = l.get_mut(1).unwrap().transcript.as_ref().expect("attached");
        assert_eq!((t.file.as_str(), t.inline, t.entries), ("s.jsonl", true, 0));
        let child =
            r#"{"type":"assistant","isSidechain":true,"uuid":"u2","parentUuid":"u1","message":{"content":"x"}}"#;
        assert_eq!(owner(&mut a, &mut l, child), Owner::Launch(1));
        let grandchild =
            r#"{"type":"user","isSidechain":true,"uuid":"u3","parentUuid":"u2","message":{"content":"y"}}"#;
        assert_eq!(owner(&mut a, &mut l, grandchild), Owner::Launch(1));
        // A second root with that prompt: the launch has its transcript.
        let again = r#"{"type":"user","isSidechain":true,"uuid":"u4","message":{"role":"user","content":"other"}}"#;
        assert_eq!(owner(&mut a, &mut l, again), Owner::UnknownLaunch);
        let stray = r#"{"type":"user","isSidechain":true,"uuid":"u5","parentUuid":"u9","message":{"content":"z"}}"#;
        assert_eq!(owner(&mut a, &mut l, stray), Owner::UnknownLaunch);
        assert!(l.get_mut(0).unwrap().transcript.is_none());
    }

    #[test]
    fn a_subagents_entries_count_and_its_calls_are_recorded() {
        let mut l = launches();
        let mut calls = Calls::default();
        let source = Source { file: Arc::from("s.jsonl"), line: 1, offset: 0, len: 0 };
        let line = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"c1","name":"Read","input":{}},{"type":"tool_use","id":"c2","name":"Bash","input":{}}]}}"#;
        let again =
            r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"c3","name":"Read","input":{}}]}}"#;
        for line in [line, again] {
            subagent_entry(l.get_mut(0).unwrap(), &parse_entry(line.as_bytes()).unwrap(), &source, &mut calls);
        }
        let t = l.get_mut(0).unwrap().transcript.as_ref().expect("attached at its first entry");
        assert_eq!((t.file.as_str(), t.inline, t.entries), ("s.jsonl", true, 2));
        assert_eq!(t.tools, ["Read", "Bash"]);
        assert!(calls.made("c1") && calls.made("c2") && calls.made("c3"));
    }
}
