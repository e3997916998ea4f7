#![doc = include_str!("../../docs/rules/forbidden-tool.md")]

use super::{Ctx, Sink};
use crate::diagnostic::{Culprit, Severity};
use crate::model::text::simple_commands;
use crate::model::EventKind;

/// Simple commands that neither explore nor edit code nor run anything.
const NEUTRAL: &[&str] = &["cd", "pushd", "popd", "true", "export", "set", "source", ".", "wait"];

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let policy = &ctx.wf.tools;
    for ev in ctx.run.events() {
        let EventKind::ToolCall { id, name, input, .. } = &ctx.session.events[ev].kind else { continue };
        let phase = ctx.run.phase_at(ev);
        if policy.forbidden.iter().any(|f| f == name) {
            let target = input.file_path.as_deref().map(|p| format!(" on `{}`", super::shown(p))).unwrap_or_default();
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
        let is_test = |c: &str| policy.shell_tests.iter().any(|re| re.is_match(c));
        // What a test run's output is piped into (`pytest | tail -20`) reads
        // that output, not code.
        let mut after_test = false;
        let mut bad = None;
        for c in &simple {
            after_test = c.piped && after_test || is_test(&c.text);
            if !after_test && policy.shell_forbidden.iter().any(|re| re.is_match(&c.text)) {
                bad = Some(c);
                break;
            }
        }
        if let Some(bad) = bad {
            sink.report(
                place,
                phase,
                format!(
                    "the orchestrator ran `{}` through {name}; exploring and editing code is the agents' work",
                    shorten(&bad.text)
                ),
            );
            continue;
        }
        let mut piped_into_test = false;
        let doing: Vec<&str> = simple
            .iter()
            .filter(|c| {
                piped_into_test = c.piped && piped_into_test || is_test(&c.text);
                let neutral = NEUTRAL.contains(&c.text.split_whitespace().next().unwrap_or(""));
                !(neutral || c.piped && piped_into_test)
            })
            .map(|c| c.text.as_str())
            .collect();
        let is_test = !doing.is_empty() && doing.iter().all(|c| is_test(c));
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
    let shown = super::shown(one_line);
    if one_line.len() < command.trim_end().len() && !shown.ends_with('…') {
        format!("{shown}…")
    } else {
        shown
    }
}
