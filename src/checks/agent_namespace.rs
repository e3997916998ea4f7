#![doc = include_str!("../../docs/rules/agent-namespace.md")]

use super::{Ctx, Sink};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let ns = ctx.wf.namespace.as_str();
    for (l, launch) in ctx.launches() {
        if launch.namespace.as_deref() == Some(ns) {
            continue;
        }
        let known = ctx.wf.phases.iter().any(|p| p.step_of(&launch.agent_type).is_some());
        let fix = if known {
            format!("use `{ns}:{}`", super::shown(&launch.agent_type))
        } else {
            format!("use one of the workflow's agent types, as `{ns}:<type>`")
        };
        let raw = super::shown(&launch.raw_type);
        let message = match &launch.namespace {
            _ if launch.raw_type.is_empty() => format!("launch has no subagent_type; use `{ns}:<type>`"),
            None => format!("subagent_type `{raw}` has no namespace; {fix}"),
            Some(other) => format!("subagent_type `{raw}` is in namespace `{}`; {fix}", super::shown(other)),
        };
        sink.report(ctx.launch_place(l), ctx.run.phase_at(launch.event), message);
    }
}
