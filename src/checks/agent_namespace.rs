#![doc = include_str!("../../docs/rules/agent-namespace.md")]

use super::{Ctx, Sink};
use crate::workflow::Names;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let agents = &ctx.wf.agents;
    let ns = agents.namespace.as_deref();
    let names = agents.names;
    for (l, launch) in ctx.launches() {
        if launch.raw_type.is_empty() {
            let fix = match (ns, names) {
                (Some(ns), Names::Namespaced | Names::Either) => format!("use `{ns}:<type>`"),
                _ => "name one of the workflow's agent types".to_string(),
            };
            sink.report(
                ctx.launch_place(l),
                ctx.run.phase_at(launch.event),
                format!("launch has no subagent_type; {fix}"),
            );
            continue;
        }
        let fine = match (&launch.namespace, names) {
            (Some(n), Names::Namespaced | Names::Either) => ns == Some(n.as_str()),
            (None, Names::Bare | Names::Either) => true,
            (None, Names::Namespaced) | (Some(_), Names::Bare) => false,
        };
        // Types allowed in any phase (built-in agents) are written bare.
        if fine || launch.namespace.is_none() && agents.anywhere.contains(&launch.agent_type) {
            continue;
        }
        let ty = super::shown(&launch.agent_type);
        let fix = match (ctx.wf.knows_type(&launch.agent_type), names, ns) {
            (true, Names::Bare, _) => format!("use `{ty}`"),
            (true, Names::Either, Some(ns)) => format!("use `{ns}:{ty}` or `{ty}`"),
            (true, _, Some(ns)) => format!("use `{ns}:{ty}`"),
            (false, Names::Bare, _) | (_, _, None) => "use one of the workflow's agent types".to_string(),
            (false, _, Some(ns)) => format!("use one of the workflow's agent types, as `{ns}:<type>`"),
        };
        let raw = super::shown(&launch.raw_type);
        let message = match &launch.namespace {
            None => format!("subagent_type `{raw}` has no namespace; {fix}"),
            Some(other) if names == Names::Bare => format!(
                "subagent_type `{raw}` is in namespace `{}`; the workflow's agents are bare; {fix}",
                super::shown(other)
            ),
            Some(other) => format!("subagent_type `{raw}` is in namespace `{}`; {fix}", super::shown(other)),
        };
        sink.report(ctx.launch_place(l), ctx.run.phase_at(launch.event), message);
    }
}
