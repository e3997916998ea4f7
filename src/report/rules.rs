//! What a workflow declares, in words: `orchlint rules`, `orchlint rules
//! check FILE` and `orchlint explain KIND --workflow NAME`.

use std::fmt::Write as _;

use crate::checks::{Rule, RULES};
use crate::diagnostic::Severity;
use crate::workflow::{LaunchStyle, Names, ReadRule, Unlisted, Verdict, Workflow, Workflows};

/// One line a workflow: name, source, phases, commands.
pub fn list(wfs: &Workflows) -> String {
    let mut out = String::new();
    let width = wfs.iter().map(|w| w.name.len()).max().unwrap_or(0);
    for wf in wfs.iter() {
        let _ = writeln!(
            out,
            "{:<width$}  {:>2} phases  {}  ({})",
            wf.name,
            wf.phases.len(),
            wf.commands.join(", "),
            wf.source_name
        );
    }
    out
}

/// The rule kinds: id, default severity, summary.
pub fn kinds() -> String {
    let mut out = String::new();
    let width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in RULES {
        let _ = writeln!(out, "{:<width$}  {:<7}  {}", rule.id, rule.severity.as_str(), rule.summary);
    }
    out
}

fn severity_word(wf: &Workflow, rule: &Rule) -> &'static str {
    wf.severity_of(rule.id, rule.severity).map_or("off", Severity::as_str)
}

fn agents_of(step: &crate::workflow::Step) -> String {
    step.agents.iter().map(|(t, c)| format!("{t} {}", c.describe())).collect::<Vec<_>>().join(", ")
}

/// Everything a workflow declares, phase by phase.
pub fn describe(wf: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "workflow {} ({})", wf.name, wf.source_name);
    if let Some(d) = &wf.description {
        let _ = writeln!(out, "  {d}");
    }
    let _ = writeln!(out, "  started by: {}", wf.commands.join(", "));
    let _ = writeln!(out, "  delegation tools: {}", wf.launch_tools.join(", "));
    let names = match (&wf.agents.namespace, wf.agents.names) {
        (None, _) => "any namespace".to_string(),
        (Some(ns), Names::Namespaced) => format!("`{ns}:<type>`"),
        (Some(ns), Names::Either) => format!("`{ns}:<type>` or bare `<type>`"),
        (Some(_), Names::Bare) => "bare `<type>`".to_string(),
    };
    let _ = writeln!(
        out,
        "  agents: {names}; above the maximum: {}{}",
        wf.agents.over_max.map_or("allowed", Severity::as_str),
        if wf.agents.anywhere.is_empty() {
            String::new()
        } else {
            format!("; allowed in any phase: {}", wf.agents.anywhere.join(", "))
        }
    );
    let _ = writeln!(out, "  phase starts look like: {}", wf.headers.join(" | "));
    match &wf.announcement {
        Some(a) => {
            let mut lines = vec![a.header.clone()];
            lines.extend(a.next.clone());
            lines.extend(a.agents.as_ref().map(|p| format!("{p} …")));
            let _ = writeln!(out, "  required announcement: {}", lines.join(" / "));
        }
        None => {
            let _ = writeln!(out, "  required announcement: none");
        }
    }
    let _ = writeln!(out);
    for phase in &wf.phases {
        let _ = writeln!(out, "  phase {:>2}  {}", phase.number, phase.name);
        let pad = "            ";
        if phase.steps.is_empty() {
            let unlisted = if phase.unlisted == Unlisted::Allow { " (any launch allowed)" } else { "" };
            let _ = writeln!(out, "{pad}agents: none{unlisted}");
        }
        for (s, step) in phase.steps.iter().enumerate() {
            let how = match step.launch {
                LaunchStyle::Parallel => "in one message",
                LaunchStyle::OneAtATime => "one at a time",
            };
            let label = if phase.steps.len() > 1 { format!("step {}: ", s + 1) } else { String::new() };
            let after =
                if s > 0 { ", after step {s}'s agents returned".replace("{s}", &s.to_string()) } else { String::new() };
            let _ = writeln!(out, "{pad}agents: {label}{} ({how}{after})", agents_of(step));
        }
        if let Some(p) = policy_line(wf, phase.number) {
            let _ = writeln!(out, "{pad}orchestrator: {p}");
        }
        for g in wf.gates.iter().filter(|g| g.ask_phase == phase.number) {
            let mut opens = Vec::new();
            if g.opens.approval {
                opens.push("an approval");
            }
            if g.opens.choice {
                opens.push("a choice");
            }
            if g.opens.reply {
                opens.push("any reply");
            }
            let mut holds: Vec<String> = g.holds_phases.iter().map(|p| format!("phase {p}")).collect();
            holds.extend(g.holds_agents.iter().cloned());
            holds.extend(g.holds_tools.iter().cloned());
            let back = if g.back_to.is_empty() {
                String::new()
            } else {
                format!("; after a change request back to phase {}", Workflow::list_phases(&g.back_to))
            };
            let _ = writeln!(
                out,
                "{pad}asks the user: {} (opened by {}); holds back {}{back}",
                g.name,
                opens.join(" or "),
                if holds.is_empty() { "nothing".to_string() } else { holds.join(", ") }
            );
        }
        if let Some(a) = wf.approach.filter(|a| a.ask_phase == phase.number) {
            let _ = writeln!(out, "{pad}offers a choice: phase {} waits for the user's reply", a.gated_phase);
        }
        if let Some(t) = wf.todo.as_ref().filter(|t| t.phase == phase.number) {
            let _ = writeln!(out, "{pad}todo list covering every phase ({})", t.tools.join(", "));
        }
    }
    let _ = writeln!(out);
    match wf.read.rule {
        ReadRule::Any => {
            let _ = writeln!(out, "  reading: any file");
        }
        ReadRule::NamedByAgents => {
            let _ = writeln!(
                out,
                "  reading ({}): only files an agent named, after the phase's agents returned",
                wf.read.tools.join(", ")
            );
        }
    }
    for line in agent_policy_lines(wf) {
        let _ = writeln!(out, "  agents' own tools: {line}");
    }
    for a in &wf.arguments {
        let mut needs = Vec::new();
        needs.extend(a.read.as_ref().map(|r| format!("read {r}")));
        needs.extend(a.say.as_ref().map(|s| format!("say \"{s}\"")));
        let _ = writeln!(out, "  argument {} VALUE: {} before the first launch", a.flag, needs.join(", then "));
    }
    if !wf.orchestrator.classes.is_empty() {
        let classes: Vec<&str> = wf.orchestrator.classes.iter().map(|c| c.name.as_str()).collect();
        let other = wf.orchestrator.other_shell.map_or("allowed", Severity::as_str);
        let _ = writeln!(
            out,
            "  shell ({}): classes {}; other commands: {other}",
            wf.orchestrator.shell_tools.join(", "),
            classes.join(", ")
        );
    }
    let _ = writeln!(out);
    let used: Vec<String> = RULES
        .iter()
        .filter(|r| r.check.is_none() || wf.uses(r.id))
        .map(|r| format!("{} ({})", r.id, severity_word(wf, r)))
        .collect();
    let unused: Vec<&str> = RULES.iter().filter(|r| r.check.is_some() && !wf.uses(r.id)).map(|r| r.id).collect();
    let _ = writeln!(out, "  rules in use: {}", used.join(", "));
    let _ = writeln!(out, "  not in use: {}", if unused.is_empty() { "none".to_string() } else { unused.join(", ") });
    out
}

/// The orchestrator's policy in one phase, in words (`None` when nothing is said).
fn policy_line(wf: &Workflow, phase: u8) -> Option<String> {
    let p = &wf.orchestrator;
    let mut tools: Vec<&str> = Vec::new();
    for e in p.entries.iter().filter(|e| e.phases.contains(&phase)) {
        for t in e.forbid.iter().chain(&e.allow) {
            if !tools.contains(&t.as_str()) {
                tools.push(t);
            }
        }
    }
    let mut forbidden = Vec::new();
    let mut allowed = Vec::new();
    for t in tools {
        match p.tool(phase, true, t) {
            Verdict::Forbidden(_) => forbidden.push(t.to_string()),
            Verdict::Allowed => allowed.push(t.to_string()),
            _ => {}
        }
    }
    for c in &p.classes {
        match (p.shell_class(phase, true, &c.name), p.shell_class(phase, false, &c.name)) {
            (Verdict::Forbidden(_), _) => forbidden.push(format!("{} commands", c.name)),
            (Verdict::Allowed, Verdict::NotYet) => {
                allowed.push(format!("{} commands after the agents returned", c.name))
            }
            (Verdict::Allowed, _) => allowed.push(format!("{} commands", c.name)),
            _ => {}
        }
    }
    let mut parts = Vec::new();
    if !forbidden.is_empty() {
        parts.push(format!("forbids {}", forbidden.join(", ")));
    }
    if !allowed.is_empty() {
        parts.push(format!("may use {}", allowed.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Each `[[agent_policy]]` entry in a line: `ml-explorer, ml-architect: forbids Write, edit commands`.
fn agent_policy_lines(wf: &Workflow) -> Vec<String> {
    let shell = |list: &[String]| list.iter().map(|c| format!("{c} commands")).collect::<Vec<_>>();
    wf.agent_policy
        .entries
        .iter()
        .map(|e| {
            let who = e.agents.as_ref().map_or_else(|| "every agent".to_string(), |a| a.join(", "));
            let forbid: Vec<String> = e.forbid.iter().cloned().chain(shell(&e.forbid_shell)).collect();
            let allow: Vec<String> = e.allow.iter().cloned().chain(shell(&e.allow_shell)).collect();
            let mut parts = Vec::new();
            if !forbid.is_empty() {
                parts.push(format!("forbids {}", forbid.join(", ")));
            }
            if !allow.is_empty() {
                parts.push(format!("allows {}", allow.join(", ")));
            }
            format!("{who}: {}", parts.join("; "))
        })
        .collect()
}

/// `orchlint explain KIND --workflow NAME`: the kind's doc, then the instance.
pub fn explain_instance(rule: &Rule, wf: &Workflow) -> String {
    let mut out = String::new();
    out.push_str(rule.doc);
    let _ = writeln!(out, "\n## In workflow `{}` ({})\n", wf.name, wf.source_name);
    if rule.check.is_some() && !wf.uses(rule.id) {
        let why = if wf.severity_of(rule.id, rule.severity).is_none() {
            "it is switched off in [severity]"
        } else {
            "the rules file declares no instance of it"
        };
        let _ = writeln!(out, "Not in use: {why}.");
        return out;
    }
    let _ = writeln!(out, "Severity: {}.", severity_word(wf, rule));
    let lines: Vec<String> = match rule.id {
        "agent-count" | "agent-type" | "parallel-launch" | "sequential-steps" | "wait-for-agents" => wf
            .phases
            .iter()
            .map(|p| {
                let steps: Vec<String> = p
                    .steps
                    .iter()
                    .map(|s| {
                        let how = if s.launch == LaunchStyle::OneAtATime { " one at a time" } else { "" };
                        format!("{}{how}", agents_of(s))
                    })
                    .collect();
                let what = if steps.is_empty() { "no agents".to_string() } else { steps.join(", then ") };
                format!("- phase {} ({}): {what}", p.number, p.name)
            })
            .collect(),
        "approval-gate" => wf
            .gates
            .iter()
            .map(|g| {
                let mut holds: Vec<String> = g.holds_phases.iter().map(|p| format!("phase {p}")).collect();
                holds.extend(g.holds_agents.iter().cloned());
                holds.extend(g.holds_tools.iter().cloned());
                format!("- {}: asked in phase {}; holds back {}", g.name, g.ask_phase, holds.join(", "))
            })
            .collect(),
        "forbidden-tool" => wf
            .phases
            .iter()
            .filter_map(|p| Some(format!("- phase {}: {}", p.number, policy_line(wf, p.number)?)))
            .collect(),
        "phase-announcement" => wf
            .phases
            .iter()
            .filter_map(|p| Some(format!("- phase {}: `{}`", p.number, wf.expected_header(p)?)))
            .collect(),
        "phase-order" => {
            let mut l: Vec<String> = wf.phases.iter().map(|p| format!("- {}. {}", p.number, p.name)).collect();
            for g in wf.gates.iter().filter(|g| !g.back_to.is_empty()) {
                l.push(format!(
                    "- back from phase {} to {} after a change request",
                    g.ask_phase,
                    Workflow::list_phases(&g.back_to)
                ));
            }
            l
        }
        "read-policy" => {
            vec![format!("- tools {}: only files an agent named, after it returned", wf.read.tools.join(", "))]
        }
        "approach-selection" => wf
            .approach
            .iter()
            .map(|a| format!("- phase {} waits for a user reply after phase {}", a.gated_phase, a.ask_phase))
            .collect(),
        "todo-list" => wf.todo.iter().map(|t| format!("- phase {}, with {}", t.phase, t.tools.join(" or "))).collect(),
        "capsule" => wf
            .arguments
            .iter()
            .map(|a| {
                format!(
                    "- {} VALUE: read {:?}, say {:?}",
                    a.flag,
                    a.read.as_deref().unwrap_or("-"),
                    a.say.as_deref().unwrap_or("-")
                )
            })
            .collect(),
        "agent-namespace" => vec![format!("- namespace `{}`", wf.agents.namespace.as_deref().unwrap_or(""))],
        "agent-tool" => agent_policy_lines(wf).into_iter().map(|l| format!("- {l}")).collect(),
        _ => Vec::new(),
    };
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
    if let Some(help) = wf.help_for(rule.id) {
        let _ = writeln!(out, "\nThe command's own words: {help}");
    }
    out
}
