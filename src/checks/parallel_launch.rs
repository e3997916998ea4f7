#![doc = include_str!("../../docs/rules/parallel-launch.md")]

use super::{agents, Ctx, Sink};
use crate::workflow::LaunchStyle;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    for visit in &ctx.run.visits {
        let Some(phase) = ctx.wf.phase(visit.phase) else { continue };
        for (s, step) in phase.steps.iter().enumerate() {
            if step.launch == LaunchStyle::OneAtATime {
                continue; // sequential-steps judges these
            }
            let step: Vec<usize> = visit
                .launches
                .iter()
                .copied()
                .filter(|&l| phase.step_of(&ctx.launch(l).agent_type) == Some(s))
                .collect();
            let mut messages: Vec<u32> = step.iter().map(|&l| ctx.launch(l).message).collect();
            messages.dedup();
            if messages.len() < 2 {
                continue;
            }
            let first_message = messages[0];
            let stray = step.iter().copied().find(|&l| ctx.launch(l).message != first_message).expect("two messages");
            let what = if phase.steps.len() > 1 {
                format!("step {} of phase {}", s + 1, visit.phase)
            } else {
                format!("phase {}", visit.phase)
            };
            sink.report(
                ctx.launch_place(stray),
                Some(visit.phase),
                format!(
                    "{what} launched its {} in {} messages; launch them in one message",
                    agents(step.len()),
                    messages.len()
                ),
            );
        }
    }
}
