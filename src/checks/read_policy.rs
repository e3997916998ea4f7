#![doc = include_str!("../../docs/rules/read-policy.md")]

use super::{agents, Ctx, Sink};
use crate::diagnostic::Culprit;
use crate::model::text::capsule_slug;
use crate::model::EventKind;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    let capsule = ctx
        .run
        .args
        .as_deref()
        .and_then(|a| capsule_slug(a, &wf.capsule_arg))
        .map(|slug| wf.capsule_path.replace("{slug}", slug));
    for ev in ctx.run.events() {
        let EventKind::ToolCall { id, name, input, .. } = &ctx.session.events[ev].kind else { continue };
        if !wf.tools.read.iter().any(|r| r == name) {
            continue;
        }
        let path = input.file_path.as_deref().unwrap_or("");
        let phase = ctx.run.phase_at(ev);
        let place = ctx.place(ev, Culprit::ToolInput { tool_use_id: id.clone(), key: "file_path".into() });
        if capsule.as_deref().is_some_and(|c| is_capsule(path, c)) {
            continue;
        }
        if let Some(v) = ctx.run.visit_at(ev) {
            let visit = ctx.visit(v);
            let waiting = visit.launches.iter().filter(|&&l| !ctx.returned_before(l, ev)).count();
            if waiting > 0 {
                sink.report(
                    place,
                    phase,
                    format!(
                        "the orchestrator read `{path}` while {} of phase {} had not returned; read only after they return",
                        agents(waiting),
                        visit.phase
                    ),
                );
                continue;
            }
        }
        let named = ctx
            .launches()
            .filter(|(l, _)| ctx.returned_before(*l, ev))
            .any(|(_, launch)| names_file(&launch.output, path));
        if !named {
            sink.report(place, phase, format!("the orchestrator read `{path}`, which no agent named in its output"));
        }
    }
}

fn is_capsule(path: &str, capsule: &str) -> bool {
    path == capsule || path.ends_with(capsule) || path.ends_with(capsule.trim_start_matches('/'))
}

/// Whether an agent's output names a file: its path, or its file name.
pub fn names_file(output: &str, path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    let path = path.trim_start_matches("./");
    if output.contains(path) {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    !name.is_empty() && output.contains(name)
}
