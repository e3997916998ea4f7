//! Workflow runs and the phases they go through.

use crate::model::text::{announcements, Announcement};
use crate::model::{EventKind, Format, Session};
use crate::workflow::{split_type, Workflow, Workflows};

/// A phase start found in orchestrator text.
#[derive(Debug, Clone)]
pub struct PhaseStart {
    /// Index of the Text event.
    pub event: usize,
    pub announcement: Announcement,
    /// The visit it belongs to.
    pub visit: usize,
    /// False when it repeats the phase already running.
    pub opens_visit: bool,
}

/// One visit of a phase: from its announcement to the next phase's.
#[derive(Debug, Clone)]
pub struct Visit {
    pub phase: u8,
    /// Index into [`Run::starts`] of the announcement that opened it.
    pub start: usize,
    /// First event of the visit (the announcement's Text event).
    pub first_event: usize,
    /// One past the last event of the visit.
    pub end_event: usize,
    /// Launches made during the visit (indices into `Session::launches`).
    pub launches: Vec<usize>,
}

/// A workflow run: from the command invocation to the next command or the end.
#[derive(Debug, Clone)]
pub struct Run {
    /// 1-based position in the session.
    pub index: u32,
    /// The workflow that judges the run (index into [`Workflows`]).
    pub workflow: usize,
    /// Event range `[start, end)`.
    pub start: usize,
    pub end: usize,
    /// The command's arguments; `None` when the transcript does not record them.
    pub args: Option<String>,
    pub starts: Vec<PhaseStart>,
    pub visits: Vec<Visit>,
    /// Per event of the run (index `ev - start`): the visit in force.
    visit_of: Vec<Option<usize>>,
}

impl Run {
    pub fn events(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }

    /// The visit in force at an event of this run.
    pub fn visit_at(&self, ev: usize) -> Option<usize> {
        if ev < self.start || ev >= self.end {
            return None;
        }
        self.visit_of[ev - self.start]
    }

    pub fn phase_at(&self, ev: usize) -> Option<u8> {
        self.visit_at(ev).map(|v| self.visits[v].phase)
    }

    /// Phase starts (announcements) made by an event.
    pub fn starts_at(&self, ev: usize) -> impl Iterator<Item = &PhaseStart> {
        self.starts.iter().filter(move |s| s.event == ev)
    }

    /// Whether the run reached the workflow's last phase.
    pub fn completed(&self, wf: &Workflow) -> bool {
        self.visits.iter().any(|v| v.phase == wf.total_phases())
    }
}

/// Finds the workflow runs of a session.
///
/// A run starts at an invocation of a workflow's command and ends at the next
/// slash command or at the end; it is judged by the workflow whose command
/// started it. Where the transcript does not record the prompt (stream-json),
/// or `force` is set, the run starts at the first sign of a workflow: a phase
/// announcement or a launch of one of its agents; with `force`, the first
/// workflow judges the whole session.
pub fn find_runs(session: &Session, wfs: &Workflows, force: bool) -> Vec<Run> {
    let mut bounds: Vec<(usize, usize, usize, Option<String>)> = Vec::new();
    let mut open: Option<(usize, usize, Option<String>)> = None;
    for (i, ev) in session.events.iter().enumerate() {
        if let EventKind::Command { name, args } = &ev.kind {
            if let Some((w, s, a)) = open.take() {
                bounds.push((w, s, i, a));
            }
            if let Some(w) = wfs.for_command(name) {
                open = Some((w, i, Some(args.clone())));
            }
        }
    }
    if let Some((w, s, a)) = open.take() {
        bounds.push((w, s, session.events.len(), a));
    }
    if bounds.is_empty() && !wfs.list.is_empty() && (force || session.format == Format::StreamJson) {
        let first_sign = if force {
            (!session.events.is_empty()).then_some((0, 0))
        } else {
            let strict = wfs.iter().enumerate().filter_map(|(w, wf)| first_sign(session, wf, true).map(|at| (at, w)));
            strict.min().or_else(|| {
                wfs.iter().enumerate().filter_map(|(w, wf)| first_sign(session, wf, false).map(|at| (at, w))).min()
            })
        };
        if let Some((at, w)) = first_sign {
            bounds.push((w, at, session.events.len(), None));
        }
    }
    bounds
        .into_iter()
        .enumerate()
        .map(|(i, (w, start, end, args))| build_run(session, &wfs[w], w, i as u32 + 1, start, end, args))
        .collect()
}

/// The first event that shows a workflow at work: one of its phase
/// announcements naming one of its phases (`by_name`; else any announcement
/// its detector finds), or a launch of one of its agents.
fn first_sign(session: &Session, wf: &Workflow, by_name: bool) -> Option<usize> {
    session.events.iter().position(|ev| match &ev.kind {
        EventKind::Text { text, .. } => announcements(text, &wf.detector).iter().any(|a| {
            !by_name || wf.phase(a.phase).is_some_and(|p| a.header.to_lowercase().contains(&p.name.to_lowercase()))
        }),
        EventKind::ToolCall { name, input, .. } => {
            wf.is_launch_tool(name)
                && input.subagent_type.as_deref().is_some_and(|t| {
                    let (ns, ty) = split_type(t);
                    match (&wf.agents.namespace, ns) {
                        (Some(want), Some(ns)) => want == ns,
                        (_, None) => wf.knows_type(ty),
                        (None, Some(_)) => false,
                    }
                })
        }
        _ => false,
    })
}

fn build_run(
    session: &Session,
    wf: &Workflow,
    workflow: usize,
    index: u32,
    start: usize,
    end: usize,
    args: Option<String>,
) -> Run {
    let mut run =
        Run { index, workflow, start, end, args, starts: Vec::new(), visits: Vec::new(), visit_of: Vec::new() };
    let next_prefix = wf.next_prefix();
    let mut current: Option<usize> = None;
    let mut launch_cursor = session.launches.partition_point(|l| l.event < start);
    for ev in start..end {
        if let EventKind::Text { text, .. } = &session.events[ev].kind {
            for announcement in announcements(text, &wf.detector) {
                let current_phase = current.map(|v| run.visits[v].phase);
                // A mention of an earlier phase inside a block is a recap
                // ("Phase 4 of 12 chose…"), unless it reads as an announcement.
                let backward = current_phase.is_some_and(|p| announcement.phase < p);
                if backward
                    && !announcement.opens_block
                    && !announcement.heading
                    && !announcement.has_next_line(next_prefix)
                {
                    continue;
                }
                let same = current_phase == Some(announcement.phase);
                if !same {
                    if let Some(v) = current {
                        run.visits[v].end_event = ev;
                    }
                    run.visits.push(Visit {
                        phase: announcement.phase,
                        start: run.starts.len(),
                        first_event: ev,
                        end_event: end,
                        launches: Vec::new(),
                    });
                    current = Some(run.visits.len() - 1);
                }
                run.starts.push(PhaseStart {
                    event: ev,
                    announcement,
                    visit: current.expect("a visit is open after an announcement"),
                    opens_visit: !same,
                });
            }
        }
        while launch_cursor < session.launches.len() && session.launches[launch_cursor].event == ev {
            if let Some(v) = current {
                run.visits[v].launches.push(launch_cursor);
            }
            launch_cursor += 1;
        }
        run.visit_of.push(current);
    }
    run
}
