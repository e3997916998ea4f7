#![doc = include_str!("../../docs/rules/phase-announcement.md")]

use super::{Ctx, Sink};
use crate::diagnostic::{Culprit, Severity};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
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
        let expected = wf.expected_header(phase);
        if header != expected {
            sink.report(
                place(),
                Some(a.phase),
                format!("phase {} is announced as `{header}`; the format is `{expected}`", a.phase),
            );
        }
        let next = wf.expected_next(phase);
        match a.next.as_deref() {
            Some(line) if line == next => {}
            Some(line) if line.starts_with("Next:") => sink.report_as(
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
        let agents_line = if a.next.as_deref().is_some_and(|l| l.starts_with("Next:")) {
            a.agents.as_deref()
        } else {
            a.next.as_deref()
        };
        if !agents_line.is_some_and(|l| l.starts_with(wf.agents_prefix.as_str())) {
            sink.report_as(
                Severity::Warning,
                place(),
                Some(a.phase),
                format!("phase {} announcement has no `{} …` line listing the agents", a.phase, wf.agents_prefix),
            );
        }
    }
}
