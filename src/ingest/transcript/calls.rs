//! Calls and results matched by tool_use id: a call written twice is read
//! once, and a result with no earlier call is said, and remembered in case
//! its call (a launch) comes after it.
//!
//! Owns every tool_use id seen, the orchestrator's and its subagents', and
//! the ids of results that came before any call. Uses nothing else.

use std::collections::HashSet;

use crate::diagnostic::{Culprit, Finding};
use crate::model::Source;

#[derive(Default)]
pub(super) struct Calls {
    /// Every tool_use id seen, orchestrator or subagent.
    made: HashSet<String>,
    /// Results that came before any call with their id.
    early_results: HashSet<String>,
}

impl Calls {
    /// Whether a call with this id was seen.
    pub(super) fn made(&self, id: &str) -> bool {
        self.made.contains(id)
    }

    /// A call seen.
    pub(super) fn insert(&mut self, id: String) {
        self.made.insert(id);
    }

    /// A result for call `id`: false when no earlier call made it, which is
    /// said (at `source`) and remembered for [`Calls::take_early`].
    pub(super) fn result(&mut self, id: &str, source: &Source, findings: &mut Vec<Finding>) -> bool {
        if self.made.contains(id) {
            return true;
        }
        findings.push(Finding::input_at(
            source,
            Culprit::Raw(format!("\"{id}\"")),
            format!("tool result for call {id:?}, which no earlier tool_use made"),
        ));
        self.early_results.insert(id.to_string());
        false
    }

    /// Whether a result for call `id` came before the call; forgets it.
    pub(super) fn take_early(&mut self, id: &str) -> bool {
        self.early_results.remove(id)
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
