#![doc = include_str!("../../docs/rules/approach-selection.md")]

use super::{Ctx, Sink};
use crate::model::{EventKind, UserKind};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let Some(approach) = ctx.wf.approach else { return };
    for (v, visit) in ctx.run.visits.iter().enumerate() {
        if visit.phase != approach.gated_phase || v == 0 {
            continue;
        }
        let prev = ctx.visit(v - 1);
        if prev.phase != approach.ask_phase {
            continue;
        }
        // The comparison follows the last return of the compare phase's agents.
        let after = prev
            .launches
            .iter()
            .filter_map(|&l| ctx.launch(l).returned_at)
            .max()
            .unwrap_or(prev.first_event)
            .max(prev.first_event);
        let answered = (after..visit.first_event)
            .any(|ev| matches!(ctx.session.events[ev].kind, EventKind::User { kind: UserKind::Genuine, .. }));
        if !answered {
            sink.report(
                ctx.visit_place(v),
                Some(visit.phase),
                format!(
                    "phase {} started without a user reply to the choice offered in phase {}",
                    visit.phase, prev.phase
                ),
            );
        }
    }
}
