#![doc = include_str!("../../docs/rules/sequential-steps.md")]

use super::{Ctx, Sink};
use crate::workflow::LaunchStyle;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    for visit in &ctx.run.visits {
        let Some(phase) = ctx.wf.phase(visit.phase) else { continue };
        one_at_a_time(ctx, sink, visit);
        if phase.steps.len() < 2 {
            continue;
        }
        let step_of = |l: usize| phase.step_of(&ctx.launch(l).agent_type);
        let names = |s: usize| phase.steps[s].agents.keys().cloned().collect::<Vec<_>>().join(", ");
        for s in 1..phase.steps.len() {
            let Some(&first) = visit.launches.iter().find(|&&l| step_of(l) == Some(s)) else { continue };
            let previous: Vec<usize> = visit.launches.iter().copied().filter(|&l| step_of(l) == Some(s - 1)).collect();
            let launch = ctx.launch(first);
            let at = ctx.message_start(launch.message);
            let same_message = previous.iter().any(|&p| ctx.launch(p).message == launch.message);
            let message = if same_message {
                format!(
                    "phase {} launched step {} ({}) in the same message as step {} ({}); launch step {} only after every step-{} agent returned",
                    visit.phase, s + 1, names(s), s, names(s - 1), s + 1, s
                )
            } else if previous.is_empty() || previous.iter().all(|&p| p > first) {
                format!(
                    "phase {} launched step {} ({}) before step {} ({})",
                    visit.phase,
                    s + 1,
                    names(s),
                    s,
                    names(s - 1)
                )
            } else {
                let waiting = previous.iter().filter(|&&p| !ctx.returned_before(p, at)).count();
                if waiting == 0 {
                    continue;
                }
                format!(
                    "phase {} launched step {} ({}) while {} of step {} had not returned",
                    visit.phase,
                    s + 1,
                    names(s),
                    super::agents(waiting),
                    s
                )
            };
            sink.report(ctx.launch_place(first), Some(visit.phase), message);
        }
    }
}

/// Steps launched one at a time: each launch only after the one before
/// returned, in a later message.
fn one_at_a_time(ctx: &Ctx, sink: &mut Sink, visit: &crate::model::run::Visit) {
    let Some(phase) = ctx.wf.phase(visit.phase) else { return };
    for (s, step) in phase.steps.iter().enumerate() {
        if step.launch != LaunchStyle::OneAtATime {
            continue;
        }
        let launches: Vec<usize> =
            visit.launches.iter().copied().filter(|&l| phase.step_of(&ctx.launch(l).agent_type) == Some(s)).collect();
        for pair in launches.windows(2) {
            let (before, l) = (ctx.launch(pair[0]), ctx.launch(pair[1]));
            let at = ctx.message_start(l.message);
            let why = if before.message == l.message {
                "in the same message as the one before"
            } else if !ctx.returned_before(pair[0], at) {
                "while the one launched before had not returned"
            } else {
                continue;
            };
            sink.report(
                ctx.launch_place(pair[1]),
                Some(visit.phase),
                format!(
                    "phase {} launched {} {} agent {why}; this step launches its agents one at a time",
                    visit.phase,
                    super::article(&l.agent_type),
                    super::shown(&l.agent_type)
                ),
            );
            break;
        }
    }
}

/// Whether a launch is judged by sequential-steps instead of wait-for-agents:
/// the start of a later step of a multi-step phase, or a launch of a step
/// launched one at a time.
pub fn is_later_step(ctx: &Ctx, l: usize) -> bool {
    let launch = ctx.launch(l);
    let Some(phase) = ctx.run.phase_at(launch.event).and_then(|p| ctx.wf.phase(p)) else { return false };
    let Some(s) = phase.step_of(&launch.agent_type) else { return false };
    phase.steps.len() > 1 && s > 0 || phase.steps[s].launch == LaunchStyle::OneAtATime
}
