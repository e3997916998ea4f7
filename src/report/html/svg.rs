//! The chart of one run as inline SVG: the lane names, then the plot —
//! lane stripes, phase bands, the line axis, finding guides, launch
//! brackets, agent bars, orchestrator ticks, the command and user messages,
//! and the finding markers — at the places `layout.rs` chose.

use std::collections::BTreeMap;
use std::fmt::{self, Display, Write as _};

use super::details::Details;
use super::layout::{Bar, Label, RunLayout, BAR_H, CHAR_W, LABEL_W, MARK_LANE_H, MAX_SCALE, MIN_SCALE, PHASE_ROW_H};
use super::tool_classes::tool_class;
use super::{split_type, status_class, Esc};
use crate::diagnostic::Diagnostic;
use crate::model::ReturnStatus;
use crate::report::inspect::RunView;
use crate::words::shorten;

/// Colours of phases 1…12 (then again).
const PHASE_COLORS: [&str; 12] = [
    "#6366f1", "#0ea5e9", "#14b8a6", "#22c55e", "#84cc16", "#eab308", "#f97316", "#f43f5e", "#ec4899", "#a855f7",
    "#8b5cf6", "#64748b",
];

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

/// The CSS that scales an SVG of this natural width with the chart: the
/// lane names and the plot share the chart's width in proportion to their
/// natural widths (flex-grow from a basis of 0), so both are drawn at one
/// scale and their lanes line up; their heights follow from the viewBox.
/// Both stop at the same `MIN_SCALE` (the chart then scrolls sideways, the
/// names sticking at the left) and `MAX_SCALE`.
struct Fit(f64);

impl Display for Fit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.0;
        write!(f, "flex:{} 0 0;min-width:{}px;max-width:{}px", Px(w), Px(w * MIN_SCALE), Px(w * MAX_SCALE))
    }
}

/// An orchestrator tool call of the run.
pub struct ToolCall<'a> {
    pub line: u32,
    pub message: u32,
    pub name: &'a str,
    pub target: Option<&'a str>,
}

/// A slash command of the run.
pub struct CommandCall<'a> {
    pub line: u32,
    pub name: &'a str,
    pub args: &'a str,
}

/// What one chart draws, laid out, with the ids of its agents' and findings' panels.
pub struct Chart<'a> {
    pub run_id: &'a str,
    /// The session id (or file) named in the plot's accessible label.
    pub session: &'a str,
    pub run: &'a RunView,
    pub plan: &'a RunLayout<'a>,
    pub findings: &'a [&'a Diagnostic],
    pub tools: &'a [ToolCall<'a>],
    pub commands: &'a [CommandCall<'a>],
    /// One per bar of the plan.
    pub bar_ids: &'a [String],
    /// One per mark of the plan.
    pub mark_ids: &'a [String],
}

/// Writes the chart of a run; the command and user messages get their detail panels here.
pub fn write_chart(h: &mut String, details: &mut Details, c: &Chart) -> fmt::Result {
    let plan = c.plan;
    let run = c.run;
    let (height, width) = (plan.height, plan.width);
    let (findings_y, findings_h, user_y, orch_y, lanes_bottom) =
        (plan.findings_y, plan.findings_h, plan.user_y, plan.orch_y, plan.lanes_bottom);
    let axis = &plan.axis;
    let (lo, hi) = (axis.lo, axis.hi);
    let (lanes, bars, marks, bands) = (&plan.lanes, &plan.bars, &plan.marks, &plan.bands);
    // Lane names (they stay put when a long plot scrolls), then the plot:
    // two SVGs scaled alike to the width of the chart (see `fit`).
    writeln!(h, "<div class=\"chart\">")?;
    writeln!(
        h,
        "<svg class=\"labels\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" style=\"{}\" aria-hidden=\"true\">",
        Px(LABEL_W),
        Px(height),
        Px(LABEL_W),
        Px(height),
        Fit(LABEL_W)
    )?;
    writeln!(
        h,
        "<line class=\"divider\" x1=\"{}\" y1=\"0\" x2=\"{}\" y2=\"{}\"/>",
        Px(LABEL_W - 0.5),
        Px(LABEL_W - 0.5),
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
        c.tools.len()
    )?;
    for lane in lanes {
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
    writeln!(
        h,
        "<svg class=\"plot\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" style=\"{}\" role=\"img\" aria-label=\"timeline of run {} of session {}\">",
        Px(width),
        Px(height),
        Px(width),
        Px(height),
        Fit(width),
        run.index,
        Esc(c.session)
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
    for b in bands {
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
    let step = axis.step();
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
    for (m, id) in marks.iter().zip(c.mark_ids) {
        writeln!(
            h,
            "<line class=\"guide sev-{}\" data-guide=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            c.findings[m.finding].severity.as_str(),
            id,
            Px(m.x),
            Px(plan.mark_y(m)),
            Px(m.x),
            Px(lanes_bottom)
        )?;
    }
    // Launch groups: a bracket joining the bars of one launch message.
    let group_of: Vec<String> = bars.iter().map(|b| format!("{}m{}", c.run_id, b.launch.message)).collect();
    let mut groups: BTreeMap<&str, Vec<&Bar>> = BTreeMap::new();
    for (b, group) in bars.iter().zip(&group_of) {
        groups.entry(group.as_str()).or_default().push(b);
    }
    let bar_y = |b: &Bar| plan.bar_y(b);
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
    for ((b, id), group) in bars.iter().zip(c.bar_ids).zip(&group_of) {
        let l = b.launch;
        let y = bar_y(b);
        let (name, _) = split_type(&l.subagent_type);
        let title = format!(
            "{} — line {} → {}; launch message #{} (×{}){}{}",
            if name.is_empty() { "(no type)" } else { name },
            l.line,
            match l.returned_line {
                Some(r) => format!("line {r}"),
                None => l.status.said().to_string(),
            },
            l.message,
            l.launched_together,
            if l.background { ", background" } else { "" },
            l.description.as_deref().map(|d| format!("\n{}", shorten(d, 119))).unwrap_or_default()
        );
        writeln!(
            h,
            "<g class=\"bar {}{}\" data-kind=\"agent\" data-detail=\"{}\" data-group=\"{}\" data-type=\"{}\" data-line=\"{}\" data-status=\"{}\"><title>{}</title>",
            status_class(l.status),
            if b.open { " open" } else { "" },
            id,
            group,
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
            let word = l.status.said();
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
    for ToolCall { line, message, name, target } in c.tools {
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
            Esc(&target.map(|t| format!(" {}", shorten(t, 99))).unwrap_or_default())
        )?;
    }
    // The command and the genuine user messages.
    let cy = user_y + MARK_LANE_H / 2.0;
    for CommandCall { line, name, args } in c.commands {
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
            Esc(&shorten(args, 99))
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
            Esc(&shorten(&u.text, 299)),
            Px(x - 7.0),
            Px(cy - 9.0)
        )?;
    }
    // Findings.
    for (m, id) in marks.iter().zip(c.mark_ids) {
        let d = c.findings[m.finding];
        let y = plan.mark_y(m);
        let sev = d.severity.as_str();
        writeln!(
            h,
            "<g class=\"finding sev-{sev}\" data-kind=\"finding\" data-detail=\"{}\" data-rule=\"{}\" data-severity=\"{sev}\" data-line=\"{}\">\
             <title>line {}: {}[{}] {}</title><path class=\"diamond\" d=\"M{} {}l6 6l-6 6l-6 -6z\"/>{}</g>",
            id,
            d.rule,
            d.line,
            d.line,
            sev,
            d.rule,
            Esc(&d.message),
            Px(m.x),
            Px(y - 6.0),
            match m.label {
                Label::Right => format!("<text x=\"{}\" y=\"{}\">{}</text>", Px(m.x + 9.0), Px(y + 4.0), d.rule),
                Label::Left => format!(
                    "<text class=\"left\" x=\"{}\" y=\"{}\">{}</text>",
                    Px(m.x - 9.0),
                    Px(y + 4.0),
                    d.rule
                ),
                Label::None => String::new(),
            }
        )?;
    }
    h.push_str("</svg>\n</div>\n");
    Ok(())
}
