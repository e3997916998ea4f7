#![doc = include_str!("../../docs/rules/approval-gate.md")]

use super::{Ctx, Sink};
use crate::model::text::{judge_reply, Reply};
use crate::model::{EventKind, UserKind};

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    let wf = ctx.wf;
    let a = &wf.approval;
    let run = ctx.run;
    let mut asked = false;
    let mut approved = false;
    for ev in run.events() {
        for start in run.starts_at(ev).filter(|s| s.opens_visit) {
            let phase = start.announcement.phase;
            if phase == a.ask_phase
                || a.back_edge_to.contains(&phase) && super::phase_order::back_edge_allowed(ctx, start.visit)
            {
                asked = false;
                approved = false;
            }
            if phase == a.gated_phase && !approved {
                let place =
                    ctx.place(ev, crate::diagnostic::Culprit::Text(start.announcement.header.trim().to_string()));
                sink.report(place, Some(phase), breach(ctx, asked, format!("phase {phase} started")));
                return;
            }
        }
        let in_ask_phase = run.phase_at(ev) == Some(a.ask_phase);
        match &ctx.session.events[ev].kind {
            EventKind::Text { text, .. } if in_ask_phase && a.question.is_match(text) => asked = true,
            EventKind::ToolCall { name, input, .. } if in_ask_phase && name == "AskUserQuestion" => {
                let _ = input;
                asked = true;
            }
            // Only replies to the question count; feedback in later phases does not revoke.
            EventKind::User { kind: UserKind::Genuine, text } if asked && in_ask_phase => match judge_reply(wf, text) {
                Reply::Approves => approved = true,
                Reply::AsksForChanges => approved = false,
                Reply::Other => {}
            },
            EventKind::ToolCall { .. } => {
                if let Some(l) = ctx.session.launch_by_event(ev) {
                    let launch = ctx.launch(l);
                    if !approved && a.gated_agents.contains(&launch.agent_type) {
                        let what = format!(
                            "{} {} agent was launched",
                            super::article(&launch.agent_type),
                            super::shown(&launch.agent_type)
                        );
                        sink.report(ctx.launch_place(l), run.phase_at(ev), breach(ctx, asked, what));
                        return;
                    }
                }
            }
            _ => {}
        }
    }
}

fn breach(ctx: &Ctx, asked: bool, what: String) -> String {
    let ask = ctx.wf.approval.ask_phase;
    if asked {
        format!("{what} before the user approved the design asked for in phase {ask}")
    } else {
        format!("{what} without asking the user for approval in phase {ask}")
    }
}
