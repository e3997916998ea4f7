//! One transcript file (session JSONL or stream-json) → [`Session`].
//!
//! [`parse`] reads the file line by line and hands each line to the
//! builder, which sorts it and coordinates the jobs, each a module that owns
//! its state:
//!
//! - `fast`: byte fast paths for lines that need no parse;
//! - `damage`: damaged and disguised lines, read as far as they can be;
//! - `dedupe`: copies of a line, read once;
//! - `attribution`: whose an entry is, the orchestrator's or a subagent's;
//! - `messages`: the lines of one API message under one key;
//! - `calls`: calls and results matched by id;
//! - `launches`: launches, their agent ids and their returns.
//!
//! The builder itself turns the orchestrator's entries into events and
//! passes each job what it needs.

mod attribution;
mod calls;
mod damage;
mod dedupe;
mod fast;
mod launches;
mod messages;

use std::io::Read;
use std::sync::Arc;

use crate::diagnostic::{Culprit, Finding, Severity};
use crate::ingest::discover::Sniffed;
use crate::ingest::lines::{sniff, LineReader, Wanted};
use crate::ingest::raw::{Block, Content, Entry};
use crate::model::text::{classify_user_text, tag};
use crate::model::{Event, EventKind, Format, ReturnStatus, Session, Source, ToolInput, UserKind};
use crate::workflow::Workflows;

use attribution::{Attribution, Owner};
use calls::Calls;
pub(crate) use damage::short_error;
use dedupe::Dedupe;
pub use fast::{slim, Slim};
use launches::{LaunchCall, Launches};
use messages::Messages;

/// Reads a transcript and builds its session; input problems become findings.
/// With `format` unknown it is told from the first lines; `None` when the
/// file is not a transcript at all (a history, a journal).
pub fn parse<R: Read + Send>(
    reader: R,
    file: Arc<str>,
    format: Option<Format>,
    wf: &Workflows,
    findings: &mut Vec<Finding>,
) -> Option<Session> {
    read(reader, file, format, wf, findings, None).map(|(session, _)| session)
}

/// A part of a session read in parts: the events from one slash command
/// up to the next, and the launches made in them, counted from the part's
/// first event; with the findings of its lines.
pub struct Part {
    pub session: Session,
    pub findings: Vec<Finding>,
}

/// Reads a session file in parts, so that a long session is never held
/// whole: at a slash command, once every launch and call before it has
/// returned, what came before is handed to `emit` as a [`Part`]. Runs end
/// at slash commands, so a run is never split. The last part is returned
/// (its findings left in `findings`), with whether a later line reached
/// back into a part already handed over (a result, return or agent line
/// of a launch or call of it): then the parts are no faithful reading, and
/// the session must be read again whole with [`parse`]. Stream-json is
/// read as one part (its runs may start without a command).
pub fn parse_parts<R: Read + Send>(
    reader: R,
    file: Arc<str>,
    format: Option<Format>,
    wf: &Workflows,
    findings: &mut Vec<Finding>,
    emit: &mut dyn FnMut(Part),
) -> Option<(Session, bool)> {
    read(reader, file, format, wf, findings, Some((emit, PART_EVENTS)))
}

/// Past this many events a part is handed over at the next slash command
/// even with an agent or a call of it still out (one interrupted and never
/// answered would keep the rest of the session in one part): should one of
/// them be answered later after all, the parts crossed, and the session is
/// read again whole.
const PART_EVENTS: usize = 1 << 16;

/// Lines are read in batches of about this many bytes. What can be read of
/// a line without the lines before it ([`Pre`]) is worked out for a whole
/// batch at once, on several threads when the file is longer than a batch.
const BATCH_BYTES: usize = 1 << 20;

/// A batch of lines, copied out of the line reader's buffer.
struct Batch {
    buf: Vec<u8>,
    lines: Vec<BatchLine>,
    /// The last batch of the file: it ended, or a read error ended it.
    eof: bool,
    error: Option<std::io::Error>,
}

thread_local! {
    /// A batch's buffers, handed from file to file on a thread.
    static SPARE_BATCH: std::cell::Cell<(Vec<u8>, Vec<BatchLine>)> = const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

impl Default for Batch {
    fn default() -> Batch {
        let (buf, lines) = SPARE_BATCH.take();
        Batch { buf, lines, eof: false, error: None }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Not one grown by a line far longer than a batch.
        if self.buf.capacity() <= 4 * BATCH_BYTES {
            self.buf.clear();
            self.lines.clear();
            SPARE_BATCH.set((std::mem::take(&mut self.buf), std::mem::take(&mut self.lines)));
        }
    }
}

struct BatchLine {
    number: u32,
    offset: u64,
    /// Its bytes in [`Batch::buf`], without the newline.
    range: std::ops::Range<usize>,
    /// Longer than the line cap: its length (no bytes kept).
    too_long: Option<u64>,
}

impl Batch {
    /// The next lines, about [`BATCH_BYTES`] of them; a read error ends
    /// the batch and the file, and is kept with it.
    fn fill<R: Read>(&mut self, lines: &mut LineReader<R>) {
        self.buf.clear();
        self.lines.clear();
        while self.buf.len() < BATCH_BYTES {
            match lines.next_line() {
                Ok(Some(line)) => {
                    let start = self.buf.len();
                    self.buf.extend_from_slice(line.bytes);
                    let range = start..self.buf.len();
                    self.lines.push(BatchLine {
                        number: line.number,
                        offset: line.offset,
                        range,
                        too_long: line.too_long,
                    });
                }
                Ok(None) => {
                    self.eof = true;
                    return;
                }
                Err(e) => {
                    self.eof = true;
                    self.error = Some(e);
                    return;
                }
            }
            lines.shrink();
        }
    }

    /// Each line's [`Pre`], in order.
    fn pre(&self) -> Vec<Pre<'_>> {
        let of = |l: &BatchLine| Pre::of(&self.buf[l.range.clone()]);
        if self.buf.len() >= BATCH_BYTES {
            use rayon::prelude::*;
            self.lines.par_iter().with_min_len(64).map(of).collect()
        } else {
            self.lines.iter().map(of).collect()
        }
    }
}

/// What can be read of a line before the lines before it are read: its
/// type, its ids if it only carries results of ordinary tools, else its
/// parse, and its print (for copies).
struct Pre<'a> {
    wanted: Wanted,
    plain: Option<fast::PlainResults<'a>>,
    /// The parse, made ahead unless the line may need none.
    entry: Option<Option<Entry<'a>>>,
    print: u64,
}

impl Pre<'_> {
    fn of(bytes: &[u8]) -> Pre<'_> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let wanted = sniff(bytes);
        let (plain, entry) = match wanted {
            Wanted::Skip | Wanted::QueuedCommand | Wanted::Progress => (None, None),
            // Which of its ids are launches is known only in order: the
            // builder parses it then, if it must.
            Wanted::User => match fast::plain_tool_results(bytes, |_| false) {
                // A launch's result, most likely: parsed here, ahead, and
                // not by the builder, which reads the lines one by one.
                Some(plain) if fast::may_be_agent_result(bytes) => {
                    (Some(plain), Some(crate::ingest::raw::parse_entry(bytes)))
                }
                Some(plain) => (Some(plain), None),
                None => (None, Some(crate::ingest::raw::parse_entry(bytes))),
            },
            _ => (None, Some(crate::ingest::raw::parse_entry(bytes))),
        };
        let print = if entry.is_some() || plain.is_some() { dedupe::line_print(bytes) } else { 0 };
        Pre { wanted, plain, entry, print }
    }
}

/// The file is no transcript at all.
struct NotTranscript;

/// What the building of one batch keeps from batch to batch.
struct Reading<'e> {
    /// The format is still being told from the first lines: lines tried.
    undecided: Option<u32>,
    emit: Option<(&'e mut dyn FnMut(Part), usize)>,
    last_line: u32,
}

/// A batch read and prepared: its lines and their [`Pre`]s.
type Prepared<'b> = (&'b Batch, Vec<Pre<'b>>);

fn read<R: Read + Send>(
    reader: R,
    file: Arc<str>,
    format: Option<Format>,
    wf: &Workflows,
    findings: &mut Vec<Finding>,
    emit: Option<(&mut dyn FnMut(Part), usize)>,
) -> Option<(Session, bool)> {
    let mut b = Builder::new(file, format.unwrap_or(Format::Session), wf);
    let mut reading = Reading { undecided: format.is_none().then_some(0u32), emit, last_line: 0 };
    let mut lines = LineReader::new(reader);
    // Two batches in turn: while the lines of one are built into the
    // session, the next is read and prepared on another thread.
    let (mut one, mut two) = (Batch::default(), Batch::default());
    one.fill(&mut lines);
    let mut first: Prepared<'_> = (&one, one.pre());
    while let Some(second) = b.batch_overlapped(first, &mut two, &mut lines, &mut reading, findings).ok()? {
        match b.batch_overlapped(second, &mut one, &mut lines, &mut reading, findings).ok()? {
            Some(next) => first = next,
            None => break,
        }
    }
    let crossed = b.crossed();
    Some((b.finish(findings), crossed))
}

impl Builder<'_> {
    /// Builds the lines of `batch` while the next batch is read into `next`
    /// and prepared, on another thread; `None` after the last batch.
    fn batch_overlapped<'n, R: Read + Send>(
        &mut self,
        (batch, pre): Prepared<'_>,
        next: &'n mut Batch,
        lines: &mut LineReader<R>,
        reading: &mut Reading<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<Option<Prepared<'n>>, NotTranscript> {
        if batch.eof {
            self.batch(batch, pre, reading, findings)?;
            if let Some(e) = &batch.error {
                self.read_error(e, reading.last_line, findings);
            }
            return Ok(None);
        }
        let mut prepared = None;
        let built = rayon::in_place_scope(|scope| {
            scope.spawn(|_| {
                next.fill(lines);
                let next: &'n Batch = next;
                prepared = Some((next, next.pre()));
            });
            self.batch(batch, pre, reading, findings)
        });
        built?;
        Ok(prepared)
    }

    /// A read error ended the file after `last_line`.
    fn read_error(&mut self, e: &std::io::Error, last_line: u32, findings: &mut Vec<Finding>) {
        let source = Source { file: self.session.file.clone(), line: last_line + 1, offset: 0, len: 0 };
        findings.push(Finding::unreadable(&source, format!("reading stopped at line {}: {e}", source.line)));
    }

    /// Builds the lines of one batch into the session.
    fn batch(
        &mut self,
        batch: &Batch,
        pre: Vec<Pre<'_>>,
        reading: &mut Reading<'_>,
        findings: &mut Vec<Finding>,
    ) -> Result<(), NotTranscript> {
        for (line, pre) in batch.lines.iter().zip(pre) {
            if let Some((emit, part_events)) = reading.emit.as_mut() {
                if let Some(part) = self.cut(findings, *part_events) {
                    emit(part);
                }
            }
            let bytes = &batch.buf[line.range.clone()];
            reading.last_line = line.number;
            if let Some(len) = line.too_long {
                let source = Source { file: self.session.file.clone(), line: line.number, offset: line.offset, len: 0 };
                findings.push(Finding::input(source, too_long_message(len)));
                continue;
            }
            if let Some(tried) = reading.undecided.as_mut() {
                if !bytes.iter().all(u8::is_ascii_whitespace) {
                    match crate::ingest::discover::sniff_line(bytes) {
                        Some(Sniffed::Transcript(f)) => {
                            self.session.format = f;
                            reading.undecided = None;
                        }
                        Some(Sniffed::NotTranscript) => return Err(NotTranscript),
                        None => {
                            *tried += 1;
                            if *tried >= crate::ingest::discover::SNIFF_LINES {
                                reading.undecided = None;
                            }
                        }
                    }
                }
            }
            let source = Source {
                file: self.session.file.clone(),
                line: line.number,
                offset: line.offset,
                len: bytes.len() as u32,
            };
            self.line(bytes, pre, source, findings);
        }
        Ok(())
    }
}

struct Builder<'w> {
    wf: &'w Workflows,
    /// The session built, but for its launches: [`Launches`] holds those.
    session: Session,
    /// Findings made where no findings list is at hand; they follow the
    /// others (in [`Builder::finish`]).
    pending_findings: Vec<Finding>,
    dedupe: Dedupe,
    messages: Messages,
    calls: Calls,
    launches: Launches,
    attribution: Attribution,
    /// The index of `session.events[0]` in the whole session (read in parts).
    first_event: usize,
    /// A slash command read (the index of its event in `session.events`,
    /// and its line): the part before it may be handed over.
    command_at: Option<(usize, u32)>,
}

impl<'w> Builder<'w> {
    fn new(file: Arc<str>, format: Format, wf: &'w Workflows) -> Self {
        Builder {
            wf,
            session: Session { format, ..Session::empty(file) },
            pending_findings: Vec::new(),
            dedupe: Dedupe::default(),
            messages: Messages::default(),
            calls: Calls::default(),
            launches: Launches::default(),
            attribution: Attribution::default(),
            first_event: 0,
            command_at: None,
        }
    }

    /// The part before the slash command just read, when it can be handed
    /// over: events before it, every launch and call of it answered (or
    /// more than `part_events` events).
    fn cut(&mut self, findings: &mut Vec<Finding>, part_events: usize) -> Option<Part> {
        let (at, line) = self.command_at.take()?;
        let answered = self.launches.quiescent() && self.calls.quiescent();
        if at == 0 || self.session.format != Format::Session || !(answered || at > part_events) {
            return None;
        }
        let rest = self.session.events.split_off(at);
        let events = std::mem::replace(&mut self.session.events, rest);
        self.first_event += at;
        let launches = self.launches.retire(self.first_event);
        self.calls.next_part();
        let before = |f: &Finding| f.place.line < line;
        let mut part_findings: Vec<Finding> = findings.extract_if(.., |f| before(f)).collect();
        part_findings.extend(self.pending_findings.extract_if(.., |f| before(f)));
        let session = Session {
            file: self.session.file.clone(),
            format: self.session.format,
            id: self.session.id.clone(),
            version: self.session.version.clone(),
            events,
            launches,
            entries: self.session.entries,
            offered_tools: self.session.offered_tools.clone(),
        };
        Some(Part { session, findings: part_findings })
    }

    /// Whether a line reached back into a part handed over.
    fn crossed(&self) -> bool {
        self.launches.crossed || self.calls.crossed
    }

    fn line(&mut self, bytes: &[u8], pre: Pre<'_>, source: Source, findings: &mut Vec<Finding>) {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let wanted = pre.wanted;
        if wanted == Wanted::QueuedCommand {
            // A queued task notification handed to the model as an
            // `attachment` (2.1.15x–2.1.23x): a background agent's return.
            if let Some(text) = fast::queued_notification(bytes) {
                self.session.entries += 1;
                self.notification_text(&text, &source, true);
                return;
            }
        }
        if matches!(wanted, Wanted::Skip | Wanted::QueuedCommand) {
            damage::skipped(self, bytes, source, findings);
            return;
        }
        if wanted == Wanted::Progress {
            // An `agent_progress` mirror line links an agent id to its launch.
            if let Some((agent, tool_use)) = fast::agent_progress(bytes) {
                self.launches.progress(agent, tool_use);
            }
            return;
        }
        if wanted == Wanted::User && self.plain_tool_results(pre.plain, pre.print, &source, findings) {
            return;
        }
        self.dedupe.print_is(pre.print);
        match pre.entry.unwrap_or_else(|| crate::ingest::raw::parse_entry(bytes)) {
            Some(entry) => self.entry(entry, &source, findings),
            None => damage::recover(self, bytes, &source, findings),
        }
    }

    /// A user line that only carries results of ordinary tools (Read, Bash, …)
    /// is not parsed: the checks need just the ids. Returns false when the
    /// line needs a full parse (a launch's result, a subagent's line, text).
    fn plain_tool_results(
        &mut self,
        plain: Option<fast::PlainResults<'_>>,
        print: u64,
        source: &Source,
        findings: &mut Vec<Finding>,
    ) -> bool {
        // The first entries name the session; they are parsed.
        if self.session.id.is_none() {
            return false;
        }
        let Some(plain) = plain else { return false };
        if plain.ids.iter().any(|id| self.launches.by_tool_use(id).is_some()) {
            return false;
        }
        if let Some(uuid) = plain.uuid {
            self.dedupe.print_is(print);
            if !self.dedupe.admit(uuid, source, findings) {
                return true;
            }
        }
        self.session.entries += 1;
        self.messages.result_seen();
        for id in plain.ids {
            self.push(
                source,
                EventKind::ToolResult { tool_use_id: id.to_string(), is_error: false, async_launch: false },
            );
            self.calls.result(id, source, findings);
        }
        true
    }

    fn entry(&mut self, e: Entry<'_>, source: &Source, findings: &mut Vec<Finding>) {
        let kind = e.kind.0.as_deref().unwrap_or("");
        if self.session.id.is_none() {
            self.session.id = e.session_id.to_owned_string().or_else(|| e.session_id_snake.to_owned_string());
        }
        if self.session.version.is_none() {
            self.session.version = e.version.to_owned_string().or_else(|| e.claude_code_version.to_owned_string());
        }
        match kind {
            "assistant" | "user" => {
                // Claude Code sometimes writes a line twice: read it once.
                // A uuid used again by another line (not a copy) is read too.
                if let Some(uuid) = e.uuid.as_deref() {
                    if !self.dedupe.admit(uuid, source, findings) {
                        return;
                    }
                }
                self.session.entries += 1;
                match self.attribution.owner(&e, &self.session.file, &mut self.launches) {
                    Owner::Orchestrator => {}
                    Owner::Launch(l) => {
                        if let Some(launch) = self.launches.get_mut(l) {
                            attribution::subagent_entry(launch, &e, source, &mut self.calls);
                        }
                        return;
                    }
                    // A subagent's entry whose launch is unknown: not the orchestrator's.
                    Owner::UnknownLaunch => return,
                }
                if kind == "assistant" {
                    self.assistant(&e, source);
                } else {
                    self.user(&e, source, findings);
                }
            }
            "queue-operation" => {
                let op = e.operation.0.as_deref().unwrap_or("");
                if matches!(op, "remove" | "dequeue") {
                    // A removal without content (2.1.15x–2.1.23x) is followed
                    // by the `queued_command` attachment that delivers it.
                    if let Some(text) = e.content.0.as_deref() {
                        if text.trim_start().starts_with("<task-notification>") {
                            // Handed over inside a tool loop: the message goes on.
                            self.notification_text(text, source, false);
                        }
                    }
                }
            }
            "system" => match e.subtype.0.as_deref() {
                Some("init") => {
                    if let Some(tools) = &e.tools.0 {
                        self.session.offered_tools = Some(tools.iter().map(|t| t.to_string()).collect());
                    }
                }
                Some("task_notification") => {
                    let status = launches::notified_status(e.status.0.as_deref());
                    let ev = self.push(
                        source,
                        EventKind::Notification {
                            tool_use_id: e.tool_use_id.to_owned_string(),
                            task_id: e.task_id.to_owned_string(),
                            status: e.status.to_owned_string(),
                        },
                    );
                    let report = e.summary.to_owned_string().unwrap_or_default();
                    self.launches.deliver(e.tool_use_id.0.as_deref(), e.task_id.0.as_deref(), ev, status, report);
                }
                Some("task_started") => {
                    if let (Some(tu), Some(task)) = (e.tool_use_id.0.as_deref(), e.task_id.0.as_deref()) {
                        self.launches.task_started(tu, task);
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Adds an event; its index in the whole session.
    fn push(&mut self, source: &Source, kind: EventKind) -> usize {
        self.session.events.push(Event { source: source.clone(), kind });
        self.first_event + self.session.events.len() - 1
    }

    fn assistant(&mut self, e: &Entry<'_>, source: &Source) {
        let Some(message) = e.message.0.as_ref() else {
            let message = "assistant entry without a message object; nothing read from it".to_string();
            self.pending_findings.push(Finding::input_at(source, Culprit::Key("message".into()), message));
            return;
        };
        let id = messages::message_id(message.id.as_deref(), e.request_id.as_deref());
        let key = self.messages.key(id.as_deref());
        match &message.content {
            Content::Blocks(blocks) => {
                for b in blocks {
                    match b.kind.as_deref() {
                        Some("text") | None => self.text(b.text.as_deref(), key, source),
                        Some("tool_use") => self.tool_use(b, key, source),
                        _ => {}
                    }
                }
            }
            Content::Text(t) => self.text(Some(t), key, source),
            Content::None => {}
        }
    }

    fn text(&mut self, text: Option<&str>, key: u32, source: &Source) {
        // A string cut inside an emoji leaves U+FFFD at its edge (a lone
        // surrogate repaired): it is no part of a heading.
        let text = text.map(|t| t.trim_matches('\u{FFFD}'));
        if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
            self.push(source, EventKind::Text { message: key, text: text.to_string() });
        }
    }

    fn tool_use(&mut self, b: &Block<'_>, key: u32, source: &Source) {
        let id = b.id.to_owned_string().unwrap_or_default();
        let name = b.name.to_owned_string().unwrap_or_default();
        if id.is_empty() {
            let message =
                format!("{} call without an id: its result cannot be matched; read as returned at once", name);
            self.pending_findings.push(Finding::input_at(source, Culprit::Key("name".into()), message));
        } else if self.calls.made(&id) {
            // The same call written twice: read it once.
            return;
        }
        self.calls.insert(id.clone());
        let mut input = tool_input(b.input.0.as_ref());
        // The launch keeps the prompt; the event keeps the rest (no copies).
        let launch = self.wf.is_launch_tool(&name).then(|| LaunchCall::take(&mut input));
        let ev = self.push(source, EventKind::ToolCall { message: key, id: id.clone(), name, input });
        if let Some(launch) = launch {
            // No id, or its result came first: nothing more will arrive for it.
            let returned = id.is_empty() || self.calls.take_early(&id);
            self.launches.add(launch, id, ev, key, returned);
        }
    }

    fn user(&mut self, e: &Entry<'_>, source: &Source, findings: &mut Vec<Finding>) {
        let Some(message) = e.message.0.as_ref() else { return };
        let blocks = match &message.content {
            Content::Blocks(b) => b.as_slice(),
            _ => &[],
        };
        let results: Vec<&Block<'_>> = blocks.iter().filter(|b| b.kind.0.as_deref() == Some("tool_result")).collect();
        if !results.is_empty() {
            let tur = e.tool_use_result.0.as_ref().or(e.tool_use_result_snake.0.as_ref());
            for r in results {
                self.tool_result(r, tur, source, findings);
            }
            return;
        }
        let text = message.content.joined_text();
        let origin = e.origin.0.as_ref().and_then(|o| o.kind.0.as_deref());
        let mut kind = classify_user_text(&text);
        if origin == Some("task-notification") || text.contains("<task-notification>") {
            kind = UserKind::Notification;
        } else if e.is_meta.0 {
            kind = UserKind::Meta;
        } else if e.is_compact_summary.0 {
            kind = UserKind::CompactSummary;
        } else if kind == UserKind::Genuine
            && (origin.is_some_and(|o| o != "human") || e.prompt_source.0.as_deref() == Some("system"))
        {
            kind = UserKind::System;
        }
        self.messages.close();
        match kind {
            UserKind::Command => {
                let name = tag(&text, "command-name").unwrap_or("").to_string();
                let args = tag(&text, "command-args").unwrap_or("").to_string();
                self.push(source, EventKind::Command { name, args });
                self.command_at = Some((self.session.events.len() - 1, source.line));
            }
            UserKind::Notification => self.notification_text(&text, source, true),
            _ => {
                self.push(source, EventKind::User { kind, text });
            }
        }
    }

    fn tool_result(
        &mut self,
        r: &Block<'_>,
        tur: Option<&crate::ingest::raw::ToolUseResult<'_>>,
        source: &Source,
        findings: &mut Vec<Finding>,
    ) {
        let id = r.tool_use_id.to_owned_string().unwrap_or_default();
        let text = r.content.joined_text();
        let launch = self.launches.by_tool_use(&id);
        let async_launch = launch.is_some() && launches::async_launched(tur.and_then(|t| t.status.0.as_deref()), &text);
        self.messages.result_seen();
        let ev =
            self.push(source, EventKind::ToolResult { tool_use_id: id.clone(), is_error: r.is_error.0, async_launch });
        if !self.calls.result(&id, source, findings) {
            return;
        }
        let Some(l) = launch else {
            // TaskOutput retrieving a finished background agent: its return
            // (completed, whatever the status retrieved).
            if let Some((task, output)) = launches::retrieval(&text) {
                self.launches.deliver(None, Some(task), ev, ReturnStatus::Completed, output);
            }
            return;
        };
        let agent_id = tur.and_then(|t| t.agent_id.to_owned_string());
        self.launches.result(l, agent_id, async_launch, ev, r.is_error.0, text);
    }

    /// A `<task-notification>` block reaching the orchestrator (user entry or
    /// queue-operation): the return of a background agent.
    fn notification_text(&mut self, text: &str, source: &Source, new_turn: bool) {
        let tool_use_id = tag(text, "tool-use-id").map(str::to_string);
        let task_id = tag(text, "task-id").map(str::to_string);
        let status = tag(text, "status").map(str::to_string);
        let result = tag(text, "result").unwrap_or("").to_string();
        if new_turn {
            self.messages.close();
        }
        let returned = launches::notified_status(status.as_deref());
        let ev = self.push(
            source,
            EventKind::Notification { tool_use_id: tool_use_id.clone(), task_id: task_id.clone(), status },
        );
        self.launches.deliver(tool_use_id.as_deref(), task_id.as_deref(), ev, returned, result);
    }

    fn finish(mut self, findings: &mut Vec<Finding>) -> Session {
        findings.append(&mut self.pending_findings);
        self.session.launches = self.launches.finish();
        self.session
    }
}

impl damage::Reader for Builder<'_> {
    fn read(&mut self, e: Entry<'_>, source: &Source, findings: &mut Vec<Finding>) {
        self.entry(e, source, findings);
    }

    fn reprint(&mut self, bytes: &[u8]) {
        self.dedupe.line(bytes);
    }
}

/// The input of a call as the checks keep it.
pub(crate) fn tool_input(raw: Option<&crate::ingest::raw::ToolInputRaw<'_>>) -> ToolInput {
    let empty = crate::ingest::raw::ToolInputRaw::default();
    let raw = raw.unwrap_or(&empty);
    let mut todo_items: Vec<String> = raw
        .todos
        .0
        .iter()
        .flatten()
        .filter_map(|t| t.0.as_ref().and_then(|t| t.content.to_owned_string().or(t.subject.to_owned_string())))
        .collect();
    if let Some(subject) = raw.subject.to_owned_string() {
        todo_items.push(subject);
    }
    ToolInput {
        subagent_type: raw.subagent_type.to_owned_string(),
        description: raw.description.to_owned_string(),
        prompt: raw.prompt.to_owned_string(),
        run_in_background: raw.run_in_background.0,
        command: raw.command.to_owned_string(),
        file_path: raw
            .file_path
            .to_owned_string()
            .or_else(|| raw.notebook_path.to_owned_string())
            .or_else(|| raw.path.to_owned_string()),
        todo_items,
    }
}

pub use crate::model::normalize_type;

/// The diagnostic of a line longer than [`crate::ingest::input::MAX_LINE`].
pub(crate) fn too_long_message(len: u64) -> String {
    format!(
        "line is {len} bytes long, over the {} MiB line cap; skipped without reading it",
        crate::ingest::input::MAX_LINE >> 20
    )
}

impl Finding {
    /// A file that could not be read whole (an I/O error, a file gone): an
    /// error-level `transcript` finding. The check also exits 2, whatever
    /// the fail level: a verdict over part of a file is no verdict.
    pub fn unreadable(source: &Source, message: String) -> Finding {
        Finding { severity: Severity::Error, ..Finding::input_at(source, Culprit::Line, message) }
    }

    /// An input problem (rule `transcript`, warning) at a whole line.
    pub fn input(source: Source, message: String) -> Finding {
        Finding::input_at(&source, Culprit::Line, message)
    }

    pub fn input_at(source: &Source, culprit: Culprit, message: String) -> Finding {
        Finding {
            rule: "transcript",
            severity: Severity::Warning,
            message,
            phase: None,
            place: source.place(culprit),
            run: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_agent_types() {
        assert_eq!(normalize_type("ML Explorer"), "ml-explorer");
        assert_eq!(normalize_type("ml_architect"), "ml-architect");
    }

    fn parse_str(text: &str) -> (Session, Vec<Finding>) {
        let mut findings = Vec::new();
        let session = parse(text.as_bytes(), Arc::from("t.jsonl"), None, &Workflows::builtin(), &mut findings)
            .expect("a transcript");
        (session, findings)
    }

    const USER: &str = r#"{"type":"user","sessionId":"s","message":{"role":"user","content":"hello"}}"#;

    #[test]
    fn spliced_records_are_all_read_and_reported() {
        let (session, findings) = parse_str(&format!("{USER}{USER}\n"));
        assert_eq!(session.events.len(), 2);
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("2 JSON records with no newline"), "{}", findings[0].message);
        let (session, findings) = parse_str(&format!("{USER} xyz\n{USER}\n"));
        assert_eq!(session.events.len(), 2);
        assert!(findings[0].message.contains("1 JSON record followed by damaged text"), "{}", findings[0].message);
    }

    #[test]
    fn task_output_retrieval_returns_a_background_agent() {
        let lines = [
            r#"{"type":"assistant","sessionId":"s","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Agent","input":{"subagent_type":"ml-flow:ml-explorer","prompt":"p","run_in_background":true}}]}}"#,
            r#"{"type":"user","sessionId":"s","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"Async agent launched successfully.\nagentId: a1"}]},"toolUseResult":{"status":"async_launched","agentId":"a1"}}"#,
            r#"{"type":"assistant","sessionId":"s","message":{"id":"m2","content":[{"type":"tool_use","id":"t2","name":"TaskOutput","input":{"task_id":"a1"}}]}}"#,
            r#"{"type":"user","sessionId":"s","message":{"content":[{"type":"tool_result","tool_use_id":"t2","content":"<retrieval_status>success</retrieval_status><task_id>a1</task_id><status>completed</status><output>src/model.py</output>"}]}}"#,
        ];
        let (session, findings) = parse_str(&lines.join("\n"));
        assert!(findings.is_empty(), "{findings:?}");
        let launch = &session.launches[0];
        assert_eq!(launch.status, crate::model::ReturnStatus::Completed);
        assert_eq!(launch.returned_at, Some(3));
        assert_eq!(launch.output, "src/model.py");
    }

    #[test]
    fn entries_of_an_unknown_launch_are_nobodys() {
        let lines = [
            r#"{"type":"assistant","sessionId":"s","parent_tool_use_id":"t9","message":{"id":"m1","content":[{"type":"tool_use","id":"c1","name":"Read","input":{}}]}}"#,
            r#"{"type":"user","sessionId":"s","isSidechain":true,"uuid":"u1","message":{"role":"user","content":"a prompt no launch has"}}"#,
            USER,
        ];
        let (session, findings) = parse_str(&lines.join("\n"));
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(session.entries, 3);
        assert_eq!(session.events.len(), 1, "{:?}", session.events);
        assert!(matches!(session.events[0].kind, EventKind::User { .. }));
    }

    /// A run of `n`: a command, a launch `t{n}` and its result (unless
    /// `open`), and a text.
    fn run(n: u32, open: bool) -> String {
        let mut lines = vec![
            format!(
                r#"{{"type":"user","sessionId":"s","uuid":"c{n}","message":{{"role":"user","content":"<command-name>/ml-flow</command-name><command-args>go</command-args>"}}}}"#
            ),
            format!(
                r#"{{"type":"assistant","sessionId":"s","uuid":"a{n}","message":{{"id":"m{n}","content":[{{"type":"tool_use","id":"t{n}","name":"Task","input":{{"subagent_type":"ml-flow:ml-explorer","prompt":"p{n}"}}}}]}}}}"#
            ),
        ];
        if !open {
            lines.push(format!(
                r#"{{"type":"user","sessionId":"s","uuid":"r{n}","message":{{"content":[{{"type":"tool_result","tool_use_id":"t{n}","content":"report {n}"}}]}}}}"#
            ));
        }
        lines.push(format!(
            r#"{{"type":"assistant","sessionId":"s","uuid":"x{n}","message":{{"id":"n{n}","content":[{{"type":"text","text":"done {n}"}}]}}}}"#
        ));
        lines.join("\n")
    }

    /// Reads `text` in parts, handed over with agents out past
    /// `part_events` events: the parts handed over, the last, and whether
    /// it crossed.
    fn parts_of(text: &str, part_events: usize) -> (Vec<Part>, Session, bool) {
        let mut parts = Vec::new();
        let mut findings = Vec::new();
        let mut emit = |p| parts.push(p);
        let (last, crossed) = read(
            text.as_bytes(),
            Arc::from("t.jsonl"),
            None,
            &Workflows::builtin(),
            &mut findings,
            Some((&mut emit, part_events)),
        )
        .expect("a transcript");
        (parts, last, crossed)
    }

    #[test]
    fn a_session_is_read_in_parts_at_its_commands() {
        let text = [run(1, false), run(2, false), run(3, false)].join("\n");
        let (parts, last, crossed) = parts_of(&text, PART_EVENTS);
        assert!(!crossed);
        assert_eq!(parts.len(), 2);
        for (i, part) in parts.iter().map(|p| &p.session).chain([&last]).enumerate() {
            // Each part: the command, the launch, its result, the text; the
            // launch's events counted from the part's start.
            assert_eq!(part.events.len(), 4, "part {i}: {:?}", part.events);
            assert!(matches!(part.events[0].kind, EventKind::Command { .. }));
            assert_eq!(part.launches.len(), 1);
            let l = &part.launches[0];
            assert_eq!((l.event, l.returned_at), (1, Some(2)));
            assert_eq!(l.tool_use_id, format!("t{}", i + 1));
            assert_eq!(part.events[0].source.line, 1 + 4 * i as u32);
        }
        // Read whole, the same events.
        let (whole, _) = parse_str(&text);
        assert_eq!(whole.events.len(), 12);
        assert_eq!(whole.launches[2].event, 9);
    }

    #[test]
    fn a_part_with_a_launch_out_is_handed_over_only_when_long() {
        // Run 1's agent never returns: the runs stay one part…
        let text = [run(1, true), run(2, false), run(3, false)].join("\n");
        let (parts, last, crossed) = parts_of(&text, PART_EVENTS);
        assert!(!crossed);
        assert!(parts.is_empty());
        assert_eq!(last.events.len(), 11);
        // … unless it is past the part length: then it is handed over,
        // the launch missing, as it is at the end of the session.
        let (parts, last, crossed) = parts_of(&text, 2);
        assert!(!crossed);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].session.events.len(), 3);
        assert_eq!(parts[0].session.launches[0].status, crate::model::ReturnStatus::Missing);
        assert_eq!(last.events.len(), 4);
        // Should it return after all, the parts crossed.
        let late = r#"{"type":"user","sessionId":"s","uuid":"late","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"late"}]}}"#;
        let (_, _, crossed) = parts_of(&format!("{text}\n{late}"), 2);
        assert!(crossed);
    }

    #[test]
    fn a_line_reaching_back_into_a_part_handed_over_is_known() {
        // Run 1's result written again in run 3, a notification for its launch: crossed.
        let late_result = r#"{"type":"user","sessionId":"s","uuid":"late","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"again"}]}}"#;
        let late_notification = r#"{"type":"user","sessionId":"s","uuid":"late","message":{"role":"user","content":"<task-notification><tool-use-id>t1</tool-use-id><status>completed</status><result>r</result></task-notification>"}}"#;
        for late in [late_result, late_notification] {
            let text = [run(1, false), run(2, false), late.to_string()].join("\n");
            let (parts, _, crossed) = parts_of(&text, PART_EVENTS);
            assert_eq!(parts.len(), 1);
            assert!(crossed, "{late}");
        }
    }

    #[test]
    fn a_history_file_is_not_a_transcript() {
        let mut findings = Vec::new();
        let text = r#"{"display":"/model","pastedContents":{},"timestamp":1,"project":"/x"}"#;
        assert!(parse(text.as_bytes(), Arc::from("h.jsonl"), None, &Workflows::builtin(), &mut findings).is_none());
    }
}
