#![doc = include_str!("../../docs/rules/forbidden-tool.md")]

use super::{Ctx, Sink};
use crate::diagnostic::{Culprit, Severity};
use crate::model::text::simple_commands;
use crate::model::EventKind;

/// Simple commands that neither explore nor edit code nor run anything.
const NEUTRAL: &[&str] = &["cd", "pushd", "popd", "true", "export", "set", "source", "."];

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let policy = &ctx.wf.tools;
    for ev in ctx.run.events() {
        let EventKind::ToolCall { id, name, input, .. } = &ctx.session.events[ev].kind else { continue };
        let phase = ctx.run.phase_at(ev);
        if policy.forbidden.iter().any(|f| f == name) {
            let target = input.file_path.as_deref().map(|p| format!(" on `{p}`")).unwrap_or_default();
            sink.report(
                ctx.place(ev, Culprit::ToolName { tool_use_id: id.clone() }),
                phase,
                format!("the orchestrator called {name}{target}; exploring and editing code is the agents' work"),
            );
            continue;
        }
        if !policy.shell.iter().any(|s| s == name) {
            continue;
        }
        let command = input.command.as_deref().unwrap_or("");
        let place = ctx.place(ev, Culprit::ToolInput { tool_use_id: id.clone(), key: "command".into() });
        let simple = simple_commands(command);
        if let Some(bad) = simple.iter().find(|c| policy.shell_forbidden.iter().any(|re| re.is_match(c))) {
            sink.report(
                place,
                phase,
                format!(
                    "the orchestrator ran `{}` through {name}; exploring and editing code is the agents' work",
                    shorten(bad)
                ),
            );
            continue;
        }
        let doing: Vec<&String> =
            simple.iter().filter(|c| !NEUTRAL.contains(&c.split_whitespace().next().unwrap_or(""))).collect();
        let is_test = !doing.is_empty() && doing.iter().all(|c| policy.shell_tests.iter().any(|re| re.is_match(c)));
        let in_test_phase = phase.is_some_and(|p| policy.test_phases.contains(&p));
        let agents_back = ctx
            .run
            .visit_at(ev)
            .map(|v| ctx.visit(v))
            .is_some_and(|v| !v.launches.is_empty() && v.launches.iter().all(|&l| ctx.returned_before(l, ev)));
        if is_test && in_test_phase && agents_back {
            continue;
        }
        let phases: Vec<String> = policy.test_phases.iter().map(u8::to_string).collect();
        let why = if is_test && in_test_phase {
            "tests may run only after the phase's agents returned".to_string()
        } else if is_test {
            format!("tests may run only in phases {}", phases.join(", "))
        } else {
            format!("the orchestrator runs only tests, in phases {}", phases.join(", "))
        };
        sink.report_as(
            Severity::Warning,
            place,
            phase,
            format!("the orchestrator ran `{}` through {name}; {why}", shorten(command)),
        );
    }
}

fn shorten(command: &str) -> String {
    let one_line = command.lines().next().unwrap_or("");
    if one_line.chars().count() > 80 || one_line.len() < command.len() {
        format!("{}…", one_line.chars().take(80).collect::<String>())
    } else {
        one_line.to_string()
    }
}
