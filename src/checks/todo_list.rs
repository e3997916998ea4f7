#![doc = include_str!("../../docs/rules/todo-list.md")]

use super::{Ctx, Sink};
use crate::diagnostic::Culprit;
use crate::model::EventKind;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    let Some(todo) = &wf.todo else { return };
    let run = ctx.run;
    let Some(first_visit) = run.visits.iter().position(|v| v.phase == todo.phase) else { return };
    let end = run.visits.iter().find(|v| v.phase > todo.phase).map_or(run.end, |v| v.first_event);
    let mut best: Option<(usize, usize, Vec<u8>)> = None; // (event, covered count, missing)
    let mut created: Vec<String> = Vec::new();
    for ev in run.start..end {
        let EventKind::ToolCall { name, input, .. } = &ctx.session.events[ev].kind else { continue };
        if !todo.tools.iter().any(|t| t == name) {
            continue;
        }
        // TodoWrite replaces the list; one-item tools add to it.
        if input.todo_items.len() > 1 || todo.replace.contains(name) {
            created = input.todo_items.clone();
        } else {
            created.extend(input.todo_items.iter().cloned());
        }
        let missing = missing_phases(ctx, &created);
        let covered = wf.phases.len() - missing.len();
        if best.as_ref().is_none_or(|(_, c, _)| covered >= *c) {
            best = Some((ev, covered, missing));
        }
    }
    let offered = todo.tools.iter().filter_map(|t| ctx.session.offered(t)).collect::<Vec<bool>>();
    if best.is_none() && !offered.is_empty() && offered.iter().all(|o| !o) {
        // A rule that needs a tool the session was not offered cannot be met.
        sink.report_as(
            crate::diagnostic::Severity::Note,
            ctx.visit_place(first_visit),
            Some(todo.phase),
            format!(
                "phase {} created no todo list, but the session offered none of {}; it could not",
                todo.phase,
                todo.tools.join(", ")
            ),
        );
        return;
    }
    match best {
        None => sink.report(
            ctx.visit_place(first_visit),
            Some(todo.phase),
            format!("phase {} created no todo list", todo.phase),
        ),
        Some((ev, covered, missing)) if !missing.is_empty() => {
            let list: Vec<String> = missing.iter().map(u8::to_string).collect();
            let id = match &ctx.session.events[ev].kind {
                EventKind::ToolCall { id, .. } => id.clone(),
                _ => String::new(),
            };
            sink.report(
                ctx.place(ev, Culprit::ToolName { tool_use_id: id }),
                Some(todo.phase),
                format!(
                    "the todo list covers {covered} of {} phases; missing phase{} {}",
                    wf.phases.len(),
                    if list.len() == 1 { "" } else { "s" },
                    list.join(", ")
                ),
            );
        }
        Some(_) => {}
    }
}

/// Phases that no todo item names, by number (`Phase 4`) or by name.
fn missing_phases(ctx: &Ctx, items: &[String]) -> Vec<u8> {
    let lower: Vec<String> = items.iter().map(|i| i.to_lowercase()).collect();
    ctx.wf
        .phases
        .iter()
        .filter(|p| {
            let name = p.name.to_lowercase();
            let number = format!("phase {}", p.number);
            !lower.iter().any(|i| {
                i.contains(&name)
                    || i.match_indices(&number)
                        .any(|(at, m)| !i[at + m.len()..].starts_with(|c: char| c.is_ascii_digit()))
            })
        })
        .map(|p| p.number)
        .collect()
}
