//! The detail panels: what a click on a finding, an agent, the command or a
//! user message shows. Each is a `<template>` the page's script copies into
//! the panel; ids are numbered in drawing order so the same input gives the
//! same bytes.

use std::fmt::{self, Write as _};

use super::{split_type, status_class, Esc};
use crate::diagnostic::{Diagnostic, Excerpt};
use crate::model::ReturnStatus;
use crate::report::inspect::{LaunchView, SessionView};
use crate::words::plural;

/// Numbers the clickable things of the page and collects their detail panels.
#[derive(Default)]
pub struct Details {
    next: usize,
    templates: String,
}

impl Details {
    /// A new id (`f3`, `a12`, `u1`, `c1`) whose detail panel `body` will show.
    pub fn add(&mut self, prefix: char, body: &str) -> Result<String, fmt::Error> {
        self.next += 1;
        let id = format!("{prefix}{}", self.next);
        writeln!(self.templates, "<template id=\"d-{id}\">{body}</template>")?;
        Ok(id)
    }

    /// The detail panels, in the order of their ids.
    pub fn templates(&self) -> &str {
        &self.templates
    }
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

pub fn finding_detail(d: &Diagnostic) -> String {
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

pub fn agent_detail(l: &LaunchView, s: &SessionView) -> String {
    let (name, ns) = split_type(&l.subagent_type);
    let mut out = format!(
        "<h4><span class=\"tag agent\">agent</span> <code>{}{}</code> <span class=\"status st-{}\">{}</span></h4>",
        Esc(ns),
        Esc(if name.is_empty() { "(no type)" } else { name }),
        status_class(l.status),
        l.status.said()
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
            Some(r) => format!("line {r} ({})", l.status.said()),
            None => l.status.said().to_string(),
        },
    );
    fact("launch message", format!("#{} with {}", l.message, plural(l.launched_together, "agent")));
    fact("mode", if l.background { "background".into() } else { "foreground".into() });
    fact("tool_use_id", format!("<code>{}</code>", Esc(&l.tool_use_id)));
    if let Some(id) = &l.agent_id {
        fact("agent id", format!("<code>{}</code>", Esc(id)));
    }
    match &l.transcript {
        Some(t) => {
            let place =
                if t.inline { format!("inline in {}", Esc(&s.file)) } else { format!("<code>{}</code>", Esc(&t.file)) };
            fact("transcript", format!("{place}, {}", plural(t.entries as usize, "entry")));
            if !t.tools.is_empty() {
                fact("its tools", Esc(&t.tools.join(", ")).to_string());
            }
        }
        None => fact("transcript", "not found".into()),
    }
    out.push_str("</dl>");
    out
}
