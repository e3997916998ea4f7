//! The HTML timeline report: the structure of the page for real runs
//! (snapshotted as a summary of what is drawn, not byte for byte), escaping,
//! determinism, self-containment, and — with headless Chromium — the page as
//! a browser builds it, with screenshots.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{relative, repo, shared};
use orchlint::diagnostic::{self, Diagnostic, Excerpt, Severity};
use orchlint::engine::{self, Options};
use orchlint::ingest::discover;
use orchlint::report::{html, inspect};
use orchlint::workflow::Workflows;
use regex::Regex;

/// The inspect document and every diagnostic of the paths, as `report` builds them.
fn build(paths: &[PathBuf]) -> (inspect::InspectDocument, Vec<Diagnostic>) {
    let wf = Workflows::builtin();
    let opts = Options { detail: true, excerpts: true, ..Options::default() };
    let discovery = discover::discover(paths, true).expect("inputs exist");
    let checked: Vec<_> = discovery.jobs.iter().map(|job| engine::check_job(job, &wf, &opts)).collect();
    let mut diagnostics = engine::resolve(discovery.findings, None, &wf, &[], true);
    diagnostics.extend(checked.iter().flat_map(|c| c.diagnostics.iter().cloned()));
    diagnostic::sort(&mut diagnostics);
    let checked: Vec<_> = checked.into_iter().filter(|c| !c.skipped).collect();
    (inspect::build(&checked, &wf), diagnostics)
}

fn render(doc: &inspect::InspectDocument, diagnostics: &[Diagnostic]) -> String {
    let mut out = Vec::new();
    html::render(doc, diagnostics, &mut out).expect("renders");
    String::from_utf8(out).expect("the page is UTF-8")
}

fn page(paths: &[PathBuf]) -> (String, Vec<Diagnostic>) {
    let (doc, diagnostics) = build(paths);
    (render(&doc, &diagnostics), diagnostics)
}

/// A run of the shared corpus, relative to the repository (the tests' working
/// directory) so pages and screenshots show `../shared/…`.
fn corpus(run: &str) -> Option<PathBuf> {
    let p = shared()?.join("corpus/2.1.328").join(run).join("projects");
    let short = p.strip_prefix(repo()).ok().filter(|s| s.is_dir()).map(Path::to_path_buf);
    short.or(Some(p)).filter(|p| p.is_dir())
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

fn attr<'t>(element: &'t str, name: &str) -> Option<&'t str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    let len = element[start..].find('"')?;
    Some(&element[start..start + len])
}

/// Opening tags that contain `marker`.
fn tags<'t>(html: &'t str, marker: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(marker) {
        let at = from + i;
        let open = html[..at].rfind('<').unwrap_or(0);
        let close = at + html[at..].find('>').unwrap_or(0);
        out.push(&html[open..=close]);
        from = close + 1;
    }
    out
}

/// What the page draws, run by run: phase bands, lanes, agents, launch
/// groups, orchestrator tool ticks, user messages and finding markers.
fn summary(html: &str) -> String {
    let mut s = String::new();
    let totals = tags(html, "class=\"totals\"")[0];
    writeln!(
        s,
        "page: sessions {} runs {} agents {} errors {} warnings {} notes {}",
        attr(totals, "data-sessions").unwrap(),
        attr(totals, "data-runs").unwrap(),
        attr(totals, "data-agents").unwrap(),
        attr(totals, "data-errors").unwrap(),
        attr(totals, "data-warnings").unwrap(),
        attr(totals, "data-notes").unwrap()
    )
    .unwrap();
    let lane = Regex::new(
        r#"<text class="lane-name agent"[^>]*><tspan class="ns">([^<]*)</tspan>([^<]*) <tspan class="n">(\d+)</tspan>"#,
    )
    .unwrap();
    for session in html.split("<section class=\"session\"").skip(1) {
        let head = &session[..session.find('>').unwrap()];
        writeln!(s, "session {}", attr(head, "data-session").unwrap()).unwrap();
        for run in session.split("<section class=\"run\"").skip(1) {
            let run = &run[..run.find("</section>").unwrap()];
            let head = &run[..run.find('>').unwrap()];
            writeln!(s, "  run {}", attr(head, "data-run").unwrap()).unwrap();
            let bands: Vec<&str> = tags(run, "class=\"band\"").iter().map(|t| attr(t, "data-phase").unwrap()).collect();
            writeln!(s, "    phase bands: {}", bands.join(" ")).unwrap();
            let lanes: Vec<String> = lane.captures_iter(run).map(|c| format!("{}{} {}", &c[1], &c[2], &c[3])).collect();
            writeln!(s, "    agent lanes: {}", lanes.join(", ")).unwrap();
            let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
            for t in tags(run, "data-kind=\"agent\"") {
                let open = if attr(t, "class").unwrap().contains("open") { " open" } else { "" };
                *statuses.entry(format!("{}{open}", attr(t, "data-status").unwrap())).or_default() += 1;
            }
            writeln!(s, "    agent bars: {statuses:?}").unwrap();
            let groups: Vec<&str> =
                tags(run, "class=\"bracket\"").iter().map(|t| attr(t, "data-size").unwrap()).collect();
            writeln!(s, "    launch groups drawn with a bracket (sizes): {}", groups.join(" ")).unwrap();
            let mut tools: BTreeMap<&str, usize> = BTreeMap::new();
            for t in tags(run, "data-kind=\"tool\"") {
                *tools.entry(attr(t, "data-tool").unwrap()).or_default() += 1;
            }
            writeln!(s, "    orchestrator ticks: {tools:?}").unwrap();
            writeln!(
                s,
                "    commands {} user messages {}",
                count(run, "data-kind=\"command\""),
                count(run, "data-kind=\"user\"")
            )
            .unwrap();
            for t in tags(run, "data-kind=\"finding\"") {
                writeln!(
                    s,
                    "    finding marker: line {} {}[{}]",
                    attr(t, "data-line").unwrap(),
                    attr(t, "data-severity").unwrap(),
                    attr(t, "data-rule").unwrap()
                )
                .unwrap();
            }
        }
    }
    writeln!(s, "sessions without a run: {}", count(html, "class=\"session-norun\"")).unwrap();
    writeln!(s, "findings outside a timeline: {}", count(html, "class=\"findings other-findings\"")).unwrap();
    writeln!(s, "finding rows: {}", count(html, "class=\"finding-row\"")).unwrap();
    s
}

#[test]
fn samples_summary() {
    let (html, _) = page(&[repo().join("fixtures/samples")]);
    insta::assert_snapshot!(relative(&summary(&html)));
}

#[test]
fn corpus_clean_run_summary() {
    let Some(clean) = corpus("clean") else {
        eprintln!("skipped: ../shared/corpus/2.1.328/clean/projects is not there");
        return;
    };
    let (html, diagnostics) = page(&[clean]);
    let summary = summary(&html);
    assert!(summary.contains("phase bands: 1 2 3 4 5 6 7 8 9 10 11 12\n"), "{summary}");
    assert!(diagnostics.iter().all(|d| d.severity != Severity::Error), "the clean run has no error");
    insta::assert_snapshot!(summary);
}

/// Each diagnostic is listed once, and drawn as a marker when it belongs to a run.
#[test]
fn every_diagnostic_is_shown_once() {
    let (html, diagnostics) = page(&[repo().join("fixtures/samples")]);
    assert!(diagnostics.len() >= 5, "the samples break rules");
    assert_eq!(count(&html, "class=\"finding-row\""), diagnostics.len());
    let markers = tags(&html, "data-kind=\"finding\"");
    let in_runs = diagnostics.iter().filter(|d| d.run.is_some()).count();
    assert_eq!(markers.len(), in_runs);
    for d in diagnostics.iter().filter(|d| d.run.is_some()) {
        assert!(
            markers.iter().any(|m| attr(m, "data-rule") == Some(d.rule)
                && attr(m, "data-line") == Some(d.line.to_string().as_str())
                && attr(m, "data-severity") == Some(d.severity.as_str())),
            "no marker for {}:{} {}",
            d.file,
            d.line,
            d.rule
        );
    }
}

/// Transcript text reaches the page only escaped: user messages, messages,
/// help, subjects and the excerpt with its culprit.
#[test]
fn escapes_transcript_text() {
    let source = repo()
        .join("fixtures/samples/1.0.128-no-approval/-home-dev-churn-model/bfc6fb86-e398-477e-bc41-78bf94cdd7f0.jsonl");
    let text = std::fs::read_to_string(&source).unwrap();
    assert!(text.contains("Go with the pragmatic approach."));
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("bfc6fb86-e398-477e-bc41-78bf94cdd7f0.jsonl");
    let hostile = r#"Go with <b>the pragmatic</b> approach & \"quote\" 'it' </script><script>alert(1)</script>"#;
    std::fs::write(&copy, text.replace("Go with the pragmatic approach.", hostile)).unwrap();
    let (doc, mut diagnostics) = build(&[copy]);
    let mut planted = diagnostics[0].clone();
    planted.message = "<img src=x onerror=alert(2)> & \"more\"".into();
    planted.excerpt = Some(Excerpt { text: "…\"a\":\"<i>x</i>\",\"b\":\"&amp;\"…".into(), start: 8, end: 16 });
    diagnostics.push(planted);
    let html = render(&doc, &diagnostics);
    for raw in ["<b>the", "<script>alert", "<img src=x", "<i>x</i>", "&amp;\""] {
        assert!(!html.contains(raw), "unescaped {raw:?} in the page");
    }
    assert_eq!(count(&html, "<script"), 1, "only the page's own script");
    assert!(html.contains("Go with &lt;b&gt;the pragmatic&lt;/b&gt; approach &amp; &quot;quote&quot; &#39;it&#39;"));
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt; &amp; &quot;more&quot;"));
    assert!(html.contains("<mark>&lt;i&gt;x&lt;/i&gt;</mark>"), "the culprit is marked and escaped");
}

#[test]
fn same_input_same_bytes() {
    let (doc, diagnostics) = build(&[repo().join("fixtures/samples")]);
    let first = render(&doc, &diagnostics);
    let mut reversed = diagnostics.clone();
    reversed.reverse();
    assert_eq!(first, render(&doc, &reversed), "diagnostic order does not matter");
    let (doc, diagnostics) = build(&[repo().join("fixtures/samples")]);
    assert_eq!(first, render(&doc, &diagnostics));
}

/// Nothing is fetched: no external script, style, font, image or link.
#[test]
fn page_is_self_contained() {
    let (html, _) = page(&[repo().join("fixtures/samples")]);
    assert!(html.starts_with("<!DOCTYPE html>\n"));
    assert!(html.trim_end().ends_with("</html>"));
    let tag = Regex::new(r#"<[a-zA-Z][^>]*\s(src|href|xlink:href)="#).unwrap();
    assert!(tag.find(&html).is_none(), "no element refers to another resource: {:?}", tag.find(&html));
    for needle in ["<link", "@import", "url(", "@font-face", "<iframe", "<img"] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    assert_eq!(count(&html, "<script>"), 1);
    assert_eq!(count(&html, "<style>"), 1);
}

/// A run cut off before its agents return: their bars run open to the end, marked.
#[test]
fn unreturned_agents_are_open_ended() {
    let text = std::fs::read_to_string(repo().join("fixtures/samples/2.1.328-early-proceed.stream.jsonl")).unwrap();
    let cut: String = text.lines().take(50).map(|l| format!("{l}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cut.stream.jsonl");
    std::fs::write(&file, cut).unwrap();
    let (html, _) = page(&[file]);
    let bars = tags(&html, "data-kind=\"agent\"");
    let open: Vec<&&str> = bars.iter().filter(|t| attr(t, "class").unwrap().contains("open")).collect();
    assert_eq!(bars.len(), 6, "1 + 3 + 2 launches before line 50");
    assert_eq!(open.len(), 3, "phase 2's agents return after line 50");
    for t in &open {
        assert!(matches!(attr(t, "data-status"), Some("outstanding" | "missing")), "{t}");
    }
    assert_eq!(count(&html, "class=\"arrow\""), 3);
    assert!(html.contains(">never returned</text>") || html.contains(">no result</text>"));
}

// ---------------------------------------------------------------- browser

/// Chromium from `CHROMIUM`, else the first of the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs headless Chromium on a URL with a fresh profile; returns its stdout.
/// A browser that does not finish in time is killed and the test fails.
fn run_chromium(bin: &Path, args: &[String], url: &str) -> String {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let profile = dir.path().join("profile");
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(args)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&stdout_path).unwrap())
    .stderr(std::fs::File::create(&stderr_path).unwrap())
    .process_group(0);
    let mut child = cmd.spawn().expect("chromium starts");
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
            panic!(
                "chromium did not finish within {BROWSER_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{stderr}");
    std::fs::read_to_string(&stdout_path).unwrap()
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The width and height of a PNG from its header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24 && bytes[..8] == *b"\x89PNG\r\n\x1a\n" && bytes[12..16] == *b"IHDR", "not a PNG");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// Screenshots a page at 1600×1000; checks the PNG and returns its bytes.
fn screenshot(bin: &Path, page: &Path, fragment: &str, out: &Path) -> Vec<u8> {
    run_chromium(
        bin,
        &[format!("--screenshot={}", out.display()), "--window-size=1600,1000".into()],
        &format!("{}{fragment}", file_url(page)),
    );
    let png = std::fs::read(out).expect("chromium wrote the screenshot");
    assert_eq!(png_size(&png), (1600, 1000));
    assert!(png.len() > 40_000, "a screenshot of {} bytes is blank", png.len());
    png
}

/// Renders the page of a violating corpus run (or the bundled sample of the
/// same run) and of the 12-phase clean run in Chromium: the script wired
/// every clickable element, a fragment opens a finding's panel with its rule
/// and marked excerpt, and the screenshots are real pictures. With
/// `ORCHLINT_UPDATE_SCREENSHOTS=1` they are saved to `docs/images/`.
#[test]
fn browser_renders_timeline() {
    let Some(bin) = chromium() else {
        // .ci/run installs Chromium: in CI its absence is a failure, not a skip.
        assert!(std::env::var_os("CI").is_none(), "no chromium on PATH in CI; .ci/run installs it");
        eprintln!(
            "skipped: no chromium on PATH (set CHROMIUM=/path/to/chromium, or `apt-get install -y chromium` on Debian)"
        );
        return;
    };
    let violating =
        corpus("early-proceed").unwrap_or_else(|| repo().join("fixtures/samples/2.1.328-early-proceed.stream.jsonl"));
    let dir = tempfile::tempdir().unwrap();
    let (html, diagnostics) = page(&[violating]);
    let file = dir.path().join("early-proceed.html");
    std::fs::write(&file, &html).unwrap();

    let clickable = count(&html, " data-detail=\"");
    let markers = tags(&html, "data-kind=\"finding\"");
    assert!(!markers.is_empty());
    let wait =
        markers.iter().find(|m| attr(m, "data-rule") == Some("wait-for-agents")).expect("a wait-for-agents marker");
    let id = attr(wait, "data-detail").unwrap();

    let dom = run_chromium(&bin, &["--dump-dom".into()], &format!("{}#{id}", file_url(&file)));
    assert!(dom.contains(&format!("data-ready=\"{clickable}\"")), "the script wired {clickable} elements");
    assert_eq!(count(&dom, "data-wired=\"click\""), clickable);
    let rendered: Vec<&str> = tags(&dom, "data-kind=\"finding\"");
    assert_eq!(rendered.len(), markers.len());
    for d in diagnostics.iter().filter(|d| d.run.is_some()) {
        assert!(rendered.iter().any(|m| attr(m, "data-rule") == Some(d.rule) && m.contains("data-wired=\"click\"")));
    }
    // The fragment opened the finding's panel, as a click does.
    let panel = &dom[dom.find("<aside id=\"panel\"").expect("the panel")..];
    let panel = &panel[..panel.find("</aside>").unwrap()];
    assert!(panel.starts_with(&format!("<aside id=\"panel\" aria-live=\"polite\" data-open=\"{id}\">")), "{panel}");
    assert!(panel.contains("<code class=\"rule\">wait-for-agents</code>"), "{panel}");
    assert!(panel.contains("<mark>"), "the culprit is highlighted: {panel}");
    assert!(panel.contains("Phase 3 of 12"), "the excerpt shows the phase header: {panel}");
    assert!(tags(&dom, "class=\"finding sev-error selected\"").iter().any(|t| attr(t, "data-detail") == Some(id)));

    let update = std::env::var_os("ORCHLINT_UPDATE_SCREENSHOTS").is_some();
    let png = screenshot(&bin, &file, &format!("#{id}"), &dir.path().join("early-proceed.png"));
    if update {
        std::fs::write(repo().join("docs/images/timeline-early-proceed.png"), &png).unwrap();
    }
    if let Some(clean) = corpus("clean") {
        let (html, _) = page(&[clean]);
        let file = dir.path().join("clean.html");
        std::fs::write(&file, html).unwrap();
        let png = screenshot(&bin, &file, "", &dir.path().join("clean.png"));
        if update {
            std::fs::write(repo().join("docs/images/timeline-clean.png"), &png).unwrap();
        }
    }
}

/// Measures the laid-out page in the browser and writes the facts into the
/// DOM, for `--dump-dom`: the page's overflow, and for every run its chart's,
/// the right edge of its last phase band and of every finding marker, and
/// the scale its two SVGs are drawn at.
const MEASURE: &str = r#"<script>
(function () {
  var vw = document.documentElement.clientWidth, out = [];
  out.push("page " + vw + " " + document.documentElement.scrollWidth);
  Array.prototype.forEach.call(document.querySelectorAll("section.run"), function (run) {
    var chart = run.querySelector(".chart"), box = chart.getBoundingClientRect();
    var labels = run.querySelector("svg.labels"), plot = run.querySelector("svg.plot");
    var bands = run.querySelectorAll(".band"), last = bands[bands.length - 1];
    var right = function (el) { return Math.ceil(el.getBoundingClientRect().right); };
    var scale = function (svg) { return (svg.getBoundingClientRect().height / svg.viewBox.baseVal.height).toFixed(3); };
    out.push("run " + run.id + " chart " + chart.clientWidth + " " + chart.scrollWidth + " right " + Math.floor(box.right)
      + " last-band " + (last ? right(last) : 0) + " scales " + scale(labels) + " " + scale(plot));
    Array.prototype.forEach.call(run.querySelectorAll('[data-kind="finding"]'), function (m) {
      out.push("marker " + run.id + " " + right(m));
    });
  });
  var pre = document.createElement("pre");
  pre.id = "measure";
  pre.textContent = "\n" + out.join("\n") + "\n";
  document.body.appendChild(pre);
})();
</script>"#;

/// At a 1,400 px window the timeline fits: no sideways scrolling of the page
/// or of any chart, the last phase and every finding marker inside the
/// window, lane names and plot drawn at one scale (so their lanes line up),
/// and that scale legible.
#[test]
fn browser_timeline_fits_a_1400_px_window() {
    let Some(bin) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "no chromium on PATH in CI; .ci/run installs it");
        eprintln!("skipped: no chromium on PATH (set CHROMIUM=/path/to/chromium)");
        return;
    };
    let mut inputs = vec![
        repo().join("fixtures/samples"),
        corpus("early-proceed").unwrap_or_else(|| repo().join("fixtures/samples/2.1.328-early-proceed.stream.jsonl")),
    ];
    inputs.extend(corpus("clean"));
    let dir = tempfile::tempdir().unwrap();
    for (i, input) in inputs.iter().enumerate() {
        let (html, _) = page(std::slice::from_ref(input));
        let file = dir.path().join(format!("page{i}.html"));
        std::fs::write(&file, html.replace("</body>", &format!("{MEASURE}\n</body>"))).unwrap();
        let dom = run_chromium(&bin, &["--dump-dom".into(), "--window-size=1400,1000".into()], &file_url(&file));
        let start = dom.find("<pre id=\"measure\">").expect("the measurements") + "<pre id=\"measure\">".len();
        let text = &dom[start..start + dom[start..].find("</pre>").unwrap()];
        let mut runs = 0;
        let mut window = 0;
        let mut markers = 0;
        for line in text.lines().filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split(' ').collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
            match f[0] {
                "page" => {
                    window = num(1) as i64;
                    assert_eq!(window, 1400, "the window is 1,400 px wide: {text}");
                    assert!(num(2) <= num(1), "the page scrolls sideways: {line}");
                }
                "run" => {
                    runs += 1;
                    assert!(num(4) <= num(3), "the chart scrolls sideways: {input:?} {line}");
                    assert!(num(6) <= window as f64, "the chart goes past the window: {input:?} {line}");
                    assert!(num(8) <= num(6), "the last phase is cut off: {input:?} {line}");
                    assert!((num(10) - num(11)).abs() < 0.01, "lane names and plot at two scales: {input:?} {line}");
                    assert!(num(11) >= 0.75, "the chart is drawn too small to read: {input:?} {line}");
                }
                "marker" => {
                    markers += 1;
                    assert!(num(2) <= window as f64, "a finding marker is outside the window: {input:?} {line}");
                }
                _ => panic!("{line}"),
            }
        }
        assert!(runs > 0, "{input:?}: no run measured\n{text}");
        if i < 2 {
            assert!(markers > 0, "{input:?}: no finding marker measured\n{text}");
        }
    }
}

#[test]
fn a_finding_in_a_subagent_transcript_names_its_file() {
    let session = repo().join("fixtures/transcripts/agent-tool/invalid-v2.1-explorer-writes.jsonl");
    let (html, diagnostics) = page(&[session]);
    let d = diagnostics.iter().find(|d| d.rule == "agent-tool").expect("the fixture's agent-tool finding");
    let name = Path::new(&*d.file).file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("agent-"), "{}", d.file);
    assert!(html.contains(&format!(">{name}:{}</span>", d.line)), "the row names {name}:{}", d.line);
}
