#![doc = include_str!("../../docs/rules/approval-gate.md")]

use super::{Ctx, Sink};
use crate::diagnostic::Culprit;
use crate::model::text::{judge_reply, Reply};
use crate::model::{EventKind, UserKind};
use crate::workflow::Gate;

pub fn check(ctx: &Ctx, sink: &mut Sink) {
    for g in 0..ctx.wf.gates.len() {
        check_gate(ctx, sink, g);
    }
}

/// One gate, reported once per run at the first event that breaches it; what
/// follows is its consequence.
fn check_gate(ctx: &Ctx, sink: &mut Sink, g: usize) {
    let wf = ctx.wf;
    let gate = &wf.gates[g];
    let run = ctx.run;
    let mut asked = false;
    let mut open = false;
    let mut ask_started = false;
    for ev in run.events() {
        for start in run.starts_at(ev).filter(|s| s.opens_visit) {
            let phase = start.announcement.phase;
            let back_edge =
                gate.back_to.contains(&phase) && super::phase_order::back_edge_gate(ctx, start.visit) == Some(g);
            if phase == gate.ask_phase || back_edge {
                asked = false;
                open = false;
            }
            // Gone back before the ask phase: the gate holds tools again only once it asks again.
            ask_started = phase == gate.ask_phase || ask_started && !back_edge;
            if gate.holds_phases.contains(&phase) && !open {
                let place = ctx.place(ev, Culprit::Text(start.announcement.header.trim().to_string()));
                sink.report(place, Some(phase), breach(gate, asked, format!("phase {phase} started")));
                return;
            }
        }
        let in_ask_phase = run.phase_at(ev) == Some(gate.ask_phase);
        match &ctx.session.events[ev].kind {
            EventKind::Text { text, .. } if in_ask_phase && asks(gate, text) => asked = true,
            EventKind::ToolCall { name, .. } if in_ask_phase && wf.ask_tools.contains(name) => asked = true,
            // Only replies to the question count; feedback in later phases does not revoke.
            EventKind::User { kind: UserKind::Genuine, text } if asked && in_ask_phase => {
                if let Some(opens) = judge(gate, text) {
                    open = opens;
                }
            }
            EventKind::ToolCall { id, name, .. } => {
                if let Some(l) = ctx.session.launch_by_event(ev) {
                    let launch = ctx.launch(l);
                    if !open && gate.holds_agents.contains(&launch.agent_type) {
                        let what = format!(
                            "{} {} agent was launched",
                            super::article(&launch.agent_type),
                            super::shown(&launch.agent_type)
                        );
                        sink.report(ctx.launch_place(l), run.phase_at(ev), breach(gate, asked, what));
                        return;
                    }
                } else if !open && ask_started && gate.holds_tools.contains(name) {
                    let what = format!("the orchestrator called {}", super::shown(name));
                    let place = ctx.place(ev, Culprit::ToolName { tool_use_id: id.clone() });
                    sink.report(place, run.phase_at(ev), breach(gate, asked, what));
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Whether orchestrator text asks the gate's question (any question, where
/// the gate does not say what it looks like).
fn asks(gate: &Gate, text: &str) -> bool {
    match &gate.question {
        Some(q) => q.is_match(text),
        None => text.contains('?'),
    }
}

/// What a genuine reply does to the gate: `Some(true)` opens it,
/// `Some(false)` closes it (a change request), `None` leaves it.
fn judge(gate: &Gate, text: &str) -> Option<bool> {
    if gate.opens.reply {
        return Some(true);
    }
    let reply = judge_reply(&gate.words, text);
    if reply == Reply::AsksForChanges {
        return Some(false);
    }
    if gate.opens.approval && reply == Reply::Approves {
        return Some(true);
    }
    if gate.opens.choice && !gate.words.hold.is_match(text) && gate.choice.iter().any(|c| c.is_match(text)) {
        return Some(true);
    }
    None
}

fn breach(gate: &Gate, asked: bool, what: String) -> String {
    let (name, ask) = (&gate.name, gate.ask_phase);
    if asked {
        format!("{what} before the user gave the {name} asked for in phase {ask}")
    } else {
        format!("{what} without asking the user for the {name} in phase {ask}")
    }
}
