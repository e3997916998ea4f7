//! `orchlint inspect`: the run as the model saw it — per session the agent
//! tree, each launch, genuine user messages and phases, in order.

use std::io::{self, Write};

use serde::Serialize;

use crate::engine::Checked;
use crate::model::{EventKind, Format, ReturnStatus, SubagentTranscript, UserKind};
use crate::words::shorten;
use crate::workflow::Workflows;

#[derive(Serialize)]
pub struct InspectDocument {
    pub version: u32,
    pub sessions: Vec<SessionView>,
}

#[derive(Serialize)]
pub struct SessionView {
    pub file: String,
    pub format: Format,
    pub session: Option<String>,
    pub claude_code: Option<String>,
    pub launches: Vec<LaunchView>,
    pub runs: Vec<RunView>,
}

#[derive(Serialize)]
pub struct LaunchView {
    pub line: u32,
    pub tool_use_id: String,
    pub subagent_type: String,
    pub description: Option<String>,
    pub phase: Option<u8>,
    /// 1-based number of the orchestrator API message that carried it.
    pub message: u32,
    /// How many launches that message carried.
    pub launched_together: usize,
    pub background: bool,
    pub status: ReturnStatus,
    pub returned_line: Option<u32>,
    pub agent_id: Option<String>,
    pub transcript: Option<SubagentTranscript>,
}

#[derive(Serialize)]
pub struct RunView {
    pub index: u32,
    pub line: u32,
    pub args: Option<String>,
    pub phases: Vec<PhaseView>,
    pub user_messages: Vec<UserView>,
    /// Everything the orchestrator did, in order.
    pub timeline: Vec<TimelineItem>,
}

#[derive(Serialize)]
pub struct PhaseView {
    pub phase: u8,
    pub name: Option<String>,
    pub line: u32,
    pub launches: usize,
}

#[derive(Serialize)]
pub struct UserView {
    pub line: u32,
    pub phase: Option<u8>,
    pub text: String,
}

#[derive(Serialize)]
pub struct TimelineItem {
    pub line: u32,
    pub phase: Option<u8>,
    #[serde(flatten)]
    pub what: ItemKind,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ItemKind {
    PhaseStart {
        phase: u8,
        header: String,
    },
    Launch {
        message: u32,
        subagent_type: String,
        description: Option<String>,
        background: bool,
    },
    Return {
        subagent_type: String,
        status: ReturnStatus,
        launched_line: u32,
    },
    Tool {
        message: u32,
        name: String,
        target: Option<String>,
    },
    UserMessage {
        text: String,
    },
    Command {
        name: String,
        args: String,
    },
    /// A diagnostic reported at this line.
    Finding {
        rule: String,
        severity: crate::diagnostic::Severity,
        message: String,
    },
}

pub fn build(checked: &[Checked], wfs: &Workflows) -> InspectDocument {
    let sessions = checked.iter().map(|c| session_view(c, wfs)).collect();
    InspectDocument { version: 1, sessions }
}

fn session_view(c: &Checked, wfs: &Workflows) -> SessionView {
    let s = &c.session;
    let phase_of = |ev: usize| c.runs.iter().find_map(|r| r.phase_at(ev));
    let mut per_message: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
    for l in &s.launches {
        *per_message.entry(l.message).or_default() += 1;
    }
    let launches = s
        .launches
        .iter()
        .map(|l| LaunchView {
            line: s.events[l.event].source.line,
            tool_use_id: l.tool_use_id.clone(),
            subagent_type: l.raw_type.clone(),
            description: l.description.clone(),
            phase: phase_of(l.event),
            message: l.message + 1,
            launched_together: per_message[&l.message],
            background: l.background,
            status: l.status,
            returned_line: l.returned_at.map(|r| s.events[r].source.line),
            agent_id: l.agent_id.clone(),
            transcript: l.transcript.clone(),
        })
        .collect();
    let runs = c
        .runs
        .iter()
        .map(|run| {
            let mut timeline = Vec::new();
            let mut user_messages = Vec::new();
            for ev in run.events() {
                let event = &s.events[ev];
                let line = event.source.line;
                let phase = run.phase_at(ev);
                for start in run.starts_at(ev) {
                    timeline.push(TimelineItem {
                        line,
                        phase: Some(start.announcement.phase),
                        what: ItemKind::PhaseStart {
                            phase: start.announcement.phase,
                            header: start.announcement.header.trim().to_string(),
                        },
                    });
                }
                for l in s.launches.iter().filter(|l| l.returned_at == Some(ev)) {
                    timeline.push(TimelineItem {
                        line,
                        phase,
                        what: ItemKind::Return {
                            subagent_type: l.raw_type.clone(),
                            status: l.status,
                            launched_line: s.events[l.event].source.line,
                        },
                    });
                }
                match &event.kind {
                    EventKind::ToolCall { message, name, input, .. } => {
                        let what = if wfs.is_launch_tool(name) {
                            ItemKind::Launch {
                                message: message + 1,
                                subagent_type: input.subagent_type.clone().unwrap_or_default(),
                                description: input.description.clone(),
                                background: input.run_in_background,
                            }
                        } else {
                            let target =
                                input.file_path.clone().or_else(|| input.command.as_deref().map(|c| shorten(c, 80)));
                            ItemKind::Tool { message: message + 1, name: name.clone(), target }
                        };
                        timeline.push(TimelineItem { line, phase, what });
                    }
                    EventKind::User { kind: UserKind::Genuine, text } => {
                        user_messages.push(UserView { line, phase, text: text.clone() });
                        timeline.push(TimelineItem {
                            line,
                            phase,
                            what: ItemKind::UserMessage { text: shorten(text, 100) },
                        });
                    }
                    EventKind::Command { name, args } => {
                        timeline.push(TimelineItem {
                            line,
                            phase,
                            what: ItemKind::Command { name: name.clone(), args: shorten(args, 100) },
                        });
                    }
                    _ => {}
                }
            }
            // The run's diagnostics, each after the steps of its line.
            for d in c.diagnostics.iter().filter(|d| d.run == Some(run.index) && *d.file == *s.file) {
                let at = timeline.partition_point(|step| step.line <= d.line);
                timeline.insert(
                    at,
                    TimelineItem {
                        line: d.line,
                        phase: d.phase,
                        what: ItemKind::Finding {
                            rule: d.rule.to_string(),
                            severity: d.severity,
                            message: d.message.clone(),
                        },
                    },
                );
            }
            RunView {
                index: run.index,
                line: s.events.get(run.start).map_or(0, |e| e.source.line),
                args: run.args.clone(),
                phases: run
                    .visits
                    .iter()
                    .map(|v| PhaseView {
                        phase: v.phase,
                        name: wfs[run.workflow].phase(v.phase).map(|p| p.name.clone()),
                        line: s.events[v.first_event].source.line,
                        launches: v.launches.len(),
                    })
                    .collect(),
                user_messages,
                timeline,
            }
        })
        .collect();
    SessionView {
        file: s.file.to_string(),
        format: s.format,
        session: s.id.clone(),
        claude_code: s.version.clone(),
        launches,
        runs,
    }
}

pub fn render_json(doc: &InspectDocument, out: &mut dyn Write) -> io::Result<()> {
    pretty_json(doc, out)
}

/// A document as pretty JSON and a newline.
fn pretty_json(doc: &impl Serialize, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

pub fn render_human(doc: &InspectDocument, out: &mut dyn Write) -> io::Result<()> {
    for (i, s) in doc.sessions.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "session {} ({}, Claude Code {})",
            s.session.as_deref().unwrap_or("(no id)"),
            match s.format {
                Format::Session => "session file",
                Format::StreamJson => "stream-json",
            },
            s.claude_code.as_deref().unwrap_or("unknown")
        )?;
        writeln!(out, "  file: {}", s.file)?;
        writeln!(out, "  agent tree: orchestrator → {}", crate::words::plural(s.launches.len(), "launch"))?;
        for l in &s.launches {
            let transcript = match &l.transcript {
                Some(t) => {
                    let dir = s.file.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
                    let place = if t.inline {
                        "inline".to_string()
                    } else {
                        t.file.strip_prefix(&dir).unwrap_or(&t.file).to_string()
                    };
                    let tools =
                        if t.tools.is_empty() { String::new() } else { format!("; tools {}", t.tools.join(", ")) };
                    format!(", {place} ({}{tools})", crate::words::plural(t.entries as usize, "entry"))
                }
                None => String::new(),
            };
            writeln!(
                out,
                "    ├─ line {:>4}  {:<26} phase {:<4} msg #{:<3} ×{} {}  {}{}{}",
                l.line,
                l.subagent_type,
                l.phase.map_or("-".into(), |p| p.to_string()),
                l.message,
                l.launched_together,
                if l.background { "background" } else { "foreground" },
                l.status.said(),
                l.returned_line.map(|r| format!(" at line {r}")).unwrap_or_default(),
                transcript
            )?;
        }
        if s.runs.is_empty() {
            writeln!(out, "  no workflow run")?;
        }
        for run in &s.runs {
            writeln!(
                out,
                "  run {} (line {}){}",
                run.index,
                run.line,
                run.args
                    .as_deref()
                    .map(|a| format!(": args {:?}", shorten(a, 80)))
                    .unwrap_or_else(|| ": arguments not recorded".into())
            )?;
            let phases: Vec<String> = run.phases.iter().map(|p| p.phase.to_string()).collect();
            writeln!(
                out,
                "    phases entered: {}",
                if phases.is_empty() { "none".into() } else { phases.join(" → ") }
            )?;
            writeln!(out, "    genuine user messages: {}", run.user_messages.len())?;
            for step in &run.timeline {
                let phase = step.phase.map_or("  -".into(), |p| format!("{p:>3}"));
                let what = match &step.what {
                    ItemKind::PhaseStart { header, .. } => format!("PHASE   {header}"),
                    ItemKind::Launch { message, subagent_type, description, background } => format!(
                        "launch  {subagent_type} (msg #{message}{}){}",
                        if *background { ", background" } else { "" },
                        description.as_deref().map(|d| format!(" {d:?}")).unwrap_or_default()
                    ),
                    ItemKind::Return { subagent_type, status, launched_line } => {
                        format!("return  {subagent_type} {} (launched line {launched_line})", status.said())
                    }
                    ItemKind::Tool { message, name, target } => format!(
                        "tool    {name}{} (msg #{message})",
                        target.as_deref().map(|t| format!(" {t}")).unwrap_or_default()
                    ),
                    ItemKind::UserMessage { text } => format!("user    {text:?}"),
                    ItemKind::Command { name, args } => format!("command {name} {args}"),
                    ItemKind::Finding { rule, severity, message } => {
                        format!(">>> {}[{rule}] {message}", severity.as_str())
                    }
                };
                writeln!(out, "    {:>5} {phase}  {what}", step.line)?;
            }
        }
    }
    Ok(())
}

/// A subagent transcript inspected on its own (no session file given):
/// what it says about itself.
#[derive(Serialize)]
pub struct SubagentView {
    pub file: String,
    pub agent_id: Option<String>,
    /// The session it belongs to, from its entries.
    pub session: Option<String>,
    /// The launch prompt: its first user entry.
    pub prompt: Option<String>,
    pub tools: Vec<String>,
    pub entries: u32,
}

/// The subagent transcripts given alone, read in full.
#[derive(Serialize)]
pub struct SubagentDocument {
    pub version: u32,
    pub subagents: Vec<SubagentView>,
}

/// Reads each file that is a subagent transcript (by its name or its
/// sidechain entries); `findings` gets what is damaged in them.
pub fn subagents(paths: &[std::path::PathBuf], findings: &mut Vec<crate::diagnostic::Finding>) -> SubagentDocument {
    use crate::ingest::subagent;
    let mut subagents = Vec::new();
    for path in paths.iter().filter(|p| p.is_file()) {
        let by_name = crate::ingest::discover::agent_file_id(path);
        let side = subagent::sidechain_of(path);
        if by_name.is_none() && side.is_none() {
            continue;
        }
        let display: std::sync::Arc<str> = std::sync::Arc::from(path.display().to_string());
        let info = subagent::read(path, false, &display, true, findings);
        subagents.push(SubagentView {
            file: display.to_string(),
            agent_id: by_name.or_else(|| side.as_ref().map(|s| s.agent_id.clone())),
            session: info.session_id.clone().or_else(|| side.and_then(|s| s.session_id)),
            prompt: info.prompt.clone(),
            tools: info.tools.clone(),
            entries: info.entries,
        });
    }
    SubagentDocument { version: 1, subagents }
}

pub fn render_subagents_json(doc: &SubagentDocument, out: &mut dyn Write) -> io::Result<()> {
    pretty_json(doc, out)
}

pub fn render_subagents_human(doc: &SubagentDocument, out: &mut dyn Write) -> io::Result<()> {
    for (i, s) in doc.subagents.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "subagent transcript {} (agent {}, of session {})",
            s.file,
            s.agent_id.as_deref().unwrap_or("(no id)"),
            s.session.as_deref().unwrap_or("(not named)")
        )?;
        writeln!(out, "  prompt: {}", s.prompt.as_deref().map(|p| shorten(p, 100)).unwrap_or_else(|| "(none)".into()))?;
        let tools = if s.tools.is_empty() { "none".to_string() } else { s.tools.join(", ") };
        writeln!(out, "  {}; tools used: {tools}", crate::words::plural(s.entries as usize, "entry"))?;
        if let Some(session) = &s.session {
            writeln!(out, "  its launch is in the session file {session}.jsonl: inspect that to see it in its run")?;
        }
    }
    Ok(())
}
