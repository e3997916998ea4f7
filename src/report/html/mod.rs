//! `check --format html`, `orchlint report` and `merge --format html`: one
//! self-contained HTML page with a timeline of every workflow run — phases,
//! agents, orchestrator tool calls, genuine user messages and diagnostics —
//! along the order of the JSONL lines, not the clock: transcripts are judged
//! by order.
//!
//! The timeline is drawn as inline SVG from the `inspect` document: this
//! file writes the page, its sessions and runs; `layout.rs` places what a
//! run's chart shows, `svg.rs` draws it, `details.rs` writes the panels a
//! click opens. The page's small inline script (`assets/timeline.js`) only
//! opens the detail panel of what is clicked and highlights the agents of
//! one launch message. Nothing is fetched. The same input gives the same
//! bytes: positions come from line numbers, ids from counters.

mod details;
mod layout;
mod svg;
mod tool_classes;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Display, Write as _};
use std::io::{self, Write};

use super::inspect::{InspectDocument, ItemKind, LaunchView, RunView, SessionView};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Format, ReturnStatus};
use crate::words::{plural, shorten};
use details::Details;
use tool_classes::TOOL_CLASSES;

/// The page's style sheet.
const CSS: &str = include_str!("assets/timeline.css");
/// The page's script: detail panels and launch-group highlighting.
const JS: &str = include_str!("assets/timeline.js");

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

/// The name of an agent type without its namespace, and the namespace.
fn split_type(raw: &str) -> (&str, &str) {
    match raw.rsplit_once(':') {
        Some((ns, name)) => (name, &raw[..ns.len() + 1]),
        None => (raw, ""),
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
        plural(doc.sessions.len(), "session"),
        plural(runs, "workflow run"),
        crate::words::plural_phrase(agents, "agent launched", "agents launched"),
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
    write_legend(h)?;

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
                plural(s.launches.len(), "launch"),
            )?;
            if let Some(list) = placement.sessions.get(&si) {
                write_finding_table(h, &mut details, list, "other-findings", Some(&s.file))?;
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
        write_finding_table(h, &mut details, &placement.page, "other-findings", None)?;
        h.push_str("</section>\n");
    }
    if doc.sessions.is_empty() && diagnostics.is_empty() {
        h.push_str("<p class=\"empty\">No transcripts.</p>\n");
    }
    h.push_str(
        "<aside id=\"panel\" hidden aria-live=\"polite\"><button id=\"panel-close\" type=\"button\" \
         aria-label=\"close\">×</button><div id=\"panel-body\"></div></aside>\n",
    );
    h.push_str(details.templates());
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
        write_finding_table(h, details, list, "other-findings", Some(&s.file))?;
    }
    h.push_str("</section>\n");
    Ok(())
}

/// One run: its header with counts, its chart and the table of its findings.
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
        run.timeline.iter().filter(|st| matches!(st.what, ItemKind::Launch { .. })).map(|st| st.line).collect();
    let launches: Vec<&LaunchView> = s.launches.iter().filter(|l| launch_lines.contains(&l.line)).collect();
    let tools: Vec<svg::ToolCall> = run
        .timeline
        .iter()
        .filter_map(|st| match &st.what {
            ItemKind::Tool { message, name, target } => {
                Some(svg::ToolCall { line: st.line, message: *message, name, target: target.as_deref() })
            }
            _ => None,
        })
        .collect();
    let commands: Vec<svg::CommandCall> = run
        .timeline
        .iter()
        .filter_map(|st| match &st.what {
            ItemKind::Command { name, args } => Some(svg::CommandCall { line: st.line, name, args }),
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
        .collect();
    let marked: Vec<layout::Finding> =
        findings.iter().map(|d| layout::Finding { line: d.line, rule: d.rule }).collect();
    let plan = layout::run(&lines, &launches, &run.phases, &marked);
    let bar_ids = plan
        .bars
        .iter()
        .map(|b| details.add('a', &details::agent_detail(b.launch, s)))
        .collect::<Result<Vec<_>, _>>()?;
    let mark_ids = plan
        .marks
        .iter()
        .map(|m| details.add('f', &details::finding_detail(findings[m.finding])))
        .collect::<Result<Vec<_>, _>>()?;

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
        plan.bands.len(),
        plan.bars.len(),
        tools.len(),
        run.user_messages.len(),
        plan.marks.len()
    )?;
    let command = commands.first().map(|c| c.name).unwrap_or("");
    let args = run.args.as_deref().unwrap_or("(arguments not recorded)");
    writeln!(
        h,
        "<header class=\"run-head\"><h3>run {} <span class=\"dim\">from line {}</span></h3>\
         <p class=\"command\" title=\"{}\"><code>{}</code> {}</p>",
        run.index,
        run.line,
        Esc(args),
        Esc(command),
        Esc(&shorten(args, 159)),
    )?;
    writeln!(
        h,
        "<p class=\"chips\"><span class=\"chip\">{} entered</span><span class=\"chip\">{} in {}</span>\
         <span class=\"chip\">{}</span><span class=\"chip\">{}</span>{}{}{}{}</p></header>",
        plural(phases_entered.len(), "phase"),
        plural(plan.bars.len(), "agent"),
        plural(plan.messages, "launch message"),
        plural(tools.len(), "orchestrator tool call"),
        plural(run.user_messages.len(), "user message"),
        severity_count(errors, Severity::Error),
        severity_count(warnings, Severity::Warning),
        severity_count(notes, Severity::Note),
        if findings.is_empty() { "<span class=\"chip ok\">✓ no findings</span>" } else { "" },
    )?;

    let chart = svg::Chart {
        run_id: &run_id,
        session: s.session.as_deref().unwrap_or(&s.file),
        run,
        plan: &plan,
        findings,
        tools: &tools,
        commands: &commands,
        bar_ids: &bar_ids,
        mark_ids: &mark_ids,
    };
    svg::write_chart(h, details, &chart)?;
    if !plan.marks.is_empty() {
        h.push_str("<table class=\"findings\"><thead><tr><th>severity</th><th>line</th><th>phase</th><th>rule</th><th>message</th></tr></thead><tbody>\n");
        for (m, id) in plan.marks.iter().zip(&mark_ids) {
            finding_row(h, findings[m.finding], id, Some(&s.file))?;
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
    Ok(())
}

/// A finding's row; its line is named with its file's name where the file is
/// not `home` (a subagent transcript of the session, or no session at all).
fn finding_row(h: &mut String, d: &Diagnostic, id: &str, home: Option<&str>) -> fmt::Result {
    let line = if home == Some(&*d.file) {
        d.line.to_string()
    } else {
        let name =
            std::path::Path::new(&*d.file).file_name().map_or(d.file.to_string(), |n| n.to_string_lossy().into());
        format!("<span title=\"{}\">{}:{}</span>", Esc(&d.file), Esc(&name), d.line)
    };
    writeln!(
        h,
        "<tr class=\"finding-row\" data-detail=\"{id}\" data-rule=\"{}\" data-severity=\"{}\"><td><span class=\"sev sev-{}\">{}</span></td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td><code>{}</code></td><td>{}</td></tr>",
        d.rule,
        d.severity.as_str(),
        d.severity.as_str(),
        d.severity.as_str(),
        line,
        d.phase.map(|p| p.to_string()).unwrap_or_else(|| "–".into()),
        d.rule,
        Esc(&d.message)
    )
}

/// Findings drawn as a table only (outside any run's timeline).
fn write_finding_table(
    h: &mut String,
    details: &mut Details,
    list: &[&Diagnostic],
    class: &str,
    home: Option<&str>,
) -> fmt::Result {
    writeln!(
        h,
        "<table class=\"findings {class}\"><thead><tr><th>severity</th><th>line</th><th>phase</th><th>rule</th><th>message</th></tr></thead><tbody>"
    )?;
    for d in list {
        let id = details.add('f', &details::finding_detail(d))?;
        finding_row(h, d, &id, home)?;
    }
    h.push_str("</tbody></table>\n");
    Ok(())
}

/// The legend of the chart's marks; its tool classes are those of `TOOL_CLASSES`.
fn write_legend(h: &mut String) -> fmt::Result {
    h.push_str(LEGEND_HEAD);
    write!(h, "<span class=\"item\"><svg width=\"{}\" height=\"14\">", TOOL_CLASSES.len() * 10)?;
    for (i, c) in TOOL_CLASSES.iter().enumerate() {
        write!(h, "<rect class=\"tick tool-{}\" x=\"{}\" y=\"0\" width=\"3\" height=\"14\"/>", c.class, 2 + 10 * i)?;
    }
    let names: Vec<&str> = TOOL_CLASSES.iter().map(|c| c.legend).collect();
    writeln!(h, "</svg>orchestrator tools: {}</span>", names.join(", "))?;
    h.push_str(LEGEND_TAIL);
    Ok(())
}

/// The legend before and after its line of tool classes.
const LEGEND_HEAD: &str = include_str!("assets/legend-head.html");
const LEGEND_TAIL: &str = include_str!("assets/legend-tail.html");
