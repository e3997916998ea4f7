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
            // With an announcement format, phase-announcement reports it.
            if wf.announcement.is_none() || !wf.uses("phase-announcement") {
                sink.report(
                    ctx.visit_place(i),
                    Some(phase),
                    format!("announced phase {phase}, but the workflow has {} phases", wf.total_phases()),
                );
            }
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
        if back_edge_gate(ctx, i).is_some() {
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
            let edges: Vec<String> = wf
                .gates
                .iter()
                .filter(|g| !g.back_to.is_empty())
                .map(|g| {
                    let targets: Vec<String> = g.back_to.iter().map(u8::to_string).collect();
                    format!("from phase {} to phase {}", g.ask_phase, targets.join(" or "))
                })
                .collect();
            if edges.is_empty() {
                format!("phase {phase} started after phase {}; the workflow does not go back", prev.phase)
            } else {
                format!(
                    "phase {phase} started after phase {}; going back is allowed only {} after the user asked for changes",
                    prev.phase,
                    edges.join(", ")
                )
            }
        };
        sink.report(ctx.visit_place(i), Some(phase), message);
    }
}

/// The gate whose back-edge a visit takes: the visit before is the gate's ask
/// phase, the visit's phase is one it may go back to, and a genuine user
/// message of that visit asked for changes (any reply, where the gate lists
/// no change words).
pub fn back_edge_gate(ctx: &Ctx, v: usize) -> Option<usize> {
    let wf = ctx.wf;
    let prev = ctx.visit(v.checked_sub(1)?);
    let visit = ctx.visit(v);
    wf.gates.iter().position(|g| {
        prev.phase == g.ask_phase
            && g.back_to.contains(&visit.phase)
            && (prev.first_event..visit.first_event).any(|ev| match &ctx.session.events[ev].kind {
                EventKind::User { kind: UserKind::Genuine, text } => {
                    !g.words.has_changes || judge_reply(&g.words, text) == Reply::AsksForChanges
                }
                _ => false,
            })
    })
}
