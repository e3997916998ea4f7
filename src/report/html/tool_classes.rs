//! Which of Claude Code's tools an orchestrator tick is drawn as. This is a
//! display concern of Claude Code's tool surface, not of any workflow: the
//! rules files never name a tool class, and a tool missing here is drawn as
//! `other`. The classes are coloured in `assets/timeline.css`
//! (`.tick.tool-CLASS`) and listed, in this order, in the legend.

/// A class of tools: its CSS class, its name in the legend, its tools.
pub struct ToolClass {
    pub class: &'static str,
    pub legend: &'static str,
    pub tools: &'static [&'static str],
}

/// Claude Code's tools by class, in legend order; the last, `other`, has
/// every tool not listed before it.
pub const TOOL_CLASSES: &[ToolClass] = &[
    ToolClass { class: "read", legend: "Read", tools: &["Read"] },
    ToolClass { class: "bash", legend: "Bash", tools: &["Bash", "BashOutput", "KillShell"] },
    ToolClass { class: "todo", legend: "TodoWrite", tools: &["TodoWrite", "TodoRead"] },
    ToolClass { class: "write", legend: "Write/Edit", tools: &["Write", "Edit", "MultiEdit", "NotebookEdit"] },
    ToolClass { class: "search", legend: "Grep/Glob", tools: &["Grep", "Glob", "LS"] },
    ToolClass { class: "other", legend: "other", tools: &[] },
];

/// The CSS class of a tool's tick.
pub fn tool_class(name: &str) -> &'static str {
    TOOL_CLASSES.iter().find(|c| c.tools.contains(&name)).map_or("other", |c| c.class)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_tools_have_their_class_and_others_are_other() {
        assert_eq!(tool_class("Read"), "read");
        assert_eq!(tool_class("MultiEdit"), "write");
        assert_eq!(tool_class("Glob"), "search");
        assert_eq!(tool_class("WebFetch"), "other");
        assert_eq!(TOOL_CLASSES.last().map(|c| c.class), Some("other"));
    }
}
