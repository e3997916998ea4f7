//! Calls and results matched by tool_use id: a call written twice is read
//! once, and a result with no earlier call is said, and remembered in case
//! its call (a launch) comes after it.
//!
//! Owns every tool_use id seen, the orchestrator's and its subagents', and
//! the ids of results that came before any call. Uses nothing else.
//!
//! A session read in parts (see [`super::parse_parts`]) numbers them: each
//! id keeps the part it was seen in, so that a result reaching back into a
//! part already handed over is known (`crossed`), and the part is
//! quiescent only when each of its calls has its result.

use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap as HashMap;

use crate::diagnostic::{Culprit, Finding};
use crate::model::Source;

#[derive(Default)]
pub(super) struct Calls {
    /// Every tool_use id seen, orchestrator or subagent: the part it was
    /// seen in, and whether its result came.
    made: HashMap<String, (u32, bool)>,
    /// Results that came before any call with their id, and their part.
    early_results: HashMap<String, u32>,
    /// The part being read.
    part: u32,
    /// Calls of this part without a result yet.
    open: usize,
    /// A result or call of this part met one of a part handed over.
    pub(super) crossed: bool,
}

impl Calls {
    /// Whether a call with this id was seen.
    pub(super) fn made(&self, id: &str) -> bool {
        self.made.contains_key(id)
    }

    /// A call seen.
    pub(super) fn insert(&mut self, id: String) {
        // A call without an id, or whose result came first, waits for nothing.
        let answered = id.is_empty() || self.early_results.contains_key(&id);
        if let Entry::Vacant(v) = self.made.entry(id) {
            v.insert((self.part, answered));
            self.open += usize::from(!answered);
        }
    }

    /// Whether every call of the part being read has its result.
    pub(super) fn quiescent(&self) -> bool {
        self.open == 0
    }

    /// The part being read is handed over; the next begins.
    pub(super) fn next_part(&mut self) {
        self.part += 1;
        self.open = 0;
    }

    /// A result for call `id`: false when no earlier call made it, which is
    /// said (at `source`) and remembered for [`Calls::take_early`].
    pub(super) fn result(&mut self, id: &str, source: &Source, findings: &mut Vec<Finding>) -> bool {
        if let Some((part, answered)) = self.made.get_mut(id) {
            if *part != self.part {
                self.crossed = true;
            } else if !*answered {
                self.open -= 1;
            }
            *answered = true;
            return true;
        }
        findings.push(Finding::input_at(
            source,
            Culprit::Raw(format!("\"{id}\"")),
            format!("tool result for call {id:?}, which no earlier tool_use made"),
        ));
        self.early_results.insert(id.to_string(), self.part);
        false
    }

    /// Whether a result for call `id` came before the call; forgets it.
    pub(super) fn take_early(&mut self, id: &str) -> bool {
        match self.early_results.remove(id) {
            Some(part) => {
                self.crossed |= part != self.part;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_result_before_its_call_is_said_and_remembered_once() {
        let source = Source { file: Arc::from("t.jsonl"), line: 4, offset: 0, len: 0 };
        let mut calls = Calls::default();
        let mut findings = Vec::new();
        assert!(!calls.result("t1", &source, &mut findings));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("\"t1\", which no earlier tool_use made"), "{}", findings[0].message);
        assert!(calls.take_early("t1"));
        assert!(!calls.take_early("t1"));

        calls.insert("t2".into());
        assert!(calls.made("t2"));
        assert!(calls.result("t2", &source, &mut findings));
        assert_eq!(findings.len(), 1);
        assert!(!calls.take_early("t2"));
    }
}
