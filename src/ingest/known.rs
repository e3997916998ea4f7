//! Every record type orchlint knows, and what it does with each: the entry
//! types of session files and stream-json, the subtypes of `system` entries,
//! the kinds of `attachment`, `queue-operation` and `progress` records.
//!
//! A type not listed here is skipped without a word, as Claude Code's own
//! readers do (newer versions add types often). The list is kept complete
//! against the real sessions in `../shared/realworld`, `../shared/external`
//! and `../shared/corpus`: `tests/known_types.rs` fails on a type seen there
//! and missing here, so a new one is looked at once and then listed.

/// What orchlint does with a record of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Read: events, launches, returns, user messages or the session's id
    /// and tools come from it.
    Read,
    /// Claude Code's own bookkeeping, with nothing a rule judges: checked to
    /// be whole JSON, never parsed further.
    Ignored,
    /// Not Claude Code's: written by other tools' hand-made fixtures. Read as
    /// no entry.
    Foreign,
}

use Use::{Foreign, Ignored, Read};

/// Top-level `type` of a line, in session files and stream-json output.
pub const ENTRY_TYPES: &[(&str, Use)] = &[
    ("user", Read),
    ("assistant", Read),
    ("system", Read),
    ("queue-operation", Read),
    ("attachment", Ignored),
    ("progress", Read),
    ("summary", Ignored),
    ("result", Read),
    ("file-history-snapshot", Ignored),
    ("file-history-delta", Ignored),
    ("custom-title", Ignored),
    ("ai-title", Ignored),
    ("agent-name", Ignored),
    ("agent-setting", Ignored),
    ("permission-mode", Ignored),
    ("mode", Ignored),
    ("pr-link", Ignored),
    ("last-prompt", Ignored),
    ("bridge-session", Ignored),
    ("worktree-state", Ignored),
    ("tag", Ignored),
    ("api-request", Ignored),
    ("api-request-shape", Ignored),
    ("api-request-blob", Ignored),
    ("atis-latch", Ignored),
    ("tools-used", Ignored),
    ("cost-state", Ignored),
    ("rate_limit_event", Ignored),
    ("stream_event", Ignored),
    ("message", Foreign),
    ("tool_call", Foreign),
    ("tool_use", Foreign),
    ("tool_result", Foreign),
    ("error", Foreign),
    ("started", Foreign),
    ("relocated", Foreign),
    ("frame-link", Foreign),
];

/// `subtype` of `system` entries.
pub const SYSTEM_SUBTYPES: &[(&str, Use)] = &[
    ("init", Read),
    ("task_notification", Read),
    ("task_started", Read),
    ("task_updated", Ignored),
    ("background_tasks_changed", Ignored),
    ("compact_boundary", Ignored),
    ("microcompact_boundary", Ignored),
    ("local_command", Ignored),
    ("api_error", Ignored),
    ("api_refusal", Ignored),
    ("model_refusal_fallback", Ignored),
    ("error", Ignored),
    ("away_summary", Ignored),
    ("scheduled_task_fire", Ignored),
    ("bridge_status", Ignored),
    ("session_start", Ignored),
    ("stop_hook_summary", Ignored),
    ("turn_duration", Ignored),
    ("informational", Ignored),
];

/// `attachment.type` of `attachment` entries.
pub const ATTACHMENT_TYPES: &[(&str, Use)] = &[
    ("queued_command", Read),
    ("agent_listing_delta", Ignored),
    ("auto_mode", Ignored),
    ("batching_reminder_sent", Ignored),
    ("budget_usd", Ignored),
    ("command_permissions", Ignored),
    ("compact_file_reference", Ignored),
    ("date", Ignored),
    ("date_change", Ignored),
    ("deferred_tools_delta", Ignored),
    ("dynamic_skill", Ignored),
    ("edited_text_file", Ignored),
    ("environment", Ignored),
    ("file", Ignored),
    ("goal_status", Ignored),
    ("hook_additional_context", Ignored),
    ("hook_blocking_error", Ignored),
    ("hook_cancelled", Ignored),
    ("hook_non_blocking_error", Ignored),
    ("hook_success", Ignored),
    ("hook_system_message", Ignored),
    ("invoked_skills", Ignored),
    ("mcp_instructions_delta", Ignored),
    ("model", Ignored),
    ("nested_memory", Ignored),
    ("plan_mode", Ignored),
    ("plan_mode_exit", Ignored),
    ("prompt_snapshot", Ignored),
    ("read_truncation_notice", Ignored),
    ("remote_session_change", Ignored),
    ("session_context", Ignored),
    ("silent_turn_reminder", Ignored),
    ("skill_listing", Ignored),
    ("task_reminder", Ignored),
    ("task_status", Ignored),
    ("todo_reminder", Ignored),
    ("total_tokens_reminder", Ignored),
    ("ultra_effort_enter", Ignored),
    ("ultra_effort_exit", Ignored),
    ("workflow_keyword_request", Ignored),
];

/// `operation` of `queue-operation` entries.
pub const QUEUE_OPERATIONS: &[(&str, Use)] =
    &[("enqueue", Read), ("dequeue", Read), ("remove", Read), ("popAll", Ignored)];

/// `data.type` of `progress` entries.
pub const PROGRESS_TYPES: &[(&str, Use)] = &[
    ("agent_progress", Read),
    ("bash_progress", Ignored),
    ("hook_progress", Ignored),
    ("waiting_for_task", Ignored),
    ("mcp_progress", Ignored),
];

/// What orchlint does with a kind of a table, `None` when it is unknown.
pub fn use_of(table: &[(&str, Use)], kind: &str) -> Option<Use> {
    table.iter().find(|(k, _)| *k == kind).map(|(_, u)| *u)
}

/// Whether a line of this type marks its file as a session file: one of
/// Claude Code's entry types that stream-json output does not have.
pub fn is_session_type(kind: &str) -> bool {
    kind != "result"
        && kind != "rate_limit_event"
        && kind != "stream_event"
        && use_of(ENTRY_TYPES, kind).is_some_and(|u| u != Foreign)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::lines::{sniff, Wanted};

    /// The table says what the reader does: an entry type marked read is one
    /// the line sniffer keeps, every other one it skips unparsed.
    #[test]
    fn the_table_is_what_the_reader_does() {
        for (kind, u) in ENTRY_TYPES {
            let line = format!("{{\"type\":\"{kind}\",\"sessionId\":\"s\"}}");
            let kept = sniff(line.as_bytes()) != Wanted::Skip;
            assert_eq!(
                kept,
                *u == Read,
                "{kind}: marked {u:?}, the sniffer {}",
                if kept { "keeps it" } else { "skips it" }
            );
        }
    }

    #[test]
    fn session_types_are_claude_codes_and_not_stream_json_only() {
        assert!(is_session_type("user") && is_session_type("file-history-delta"));
        assert!(!is_session_type("result") && !is_session_type("message") && !is_session_type("no-such-type"));
    }

    #[test]
    fn no_kind_is_listed_twice() {
        for table in [ENTRY_TYPES, SYSTEM_SUBTYPES, ATTACHMENT_TYPES, QUEUE_OPERATIONS, PROGRESS_TYPES] {
            let mut names: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "a kind listed twice in {names:?}");
        }
    }
}
