#![doc = include_str!("../../docs/rules/agent-count.md")]

use std::collections::BTreeMap;

use super::{agents, describe_types, Ctx, Sink};
use crate::workflow::Unlisted;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    for (v, visit) in ctx.run.visits.iter().enumerate() {
        let Some(phase) = ctx.wf.phase(visit.phase) else { continue };
        let counted: Vec<usize> = visit
            .launches
            .iter()
            .copied()
            .filter(|&l| !ctx.wf.agents.anywhere.contains(&ctx.launch(l).agent_type))
            .collect();
        if phase.steps.is_empty() {
            if phase.unlisted == Unlisted::Allow {
                continue;
            }
            if let Some(&first) = counted.first() {
                let types = describe_types(counted.iter().map(|&l| ctx.launch(l).agent_type.as_str()));
                sink.report(
                    ctx.launch_place(first),
                    Some(visit.phase),
                    format!("phase {} launches no agents; it launched {types}", visit.phase),
                );
            }
            continue;
        }
        let mut by_type: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &l in &counted {
            by_type.entry(ctx.launch(l).agent_type.as_str()).or_default().push(l);
        }
        for step in &phase.steps {
            for (agent_type, count) in &step.agents {
                let launched = by_type.get(agent_type.as_str()).map_or(&[][..], Vec::as_slice);
                let n = launched.len() as u32;
                if n == 0 && ctx.cut_short(v) {
                    continue;
                }
                let place = match launched.first() {
                    Some(&l) => ctx.launch_place(l),
                    None => ctx.visit_place(v),
                };
                if n < count.min {
                    sink.report(
                        place,
                        Some(visit.phase),
                        format!(
                            "phase {} launched {} {agent_type} agent{}; the workflow requires {}",
                            visit.phase,
                            n,
                            if n == 1 { "" } else { "s" },
                            count.describe()
                        ),
                    );
                } else if let (true, Some(severity)) = (n > count.max, ctx.wf.agents.over_max) {
                    sink.report_as(
                        severity,
                        place,
                        Some(visit.phase),
                        format!(
                            "phase {} launched {} of type {agent_type}; the workflow asks for {}",
                            visit.phase,
                            agents(n as usize),
                            count.describe()
                        ),
                    );
                }
            }
        }
    }
}
