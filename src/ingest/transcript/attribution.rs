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

use std::collections::HashMap;

use crate::ingest::raw::{Content, Entry};
use crate::model::{Launch, Source, SubagentTranscript};

use super::calls::Calls;
use super::launches::Launches;

#[derive(Default)]
pub(super) struct Attribution {
    /// Sidechain entry uuid → launch index (1.0.x inline subagents).
    sidechain: HashMap<String, usize>,
}

impl Attribution {
    /// The launch a subagent entry of session file `file` belongs to, for
    /// inline sidechains (1.0.x) and stream-json lines with
    /// `parent_tool_use_id`; `usize::MAX` when that id names no launch. A
    /// sidechain root matched to a launch by its prompt gets that launch's
    /// transcript attached (inline, in `file`).
    pub(super) fn subagent_owner(&mut self, e: &Entry<'_>, file: &str, launches: &mut Launches) -> Option<usize> {
        if let Some(parent) = e.parent_tool_use_id.0.as_deref() {
            return launches.by_tool_use(parent).or(Some(usize::MAX));
        }
        if !e.is_sidechain.0 {
            return None;
        }
        if let Some(parent) = e.parent_uuid.0.as_deref() {
            if let Some(&l) = self.sidechain.get(parent) {
                if let Some(uuid) = e.uuid.to_owned_string() {
                    self.sidechain.insert(uuid, l);
                }
                return Some(l);
            }
        }
        self.root(e, file, launches)
    }

    /// A sidechain root: match its prompt to a launch not yet attached.
    fn root(&mut self, e: &Entry<'_>, file: &str, launches: &mut Launches) -> Option<usize> {
        let prompt = e.message.0.as_ref().map(|m| m.content.joined_text())?;
        let l = launches.unattached_with_prompt(&prompt)?;
        if let Some(uuid) = e.uuid.to_owned_string() {
            self.sidechain.insert(uuid, l);
        }
        launches.get_mut(l).transcript =
            Some(SubagentTranscript { file: file.to_string(), inline: true, entries: 0, tools: Vec::new() });
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
    });
    t.entries += 1;
    if let Some(Content::Blocks(blocks)) = e.message.0.as_ref().map(|m| &m.content) {
        for b in blocks {
            if b.kind.0.as_deref() == Some("tool_use") {
                calls.insert(b.id.to_owned_string().unwrap_or_default());
                if let Some(name) = b.name.as_deref() {
                    if !t.tools.iter().any(|t| t == name) {
                        t.tools.push(name.to_string());
                    }
                }
            }
        }
    }
}
