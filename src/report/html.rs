//! `check --format html` and `orchlint report`: one self-contained HTML page
//! with a timeline of every workflow run — phases, agents, orchestrator tool
//! calls, genuine user messages and diagnostics — along the order of the
//! JSONL lines, not the clock: transcripts are judged by order.
//!
//! The timeline is drawn here as inline SVG from the `inspect` document; the
//! page's small inline script only opens the detail panel of what is clicked
//! and highlights the agents of one launch message. Nothing is fetched. The
//! same input gives the same bytes: positions come from line numbers, ids
//! from counters.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display, Write as _};
use std::io::{self, Write};

use super::inspect::{InspectDocument, LaunchView, RunView, SessionView, StepKind};
use crate::diagnostic::{Diagnostic, Excerpt, Severity};
use crate::model::{Format, ReturnStatus};

/// Width of the lane names beside each chart.
const LABEL_W: f64 = 200.0;
/// Width the plot of a run aims at; long runs scroll sideways instead.
const PLOT_W: f64 = 1310.0;
/// The narrowest a JSONL line may be drawn.
const MIN_LINE_W: f64 = 2.0;
/// Space left and right of the first and last line of a run.
const PAD_X: f64 = 10.0;
const PHASE_ROW_H: f64 = 17.0;
const LANE_PAD: f64 = 6.0;
const BAR_H: f64 = 14.0;
const ROW_H: f64 = 19.0;
const FINDING_ROW_H: f64 = 18.0;
const MAX_FINDING_ROWS: usize = 4;
const MARK_LANE_H: f64 = 26.0;
const AXIS_H: f64 = 30.0;
/// Average width of a character of the chart's 11px labels.
const CHAR_W: f64 = 6.3;

/// Colours of launch messages: the agents of one message share one.
const GROUP_COLORS: [&str; 8] =
    ["#4f46e5", "#0891b2", "#059669", "#c026d3", "#2563eb", "#65a30d", "#0d9488", "#9333ea"];
/// Colours of phases 1…12 (then again).
const PHASE_COLORS: [&str; 12] = [
    "#6366f1", "#0ea5e9", "#14b8a6", "#22c55e", "#84cc16", "#eab308", "#f97316", "#f43f5e", "#ec4899", "#a855f7",
    "#8b5cf6", "#64748b",
];

/// Writes the page for the sessions of `doc` and the diagnostics of the same check.
pub fn render(doc: &InspectDocument, diagnostics: &[Diagnostic], out: &mut dyn Write) -> io::Result<()> {
    let mut page = String::new();
    write_page(&mut page, doc, diagnostics).map_err(|_| io::Error::other("cannot format the HTML report"))?;
    out.write_all(page.as_bytes())
}

/// Text escaped for HTML text and attribute values; control characters
/// other than tab and newline become U+FFFD.
struct Esc<'a>(&'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(|c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || is_bad_control(c)) {
            f.write_str(&rest[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{fffd}');
            f.write_str(match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => "\u{fffd}",
            })?;
            rest = &rest[i + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn is_bad_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || c == '\u{2028}' || c == '\u{2029}'
}

/// A coordinate, rounded so the output does not depend on float noise.
struct Px(f64);

impl Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = (self.0 * 10.0).round() / 10.0;
        if v == v.trunc() {
            write!(f, "{}", v as i64)
        } else {
            write!(f, "{v:.1}")
        }
    }
}

fn shorten(text: &str, max: usize) -> String {
    let one = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > max {
        format!("{}…", one.chars().take(max.saturating_sub(1)).collect::<String>())
    } else {
        one
    }
}

/// The name of an agent type without its namespace, and the namespace.
fn split_type(raw: &str) -> (&str, &str) {
    match raw.rsplit_once(':') {
        Some((ns, name)) => (name, &raw[..ns.len() + 1]),
        None => (raw, ""),
    }
}

fn status_word(s: ReturnStatus) -> &'static str {
    match s {
        ReturnStatus::Completed => "returned",
        ReturnStatus::Error => "returned an error",
        ReturnStatus::Outstanding => "never returned",
        ReturnStatus::Missing => "no result",
    }
}

fn status_class(s: ReturnStatus) -> &'static str {
    match s {
        ReturnStatus::Completed => "completed",
        ReturnStatus::Error => "error",
        ReturnStatus::Outstanding => "outstanding",
        ReturnStatus::Missing => "missing",
    }
}

fn tool_class(name: &str) -> &'static str {
    match name {
        "Read" => "read",
        "Bash" | "BashOutput" | "KillShell" => "bash",
        "TodoWrite" | "TodoRead" => "todo",
        "Write" | "Edit" | "MultiEdit" | "NotebookEdit" => "write",
        "Grep" | "Glob" | "LS" => "search",
        _ => "other",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Where each diagnostic is drawn: the run it belongs to, else its session, else the page.
struct Placement<'d> {
    /// (session, run position) → diagnostics, in output order.
    runs: BTreeMap<(usize, usize), Vec<&'d Diagnostic>>,
    sessions: BTreeMap<usize, Vec<&'d Diagnostic>>,
    page: Vec<&'d Diagnostic>,
}

fn place<'d>(doc: &InspectDocument, diagnostics: &'d [Diagnostic]) -> Placement<'d> {
    let mut sorted: Vec<&Diagnostic> = diagnostics.iter().collect();
    sorted.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()).then_with(|| a.fingerprint.cmp(&b.fingerprint)));
    // A session's own file first, then its subagent transcripts.
    let mut by_file: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in doc.sessions.iter().enumerate() {
        for l in &s.launches {
            if let Some(t) = &l.transcript {
                by_file.entry(t.file.as_str()).or_insert(i);
            }
        }
    }
    for (i, s) in doc.sessions.iter().enumerate() {
        by_file.insert(s.file.as_str(), i);
    }
    let mut placement = Placement { runs: BTreeMap::new(), sessions: BTreeMap::new(), page: Vec::new() };
    for d in sorted {
        let Some(&si) = by_file.get(&*d.file) else {
            placement.page.push(d);
            continue;
        };
        let s = &doc.sessions[si];
        let run = if *d.file == *s.file {
            match d.run {
                Some(index) => s.runs.iter().position(|r| r.index == index),
                None => s.runs.iter().rposition(|r| r.line <= d.line),
            }
        } else {
            None
        };
        match run {
            Some(ri) => placement.runs.entry((si, ri)).or_default().push(d),
            None => placement.sessions.entry(si).or_default().push(d),
        }
    }
    placement
}

/// Numbers the clickable things of the page and collects their detail panels.
#[derive(Default)]
struct Details {
    next: usize,
    templates: String,
}

impl Details {
    /// A new id (`f3`, `a12`, `u1`, `c1`) whose detail panel `body` will show.
    fn add(&mut self, prefix: char, body: &str) -> Result<String, fmt::Error> {
        self.next += 1;
        let id = format!("{prefix}{}", self.next);
        writeln!(self.templates, "<template id=\"d-{id}\">{body}</template>")?;
        Ok(id)
    }
}

fn write_page(h: &mut String, doc: &InspectDocument, diagnostics: &[Diagnostic]) -> fmt::Result {
    let placement = place(doc, diagnostics);
    let mut details = Details::default();
    let runs: usize = doc.sessions.iter().map(|s| s.runs.len()).sum();
    let agents: usize = doc.sessions.iter().map(|s| s.launches.len()).sum();
    let count = |sev: Severity| diagnostics.iter().filter(|d| d.severity == sev).count();

    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str("<meta name=\"generator\" content=\"orchlint\">\n");
    let title = match doc.sessions.as_slice() {
        [one] => format!("orchlint timeline — {}", one.session.as_deref().unwrap_or(&one.file)),
        _ => "orchlint timeline".to_string(),
    };
    writeln!(h, "<title>{}</title>", Esc(&title))?;
    writeln!(h, "<style>{CSS}</style>\n</head>\n<body>")?;
    writeln!(h, "<header class=\"page\"><h1>orchlint <span>timeline</span></h1>")?;
    writeln!(
        h,
        "<p class=\"totals\" data-sessions=\"{}\" data-runs=\"{runs}\" data-agents=\"{agents}\" data-errors=\"{}\" \
         data-warnings=\"{}\" data-notes=\"{}\">{} · {} · {} · {} · {} · {}</p>",
        doc.sessions.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Note),
        plural(doc.sessions.len(), "session", "sessions"),
        plural(runs, "workflow run", "workflow runs"),
        plural(agents, "agent launched", "agents launched"),
        severity_count(count(Severity::Error), Severity::Error),
        severity_count(count(Severity::Warning), Severity::Warning),
        severity_count(count(Severity::Note), Severity::Note),
    )?;
    writeln!(
        h,
        "<p class=\"hint\">Time runs left to right in the order of the transcript's lines, not the clock. \
         Click a marker, an agent or a user message for its details; hover an agent to see its launch message.</p>"
    )?;
    h.push_str("</header>\n");
    h.push_str(LEGEND);
    h.push('\n');

    let mut without_run = Vec::new();
    for (si, s) in doc.sessions.iter().enumerate() {
        if s.runs.is_empty() {
            without_run.push(si);
            continue;
        }
        write_session(h, &mut details, &placement, si, s)?;
    }
    if !without_run.is_empty() {
        writeln!(
            h,
            "<section class=\"norun\"><h2>Sessions without a workflow run <span class=\"dim\">({})</span></h2><ul>",
            without_run.len()
        )?;
        for si in without_run {
            let s = &doc.sessions[si];
            writeln!(
                h,
                "<li class=\"session-norun\" data-session=\"{}\"><code>{}</code> <span class=\"dim\">{} · {} · Claude Code {} · {}</span></li>",
                Esc(s.session.as_deref().unwrap_or("")),
                Esc(s.session.as_deref().unwrap_or("(no session id)")),
                Esc(&s.file),
                format_word(s.format),
                Esc(s.claude_code.as_deref().unwrap_or("unknown")),
                plural(s.launches.len(), "launch", "launches"),
            )?;
            if let Some(list) = placement.sessions.get(&si) {
                write_finding_table(h, &mut details, list, "other-findings")?;
            }
        }
        h.push_str("</ul></section>\n");
    }
    if !placement.page.is_empty() {
        writeln!(
            h,
            "<section class=\"other\"><h2>Findings outside any session <span class=\"dim\">({})</span></h2>",
            placement.page.len()
        )?;
        write_finding_table(h, &mut details, &placement.page, "other-findings")?;
        h.push_str("</section>\n");
    }
    if doc.sessions.is_empty() && diagnostics.is_empty() {
        h.push_str("<p class=\"empty\">No transcripts.</p>\n");
    }
    h.push_str(
        "<aside id=\"panel\" hidden aria-live=\"polite\"><button id=\"panel-close\" type=\"button\" \
         aria-label=\"close\">×</button><div id=\"panel-body\"></div></aside>\n",
    );
    h.push_str(&details.templates);
    writeln!(h, "<script>{JS}</script>\n</body>\n</html>")
}

fn severity_count(n: usize, sev: Severity) -> String {
    let word = match (sev, n == 1) {
        (Severity::Error, true) => "error",
        (Severity::Error, false) => "errors",
        (Severity::Warning, true) => "warning",
        (Severity::Warning, false) => "warnings",
        (Severity::Note, true) => "note",
        (Severity::Note, false) => "notes",
    };
    format!("<span class=\"count sev-{}{}\">{n} {word}</span>", sev.as_str(), if n == 0 { " zero" } else { "" })
}

fn format_word(f: Format) -> &'static str {
    match f {
        Format::Session => "session file",
        Format::StreamJson => "stream-json",
    }
}

fn write_session(
    h: &mut String,
    details: &mut Details,
    placement: &Placement,
    si: usize,
    s: &SessionView,
) -> fmt::Result {
    writeln!(
        h,
        "<section class=\"session\" id=\"s{}\" data-session=\"{}\">",
        si + 1,
        Esc(s.session.as_deref().unwrap_or(""))
    )?;
    writeln!(
        h,
        "<header class=\"session-head\"><h2>session <code>{}</code></h2><dl class=\"meta\">\
         <div><dt>file</dt><dd><code>{}</code></dd></div>\
         <div><dt>format</dt><dd>{}</dd></div>\
         <div><dt>Claude Code</dt><dd>{}</dd></div>\
         <div><dt>agents</dt><dd>{}</dd></div>\
         <div><dt>runs</dt><dd>{}</dd></div></dl></header>",
        Esc(s.session.as_deref().unwrap_or("(no session id)")),
        Esc(&s.file),
        format_word(s.format),
        Esc(s.claude_code.as_deref().unwrap_or("unknown")),
        s.launches.len(),
        s.runs.len(),
    )?;
    let empty = Vec::new();
    for (ri, run) in s.runs.iter().enumerate() {
        let findings = placement.runs.get(&(si, ri)).unwrap_or(&empty);
        write_run(h, details, si, s, run, findings)?;
    }
    if let Some(list) = placement.sessions.get(&si) {
        writeln!(h, "<h3 class=\"other-title\">Other findings of this session</h3>")?;
        write_finding_table(h, details, list, "other-findings")?;
    }
    h.push_str("</section>\n");
    Ok(())
}

/// An agent's bar in its lane.
struct Bar<'a> {
    launch: &'a LaunchView,
    lane: usize,
    row: usize,
    x0: f64,
    x1: f64,
    open: bool,
    color: &'static str,
    group: String,
    id: String,
}

struct Lane<'a> {
    agent_type: &'a str,
    rows: usize,
    count: usize,
    y: f64,
    h: f64,
}

/// Where a finding marker's rule id goes.
#[derive(Clone, Copy)]
enum Label {
    None,
    Right,
    Left,
}

/// The horizontal scale of one run: line → x.
struct Axis {
    lo: u32,
    hi: u32,
    k: f64,
}

impl Axis {
    fn x(&self, line: u32) -> f64 {
        PAD_X + (f64::from(line.saturating_sub(self.lo)) + 0.5) * self.k
    }
    fn end(&self) -> f64 {
        PAD_X + f64::from(self.hi - self.lo + 1) * self.k
    }
    fn width(&self) -> f64 {
        self.end() + PAD_X
    }
}

fn nice_step(k: f64) -> u32 {
    let min_lines = 70.0 / k;
    [1u32, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000]
        .into_iter()
        .find(|&s| f64::from(s) >= min_lines)
        .unwrap_or(100000)
}

fn write_run(
    h: &mut String,
    details: &mut Details,
    si: usize,
    s: &SessionView,
    run: &RunView,
    findings: &[&Diagnostic],
) -> fmt::Result {
    let run_id = format!("s{}r{}", si + 1, run.index);
    // The launches of this run: those whose launch line is one of its steps.
    let launch_lines: BTreeSet<u32> =
        run.timeline.iter().filter(|st| matches!(st.what, StepKind::Launch { .. })).map(|st| st.line).collect();
    let launches: Vec<&LaunchView> = s.launches.iter().filter(|l| launch_lines.contains(&l.line)).collect();
    let tools: Vec<(u32, u32, &str, Option<&str>)> = run
        .timeline
        .iter()
        .filter_map(|st| match &st.what {
            StepKind::Tool { message, name, target } => Some((st.line, *message, name.as_str(), target.as_deref())),
            _ => None,
        })
        .collect();
    let commands: Vec<(u32, &str, &str)> = run
        .timeline
        .iter()
        .filter_map(|st| match &st.what {
            StepKind::Command { name, args } => Some((st.line, name.as_str(), args.as_str())),
            _ => None,
        })
        .collect();

    // The lines shown: from the run's start to its last event, finding or return.
    let lines: Vec<u32> = run
        .timeline
        .iter()
        .map(|st| st.line)
        .chain([run.line])
        .chain(launches.iter().filter_map(|l| l.returned_line))
        .chain(findings.iter().map(|d| d.line))
        .chain(run.user_messages.iter().map(|u| u.line))
        .filter(|&l| l > 0)
        .collect();
    let lo = lines.iter().copied().min().unwrap_or(1);
    let last = lines.iter().copied().max().unwrap_or(lo);
    let any_open = launches.iter().any(|l| l.returned_line.is_none());
    let span = last - lo + 1;
    // Room after the last line for open-ended bars and the last phase's name.
    let mut hi = last + if any_open { (span / 25).max(3) } else { 0 };
    let scale = |hi: u32| ((PLOT_W - 2.0 * PAD_X) / f64::from(hi - lo + 1)).max(MIN_LINE_W);
    if let Some(p) = run.phases.last().filter(|p| p.line >= lo && p.line <= last) {
        let text = format!("{} {}", p.phase, p.name.as_deref().unwrap_or(""));
        let wanted = (text.trim_end().chars().count() as f64 * CHAR_W + 12.0) / scale(hi);
        hi = hi.max(p.line + wanted.ceil() as u32);
    }
    let axis = Axis { lo, hi, k: scale(hi) };

    // Agent lanes, one per type, in order of first launch; bars packed in rows.
    let mut lanes: Vec<Lane> = Vec::new();
    let messages: BTreeSet<u32> = launches.iter().map(|l| l.message).collect();
    let color_of = |message: u32| GROUP_COLORS[messages.range(..message).count() % GROUP_COLORS.len()];
    let mut bars: Vec<Bar> = Vec::new();
    let mut row_ends: Vec<Vec<f64>> = Vec::new();
    let mut ordered = launches.clone();
    ordered.sort_by_key(|l| (l.line, l.message));
    for l in ordered {
        let lane = match lanes.iter().position(|ln| ln.agent_type == l.subagent_type) {
            Some(i) => i,
            None => {
                lanes.push(Lane { agent_type: &l.subagent_type, rows: 0, count: 0, y: 0.0, h: 0.0 });
                row_ends.push(Vec::new());
                lanes.len() - 1
            }
        };
        let x0 = axis.x(l.line.clamp(lo, hi)) - axis.k * 0.3;
        let (x1, open) = match l.returned_line {
            Some(r) => ((axis.x(r.clamp(lo, hi)) + axis.k * 0.3).max(x0 + 4.0), false),
            None => (axis.end(), true),
        };
        let ends = &mut row_ends[lane];
        let row = match ends.iter().position(|&e| e + 2.0 <= x0) {
            Some(r) => r,
            None => {
                ends.push(0.0);
                ends.len() - 1
            }
        };
        ends[row] = x1;
        lanes[lane].rows = lanes[lane].rows.max(row + 1);
        lanes[lane].count += 1;
        let id = details.add('a', &agent_detail(l, s))?;
        bars.push(Bar {
            launch: l,
            lane,
            row,
            x0,
            x1,
            open,
            color: color_of(l.message),
            group: format!("{run_id}m{}", l.message),
            id,
        });
    }

    // Findings: a marker at its line in the first row with room for it and
    // its rule id; the id is drawn only where it covers no other marker.
    struct Mark<'d> {
        d: &'d Diagnostic,
        x: f64,
        row: usize,
        label: Label,
        id: String,
    }
    let label_w = |d: &Diagnostic| d.rule.len() as f64 * CHAR_W;
    let mut marks: Vec<Mark> = Vec::new();
    let mut finding_rows: Vec<f64> = Vec::new();
    for d in findings {
        let x = axis.x(d.line.clamp(lo, hi));
        let reach = x + 10.0 + label_w(d);
        let row = match finding_rows.iter().position(|&e| e <= x - 8.0) {
            Some(r) => r,
            None if finding_rows.len() < MAX_FINDING_ROWS => {
                finding_rows.push(f64::MIN);
                finding_rows.len() - 1
            }
            None => (0..finding_rows.len()).min_by(|&a, &b| finding_rows[a].total_cmp(&finding_rows[b])).unwrap_or(0),
        };
        finding_rows[row] = finding_rows[row].max(reach);
        let id = details.add('f', &finding_detail(d))?;
        marks.push(Mark { d, x, row, label: Label::None, id });
    }
    let plot_end = axis.width();
    for i in 0..marks.len() {
        let (x, row, w) = (marks[i].x, marks[i].row, label_w(marks[i].d));
        let next = marks[i + 1..].iter().find(|m| m.row == row).map(|m| m.x - 8.0);
        let prev = marks[..i].iter().rev().find(|m| m.row == row).map(|m| match m.label {
            Label::Right => m.x + 10.0 + label_w(m.d),
            _ => m.x + 7.0,
        });
        marks[i].label = if x + 10.0 + w <= next.unwrap_or(plot_end - 2.0) {
            Label::Right
        } else if next.is_none() && x - 10.0 - w >= prev.unwrap_or(0.0) + 4.0 {
            Label::Left
        } else {
            Label::None
        };
    }

    // Phase bands and their labels (in rows, so narrow phases stay legible).
    struct Band<'r> {
        phase: u8,
        name: &'r str,
        line: u32,
        x0: f64,
        x1: f64,
        row: usize,
        text: String,
    }
    let mut bands: Vec<Band> = Vec::new();
    let mut label_rows: Vec<f64> = Vec::new();
    for (i, p) in run.phases.iter().enumerate() {
        let x0 = axis.x(p.line) - axis.k * 0.5;
        let x1 = run.phases.get(i + 1).map_or(axis.end(), |n| axis.x(n.line) - axis.k * 0.5);
        let name = p.name.as_deref().unwrap_or("");
        let full = if name.is_empty() { p.phase.to_string() } else { format!("{} {name}", p.phase) };
        let room = x1 - x0 - 8.0;
        let text = if full.chars().count() as f64 * CHAR_W <= room {
            full
        } else {
            let fit = (room / CHAR_W).floor() as usize;
            let short = shorten(&full, fit);
            if fit >= p.phase.to_string().len() + 4 {
                short
            } else {
                p.phase.to_string()
            }
        };
        let lx = x0 + 4.0;
        let lend = lx + text.chars().count() as f64 * CHAR_W + 6.0;
        let row = match label_rows.iter().position(|&e| e <= lx) {
            Some(r) => r,
            None => {
                label_rows.push(0.0);
                label_rows.len() - 1
            }
        };
        label_rows[row] = lend;
        bands.push(Band { phase: p.phase, name, line: p.line, x0, x1, row, text });
    }

    // Vertical layout.
    let head_h = label_rows.len().max(1) as f64 * PHASE_ROW_H + 6.0;
    let findings_y = head_h;
    let findings_h = finding_rows.len().max(1) as f64 * FINDING_ROW_H + 8.0;
    let user_y = findings_y + findings_h;
    let orch_y = user_y + MARK_LANE_H;
    let mut y = orch_y + MARK_LANE_H;
    for lane in &mut lanes {
        lane.y = y;
        lane.h = lane.rows as f64 * ROW_H + 2.0 * LANE_PAD - (ROW_H - BAR_H);
        y += lane.h;
    }
    let lanes_bottom = y;
    let height = lanes_bottom + AXIS_H;
    let width = axis.width();

    // Run header and counts.
    let errors = findings.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = findings.iter().filter(|d| d.severity == Severity::Warning).count();
    let notes = findings.iter().filter(|d| d.severity == Severity::Note).count();
    let phases_entered: BTreeSet<u8> = run.phases.iter().map(|p| p.phase).collect();
    writeln!(
        h,
        "<section class=\"run\" id=\"{run_id}\" data-run=\"{}\" data-bands=\"{}\" data-bars=\"{}\" data-ticks=\"{}\" \
         data-users=\"{}\" data-markers=\"{}\">",
        run.index,
        bands.len(),
        bars.len(),
        tools.len(),
        run.user_messages.len(),
        marks.len()
    )?;
    let command = commands.first().map(|c| c.1).unwrap_or("");
    let args = run.args.as_deref().unwrap_or("(arguments not recorded)");
    writeln!(
        h,
        "<header class=\"run-head\"><h3>run {} <span class=\"dim\">from line {}</span></h3>\
         <p class=\"command\" title=\"{}\"><code>{}</code> {}</p>",
        run.index,
        run.line,
        Esc(args),
        Esc(command),
        Esc(&shorten(args, 160)),
    )?;
    writeln!(
        h,
        "<p class=\"chips\"><span class=\"chip\">{} entered</span><span class=\"chip\">{} in {}</span>\
         <span class=\"chip\">{}</span><span class=\"chip\">{}</span>{}{}{}{}</p></header>",
        plural(phases_entered.len(), "phase", "phases"),
        plural(bars.len(), "agent", "agents"),
        plural(messages.len(), "launch message", "launch messages"),
        plural(tools.len(), "orchestrator tool call", "orchestrator tool calls"),
        plural(run.user_messages.len(), "user message", "user messages"),
        severity_count(errors, Severity::Error),
        severity_count(warnings, Severity::Warning),
        severity_count(notes, Severity::Note),
        if findings.is_empty() { "<span class=\"chip ok\">✓ no findings</span>" } else { "" },
    )?;

    // Lane names (they stay put while the plot scrolls).
    writeln!(h, "<div class=\"chart\">")?;
    writeln!(
        h,
        "<svg class=\"labels\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" aria-hidden=\"true\">",
        Px(LABEL_W),
        Px(height),
        Px(LABEL_W),
        Px(height)
    )?;
    let lx = LABEL_W - 12.0;
    writeln!(h, "<text class=\"lane-name axis-name\" x=\"{}\" y=\"{}\">phase</text>", Px(lx), Px(PHASE_ROW_H - 4.0))?;
    let mid = |y: f64, hgt: f64| y + hgt / 2.0 + 4.0;
    writeln!(
        h,
        "<text class=\"lane-name\" x=\"{}\" y=\"{}\">findings <tspan class=\"n\">{}</tspan></text>",
        Px(lx),
        Px(mid(findings_y, findings_h)),
        marks.len()
    )?;
    writeln!(
        h,
        "<text class=\"lane-name\" x=\"{}\" y=\"{}\">user <tspan class=\"n\">{}</tspan></text>",
        Px(lx),
        Px(mid(user_y, MARK_LANE_H)),
        run.user_messages.len()
    )?;
    writeln!(
        h,
        "<text class=\"lane-name\" x=\"{}\" y=\"{}\">orchestrator <tspan class=\"n\">{}</tspan></text>",
        Px(lx),
        Px(mid(orch_y, MARK_LANE_H)),
        tools.len()
    )?;
    for lane in &lanes {
        let (name, ns) = split_type(lane.agent_type);
        writeln!(
            h,
            "<text class=\"lane-name agent\" x=\"{}\" y=\"{}\"><tspan class=\"ns\">{}</tspan>{} <tspan class=\"n\">{}</tspan></text>",
            Px(lx),
            Px(mid(lane.y, lane.h)),
            Esc(ns),
            Esc(if name.is_empty() { "(no type)" } else { name }),
            lane.count
        )?;
    }
    writeln!(h, "<text class=\"lane-name axis-name\" x=\"{}\" y=\"{}\">line</text>", Px(lx), Px(lanes_bottom + 17.0))?;
    h.push_str("</svg>\n");

    // The plot.
    writeln!(h, "<div class=\"scroll\">")?;
    writeln!(
        h,
        "<svg class=\"plot\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"timeline of run {} of session {}\">",
        Px(width),
        Px(height),
        Px(width),
        Px(height),
        run.index,
        Esc(s.session.as_deref().unwrap_or(&s.file))
    )?;
    // Lane stripes.
    let stripe = |h: &mut String, y: f64, hgt: f64, class: &str| {
        writeln!(h, "<rect class=\"{class}\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\"/>", Px(y), Px(width), Px(hgt))
    };
    stripe(h, findings_y, findings_h, "stripe findings-lane")?;
    stripe(h, user_y, MARK_LANE_H, "stripe")?;
    stripe(h, orch_y, MARK_LANE_H, "stripe alt")?;
    for (i, lane) in lanes.iter().enumerate() {
        stripe(h, lane.y, lane.h, if i % 2 == 0 { "stripe" } else { "stripe alt" })?;
    }
    // Phase bands.
    for b in &bands {
        let color = PHASE_COLORS[usize::from(b.phase.saturating_sub(1)) % PHASE_COLORS.len()];
        writeln!(
            h,
            "<g class=\"band\" data-phase=\"{}\"><title>phase {}{}{} (line {} on)</title>\
             <rect class=\"band-body\" x=\"{}\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"{color}\"/>\
             <rect class=\"band-head\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{color}\"/>\
             <line class=\"band-edge\" x1=\"{}\" y1=\"0\" x2=\"{}\" y2=\"{}\" stroke=\"{color}\"/>\
             <text class=\"band-label\" x=\"{}\" y=\"{}\">{}</text></g>",
            b.phase,
            b.phase,
            if b.name.is_empty() { "" } else { ": " },
            Esc(b.name),
            b.line,
            Px(b.x0),
            Px((b.x1 - b.x0).max(1.0)),
            Px(lanes_bottom),
            Px(b.x0),
            Px(b.row as f64 * PHASE_ROW_H),
            Px((b.x1 - b.x0).max(1.0)),
            Px(PHASE_ROW_H),
            Px(b.x0),
            Px(b.x0),
            Px(lanes_bottom),
            Px(b.x0 + 4.0),
            Px(b.row as f64 * PHASE_ROW_H + PHASE_ROW_H - 5.0),
            Esc(&b.text)
        )?;
    }
    // Axis.
    let step = nice_step(axis.k);
    let first = lo.div_ceil(step).max(1) * step;
    writeln!(h, "<g class=\"axis\">")?;
    writeln!(h, "<line x1=\"0\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", Px(lanes_bottom), Px(width), Px(lanes_bottom))?;
    let mut t = first;
    while t <= hi {
        let x = axis.x(t);
        writeln!(
            h,
            "<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/><text x=\"{}\" y=\"{}\">{t}</text>",
            Px(x),
            Px(findings_y),
            Px(x),
            Px(lanes_bottom),
            Px(x),
            Px(lanes_bottom),
            Px(x),
            Px(lanes_bottom + 5.0),
            Px(x),
            Px(lanes_bottom + 17.0)
        )?;
        t += step;
    }
    h.push_str("</g>\n");
    // Guides of findings, behind everything drawn in the lanes.
    for m in &marks {
        writeln!(
            h,
            "<line class=\"guide sev-{}\" data-guide=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            m.d.severity.as_str(),
            m.id,
            Px(m.x),
            Px(findings_y + m.row as f64 * FINDING_ROW_H + 4.0 + FINDING_ROW_H / 2.0),
            Px(m.x),
            Px(lanes_bottom)
        )?;
    }
    // Launch groups: a bracket joining the bars of one launch message.
    let mut groups: BTreeMap<&str, Vec<&Bar>> = BTreeMap::new();
    for b in &bars {
        groups.entry(b.group.as_str()).or_default().push(b);
    }
    let bar_y = |b: &Bar| lanes[b.lane].y + LANE_PAD + b.row as f64 * ROW_H;
    let mut group_list: Vec<(&str, Vec<&Bar>)> = groups.into_iter().collect();
    group_list.sort_by_key(|(_, members)| members.first().map_or(0, |b| b.launch.message));
    for (group, members) in &group_list {
        if members.len() < 2 {
            continue;
        }
        let bx = members.iter().map(|b| b.x0).fold(f64::INFINITY, f64::min) - 5.0;
        let ys: Vec<f64> = members.iter().map(|b| bar_y(b) + BAR_H / 2.0).collect();
        let top = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let bottom = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut d = format!("M{} {}V{}", Px(bx), Px(top), Px(bottom));
        for (b, y) in members.iter().zip(&ys) {
            write!(d, "M{} {}H{}", Px(bx), Px(*y), Px(b.x0))?;
        }
        writeln!(
            h,
            "<path class=\"bracket\" data-group=\"{group}\" data-size=\"{}\" d=\"{d}\" stroke=\"{}\"><title>launch message #{}: {} agents launched together</title></path>",
            members.len(),
            members[0].color,
            members[0].launch.message,
            members.len()
        )?;
    }
    // Agent bars.
    for b in &bars {
        let l = b.launch;
        let y = bar_y(b);
        let (name, _) = split_type(&l.subagent_type);
        let title = format!(
            "{} — line {} → {}; launch message #{} (×{}){}{}",
            if name.is_empty() { "(no type)" } else { name },
            l.line,
            match l.returned_line {
                Some(r) => format!("line {r}"),
                None => status_word(l.status).to_string(),
            },
            l.message,
            l.launched_together,
            if l.background { ", background" } else { "" },
            l.description.as_deref().map(|d| format!("\n{}", shorten(d, 120))).unwrap_or_default()
        );
        writeln!(
            h,
            "<g class=\"bar {}{}\" data-kind=\"agent\" data-detail=\"{}\" data-group=\"{}\" data-type=\"{}\" data-line=\"{}\" data-status=\"{}\"><title>{}</title>",
            status_class(l.status),
            if b.open { " open" } else { "" },
            b.id,
            b.group,
            Esc(&l.subagent_type),
            l.line,
            status_class(l.status),
            Esc(&title)
        )?;
        let w = (b.x1 - b.x0).max(3.0);
        if b.open {
            writeln!(
                h,
                "<rect class=\"body\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{}\" stroke=\"{}\"/>\
                 <path class=\"arrow\" d=\"M{} {}l6 {}l-6 {}z\" fill=\"{}\"/>",
                Px(b.x0),
                Px(y),
                Px(w),
                Px(BAR_H),
                b.color,
                b.color,
                Px(b.x1),
                Px(y),
                Px(BAR_H / 2.0),
                Px(BAR_H / 2.0),
                b.color
            )?;
            let word = status_word(l.status);
            if w > word.len() as f64 * CHAR_W + 16.0 {
                writeln!(
                    h,
                    "<text class=\"open-label\" x=\"{}\" y=\"{}\" fill=\"{}\">{word}</text>",
                    Px(b.x0 + 6.0),
                    Px(y + BAR_H - 3.5),
                    b.color
                )?;
            }
        } else {
            writeln!(
                h,
                "<rect class=\"body\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{}\"/>",
                Px(b.x0),
                Px(y),
                Px(w),
                Px(BAR_H),
                b.color
            )?;
            if l.status == ReturnStatus::Error {
                writeln!(
                    h,
                    "<rect class=\"fail-cap\" x=\"{}\" y=\"{}\" width=\"6\" height=\"{}\" rx=\"2\"/><text class=\"fail-mark\" x=\"{}\" y=\"{}\">✕</text>",
                    Px(b.x0 + w - 6.0),
                    Px(y),
                    Px(BAR_H),
                    Px(b.x0 + w + 3.0),
                    Px(y + BAR_H - 3.0)
                )?;
            }
        }
        h.push_str("</g>\n");
    }
    // Orchestrator tool calls.
    for (line, message, name, target) in &tools {
        let x = axis.x(*line);
        writeln!(
            h,
            "<rect class=\"tick tool-{}\" data-kind=\"tool\" data-tool=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"14\" rx=\"1\"><title>line {line}: {}{} (message #{message})</title></rect>",
            tool_class(name),
            Esc(name),
            Px(x - 1.5),
            Px(orch_y + (MARK_LANE_H - 14.0) / 2.0),
            Px(3.0),
            Esc(name),
            Esc(&target.map(|t| format!(" {}", shorten(t, 100))).unwrap_or_default())
        )?;
    }
    // The command and the genuine user messages.
    let cy = user_y + MARK_LANE_H / 2.0;
    for (line, name, args) in &commands {
        let x = axis.x(*line);
        let id = details.add(
            'c',
            &format!(
                "<h4><span class=\"tag cmd\">command</span> line {line}</h4><pre class=\"text\">{} {}</pre>",
                Esc(name),
                Esc(run.args.as_deref().unwrap_or(args))
            ),
        )?;
        writeln!(
            h,
            "<path class=\"command-mark\" data-kind=\"command\" data-detail=\"{id}\" d=\"M{} {}l10 6l-10 6z\"><title>line {line}: {} {}</title></path>",
            Px(x - 4.0),
            Px(cy - 6.0),
            Esc(name),
            Esc(&shorten(args, 100))
        )?;
    }
    for u in &run.user_messages {
        let x = axis.x(u.line);
        let id = details.add(
            'u',
            &format!(
                "<h4><span class=\"tag user\">user message</span> line {}{}</h4><pre class=\"text\">{}</pre>",
                u.line,
                u.phase.map(|p| format!(" · phase {p}")).unwrap_or_default(),
                Esc(&u.text)
            ),
        )?;
        writeln!(
            h,
            "<g class=\"user-mark\" data-kind=\"user\" data-detail=\"{id}\" data-line=\"{}\"><title>line {}: {}</title>\
             <path d=\"M{} {}h14a3 3 0 0 1 3 3v7a3 3 0 0 1 -3 3h-8l-4 4v-4h-2a3 3 0 0 1 -3 -3v-7a3 3 0 0 1 3 -3z\"/></g>",
            u.line,
            u.line,
            Esc(&shorten(&u.text, 300)),
            Px(x - 7.0),
            Px(cy - 9.0)
        )?;
    }
    // Findings.
    for m in &marks {
        let y = findings_y + 4.0 + m.row as f64 * FINDING_ROW_H + FINDING_ROW_H / 2.0;
        let sev = m.d.severity.as_str();
        writeln!(
            h,
            "<g class=\"finding sev-{sev}\" data-kind=\"finding\" data-detail=\"{}\" data-rule=\"{}\" data-severity=\"{sev}\" data-line=\"{}\">\
             <title>line {}: {}[{}] {}</title><path class=\"diamond\" d=\"M{} {}l6 6l-6 6l-6 -6z\"/>{}</g>",
            m.id,
            m.d.rule,
            m.d.line,
            m.d.line,
            sev,
            m.d.rule,
            Esc(&m.d.message),
            Px(m.x),
            Px(y - 6.0),
            match m.label {
                Label::Right => format!("<text x=\"{}\" y=\"{}\">{}</text>", Px(m.x + 9.0), Px(y + 4.0), m.d.rule),
                Label::Left => format!(
                    "<text class=\"left\" x=\"{}\" y=\"{}\">{}</text>",
                    Px(m.x - 9.0),
                    Px(y + 4.0),
                    m.d.rule
                ),
                Label::None => String::new(),
            }
        )?;
    }
    h.push_str("</svg>\n</div>\n</div>\n");
    if !marks.is_empty() {
        h.push_str("<table class=\"findings\"><thead><tr><th>severity</th><th>line</th><th>phase</th><th>rule</th><th>message</th></tr></thead><tbody>\n");
        for m in &marks {
            finding_row(h, m.d, &m.id)?;
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
    Ok(())
}

fn finding_row(h: &mut String, d: &Diagnostic, id: &str) -> fmt::Result {
    writeln!(
        h,
        "<tr class=\"finding-row\" data-detail=\"{id}\" data-rule=\"{}\" data-severity=\"{}\"><td><span class=\"sev sev-{}\">{}</span></td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
        d.rule,
        d.severity.as_str(),
        d.severity.as_str(),
        d.severity.as_str(),
        d.line,
        d.phase.map(|p| p.to_string()).unwrap_or_else(|| "–".into()),
        d.rule,
        Esc(&d.message)
    )
}

/// Findings drawn as a table only (outside any run's timeline).
fn write_finding_table(h: &mut String, details: &mut Details, list: &[&Diagnostic], class: &str) -> fmt::Result {
    writeln!(
        h,
        "<table class=\"findings {class}\"><thead><tr><th>severity</th><th>line</th><th>phase</th><th>rule</th><th>message</th></tr></thead><tbody>"
    )?;
    for d in list {
        let id = details.add('f', &finding_detail(d))?;
        finding_row(h, d, &id)?;
    }
    h.push_str("</tbody></table>\n");
    Ok(())
}

/// The excerpt with the culprit marked; the range is trusted only on character boundaries.
fn excerpt_html(ex: &Excerpt) -> String {
    let text = ex.text.as_str();
    let mut start = ex.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = ex.end.clamp(start, text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{}<mark>{}</mark>{}", Esc(&text[..start]), Esc(&text[start..end]), Esc(&text[end..]))
}

fn finding_detail(d: &Diagnostic) -> String {
    let sev = d.severity.as_str();
    let mut s = format!(
        "<h4><span class=\"sev sev-{sev}\">{sev}</span> <code class=\"rule\">{}</code></h4><p class=\"message\">{}</p><dl class=\"facts\">",
        d.rule,
        Esc(&d.message)
    );
    let mut fact = |k: &str, v: String| {
        s.push_str(&format!("<div><dt>{k}</dt><dd>{v}</dd></div>"));
    };
    fact("phase", d.phase.map(|p| p.to_string()).unwrap_or_else(|| "outside any phase".into()));
    fact("where", format!("<code class=\"where\">{}:{}:{}</code>", Esc(&d.file), d.line, d.column));
    if let Some(session) = &d.session {
        fact("session", format!("<code>{}</code>", Esc(session)));
    }
    if let Some(run) = d.run {
        fact("run", run.to_string());
    }
    if let Some(subject) = &d.subject {
        fact("subject", format!("<code>{}</code>", Esc(subject)));
    }
    if !d.fingerprint.is_empty() {
        fact("fingerprint", format!("<code>{}</code>", Esc(&d.fingerprint)));
    }
    s.push_str("</dl>");
    if let Some(help) = &d.help {
        s.push_str(&format!("<p class=\"help\"><b>help</b> {}</p>", Esc(help)));
    }
    match &d.excerpt {
        Some(ex) => s.push_str(&format!(
            "<pre class=\"excerpt\"><span class=\"ln\">{} │ </span>{}</pre>",
            d.line,
            excerpt_html(ex)
        )),
        None => s.push_str("<p class=\"dim\">(the source line is not available)</p>"),
    }
    s
}

fn agent_detail(l: &LaunchView, s: &SessionView) -> String {
    let (name, ns) = split_type(&l.subagent_type);
    let mut out = format!(
        "<h4><span class=\"tag agent\">agent</span> <code>{}{}</code> <span class=\"status st-{}\">{}</span></h4>",
        Esc(ns),
        Esc(if name.is_empty() { "(no type)" } else { name }),
        status_class(l.status),
        status_word(l.status)
    );
    if let Some(d) = &l.description {
        out.push_str(&format!("<p class=\"message\">{}</p>", Esc(d)));
    }
    out.push_str("<dl class=\"facts\">");
    let mut fact = |k: &str, v: String| out.push_str(&format!("<div><dt>{k}</dt><dd>{v}</dd></div>"));
    fact("launched", format!("line {}{}", l.line, l.phase.map(|p| format!(", phase {p}")).unwrap_or_default()));
    fact(
        "returned",
        match l.returned_line {
            Some(r) if l.status == ReturnStatus::Completed => format!("line {r}"),
            Some(r) => format!("line {r} ({})", status_word(l.status)),
            None => status_word(l.status).to_string(),
        },
    );
    fact("launch message", format!("#{} with {}", l.message, plural(l.launched_together, "agent", "agents")));
    fact("mode", if l.background { "background".into() } else { "foreground".into() });
    fact("tool_use_id", format!("<code>{}</code>", Esc(&l.tool_use_id)));
    if let Some(id) = &l.agent_id {
        fact("agent id", format!("<code>{}</code>", Esc(id)));
    }
    match &l.transcript {
        Some(t) => {
            let place =
                if t.inline { format!("inline in {}", Esc(&s.file)) } else { format!("<code>{}</code>", Esc(&t.file)) };
            fact("transcript", format!("{place}, {}", plural(t.entries as usize, "entry", "entries")));
            if !t.tools.is_empty() {
                fact("its tools", Esc(&t.tools.join(", ")).to_string());
            }
        }
        None => fact("transcript", "not found".into()),
    }
    out.push_str("</dl>");
    out
}

const LEGEND: &str = r##"<section class="legend" aria-label="legend">
<span class="item"><svg width="30" height="14"><rect x="0" y="0" width="30" height="14" fill="#6366f1" opacity=".25"/><line x1="0.5" y1="0" x2="0.5" y2="14" stroke="#6366f1"/></svg>phase, from its start to the next</span>
<span class="item"><svg width="40" height="22"><path d="M3 4V18M3 4H10M3 18H14" stroke="#4f46e5" fill="none" stroke-width="1.5"/><rect x="10" y="0" width="28" height="8" rx="2" fill="#4f46e5"/><rect x="14" y="14" width="22" height="8" rx="2" fill="#4f46e5"/></svg>agents of one launch message: one colour, one bracket; bar from launch to return</span>
<span class="item"><svg width="40" height="14"><rect x="1" y="1" width="30" height="12" rx="2" fill="#0891b2" fill-opacity=".15" stroke="#0891b2" stroke-dasharray="4 3"/><path d="M31 1l6 6l-6 6z" fill="#0891b2"/></svg>never returned / no result</span>
<span class="item"><svg width="40" height="14"><rect x="1" y="1" width="30" height="12" rx="2" fill="#059669"/><rect x="25" y="1" width="6" height="12" rx="2" fill="#dc2626"/></svg>returned an error</span>
<span class="item"><svg width="60" height="14"><rect class="tick tool-read" x="2" y="0" width="3" height="14"/><rect class="tick tool-bash" x="12" y="0" width="3" height="14"/><rect class="tick tool-todo" x="22" y="0" width="3" height="14"/><rect class="tick tool-write" x="32" y="0" width="3" height="14"/><rect class="tick tool-search" x="42" y="0" width="3" height="14"/><rect class="tick tool-other" x="52" y="0" width="3" height="14"/></svg>orchestrator tools: Read, Bash, TodoWrite, Write/Edit, Grep/Glob, other</span>
<span class="item"><svg width="40" height="20"><path class="command-mark" d="M2 4l10 6l-10 6z"/><g class="user-mark"><path d="M20 1h14a3 3 0 0 1 3 3v7a3 3 0 0 1 -3 3h-8l-4 4v-4h-2a3 3 0 0 1 -3 -3v-7a3 3 0 0 1 3 -3z"/></g></svg>command, genuine user message</span>
<span class="item"><svg width="54" height="14"><path class="diamond sev-error" d="M7 1l6 6l-6 6l-6 -6z"/><path class="diamond sev-warning" d="M27 1l6 6l-6 6l-6 -6z"/><path class="diamond sev-note" d="M47 1l6 6l-6 6l-6 -6z"/></svg>finding: error, warning, note</span>
</section>"##;

const CSS: &str = r##"
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--error:#dc2626;--warning:#d97706;--note:#2563eb;
--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
*{box-sizing:border-box}
body{margin:0;padding:20px 24px 60px;background:var(--bg);color:var(--ink);
font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif}
code,pre{font-family:var(--mono);font-size:12px}
h1{font-size:20px;margin:0 0 2px;letter-spacing:-.01em}h1 span{color:var(--muted);font-weight:500}
h2{font-size:15px;margin:0}h3{font-size:14px;margin:0}h4{margin:0 0 6px;font-size:14px}
.dim{color:var(--muted);font-weight:400}
header.page{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 18px;margin-bottom:8px}
.totals{margin:0;color:#334155}.hint{margin:0;color:var(--muted);flex-basis:100%}
.count{font-weight:600}.count.zero{color:var(--muted);font-weight:400}
.count.sev-error:not(.zero){color:var(--error)}.count.sev-warning:not(.zero){color:var(--warning)}.count.sev-note:not(.zero){color:var(--note)}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;background:var(--card);border:1px solid var(--line);
border-radius:8px;padding:8px 12px;margin-bottom:14px;color:#334155;font-size:12px}
.legend .item{display:inline-flex;align-items:center;gap:6px}.legend svg{overflow:visible}
.session{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px 14px;margin-bottom:16px;
box-shadow:0 1px 2px rgba(15,23,42,.04)}
.session-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 16px;padding-bottom:8px;border-bottom:1px solid var(--line)}
.meta{display:flex;flex-wrap:wrap;gap:2px 16px;margin:0}.meta div{display:flex;gap:5px}.meta dt{color:var(--muted)}.meta dd{margin:0}
.run{margin-top:10px}
.run-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:2px 14px;margin-bottom:6px}
.command{margin:0;max-width:70ch;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:#334155}
.chips{margin:0;display:flex;flex-wrap:wrap;gap:4px 6px;flex-basis:100%}
.chip,.chips .count{background:#f1f5f9;border-radius:10px;padding:1px 8px;font-size:12px}
.chip.ok{background:#dcfce7;color:#166534;font-weight:600}
.chart{display:flex;align-items:flex-start;border:1px solid var(--line);border-radius:6px;overflow:hidden;background:#fff}
.labels{flex:none;background:#fff;border-right:1px solid var(--line)}
.scroll{overflow-x:auto;flex:1 1 auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;font-size:11px}
.lane-name{text-anchor:end;fill:#334155;font-weight:600}.lane-name .ns{fill:#94a3b8;font-weight:400}
.lane-name .n{fill:#94a3b8;font-weight:400}.axis-name{fill:var(--muted);font-weight:400}
.stripe{fill:#fff}.stripe.alt{fill:#f8fafc}.stripe.findings-lane{fill:#fffbfb}
.band-body{opacity:.07}.band-head{opacity:.22}.band-edge{stroke-opacity:.55;stroke-width:1}
.band-label{fill:#1e293b;font-weight:600}
.axis line{stroke:#cbd5e1}.axis line.grid{stroke:#e2e8f0;stroke-dasharray:2 4}.axis text{fill:var(--muted);text-anchor:middle;font-size:10px}
.guide{stroke-width:1;stroke-dasharray:3 3;opacity:.55}
.guide.selected{opacity:1;stroke-width:2;stroke-dasharray:none}.guide.sev-error{stroke:var(--error)}.guide.sev-warning{stroke:var(--warning)}.guide.sev-note{stroke:var(--note)}
.bracket{fill:none;stroke-width:1.5;opacity:.85}
.bar{cursor:pointer}.bar .body{opacity:.88}.bar:hover .body,.bar.hl .body{opacity:1}
.bar.open .body{fill-opacity:.14;stroke-dasharray:4 3;stroke-width:1.2}.bar.open .arrow{opacity:.9}
.open-label{font-size:10px;font-weight:600}
.fail-cap{fill:var(--error)}.fail-mark{fill:var(--error);font-size:11px;font-weight:700}
.plot.grouping .bar:not(.hl){opacity:.3}.plot.grouping .bracket:not(.hl){opacity:.15}
.bar.hl .body{stroke:#0f172a;stroke-width:1.2}
.tick.tool-read{fill:#2563eb}.tick.tool-bash{fill:#0f172a}.tick.tool-todo{fill:#16a34a}.tick.tool-write{fill:#dc2626}
.tick.tool-search{fill:#ea580c}.tick.tool-other{fill:#94a3b8}
.command-mark{fill:#334155;cursor:pointer}
.user-mark path{fill:#7c3aed;stroke:#fff;stroke-width:1}.user-mark{cursor:pointer}
.diamond{stroke:#fff;stroke-width:1.2}
.sev-error .diamond,.diamond.sev-error{fill:var(--error)}.sev-warning .diamond,.diamond.sev-warning{fill:#f59e0b}
.sev-note .diamond,.diamond.sev-note{fill:var(--note)}
.finding{cursor:pointer}.finding text{font-weight:600}.finding text.left{text-anchor:end}
.finding.sev-error text{fill:#b91c1c}.finding.sev-warning text{fill:#b45309}.finding.sev-note text{fill:#1d4ed8}
.finding:hover .diamond,.selected .diamond{stroke:#0f172a;stroke-width:2}
.bar.selected .body{stroke:#0f172a;stroke-width:2;opacity:1}.user-mark.selected path,.command-mark.selected{stroke:#0f172a;stroke-width:2}
[data-detail]:focus{outline:none}[data-detail]:focus-visible .diamond,[data-detail]:focus-visible .body{stroke:#0f172a;stroke-width:2}
table.findings{border-collapse:collapse;margin-top:8px;width:100%;font-size:12px}
table.findings th{text-align:left;color:var(--muted);font-weight:500;border-bottom:1px solid var(--line);padding:3px 8px}
table.findings td{border-bottom:1px solid #f1f5f9;padding:3px 8px;vertical-align:top}
table.findings td.num{text-align:right;font-variant-numeric:tabular-nums;width:4em}
.finding-row{cursor:pointer}.finding-row:hover,.finding-row.selected{background:#f1f5f9}
.sev{display:inline-block;border-radius:4px;padding:0 6px;font-size:11px;font-weight:700;color:#fff;text-transform:uppercase;letter-spacing:.03em}
.sev.sev-error{background:var(--error)}.sev.sev-warning{background:#f59e0b}.sev.sev-note{background:var(--note)}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:11px;font-weight:700;color:#fff;background:#475569}
.tag.user{background:#7c3aed}.tag.agent{background:#4f46e5}
.status{font-size:12px;font-weight:600;color:#059669}.status.st-error,.status.st-outstanding,.status.st-missing{color:var(--error)}
.norun,.other{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;margin-bottom:16px}
.norun ul{margin:8px 0 0;padding-left:18px}.other-title{margin-top:12px}
#panel{position:fixed;left:24px;right:24px;bottom:16px;max-height:46vh;overflow:auto;background:#fff;border:1px solid #cbd5e1;
border-radius:10px;box-shadow:0 10px 30px rgba(15,23,42,.18);padding:14px 44px 14px 18px;z-index:10}
#panel[hidden]{display:none}
#panel-close{position:absolute;top:8px;right:10px;border:0;background:#f1f5f9;border-radius:6px;width:26px;height:26px;
font-size:16px;line-height:1;cursor:pointer;color:#334155}
#panel .message{margin:0 0 8px;font-size:14px}
.facts{display:flex;flex-wrap:wrap;gap:2px 22px;margin:0 0 8px}.facts div{display:flex;gap:6px;min-width:0}
.facts dt{color:var(--muted)}.facts dd{margin:0;overflow-wrap:anywhere}
.help{margin:0 0 8px;background:#f8fafc;border-left:3px solid #94a3b8;padding:6px 10px}
pre.excerpt,pre.text{margin:0;background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;white-space:pre-wrap;
overflow-wrap:anywhere}
pre.text{background:#f8fafc;color:var(--ink);border:1px solid var(--line);font:inherit;font-size:13px}
pre.excerpt .ln{color:#64748b}pre.excerpt mark{background:#fde047;color:#0f172a;border-radius:2px;padding:0 1px;
box-shadow:0 2px 0 #dc2626}
"##;

const JS: &str = r##"
(function () {
  "use strict";
  var panel = document.getElementById("panel");
  var body = document.getElementById("panel-body");
  function each(selector, f) { Array.prototype.forEach.call(document.querySelectorAll(selector), f); }
  function close() {
    panel.hidden = true;
    panel.removeAttribute("data-open");
    each(".selected", function (el) { el.classList.remove("selected"); });
  }
  function open(id) {
    var t = document.getElementById("d-" + id);
    if (!t) { return false; }
    body.textContent = "";
    body.appendChild(t.content.cloneNode(true));
    panel.hidden = false;
    panel.setAttribute("data-open", id);
    each(".selected", function (el) { el.classList.remove("selected"); });
    each('[data-detail="' + id + '"], [data-guide="' + id + '"]', function (el) { el.classList.add("selected"); });
    return true;
  }
  var wired = 0;
  each("[data-detail]", function (el) {
    var id = el.getAttribute("data-detail");
    el.setAttribute("tabindex", "0");
    el.setAttribute("role", "button");
    el.addEventListener("click", function (e) {
      e.stopPropagation();
      open(id);
      try { history.replaceState(null, "", "#" + id); } catch (err) { /* file: URLs may refuse */ }
    });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(id); }
    });
    el.setAttribute("data-wired", "click");
    wired += 1;
  });
  each("[data-group]", function (el) {
    var group = el.getAttribute("data-group");
    var plot = el.closest("svg");
    el.addEventListener("mouseenter", function () {
      plot.classList.add("grouping");
      each('[data-group="' + group + '"]', function (b) { b.classList.add("hl"); });
    });
    el.addEventListener("mouseleave", function () {
      plot.classList.remove("grouping");
      each('[data-group="' + group + '"]', function (b) { b.classList.remove("hl"); });
    });
  });
  document.getElementById("panel-close").addEventListener("click", close);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { close(); } });
  function fromHash() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id) { open(id); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.documentElement.setAttribute("data-ready", String(wired));
})();
"##;
