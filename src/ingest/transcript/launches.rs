//! Launches and their returns: a launch tool's call becomes a [`Launch`];
//! its return is its tool result, a `<task-notification>`, a
//! `task_notification` system line or a TaskOutput retrieval; an agent id is
//! linked to it by its result's `agentId`, an `agent_progress` mirror or a
//! `task_started` line.
//!
//! Owns the launches and their indexes by tool_use id and by agent id,
//! until [`Launches::finish`] hands them to the session. Event indexes and
//! message keys come from the builder; [`super::attribution`] attaches
//! subagent transcripts through [`Launches::get_mut`].
//!
//! A session read in parts hands over the launches of a part once all of
//! them returned ([`Launches::retire`]); their indexes stay taken, and a
//! later line that reaches one of them, or a return that waited since an
//! earlier part, is known (`crossed`).

use rustc_hash::FxHashMap as HashMap;

use crate::model::text::tag;
use crate::model::{Launch, ReturnStatus, ToolInput};

#[derive(Default)]
pub(super) struct Launches {
    /// The launches not handed over: `list[0]` has index `base`.
    list: Vec<Launch>,
    base: usize,
    /// The first event of the part being read.
    first_event: usize,
    /// A line reached a launch, or delivered a return, of a part handed over.
    pub(super) crossed: bool,
    /// tool_use id → launch index.
    by_id: HashMap<String, usize>,
    /// agent id → launch index.
    by_agent: HashMap<String, usize>,
    /// Returns that named no launch known when they came: Claude Code
    /// sometimes writes a background agent's notification before the line
    /// of its launch or of its agent id. Delivered once the launch is known.
    early: Vec<Early>,
}

/// A return that came before its launch was known.
struct Early {
    tool_use_id: Option<String>,
    task_id: Option<String>,
    ev: usize,
    status: ReturnStatus,
    output: String,
}

/// What a launch takes of its call's input: the prompt (the event keeps the
/// rest, no copies) and copies of the type, description and background flag.
pub(super) struct LaunchCall {
    subagent_type: Option<String>,
    description: Option<String>,
    prompt: Option<String>,
    run_in_background: bool,
}

impl LaunchCall {
    pub(super) fn take(input: &mut ToolInput) -> LaunchCall {
        LaunchCall {
            subagent_type: input.subagent_type.clone(),
            description: input.description.clone(),
            prompt: input.prompt.take(),
            run_in_background: input.run_in_background,
        }
    }
}

impl Launches {
    /// The launch made by call `id`.
    pub(super) fn by_tool_use(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Launch `l`; `None` when it was handed over with an earlier part
    /// (which is noted as `crossed`).
    pub(super) fn get_mut(&mut self, l: usize) -> Option<&mut Launch> {
        match l.checked_sub(self.base) {
            Some(i) => self.list.get_mut(i),
            None => {
                self.crossed = true;
                None
            }
        }
    }

    /// The first launch with no transcript attached whose prompt is `prompt`.
    pub(super) fn unattached_with_prompt(&mut self, prompt: &str) -> Option<usize> {
        // Handed-over launches are no longer searched.
        self.crossed |= self.base > 0;
        self.list
            .iter()
            .position(|l| l.transcript.is_none() && l.prompt.as_deref() == Some(prompt))
            .map(|i| i + self.base)
    }

    /// Whether every launch of the part being read has returned.
    pub(super) fn quiescent(&self) -> bool {
        self.list.iter().all(|l| l.returned_at.is_some())
    }

    /// Hands over the launches of the part being read (all returned) and
    /// begins the next part at event `first_event`. Their events are
    /// counted from the part's first event.
    pub(super) fn retire(&mut self, first_event: usize) -> Vec<Launch> {
        let part_start = self.first_event;
        self.base += self.list.len();
        self.first_event = first_event;
        let mut list = std::mem::take(&mut self.list);
        finish_list(&mut list, part_start);
        list
    }

    /// A launch tool's call `id`, the event `event` of message `message`;
    /// `returned` when nothing more will arrive for it (no id, or its result
    /// came first): it returned at once.
    pub(super) fn add(&mut self, call: LaunchCall, id: String, event: usize, message: u32, returned: bool) {
        let raw_type = call.subagent_type.unwrap_or_default();
        let mut launch =
            Launch::new(id.clone(), event, message, raw_type, call.description, call.prompt, call.run_in_background);
        if returned {
            launch.returned_at = Some(event);
            launch.status = ReturnStatus::Completed;
        }
        self.list.push(launch);
        self.by_id.insert(id, self.base + self.list.len() - 1);
        self.deliver_early();
    }

    /// Links agent `agent` to the launch of call `tool_use`, unless the
    /// agent is linked already (an `agent_progress` mirror line).
    pub(super) fn progress(&mut self, agent: &str, tool_use: &str) {
        if self.by_agent.contains_key(agent) {
            return;
        }
        if let Some(&l) = self.by_id.get(tool_use) {
            self.by_agent.insert(agent.to_string(), l);
            let Some(launch) = self.get_mut(l) else { return };
            if launch.agent_id.is_none() {
                launch.agent_id = Some(agent.to_string());
            }
            self.deliver_early();
        }
    }

    /// A `task_started` system line: task `task` is the agent of call `tool_use`.
    pub(super) fn task_started(&mut self, tool_use: &str, task: &str) {
        if let Some(&l) = self.by_id.get(tool_use) {
            self.by_agent.entry(task.to_string()).or_insert(l);
            let Some(launch) = self.get_mut(l) else { return };
            launch.agent_id.get_or_insert_with(|| task.to_string());
            self.deliver_early();
        }
    }

    /// The tool result of launch `l` at event `ev`: its return, or for an
    /// async launch the news that it runs in the background. The agent id
    /// is `agent_id` (from `toolUseResult`) or the text's `agentId:` tail.
    pub(super) fn result(
        &mut self,
        l: usize,
        agent_id: Option<String>,
        async_launch: bool,
        ev: usize,
        is_error: bool,
        text: String,
    ) {
        let agent_id = agent_id.or_else(|| agent_id_tail(&text));
        if let Some(a) = &agent_id {
            self.by_agent.entry(a.clone()).or_insert(l);
        }
        let Some(launch) = self.get_mut(l) else { return };
        if launch.agent_id.is_none() {
            launch.agent_id = agent_id;
        }
        if async_launch {
            launch.background = true;
        } else if launch.returned_at.is_none() {
            launch.returned_at = Some(ev);
            launch.status = if is_error { ReturnStatus::Error } else { ReturnStatus::Completed };
            launch.output = text;
        } else if launch.output.is_empty() {
            // stream-json: the task_notification came first; the report is here.
            launch.output = text;
        }
        self.deliver_early();
    }

    /// The return of a background agent at event `ev`, found by its call's
    /// id or else by its task (agent) id, with `status` and `output`.
    pub(super) fn deliver(
        &mut self,
        tool_use_id: Option<&str>,
        task_id: Option<&str>,
        ev: usize,
        status: ReturnStatus,
        output: String,
    ) {
        let l =
            tool_use_id.and_then(|t| self.by_id.get(t)).or_else(|| task_id.and_then(|t| self.by_agent.get(t))).copied();
        let Some(l) = l else {
            self.early.push(Early {
                tool_use_id: tool_use_id.map(str::to_string),
                task_id: task_id.map(str::to_string),
                ev,
                status,
                output,
            });
            return;
        };
        // A return that waited since a part handed over.
        self.crossed |= ev < self.first_event;
        let Some(launch) = self.get_mut(l) else { return };
        if let Some(t) = task_id {
            if launch.agent_id.is_none() {
                launch.agent_id = Some(t.to_string());
            }
        }
        if launch.returned_at.is_none() {
            launch.returned_at = Some(ev);
            launch.status = status;
            if !output.is_empty() || launch.output.is_empty() {
                launch.output = output;
            }
        } else if launch.output.is_empty() {
            launch.output = output;
        }
    }

    /// Delivers the returns that came before their launch was known, now
    /// that one may be (after a launch, or an agent id linked to one).
    fn deliver_early(&mut self) {
        if self.early.is_empty() {
            return;
        }
        let known = |e: &Early, s: &Self| {
            e.tool_use_id.as_deref().is_some_and(|t| s.by_id.contains_key(t))
                || e.task_id.as_deref().is_some_and(|t| s.by_agent.contains_key(t))
        };
        let (ready, wait): (Vec<Early>, Vec<Early>) =
            std::mem::take(&mut self.early).into_iter().partition(|e| known(e, self));
        self.early = wait;
        for e in ready {
            self.deliver(e.tool_use_id.as_deref(), e.task_id.as_deref(), e.ev, e.status, e.output);
        }
    }

    /// The launches of the last part, those that never returned
    /// outstanding (background) or missing.
    pub(super) fn finish(mut self) -> Vec<Launch> {
        finish_list(&mut self.list, self.first_event);
        self.list
    }
}

/// The launches of a part whose first event is `first_event`: their events
/// counted from it, those that never returned outstanding (background) or
/// missing.
fn finish_list(list: &mut [Launch], first_event: usize) {
    for l in list {
        l.event -= first_event;
        // A return before the part (it crossed, and the part is read again whole).
        l.returned_at = l.returned_at.map(|r| r.saturating_sub(first_event));
        if l.returned_at.is_none() {
            l.status = if l.background { ReturnStatus::Outstanding } else { ReturnStatus::Missing };
        }
    }
}

/// Whether a launch's tool result says it went to the background.
pub(super) fn async_launched(status: Option<&str>, text: &str) -> bool {
    status == Some("async_launched") || text.trim_start().starts_with("Async agent launched successfully")
}

/// The return status a notification's `status` gives.
pub(super) fn notified_status(status: Option<&str>) -> ReturnStatus {
    match status {
        Some("failed" | "killed") => ReturnStatus::Error,
        _ => ReturnStatus::Completed,
    }
}

/// A TaskOutput result retrieving a finished background agent: its task id
/// and output.
pub(super) fn retrieval(text: &str) -> Option<(&str, String)> {
    if !text.contains("<retrieval_status>") {
        return None;
    }
    let (task, status) = (tag(text, "task_id")?, tag(text, "status")?);
    matches!(status, "completed" | "failed" | "killed").then(|| (task, tag(text, "output").unwrap_or("").to_string()))
}

/// The `agentId: <id>` tail Claude Code appends to a subagent's result text.
fn agent_id_tail(text: &str) -> Option<String> {
    let at = text.rfind("agentId: ")? + "agentId: ".len();
    let id: String = text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(subagent_type: &str, prompt: &str, background: bool) -> LaunchCall {
        let mut input = ToolInput {
            subagent_type: Some(subagent_type.into()),
            description: Some("d".into()),
            prompt: Some(prompt.into()),
            run_in_background: background,
            ..ToolInput::default()
        };
        let call = LaunchCall::take(&mut input);
        assert_eq!(input.prompt, None, "the launch takes the prompt");
        assert_eq!(input.subagent_type.as_deref(), Some(subagent_type), "the event keeps the rest");
        call
    }

    /// Explore launches by calls `t1`, `t2`, … at events 0, 1, …, in the
    /// background or not.
    fn explore(background: &[bool]) -> Launches {
        let mut launches = Launches::default();
        for (i, &b) in background.iter().enumerate() {
            launches.add(call("Explore", "p", b), format!("t{}", i + 1), i, 0, false);
        }
        launches
    }

    #[test]
    fn a_launch_reads_its_type_and_returns_at_once_when_told() {
        let mut launches = Launches::default();
        launches.add(call("ml-flow:ML Explorer", "p", false), "t1".into(), 3, 1, false);
        launches.add(call("Explore", "p", false), "t2".into(), 5, 2, true);
        assert_eq!(launches.by_tool_use("t2"), Some(1));
        assert_eq!(launches.by_tool_use("t3"), None);
        let list = launches.finish();
        assert_eq!(list[0].namespace.as_deref(), Some("ml-flow"));
        assert_eq!(list[0].agent_type, "ml-explorer");
        assert_eq!(list[0].raw_type, "ml-flow:ML Explorer");
        assert_eq!((list[0].event, list[0].message, list[0].prompt.as_deref()), (3, 1, Some("p")));
        assert_eq!((list[0].returned_at, list[0].status), (None, ReturnStatus::Missing));
        assert_eq!((list[1].returned_at, list[1].status), (Some(5), ReturnStatus::Completed));
    }

    #[test]
    fn a_background_launch_returns_by_notification() {
        let mut launches = explore(&[false]);
        let text = "Async agent launched successfully.\nagentId: a1 (…)".to_string();
        assert!(async_launched(None, &text));
        launches.result(0, None, true, 1, false, text);
        let l = &launches.list[0];
        assert!(l.background);
        assert_eq!((l.agent_id.as_deref(), l.returned_at), (Some("a1"), None));
        // Found by its agent id; a failed agent returns an error.
        launches.deliver(None, Some("a1"), 7, notified_status(Some("failed")), "report".into());
        launches.deliver(Some("t1"), None, 9, ReturnStatus::Completed, "later".into());
        let l = &launches.finish()[0];
        assert_eq!((l.returned_at, l.status, l.output.as_str()), (Some(7), ReturnStatus::Error, "report"));
    }

    #[test]
    fn a_background_launch_that_never_returned_is_outstanding() {
        let list = explore(&[true, false]).finish();
        assert_eq!(list[0].status, ReturnStatus::Outstanding);
        assert_eq!(list[1].status, ReturnStatus::Missing);
    }

    #[test]
    fn a_report_after_the_notification_fills_an_empty_output() {
        let mut launches = explore(&[false]);
        launches.deliver(Some("t1"), Some("a1"), 1, ReturnStatus::Completed, String::new());
        launches.result(0, None, false, 2, true, "the report".into());
        let l = &launches.finish()[0];
        assert_eq!(l.agent_id.as_deref(), Some("a1"));
        assert_eq!((l.returned_at, l.status, l.output.as_str()), (Some(1), ReturnStatus::Completed, "the report"));
    }

    #[test]
    fn agent_ids_link_once() {
        let mut launches = explore(&[false, false]);
        launches.progress("a1", "t1");
        launches.progress("a1", "t2");
        launches.task_started("t2", "a2");
        launches.progress("a3", "t9");
        assert_eq!(launches.by_agent.get("a1"), Some(&0));
        assert_eq!(launches.by_agent.get("a2"), Some(&1));
        assert_eq!(launches.by_agent.get("a3"), None);
        assert_eq!(launches.list[1].agent_id.as_deref(), Some("a2"));
    }

    #[test]
    fn reads_a_task_output_retrieval() {
        let text = "<retrieval_status>success</retrieval_status><task_id>a1</task_id><status>completed</status><output>o</output>";
        assert_eq!(retrieval(text), Some(("a1", "o".to_string())));
        assert_eq!(retrieval(&text.replace("completed", "running")), None);
        assert_eq!(retrieval(&text.replace("retrieval_status", "x")), None);
        assert_eq!(notified_status(Some("killed")), ReturnStatus::Error);
        assert_eq!(notified_status(Some("completed")), ReturnStatus::Completed);
        assert_eq!(notified_status(None), ReturnStatus::Completed);
        assert!(async_launched(Some("async_launched"), "x"));
        assert!(!async_launched(Some("completed"), "report"));
    }

    #[test]
    fn reads_agent_id_tail() {
        assert_eq!(
            agent_id_tail("report\nagentId: a42025978b510c8be (use SendMessage with to: 'a4')"),
            Some("a42025978b510c8be".into())
        );
        assert_eq!(agent_id_tail("no id here"), None);
    }
}
