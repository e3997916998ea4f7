#![doc = include_str!("../../docs/rules/read-policy.md")]

use super::{agents, Ctx, Sink};
use crate::diagnostic::Culprit;
use crate::model::EventKind;
use crate::workflow::ReadRule;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    if wf.read.rule == ReadRule::Any {
        return;
    }
    let required = super::capsule::required_reads(ctx);
    for ev in ctx.run.events() {
        let EventKind::ToolCall { id, name, input, .. } = &ctx.session.events[ev].kind else { continue };
        if !wf.read.tools.iter().any(|r| r == name) {
            continue;
        }
        let path = input.file_path.as_deref().unwrap_or("");
        let phase = ctx.run.phase_at(ev);
        let place = ctx.place(ev, Culprit::ToolInput { tool_use_id: id.clone(), key: "file_path".into() });
        if required.iter().any(|c| is_required_read(path, c)) {
            continue;
        }
        if let Some(v) = ctx.run.visit_at(ev) {
            let visit = ctx.visit(v);
            let launched = visit.launches.iter().filter(|&&l| ctx.launch(l).event < ev).count();
            let waiting = visit.launches.iter().filter(|&&l| !ctx.returned_before(l, ev)).count();
            if waiting > 0 {
                let when = if launched == 0 {
                    format!("before the agents of phase {} were launched", visit.phase)
                } else {
                    format!("while {} of phase {} had not returned", agents(waiting), visit.phase)
                };
                sink.report(
                    place,
                    phase,
                    format!("the orchestrator read `{}` {when}; read only after they return", super::shown(path)),
                );
                continue;
            }
        }
        let named = ctx
            .launches()
            .filter(|(l, _)| ctx.returned_before(*l, ev))
            .any(|(_, launch)| names_file(&launch.output, path));
        if !named {
            sink.report(
                place,
                phase,
                format!("the orchestrator read `{}`, which no agent named in its output", super::shown(path)),
            );
        }
    }
}

fn is_required_read(path: &str, required: &str) -> bool {
    path == required || path.ends_with(required) || path.ends_with(required.trim_start_matches('/'))
}

/// Whether an agent's output names a file: its path, or its file name, as a
/// whole (`src/l.py` is not named by `src/model.py`).
pub fn names_file(output: &str, path: &str) -> bool {
    let path = path.trim_start_matches("./");
    if path.is_empty() {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    mentions(output, path) || (!name.is_empty() && mentions(output, name))
}

/// `needle` occurs in `text` not glued to more of a name: no letter, digit,
/// `_`, `-` or `.` just before it (a `/` may come before a file name), and
/// none of those nor `/` just after it (a sentence's final `.` and a `:12`
/// line number may follow).
fn mentions(text: &str, needle: &str) -> bool {
    let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-');
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let rest = &text[at + needle.len()..];
        let mut after = rest.chars();
        let glued_before = before.is_some_and(|c| name_char(c) || c == '.');
        let glued_after = match after.next() {
            Some('.') => after.next().is_some_and(name_char),
            Some(c) => name_char(c) || c == '/',
            None => false,
        };
        !glued_before && !glued_after
    })
}

#[cfg(test)]
mod tests {
    use super::names_file;

    #[test]
    fn names_whole_paths_and_file_names_only() {
        let out = "Findings: src/model.py:12 defines the model; see train.py.";
        assert!(names_file(out, "src/model.py"));
        assert!(names_file(out, "/home/dev/churn-model/src/model.py"));
        assert!(names_file(out, "src/train.py"));
        assert!(!names_file(out, "src/l.py"));
        assert!(!names_file(out, "odel.py"));
        assert!(!names_file(out, "src/model.p"));
    }
}
