//! Where everything of one run's chart goes: the horizontal scale (line →
//! x), the agent lanes and their rows of bars, the rows of finding markers
//! and of phase labels, and the heights of the lanes. Pure arithmetic on
//! line numbers and text lengths, in the chart's own units (px at scale 1);
//! `svg.rs` draws what it decides.

use std::collections::BTreeSet;

use crate::report::inspect::{LaunchView, PhaseView};
use crate::words::shorten;

/// Width of the lane names beside each chart.
pub const LABEL_W: f64 = 200.0;
/// Width the plot of a run aims at, so that lane names and plot (1,300 px)
/// fit a 1,400 px window at scale 1; the page scales the chart to the
/// window between `MIN_SCALE` and `MAX_SCALE`. Long runs are wider (at
/// least `MIN_LINE_W` a line) and scroll sideways.
pub const PLOT_W: f64 = 1100.0;
/// The chart is drawn no smaller than this, so its 11 px text stays legible
/// (about 8 px); a narrower window scrolls it.
pub const MIN_SCALE: f64 = 0.75;
/// The chart is drawn no larger than this, so its text does not grow past
/// about 14 px on a wide screen.
pub const MAX_SCALE: f64 = 1.3;
/// The narrowest a JSONL line may be drawn.
const MIN_LINE_W: f64 = 2.0;
/// Space left and right of the first and last line of a run.
const PAD_X: f64 = 10.0;
pub const PHASE_ROW_H: f64 = 17.0;
pub const LANE_PAD: f64 = 6.0;
pub const BAR_H: f64 = 14.0;
pub const ROW_H: f64 = 19.0;
pub const FINDING_ROW_H: f64 = 18.0;
const MAX_FINDING_ROWS: usize = 4;
/// Phase labels take turns in at most this many rows.
const MAX_LABEL_ROWS: usize = 3;
pub const MARK_LANE_H: f64 = 26.0;
const AXIS_H: f64 = 30.0;
/// Average width of a character of the chart's 11px labels.
pub const CHAR_W: f64 = 6.3;

/// Colours of launch messages: the agents of one message share one.
const GROUP_COLORS: [&str; 8] =
    ["#4f46e5", "#0891b2", "#059669", "#c026d3", "#2563eb", "#65a30d", "#0d9488", "#9333ea"];

/// The horizontal scale of one run: line → x.
#[derive(Debug)]
pub struct Axis {
    pub lo: u32,
    pub hi: u32,
    /// Width of one line.
    pub k: f64,
}

impl Axis {
    /// The middle of a line.
    pub fn x(&self, line: u32) -> f64 {
        PAD_X + (f64::from(line.saturating_sub(self.lo)) + 0.5) * self.k
    }
    /// The right edge of the last line.
    pub fn end(&self) -> f64 {
        PAD_X + f64::from(self.hi - self.lo + 1) * self.k
    }
    /// The width of the plot.
    pub fn width(&self) -> f64 {
        self.end() + PAD_X
    }
    /// The distance between labelled lines of the axis: at least 70 px.
    pub fn step(&self) -> u32 {
        let min_lines = 70.0 / self.k;
        [1u32, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000]
            .into_iter()
            .find(|&s| f64::from(s) >= min_lines)
            .unwrap_or(100000)
    }
}

/// A finding to mark: its line and the rule id drawn beside it.
pub struct Finding<'a> {
    pub line: u32,
    pub rule: &'a str,
}

/// An agent's bar in its lane.
pub struct Bar<'a> {
    pub launch: &'a LaunchView,
    pub lane: usize,
    pub row: usize,
    pub x0: f64,
    pub x1: f64,
    /// Launched and never returned: the bar runs to the end of the plot.
    pub open: bool,
    pub color: &'static str,
}

/// The agents of one type.
pub struct Lane<'a> {
    pub agent_type: &'a str,
    pub rows: usize,
    pub count: usize,
    pub y: f64,
    pub h: f64,
}

/// Where a finding marker's rule id goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    None,
    Right,
    Left,
}

/// A finding's marker: at its line, in a row of the findings lane.
pub struct Mark {
    /// Index into the findings laid out.
    pub finding: usize,
    pub x: f64,
    pub row: usize,
    pub label: Label,
}

/// A phase, from its start to the next phase's.
pub struct Band<'r> {
    pub phase: u8,
    pub name: &'r str,
    pub line: u32,
    pub x0: f64,
    pub x1: f64,
    /// The row of its label in the head of the chart.
    pub row: usize,
    /// Its label, shortened to fit.
    pub text: String,
}

/// Everything of one run's chart, placed.
pub struct RunLayout<'a> {
    pub axis: Axis,
    pub lanes: Vec<Lane<'a>>,
    /// In order of launch.
    pub bars: Vec<Bar<'a>>,
    /// How many launch messages the bars come from.
    pub messages: usize,
    /// In the order of the findings.
    pub marks: Vec<Mark>,
    pub bands: Vec<Band<'a>>,
    pub findings_y: f64,
    pub findings_h: f64,
    pub user_y: f64,
    pub orch_y: f64,
    pub lanes_bottom: f64,
    pub height: f64,
    pub width: f64,
}

impl RunLayout<'_> {
    /// The top of a bar.
    pub fn bar_y(&self, b: &Bar) -> f64 {
        self.lanes[b.lane].y + LANE_PAD + b.row as f64 * ROW_H
    }
    /// The middle of a finding marker.
    pub fn mark_y(&self, m: &Mark) -> f64 {
        self.findings_y + 4.0 + m.row as f64 * FINDING_ROW_H + FINDING_ROW_H / 2.0
    }
}

/// Lays out one run: `lines` are the lines of everything it shows (steps,
/// returns, findings, user messages); `launches` its agents.
pub fn run<'a>(
    lines: &[u32],
    launches: &[&'a LaunchView],
    phases: &'a [PhaseView],
    findings: &[Finding],
) -> RunLayout<'a> {
    let lo = lines.iter().copied().filter(|&l| l > 0).min().unwrap_or(1);
    let last = lines.iter().copied().filter(|&l| l > 0).max().unwrap_or(lo);
    let any_open = launches.iter().any(|l| l.returned_line.is_none());
    let span = last - lo + 1;
    // Room after the last line for open-ended bars and the last phase's name.
    let mut hi = last + if any_open { (span / 25).max(3) } else { 0 };
    let scale = |hi: u32| ((PLOT_W - 2.0 * PAD_X) / f64::from(hi - lo + 1)).max(MIN_LINE_W);
    // The last labels may run to the end of the plot (one per label row).
    for p in phases.iter().rev().take(MAX_LABEL_ROWS).filter(|p| p.line >= lo && p.line <= last) {
        let text = format!("{} {}", p.phase, p.name.as_deref().unwrap_or(""));
        let wanted = (text.trim_end().chars().count() as f64 * CHAR_W + 12.0) / scale(hi);
        hi = hi.max(p.line + wanted.ceil() as u32);
    }
    let axis = Axis { lo, hi, k: scale(hi) };

    let messages: BTreeSet<u32> = launches.iter().map(|l| l.message).collect();
    let (lanes, bars) = lanes(&axis, launches, &messages);
    let (marks, finding_rows) = marks(&axis, findings);
    let (bands, label_rows) = bands(&axis, phases);

    // Vertical layout.
    let head_h = label_rows.max(1) as f64 * PHASE_ROW_H + 6.0;
    let findings_y = head_h;
    let findings_h = finding_rows.max(1) as f64 * FINDING_ROW_H + 8.0;
    let user_y = findings_y + findings_h;
    let orch_y = user_y + MARK_LANE_H;
    let mut lanes = lanes;
    let mut y = orch_y + MARK_LANE_H;
    for lane in &mut lanes {
        lane.y = y;
        lane.h = lane.rows as f64 * ROW_H + 2.0 * LANE_PAD - (ROW_H - BAR_H);
        y += lane.h;
    }
    let lanes_bottom = y;
    let width = axis.width();
    RunLayout {
        axis,
        lanes,
        bars,
        messages: messages.len(),
        marks,
        bands,
        findings_y,
        findings_h,
        user_y,
        orch_y,
        lanes_bottom,
        height: lanes_bottom + AXIS_H,
        width,
    }
}

/// Agent lanes, one per type, in order of first launch; bars packed in rows.
fn lanes<'a>(axis: &Axis, launches: &[&'a LaunchView], messages: &BTreeSet<u32>) -> (Vec<Lane<'a>>, Vec<Bar<'a>>) {
    let color_of = |message: u32| GROUP_COLORS[messages.range(..message).count() % GROUP_COLORS.len()];
    let mut lanes: Vec<Lane> = Vec::new();
    let mut bars: Vec<Bar> = Vec::new();
    let mut row_ends: Vec<Vec<f64>> = Vec::new();
    let mut ordered = launches.to_vec();
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
        let x0 = axis.x(l.line.clamp(axis.lo, axis.hi)) - axis.k * 0.3;
        let (x1, open) = match l.returned_line {
            Some(r) => ((axis.x(r.clamp(axis.lo, axis.hi)) + axis.k * 0.3).max(x0 + 4.0), false),
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
        bars.push(Bar { launch: l, lane, row, x0, x1, open, color: color_of(l.message) });
    }
    (lanes, bars)
}

/// Findings: a marker at its line in the first row with room for it and its
/// rule id; the id is drawn only where it covers no other marker. Returns
/// the marks and the number of rows.
fn marks(axis: &Axis, findings: &[Finding]) -> (Vec<Mark>, usize) {
    let label_w = |f: &Finding| f.rule.len() as f64 * CHAR_W;
    let mut marks: Vec<Mark> = Vec::new();
    let mut rows: Vec<f64> = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        let x = axis.x(f.line.clamp(axis.lo, axis.hi));
        let reach = x + 10.0 + label_w(f);
        let row = match rows.iter().position(|&e| e <= x - 8.0) {
            Some(r) => r,
            None if rows.len() < MAX_FINDING_ROWS => {
                rows.push(f64::MIN);
                rows.len() - 1
            }
            None => (0..rows.len()).min_by(|&a, &b| rows[a].total_cmp(&rows[b])).unwrap_or(0),
        };
        rows[row] = rows[row].max(reach);
        marks.push(Mark { finding: i, x, row, label: Label::None });
    }
    let plot_end = axis.width();
    for i in 0..marks.len() {
        let (x, row, w) = (marks[i].x, marks[i].row, label_w(&findings[marks[i].finding]));
        let next = marks[i + 1..].iter().find(|m| m.row == row).map(|m| m.x - 8.0);
        let prev = marks[..i].iter().rev().find(|m| m.row == row).map(|m| match m.label {
            Label::Right => m.x + 10.0 + label_w(&findings[m.finding]),
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
    (marks, rows.len())
}

/// Phase bands and their labels. A label is the phase's number and name in
/// full when every label fits its band; otherwise labels take turns in two
/// or three rows (the fewest in which all fit), each free up to the start of
/// the next band in its row, so the names of narrow phases stay whole: a
/// name is what a reader looks for, and a cut one ("6 Des…") must be
/// hovered. What still does not fit is shortened; the band's tooltip has
/// the full name. Returns the bands and the number
/// of label rows.
fn bands<'r>(axis: &Axis, phases: &'r [PhaseView]) -> (Vec<Band<'r>>, usize) {
    let x0_of = |i: usize| phases.get(i).map_or(axis.end(), |p| axis.x(p.line) - axis.k * 0.5);
    let full_of = |p: &PhaseView| match p.name.as_deref().unwrap_or("") {
        "" => p.phase.to_string(),
        name => format!("{} {name}", p.phase),
    };
    let text_w = |text: &str| text.chars().count() as f64 * CHAR_W;
    // Room for a label up to the next label in its row, or the end of the plot.
    let room = |i: usize, rows: usize| x0_of(i + rows).min(axis.width()) - x0_of(i) - 8.0;
    let rows = (1..=MAX_LABEL_ROWS)
        .find(|&rows| phases.iter().enumerate().all(|(i, p)| text_w(&full_of(p)) <= room(i, rows)))
        .unwrap_or(MAX_LABEL_ROWS);
    let mut bands: Vec<Band> = Vec::new();
    for (i, p) in phases.iter().enumerate() {
        let (x0, x1) = (x0_of(i), x0_of(i + 1));
        let full = full_of(p);
        let room = room(i, rows);
        let text = if text_w(&full) <= room {
            full
        } else {
            let fit = (room / CHAR_W).floor() as usize;
            if fit >= p.phase.to_string().len() + 4 {
                shorten(&full, fit.saturating_sub(1))
            } else {
                p.phase.to_string()
            }
        };
        let name = p.name.as_deref().unwrap_or("");
        bands.push(Band { phase: p.phase, name, line: p.line, x0, x1, row: i % rows, text });
    }
    (bands, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReturnStatus;

    fn launch(line: u32, returned: Option<u32>, agent_type: &str, message: u32) -> LaunchView {
        LaunchView {
            line,
            tool_use_id: format!("toolu_{line}"),
            subagent_type: agent_type.into(),
            description: None,
            phase: None,
            message,
            launched_together: 1,
            background: false,
            status: if returned.is_some() { ReturnStatus::Completed } else { ReturnStatus::Outstanding },
            returned_line: returned,
            agent_id: None,
            transcript: None,
        }
    }

    fn phase(phase: u8, name: &str, line: u32) -> PhaseView {
        PhaseView { phase, name: Some(name.into()), line, launches: 0 }
    }

    #[test]
    fn a_run_fills_the_plot_width_and_lines_map_in_order() {
        let plan = run(&[10, 110], &[], &[], &[]);
        assert_eq!((plan.axis.lo, plan.axis.hi), (10, 110));
        assert!((plan.width - PLOT_W).abs() < 1e-6, "{}", plan.width);
        assert!(plan.axis.x(10) < plan.axis.x(11) && plan.axis.x(110) < plan.axis.end());
        assert!(plan.axis.step() as f64 * plan.axis.k >= 70.0);
    }

    #[test]
    fn overlapping_agents_of_one_type_take_two_rows_and_others_a_lane() {
        let a = launch(10, Some(50), "x:explorer", 1);
        let b = launch(12, Some(40), "x:explorer", 2);
        let c = launch(60, Some(70), "x:explorer", 3);
        let d = launch(20, Some(30), "x:architect", 2);
        let plan = run(&[10, 70], &[&a, &b, &c, &d], &[], &[]);
        let rows: Vec<(usize, usize)> = plan.bars.iter().map(|b| (b.lane, b.row)).collect();
        assert_eq!(rows, [(0, 0), (0, 1), (1, 0), (0, 0)], "in launch order: a, b, d, c");
        assert_eq!(plan.lanes.len(), 2);
        assert_eq!(plan.lanes[0].rows, 2);
        assert!(plan.lanes[1].y > plan.lanes[0].y);
        assert_eq!(plan.bars[1].color, plan.bars[2].color, "one launch message, one colour");
        assert_eq!(plan.messages, 3);
    }

    #[test]
    fn an_agent_that_never_returned_runs_open_to_the_end() {
        let a = launch(10, None, "x:explorer", 1);
        let plan = run(&[10, 100], &[&a], &[], &[]);
        assert!(plan.bars[0].open);
        assert!(plan.axis.hi > 100, "room after the last line");
        assert!((plan.bars[0].x1 - plan.axis.end()).abs() < 1e-6);
    }

    #[test]
    fn close_findings_stack_in_rows_and_their_ids_do_not_overlap() {
        let findings: Vec<Finding> =
            [40, 41, 42].iter().map(|&line| Finding { line, rule: "wait-for-agents" }).collect();
        let plan = run(&[1, 100], &[], &[], &findings);
        let rows: Vec<usize> = plan.marks.iter().map(|m| m.row).collect();
        assert_eq!(rows, [0, 1, 2]);
        assert!(plan.marks.iter().all(|m| m.label == Label::Right));
    }

    #[test]
    fn labels_of_narrow_phases_take_turns_in_rows_and_stay_whole() {
        let wide = [phase(1, "Discovery", 1), phase(2, "Design", 50)];
        let plan = run(&[1, 100], &[], &wide, &[]);
        assert_eq!(plan.bands.iter().map(|b| b.row).collect::<Vec<_>>(), [0, 0], "one row when all fit");
        let narrow = [phase(1, "Discovery", 1), phase(2, "Architecture Design", 50), phase(3, "Summary", 51)];
        let plan = run(&[1, 60], &[], &narrow, &[]);
        let labels: Vec<(&str, usize)> = plan.bands.iter().map(|b| (b.text.as_str(), b.row)).collect();
        assert_eq!(labels, [("1 Discovery", 0), ("2 Architecture Design", 1), ("3 Summary", 0)]);
        for b in &plan.bands {
            let end = b.x0 + 4.0 + b.text.chars().count() as f64 * CHAR_W;
            assert!(end <= plan.width, "{} ends at {end}, past {}", b.text, plan.width);
        }
        let crowded: Vec<PhaseView> = (1..=6).map(|p| phase(p, "A Rather Long Phase Name", u32::from(p))).collect();
        let plan = run(&[1, 300], &[], &crowded, &[]);
        assert!(plan.bands.iter().all(|b| b.row < MAX_LABEL_ROWS));
        assert!(plan.bands[0].text.ends_with('…') || plan.bands[0].text == "1", "{}", plan.bands[0].text);
    }

    #[test]
    fn shorten_folds_whitespace_and_ends_with_an_ellipsis() {
        assert_eq!(shorten("a  b\nc", 9), "a b c");
        assert_eq!(shorten("Architecture Design", 7), "Archite…");
    }
}
