#![doc = include_str!("../../docs/rules/agent-namespace.md")]

use super::{Ctx, Sink};
use crate::workflow::Names;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let Some(ns) = ctx.wf.agents.namespace.as_deref() else { return };
    let names = ctx.wf.agents.names;
    for (l, launch) in ctx.launches() {
        let fine = match (&launch.namespace, names) {
            (Some(n), Names::Namespaced | Names::Either) => n == ns,
            (None, Names::Bare | Names::Either) => !launch.raw_type.is_empty(),
            (None, Names::Namespaced) => false,
            (Some(_), Names::Bare) => false,
        };
        if fine || ctx.wf.agents.anywhere.contains(&launch.agent_type) && launch.namespace.is_none() {
            continue;
        }
        let known = ctx.wf.knows_type(&launch.agent_type);
        let ty = super::shown(&launch.agent_type);
        let fix = match (known, names) {
            (true, Names::Bare) => format!("use `{ty}`"),
            (true, Names::Either) => format!("use `{ns}:{ty}` or `{ty}`"),
            (true, Names::Namespaced) => format!("use `{ns}:{ty}`"),
            (false, Names::Bare) => "use one of the workflow's agent types".to_string(),
            (false, _) => format!("use one of the workflow's agent types, as `{ns}:<type>`"),
        };
        let raw = super::shown(&launch.raw_type);
        let message = match &launch.namespace {
            _ if launch.raw_type.is_empty() => format!("launch has no subagent_type; use `{ns}:<type>`"),
            None => format!("subagent_type `{raw}` has no namespace; {fix}"),
            Some(other) if names == Names::Bare => {
                format!(
                    "subagent_type `{raw}` is in namespace `{}`; the workflow's agents are bare; {fix}",
                    super::shown(other)
                )
            }
            Some(other) => format!("subagent_type `{raw}` is in namespace `{}`; {fix}", super::shown(other)),
        };
        sink.report(ctx.launch_place(l), ctx.run.phase_at(launch.event), message);
    }
}
