#![doc = include_str!("../../docs/rules/wait-for-agents.md")]

use super::{describe_types, Ctx, Sink};
use crate::model::EventKind;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let run = ctx.run;
    let mut outstanding: Vec<usize> = Vec::new();
    let mut reported: Vec<usize> = Vec::new();
    let mut launches = ctx.launches().peekable();
    for ev in run.events() {
        outstanding.retain(|&l| ctx.launch(l).returned_at != Some(ev));
        let visit_before = if ev > run.start { run.visit_at(ev - 1) } else { None };
        // A phase start while agents of the phase before are outstanding.
        if let Some(start) = run.starts_at(ev).find(|s| s.opens_visit) {
            let waiting: Vec<usize> = outstanding
                .iter()
                .copied()
                .filter(|&l| {
                    !reported.contains(&l)
                        && visit_before.is_some()
                        && run.visit_at(ctx.launch(l).event) == visit_before
                })
                .collect();
            if let (false, Some(v)) = (waiting.is_empty(), visit_before) {
                let types = describe_types(waiting.iter().map(|&l| ctx.launch(l).agent_type.as_str()));
                sink.report(
                    ctx.place(ev, crate::diagnostic::Culprit::Text(start.announcement.header.trim().to_string())),
                    Some(start.announcement.phase),
                    format!(
                        "phase {} started while {} of phase {} had not returned ({types})",
                        start.announcement.phase,
                        super::agents(waiting.len()),
                        run.visits[v].phase
                    ),
                );
                reported.extend(waiting);
            }
        }
        // A launch in a later message while agents of the current phase are outstanding.
        while let Some(&(l, launch)) = launches.peek() {
            if launch.event != ev {
                break;
            }
            launches.next();
            let visit = run.visit_at(ev);
            let waiting: Vec<usize> = outstanding
                .iter()
                .copied()
                .filter(|&o| {
                    let other = ctx.launch(o);
                    !reported.contains(&o) && other.message != launch.message && run.visit_at(other.event) == visit
                })
                .collect();
            if !waiting.is_empty() && !super::sequential_steps::is_later_step(ctx, l) {
                let types = describe_types(waiting.iter().map(|&o| ctx.launch(o).agent_type.as_str()));
                sink.report(
                    ctx.launch_place(l),
                    run.phase_at(ev),
                    format!(
                        "launched {} {} agent while {} launched earlier in this phase had not returned ({types})",
                        super::article(&launch.agent_type),
                        super::shown(&launch.agent_type),
                        super::agents(waiting.len())
                    ),
                );
                reported.extend(waiting);
            }
            if !matches!(ctx.session.events[ev].kind, EventKind::ToolCall { .. }) {
                continue;
            }
            if launch.returned_at.is_none_or(|r| r > ev) {
                outstanding.push(l);
            }
        }
    }
}
