#![doc = include_str!("../../docs/rules/phase-announcement.md")]

use super::{Ctx, Sink};
use crate::diagnostic::{Culprit, Severity};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    let Some(format) = &wf.announcement else { return };
    let next_prefix = wf.next_prefix();
    for start in ctx.run.starts.iter().filter(|s| s.opens_visit) {
        let a = &start.announcement;
        let header = a.header.trim();
        let place = || ctx.place(start.event, Culprit::Text(header.to_string()));
        let Some(phase) = wf.phase(a.phase) else {
            sink.report(
                place(),
                Some(a.phase),
                format!("announced phase {}, but the workflow has {} phases", a.phase, wf.total_phases()),
            );
            continue;
        };
        let expected = wf.expected_header(phase).unwrap_or_default();
        if header != expected {
            sink.report(
                place(),
                Some(a.phase),
                format!("phase {} is announced as `{header}`; the format is `{expected}`", a.phase),
            );
        }
        let has_next = a.next.as_deref().is_some_and(|l| next_prefix.is_some_and(|p| l.starts_with(p)));
        if let Some(next) = wf.expected_next(phase) {
            match a.next.as_deref() {
                Some(line) if line == next => {}
                Some(line) if has_next => sink.report_as(
                    Severity::Warning,
                    ctx.place(start.event, Culprit::Text(line.to_string())),
                    Some(a.phase),
                    format!("phase {} announcement says `{line}`; expected `{next}`", a.phase),
                ),
                _ => sink.report_as(
                    Severity::Warning,
                    place(),
                    Some(a.phase),
                    format!("phase {} announcement has no `{next}` line after the header", a.phase),
                ),
            }
        }
        let Some(agents_prefix) = format.agents.as_deref() else { continue };
        let agents_line = if has_next || format.next.is_none() { a.agents.as_deref() } else { a.next.as_deref() };
        let agents_line = if format.next.is_none() { a.next.as_deref() } else { agents_line };
        if !agents_line.is_some_and(|l| l.starts_with(agents_prefix)) {
            sink.report_as(
                Severity::Warning,
                place(),
                Some(a.phase),
                format!("phase {} announcement has no `{agents_prefix} …` line listing the agents", a.phase),
            );
        }
    }
}
