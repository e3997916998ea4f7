#![doc = include_str!("../../docs/rules/incomplete-run.md")]

use super::{Ctx, Sink};
use crate::diagnostic::Culprit;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let run = ctx.run;
    if run.completed(ctx.wf) {
        return;
    }
    let last_event = run.end.saturating_sub(1).max(run.start);
    let total = ctx.wf.total_phases();
    let message = match run.visits.last() {
        Some(v) => {
            let name = ctx.wf.phase(v.phase).map(|p| p.name.as_str()).unwrap_or("unknown phase");
            format!("the run stopped in phase {} ({name}) before reaching phase {total}", v.phase)
        }
        None => format!("the run announced no phase; it stopped before reaching phase {total}"),
    };
    sink.report(ctx.place(last_event, Culprit::EntryType), run.visits.last().map(|v| v.phase), message);
}
