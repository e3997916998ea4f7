#![doc = include_str!("../../docs/rules/capsule.md")]

use super::{Ctx, Sink};
use crate::diagnostic::{Culprit, Severity};
use crate::model::text::argument_value;
use crate::model::EventKind;
use crate::workflow::Argument;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let run = ctx.run;
    if ctx.wf.arguments.is_empty() {
        return;
    }
    let Some(args) = run.args.as_deref() else {
        // Stream-json output (`claude -p`) never records the prompt, so the
        // arguments are unknown in every such run: a note there would be on
        // every run and tell the user nothing they can act on.
        if ctx.session.format == crate::model::Format::StreamJson {
            return;
        }
        let flags: Vec<&str> = ctx.wf.arguments.iter().map(|a| a.flag.as_str()).collect();
        sink.report_as(
            Severity::Note,
            ctx.place(run.start, Culprit::EntryType),
            run.phase_at(run.start),
            format!(
                "the transcript does not record the command's arguments; what `{}` requires cannot be judged",
                flags.join("`, `")
            ),
        );
        return;
    };
    for argument in &ctx.wf.arguments {
        if let Some(value) = argument_value(args, &argument.flag) {
            check_argument(ctx, sink, argument, value);
        }
    }
}

/// The files the run's arguments require the orchestrator to read.
pub fn required_reads(ctx: &Ctx) -> Vec<String> {
    let Some(args) = ctx.run.args.as_deref() else { return Vec::new() };
    ctx.wf
        .arguments
        .iter()
        .filter_map(|a| Some(a.read.as_ref()?.replace("{value}", argument_value(args, &a.flag)?)))
        .collect()
}

fn check_argument(ctx: &Ctx, sink: &mut Sink, argument: &Argument, value: &str) {
    let wf = ctx.wf;
    let run = ctx.run;
    let value_shown = super::shown(value);
    let path = argument.read.as_ref().map(|p| p.replace("{value}", value));
    let announce = argument.say.as_ref().map(|s| s.replace("{value}", value));
    let first_launch = ctx.launches().next().map(|(l, launch)| (l, launch.event));
    let until = first_launch.map_or(run.end, |(_, ev)| ev);
    let mut read = path.is_none();
    let mut said = announce.is_none();
    for ev in run.start..until {
        match &ctx.session.events[ev].kind {
            EventKind::ToolCall { name, input, .. } if wf.read.tools.iter().any(|r| r == name) => {
                if let Some(path) = &path {
                    let p = input.file_path.as_deref().unwrap_or("");
                    read |= p == path || p.ends_with(path.trim_start_matches('/'));
                }
            }
            EventKind::Text { text, .. } => {
                if let Some(announce) = &announce {
                    said |= announces(text, announce);
                }
            }
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
        missing.push(format!("read `{}`", path.unwrap_or_default()));
    }
    if !said {
        missing.push(format!("said `{}`", announce.unwrap_or_default()));
    }
    if !missing.is_empty() {
        let when = if first_launch.is_some() { "before the first launch" } else { "at all" };
        sink.report(
            place,
            phase,
            format!(
                "the run was started with `{} {value_shown}` but the orchestrator never {} {when}",
                argument.flag,
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
