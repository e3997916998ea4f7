#![doc = include_str!("../../docs/rules/agent-type.md")]

use super::{Ctx, Sink};
use crate::workflow::Unlisted;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    for visit in &ctx.run.visits {
        let Some(phase) = ctx.wf.phase(visit.phase) else { continue };
        if phase.steps.is_empty() || phase.unlisted == Unlisted::Allow {
            continue; // agent-count reports launches in phases that launch none
        }
        let allowed: Vec<&str> = phase.steps.iter().flat_map(|s| s.agents.keys().map(String::as_str)).collect();
        for &l in &visit.launches {
            let launch = ctx.launch(l);
            if phase.step_of(&launch.agent_type).is_none() && !ctx.wf.agents.anywhere.contains(&launch.agent_type) {
                let shown = if launch.raw_type.is_empty() {
                    "(no subagent_type)".to_string()
                } else {
                    super::shown(&launch.raw_type)
                };
                sink.report(
                    ctx.launch_place(l),
                    Some(visit.phase),
                    format!(
                        "phase {} launched {} `{shown}` agent; phase {} launches {}",
                        visit.phase,
                        super::article(&shown),
                        visit.phase,
                        allowed.join(" and ")
                    ),
                );
            }
        }
    }
}
