#![doc = include_str!("../../docs/rules/forbidden-tool.md")]

use super::{Ctx, Sink};
use crate::diagnostic::Culprit;
use crate::model::text::simple_commands;
use crate::model::EventKind;
use crate::workflow::{ToolPolicy, Verdict, Workflow};

/// Shell builtins that neither explore nor edit code nor run anything.
const NEUTRAL: &[&str] = &["cd", "pushd", "popd", "true", "export", "set", "source", ".", "wait"];

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let policy = &ctx.wf.orchestrator;
    for ev in ctx.run.events() {
        let EventKind::ToolCall { id, name, input, .. } = &ctx.session.events[ev].kind else { continue };
        if ctx.session.launch_by_event(ev).is_some() {
            continue;
        }
        let phase = ctx.run.phase_at(ev);
        // Before the first phase start, the first phase's policy applies.
        let policy_phase = phase.unwrap_or(1);
        // "After this phase's agents returned": vacuously true in a phase that launches none.
        let launches_agents = ctx.wf.phase(policy_phase).is_some_and(|p| !p.steps.is_empty());
        let agents_back = !launches_agents
            || ctx
                .run
                .visit_at(ev)
                .map(|v| ctx.visit(v))
                .is_some_and(|v| !v.launches.is_empty() && v.launches.iter().all(|&l| ctx.returned_before(l, ev)));
        if !policy.shell_tools.iter().any(|s| s == name) {
            match policy.tool(policy_phase, agents_back, name) {
                Verdict::Forbidden(reason) => {
                    let target =
                        input.file_path.as_deref().map(|p| format!(" on `{}`", super::shown(p))).unwrap_or_default();
                    sink.report(
                        ctx.place(ev, Culprit::ToolName { tool_use_id: id.clone() }),
                        phase,
                        format!("the orchestrator called {name}{target}; {}", why(reason, policy_phase)),
                    );
                }
                Verdict::NotYet => sink.report(
                    ctx.place(ev, Culprit::ToolName { tool_use_id: id.clone() }),
                    phase,
                    format!("the orchestrator called {name} before the agents of phase {policy_phase} returned"),
                ),
                Verdict::Allowed | Verdict::Unmentioned => {}
            }
            continue;
        }
        let command = input.command.as_deref().unwrap_or("");
        let place = ctx.place(ev, Culprit::ToolInput { tool_use_id: id.clone(), key: "command".into() });
        let judged = judge_command(policy, policy_phase, agents_back, command);
        match judged {
            Judged::Fine => {}
            Judged::Forbidden { command: bad, class, reason } => sink.report(
                place,
                phase,
                format!(
                    "the orchestrator ran `{}` ({class}) through {name}; {}",
                    first_line_shown(&bad),
                    why(reason, policy_phase)
                ),
            ),
            Judged::Other { class } => {
                let Some(severity) = policy.other_shell else { continue };
                sink.report_as(
                    severity,
                    place,
                    phase,
                    format!(
                        "the orchestrator ran `{}` through {name}; {}",
                        first_line_shown(command),
                        other_reason(ctx.wf, policy, policy_phase, class.as_deref())
                    ),
                );
            }
        }
    }
}

/// What the policy says of one command line.
#[derive(Debug, PartialEq, Eq)]
enum Judged<'p> {
    Fine,
    Forbidden {
        command: String,
        class: String,
        reason: Option<&'p str>,
    },
    /// Not allowed, not forbidden: judged by `other_shell`. `class` is set
    /// when every command of the line is of that one class.
    Other {
        class: Option<String>,
    },
}

/// The simple commands of a command line that are judged, each with its
/// class: the first of `policy`'s classes that matches it; a command that
/// reads the output of the one before it (`pytest | tail -20`) takes that
/// command's class where `inherits` allows it: it reads output, not code.
/// Neutral builtins are left out unless they take a class so.
pub(super) fn classed_commands<'p>(
    policy: &'p ToolPolicy,
    command: &str,
    inherits: impl Fn(&str) -> bool,
) -> Vec<(String, Option<&'p str>)> {
    let mut previous: Option<&str> = None;
    let mut out = Vec::new();
    for c in simple_commands(command) {
        let own = policy.class_of(&c.text);
        let inherited = previous.filter(|p| c.piped && inherits(p));
        let class = inherited.or(own);
        previous = class;
        if NEUTRAL.contains(&c.text.split_whitespace().next().unwrap_or("")) && inherited.is_none() {
            continue;
        }
        out.push((c.text, class));
    }
    out
}

/// Judges a command line: each simple command by its class; a command
/// reading another's output inherits its class unless that class is forbidden.
fn judge_command<'p>(policy: &'p ToolPolicy, phase: u8, agents_back: bool, command: &str) -> Judged<'p> {
    let forbidden = |class: &str| matches!(policy.shell_class(phase, agents_back, class), Verdict::Forbidden(_));
    let mut classes: Vec<Option<&str>> = Vec::new();
    for (text, class) in classed_commands(policy, command, |p| !forbidden(p)) {
        if let Some(class) = class {
            if let Verdict::Forbidden(reason) = policy.shell_class(phase, agents_back, class) {
                return Judged::Forbidden { command: text, class: class.to_string(), reason };
            }
        }
        classes.push(class);
    }
    let all_allowed =
        classes.iter().all(|c| c.is_some_and(|c| policy.shell_class(phase, agents_back, c) == Verdict::Allowed));
    if all_allowed {
        return Judged::Fine;
    }
    let first = classes.first().copied().flatten();
    let one_class = first.filter(|f| classes.iter().all(|c| *c == Some(*f)));
    Judged::Other { class: one_class.map(str::to_string) }
}

fn why(reason: Option<&str>, phase: u8) -> String {
    reason.map_or_else(|| format!("phase {phase} forbids it"), str::to_string)
}

/// Why a command in no allowed class is reported.
fn other_reason(wf: &Workflow, policy: &ToolPolicy, phase: u8, class: Option<&str>) -> String {
    if let Some(class) = class {
        let (phases, _) = policy.allowed_phases(class);
        if phases.contains(&phase) {
            return format!("{class} commands may run only after the phase's agents returned");
        }
        if !phases.is_empty() {
            return format!("{class} commands may run only in phases {}", Workflow::list_phases(&phases));
        }
    }
    let allowed = policy.allowed_classes();
    if allowed.is_empty() {
        return "the workflow allows the orchestrator no shell commands of this kind".into();
    }
    let described: Vec<String> = allowed
        .iter()
        .map(|c| format!("{c} commands, in phases {}", Workflow::list_phases(&policy.allowed_phases(c).0)))
        .collect();
    let _ = wf;
    format!("the orchestrator runs only {}", described.join("; "))
}

/// A command's first line as shown in a message, with an ellipsis when more follows.
fn first_line_shown(command: &str) -> String {
    let one_line = command.lines().next().unwrap_or("");
    let shown = super::shown(one_line);
    if one_line.len() < command.trim_end().len() && !shown.ends_with('…') {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::Workflows;

    #[test]
    fn commands_are_judged_by_class_and_phase() {
        let wfs = Workflows::builtin();
        let ml = &wfs.get("ml-flow").unwrap().orchestrator;
        assert!(matches!(judge_command(ml, 2, true, "grep -rn x src"), Judged::Forbidden { .. }));
        assert_eq!(judge_command(ml, 9, true, "cd src && pytest -q | tail -5"), Judged::Fine);
        assert_eq!(judge_command(ml, 9, false, "pytest -q"), Judged::Other { class: Some("test".into()) });
        assert_eq!(judge_command(ml, 2, true, "pytest -q"), Judged::Other { class: Some("test".into()) });
        assert_eq!(judge_command(ml, 2, true, "echo hi"), Judged::Other { class: None });
        assert!(matches!(judge_command(ml, 2, true, "echo x | grep y"), Judged::Forbidden { .. }));
        let fd = &wfs.get("feature-dev").unwrap().orchestrator;
        assert!(matches!(judge_command(fd, 2, true, "rg TODO"), Judged::Forbidden { .. }));
        assert!(matches!(judge_command(fd, 3, true, "sed -i s/a/b/ x.py"), Judged::Forbidden { .. }));
        assert_eq!(judge_command(fd, 2, true, "cat README.md"), Judged::Other { class: None });
        assert_eq!(judge_command(fd, 5, true, "rg TODO"), Judged::Other { class: Some("explore".into()) });
        assert_eq!(judge_command(fd, 5, true, "npm test 2>&1 | tail -20"), Judged::Fine);
        assert_eq!(judge_command(fd, 5, true, "sed -i s/a/b/ x.py"), Judged::Fine);
    }
}
