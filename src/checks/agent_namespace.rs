#![doc = include_str!("../../docs/rules/agent-namespace.md")]

use super::{Ctx, Sink};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let ns = ctx.wf.namespace.as_str();
    for (l, launch) in ctx.launches() {
        if launch.namespace.as_deref() == Some(ns) {
            continue;
        }
        let message = match &launch.namespace {
            _ if launch.raw_type.is_empty() => format!("launch has no subagent_type; use `{ns}:<type>`"),
            None => format!("subagent_type `{}` has no namespace; use `{ns}:{}`", launch.raw_type, launch.agent_type),
            Some(other) => format!(
                "subagent_type `{}` is in namespace `{other}`; use `{ns}:{}`",
                launch.raw_type, launch.agent_type
            ),
        };
        sink.report(ctx.launch_place(l), ctx.run.phase_at(launch.event), message);
    }
}
