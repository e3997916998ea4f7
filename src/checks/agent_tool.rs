#![doc = include_str!("../../docs/rules/agent-tool.md")]

use super::{Ctx, Sink};
use crate::diagnostic::Culprit;
use crate::workflow::{Verdict, Workflow};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    for (_, launch) in ctx.launches() {
        let Some(transcript) = &launch.transcript else { continue };
        // The agent works for the phase that launched it.
        let phase = ctx.run.phase_at(launch.event);
        for call in &transcript.calls {
            let Some(breach) =
                judge(ctx.wf, &launch.agent_type, &call.name, call.command.as_deref(), call.file_path.as_deref())
            else {
                continue;
            };
            let culprit = if breach.shell {
                Culprit::ToolInput { tool_use_id: call.id.clone(), key: "command".into() }
            } else {
                Culprit::ToolName { tool_use_id: call.id.clone() }
            };
            sink.report(call.source.place(culprit), phase, breach.message);
        }
    }
}

/// An agent's call that its type's policy forbids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentBreach {
    /// The finding's message.
    pub message: String,
    /// A shell command line (the culprit is the command, not the tool).
    pub shell: bool,
}

/// Judges one call of an agent of `agent_type` (normalized, without
/// namespace) by the workflow's `[[agent_policy]]`: the same judgement for
/// `check` (the agent's transcript) and `guard` (the call about to run).
pub fn judge(
    wf: &Workflow,
    agent_type: &str,
    tool: &str,
    command: Option<&str>,
    file_path: Option<&str>,
) -> Option<AgentBreach> {
    let policy = &wf.agent_policy;
    if !policy.speaks_for(agent_type) {
        return None;
    }
    let why = |reason: Option<&str>| {
        reason.map_or_else(|| format!("the workflow does not let {agent_type} agents do it"), str::to_string)
    };
    if !wf.orchestrator.shell_tools.iter().any(|s| s == tool) {
        let Verdict::Forbidden(reason) = policy.tool(agent_type, tool) else { return None };
        let target = file_path.map(|p| format!(" on `{}`", super::shown(p))).unwrap_or_default();
        return Some(AgentBreach {
            message: format!("the {agent_type} agent called {tool}{target}; {}", why(reason)),
            shell: false,
        });
    }
    // The first command of a forbidden class ends the judgement: a command
    // after it never inherits a forbidden class.
    for (text, class) in super::forbidden_tool::classed_commands(&wf.orchestrator, command.unwrap_or(""), |_| true) {
        if let Verdict::Forbidden(reason) = policy.shell_class(agent_type, class) {
            let of_class = class.map(|c| format!(" ({c})")).unwrap_or_default();
            return Some(AgentBreach {
                message: format!(
                    "the {agent_type} agent ran `{}`{of_class} through {tool}; {}",
                    super::shown(text.lines().next().unwrap_or("")),
                    why(reason)
                ),
                shell: true,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::Workflow;

    const RULES: &str = r###"
version = 2
[workflow]
name = "t"
commands = ["/t"]
launch_tools = ["Task"]
[phases]
headers = ["## Phase {n}: {name}"]
[[phase]]
name = "Look"
agents = { explorer = "1" }
[[phase]]
name = "Build"
agents = { builder = "1" }
[orchestrator]
shell_tools = ["Bash"]
[orchestrator.shell_classes]
test = ['^pytest\b']
edit = ['^sed\s+-i\b']
explore = ['^(grep|cat|ls)\b']
[[agent_policy]]
agents = ["explorer"]
forbid = ["Write", "Edit"]
forbid_shell = ["edit"]
reason = "explorers only report"
[[agent_policy]]
agents = ["builder"]
forbid = ["*"]
allow = ["Read", "Edit", "Bash"]
forbid_shell = ["*"]
allow_shell = ["test"]
"###;

    fn breach(agent: &str, tool: &str, command: Option<&str>) -> Option<String> {
        let wf = Workflow::parse(RULES, "t.toml").unwrap();
        judge(&wf, agent, tool, command, Some("src/a.py")).map(|b| b.message)
    }

    #[test]
    fn tools_are_judged_by_the_agents_type() {
        assert_eq!(
            breach("explorer", "Write", None).as_deref(),
            Some("the explorer agent called Write on `src/a.py`; explorers only report")
        );
        assert_eq!(breach("explorer", "Read", None), None);
        assert_eq!(breach("builder", "Edit", None), None);
        assert_eq!(
            breach("builder", "WebFetch", None).as_deref(),
            Some("the builder agent called WebFetch on `src/a.py`; the workflow does not let builder agents do it")
        );
        // A type no entry speaks for may do anything.
        assert_eq!(breach("general-purpose", "Write", None), None);
    }

    #[test]
    fn shell_commands_are_judged_by_class() {
        assert_eq!(
            breach("explorer", "Bash", Some("cd src && sed -i s/a/b/ x.py")).as_deref(),
            Some("the explorer agent ran `sed -i s/a/b/ x.py` (edit) through Bash; explorers only report")
        );
        assert_eq!(breach("explorer", "Bash", Some("grep -rn x src | head")), None);
        assert_eq!(breach("builder", "Bash", Some("pytest -q | tail -5")), None);
        // `*` forbids commands of no class too; `cd` is neutral.
        assert_eq!(
            breach("builder", "Bash", Some("cd src && make")).as_deref(),
            Some("the builder agent ran `make` through Bash; the workflow does not let builder agents do it")
        );
        assert!(breach("builder", "Bash", Some("cat x.py")).is_some());
    }

    #[test]
    fn unknown_types_and_classes_are_errors_of_the_rules_file() {
        let typo = RULES.replace(r#"agents = ["explorer"]"#, r#"agents = ["explorr"]"#);
        let e = Workflow::parse(&typo, "t.toml").unwrap_err().to_string();
        assert!(e.contains("explorr"), "{e}");
        let class = RULES.replace(r#"forbid_shell = ["edit"]"#, r#"forbid_shell = ["edits"]"#);
        let e = Workflow::parse(&class, "t.toml").unwrap_err().to_string();
        assert!(e.contains("edits"), "{e}");
        let all = RULES.replace(r#"agents = ["explorer"]"#, r#"agents = "every""#);
        assert!(Workflow::parse(&all, "t.toml").is_err());
        let all = RULES.replace(r#"agents = ["explorer"]"#, r#"agents = "all""#);
        let wf = Workflow::parse(&all, "t.toml").unwrap();
        assert!(judge(&wf, "builder", "Write", None, None).is_some());
    }
}
