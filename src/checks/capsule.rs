#![doc = include_str!("../../docs/rules/capsule.md")]

use super::{Ctx, Sink};
use crate::diagnostic::{Culprit, Severity};
use crate::model::text::capsule_slug;
use crate::model::EventKind;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    let run = ctx.run;
    let Some(args) = run.args.as_deref() else {
        sink.report_as(
            Severity::Note,
            ctx.place(run.start, Culprit::EntryType),
            run.phase_at(run.start),
            "the transcript does not record the command's arguments; capsule use cannot be judged".into(),
        );
        return;
    };
    let Some(slug) = capsule_slug(args, &wf.capsule_arg) else { return };
    let slug_shown = super::shown(slug);
    let path = wf.capsule_path.replace("{slug}", slug);
    let announce = wf.capsule_announce.replace("{slug}", slug);
    let first_launch = ctx.launches().next().map(|(l, launch)| (l, launch.event));
    let until = first_launch.map_or(run.end, |(_, ev)| ev);
    let mut read = false;
    let mut said = false;
    for ev in run.start..until {
        match &ctx.session.events[ev].kind {
            EventKind::ToolCall { name, input, .. } if wf.tools.read.iter().any(|r| r == name) => {
                let p = input.file_path.as_deref().unwrap_or("");
                read |= p == path || p.ends_with(path.trim_start_matches('/'));
            }
            EventKind::Text { text, .. } => said |= announces(text, &announce),
            _ => {}
        }
    }
    let place = match first_launch {
        Some((l, _)) => ctx.launch_place(l),
        None => ctx.place(run.start, Culprit::Key("content".into())),
    };
    let phase = first_launch.and_then(|(_, ev)| run.phase_at(ev));
    let mut missing = Vec::new();
    if !read {
        missing.push(format!("read `{path}`"));
    }
    if !said {
        missing.push(format!("said `{announce}`"));
    }
    if !missing.is_empty() {
        let when = if first_launch.is_some() { "before the first launch" } else { "at all" };
        sink.report(
            place,
            phase,
            format!(
                "the run was started with `{} {slug_shown}` but the orchestrator never {} {when}",
                wf.capsule_arg,
                missing.join(" nor ")
            ),
        );
    }
}

/// Whether a text says the announcement, markdown emphasis aside, not as the
/// prefix of a longer slug (`Loaded capsule: churn-v2-old` is not `churn-v2`).
fn announces(text: &str, announce: &str) -> bool {
    let plain: String = text.chars().filter(|c| !matches!(c, '*' | '_' | '`')).collect();
    plain
        .match_indices(announce)
        .any(|(at, m)| !plain[at + m.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-' || c == '_'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn announcement_is_whole_and_may_be_bold() {
        assert!(super::announces("**Loaded capsule:** churn-v2", "Loaded capsule: churn-v2"));
        assert!(super::announces("Loaded capsule: churn-v2.", "Loaded capsule: churn-v2"));
        assert!(!super::announces("Loaded capsule: churn-v2-old", "Loaded capsule: churn-v2"));
    }
}
