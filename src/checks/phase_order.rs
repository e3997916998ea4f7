#![doc = include_str!("../../docs/rules/phase-order.md")]

use super::{Ctx, Sink};
use crate::model::text::{judge_reply, Reply};
use crate::model::{EventKind, UserKind};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    let visits = &ctx.run.visits;
    for (i, visit) in visits.iter().enumerate() {
        let phase = visit.phase;
        if wf.phase(phase).is_none() {
            // A phase the workflow does not have: phase-announcement reports it.
            continue;
        }
        let Some(prev) = visits[..i].iter().rev().find(|v| wf.phase(v.phase).is_some()) else {
            if phase != 1 {
                sink.report(
                    ctx.visit_place(i),
                    Some(phase),
                    format!("the run starts at phase {phase}; the workflow starts at phase 1"),
                );
            }
            continue;
        };
        if phase == prev.phase + 1 {
            continue;
        }
        if back_edge_allowed(ctx, i) {
            continue;
        }
        let message = if phase > prev.phase {
            let skipped: Vec<String> = (prev.phase + 1..phase).map(|p| p.to_string()).collect();
            format!(
                "phase {phase} started after phase {}; phase{} {} skipped",
                prev.phase,
                if skipped.len() == 1 { "" } else { "s" },
                skipped.join(", ") + if skipped.len() == 1 { " was" } else { " were" }
            )
        } else {
            let targets: Vec<String> = wf.approval.back_edge_to.iter().map(u8::to_string).collect();
            format!(
                "phase {phase} started after phase {}; going back is allowed only from phase {} to phase {} after the user asked for changes",
                prev.phase,
                wf.approval.ask_phase,
                targets.join(" or ")
            )
        };
        sink.report(ctx.visit_place(i), Some(phase), message);
    }
}

/// A back-edge from the approval phase to an allowed phase, after a genuine
/// user message of that visit asked for changes.
pub fn back_edge_allowed(ctx: &Ctx, v: usize) -> bool {
    let wf = ctx.wf;
    let Some(prev) = v.checked_sub(1).map(|p| ctx.visit(p)) else { return false };
    let visit = ctx.visit(v);
    if prev.phase != wf.approval.ask_phase || !wf.approval.back_edge_to.contains(&visit.phase) {
        return false;
    }
    (prev.first_event..visit.first_event).any(|ev| match &ctx.session.events[ev].kind {
        EventKind::User { kind: UserKind::Genuine, text } => judge_reply(wf, text) == Reply::AsksForChanges,
        _ => false,
    })
}
