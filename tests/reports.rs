//! The machine-readable output formats: SARIF (validated against the SARIF
//! 2.1.0 schema), JUnit XML, GitHub Actions workflow commands and JSON Lines.
//! Snapshots of each on the bundled samples, structure checks, and escaping
//! of hostile text.

mod common;

use std::io;
use std::sync::Arc;

use orchlint::checks::RULES;
use orchlint::diagnostic::{Diagnostic, Severity};
use orchlint::engine::{self, Options, Report};
use orchlint::report;
use orchlint::workflow::Workflows;
use serde_json::Value;

use common::{relative, repo};

type Renderer = fn(&Report, &mut dyn io::Write) -> io::Result<()>;

/// Checks paths relative to the repository root, with every rule, and gives
/// the diagnostics repository-relative file paths (as a user running
/// orchlint in the repository would see).
fn check(paths: &[&str]) -> Report {
    let paths: Vec<_> = paths.iter().map(|p| repo().join(p)).collect();
    let mut report = engine::check(&paths, &Workflows::builtin(), &Options::default()).expect("inputs exist");
    for d in &mut report.diagnostics {
        d.file = Arc::from(relative(&d.file));
    }
    report
}

fn samples() -> Report {
    check(&["fixtures/samples"])
}

fn render(renderer: Renderer, report: &Report) -> String {
    let mut out = Vec::new();
    renderer(report, &mut out).expect("rendering to memory");
    String::from_utf8(out).expect("UTF-8 output")
}

/// Text with every trap the formats must escape.
const HOSTILE_MESSAGE: &str = "100% <b>done</b> & \"quoted\", 'single' a:b\nsecond line\r\u{0}\u{1b}[31m end";
const HOSTILE_FILE: &str = "runs/my run,1:2/a&b<c>%20.jsonl";

/// A report of three hand-made diagnostics (error, warning, note) of one rule
/// in a file with a hostile name: hostile message, no span, no phase, no
/// session, run, help or subject. Built from a real diagnostic so that it
/// stays a valid `Diagnostic` whatever fields it gains.
fn hostile() -> Report {
    let base = samples().diagnostics.into_iter().next().expect("the samples have diagnostics");
    let make = |severity: Severity, line: u32, message: &str| Diagnostic {
        rule: "agent-count",
        severity,
        message: message.to_string(),
        phase: None,
        file: Arc::from(HOSTILE_FILE),
        line,
        column: 7,
        span: None,
        session: None,
        run: None,
        help: None,
        subject: None,
        fingerprint: format!("00000000000000{line:02}"),
        ..base.clone()
    };
    let mut warning = make(Severity::Warning, 2, "too many, 50% more");
    warning.phase = Some(4);
    let diagnostics =
        vec![make(Severity::Error, 1, HOSTILE_MESSAGE), warning, make(Severity::Note, 3, "note <with> & markup")];
    let mut report = Report { diagnostics, ..Report::default() };
    report.summary.errors = 1;
    report.summary.warnings = 1;
    report.summary.notes = 1;
    report
}

// ---------------------------------------------------------------- snapshots

#[test]
fn sarif_samples() {
    let text = render(report::sarif::render, &samples());
    let version = format!("\"name\": \"orchlint\",\n          \"version\": \"{}\",", env!("CARGO_PKG_VERSION"));
    assert_eq!(text.matches(&version).count(), 1, "the driver's version is the crate's");
    insta::assert_snapshot!(text.replace(&version, "\"name\": \"orchlint\",\n          \"version\": \"[version]\","));
}

#[test]
fn junit_samples() {
    insta::assert_snapshot!(render(report::junit::render, &samples()));
}

#[test]
fn github_samples() {
    insta::assert_snapshot!(render(report::github::render, &samples()));
}

#[test]
fn jsonl_samples() {
    insta::assert_snapshot!(render(report::jsonl::render, &samples()));
}

#[test]
fn renders_are_deterministic() {
    let renderers: [Renderer; 4] =
        [report::sarif::render, report::junit::render, report::github::render, report::jsonl::render];
    let (a, b) = (samples(), samples());
    assert!(!a.diagnostics.is_empty());
    for renderer in renderers {
        let text = render(renderer, &a);
        assert_eq!(text, render(renderer, &b));
        assert!(!text.contains(&*repo().to_string_lossy()), "no absolute path of the checkout:\n{text}");
    }
}

// -------------------------------------------------------------------- SARIF

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json")).expect("the schema");
    let schema: Value = serde_json::from_str(&text).expect("the schema parses");
    jsonschema::options().should_validate_formats(true).build(&schema).expect("the schema compiles")
}

fn sarif(report: &Report) -> Value {
    serde_json::from_str(&render(report::sarif::render, report)).expect("SARIF output is JSON")
}

fn schema_errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path)).collect()
}

#[test]
fn sarif_is_valid_against_the_schema() {
    let validator = sarif_validator();
    let todo = check(&["fixtures/transcripts/todo-list", "fixtures/transcripts/transcript"]);
    for (name, report) in
        [("samples", samples()), ("hostile", hostile()), ("warnings", todo), ("empty", Report::default())]
    {
        let doc = sarif(&report);
        let errors = schema_errors(&validator, &doc);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn sarif_schema_rejects_broken_documents() {
    let validator = sarif_validator();
    let good = sarif(&samples());
    assert!(validator.is_valid(&good));
    type Breaker = fn(&mut Value);
    let breakers: [(&str, Breaker); 6] = [
        ("no version", |d| {
            d.as_object_mut().unwrap().remove("version");
        }),
        ("wrong version", |d| d["version"] = "2.0.0".into()),
        ("no driver name", |d| {
            d["runs"][0]["tool"]["driver"].as_object_mut().unwrap().remove("name");
        }),
        ("no result message", |d| {
            d["runs"][0]["results"][0].as_object_mut().unwrap().remove("message");
        }),
        ("unknown level", |d| d["runs"][0]["results"][0]["level"] = "fatal".into()),
        ("line 0", |d| {
            d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into()
        }),
    ];
    for (what, breaker) in breakers {
        let mut doc = good.clone();
        breaker(&mut doc);
        assert_ne!(doc, good, "{what}: the breaker changed nothing");
        assert!(!validator.is_valid(&doc), "{what}: a broken document passed validation");
    }
}

#[test]
fn sarif_describes_every_rule() {
    let doc = sarif(&Report::default());
    assert_eq!(doc["$schema"], "https://json.schemastore.org/sarif-2.1.0.json");
    assert_eq!(doc["version"], "2.1.0");
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["results"], Value::Array(Vec::new()));
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "orchlint");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), RULES.len());
    for (rule, desc) in RULES.iter().zip(rules) {
        assert_eq!(desc["id"], rule.id);
        assert_eq!(desc["shortDescription"]["text"], rule.summary);
        assert_eq!(desc["help"]["text"], rule.doc);
        assert_eq!(desc["help"]["markdown"], rule.doc);
        assert_eq!(desc["helpUri"], format!("{}{}.md", report::sarif::RULE_DOC_BASE, rule.id));
        assert!(repo().join(format!("docs/rules/{}.md", rule.id)).is_file(), "{} has a doc page", rule.id);
        assert_eq!(desc["defaultConfiguration"]["level"], rule.severity.as_str());
        let name = desc["name"].as_str().unwrap();
        assert_eq!(name.to_lowercase(), rule.id.replace('-', ""), "{name}");
        assert!(name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.contains('-'), "{name}");
        let full = desc["fullDescription"]["text"].as_str().unwrap();
        assert!(!full.is_empty() && !full.contains("\n## ") && !full.contains("## Why"), "{}: {full}", rule.id);
        let first_words: String = full.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
        let section = rule.doc.split("## What it checks").nth(1).unwrap().split("\n## ").next().unwrap();
        assert!(section.split_whitespace().collect::<Vec<_>>().join(" ").starts_with(&first_words), "{}", rule.id);
    }
    let name = |id: &str| rules.iter().find(|r| r["id"] == id).map(|r| r["name"].clone());
    assert_eq!(name("wait-for-agents"), Some("WaitForAgents".into()), "UpperCamelCase of the id");
    assert_eq!(name("transcript"), Some("Transcript".into()));
}

#[test]
fn sarif_results_match_the_diagnostics() {
    let report = samples();
    let doc = sarif(&report);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report.diagnostics.len());
    let rules = doc["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for (d, r) in report.diagnostics.iter().zip(results) {
        assert_eq!(r["ruleId"], d.rule);
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], d.rule);
        assert_eq!(r["level"], d.severity.as_str());
        assert_eq!(r["message"]["text"], d.message.as_str());
        assert_eq!(r["partialFingerprints"]["orchlint/v1"], d.fingerprint.as_str());
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], &*d.file, "sample paths need no encoding");
        let region = &loc["region"];
        assert_eq!(region["startLine"], d.line);
        assert_eq!(region["startColumn"], d.column);
        let props = &r["properties"];
        assert_eq!(props["phase"], serde_json::to_value(d.phase).unwrap());
        assert_eq!(props["session"], serde_json::to_value(&d.session).unwrap());
        assert_eq!(props["run"], serde_json::to_value(d.run).unwrap());
        assert_eq!(props["subject"], serde_json::to_value(&d.subject).unwrap());
        // The byte region is the culprit: on the start line, at the start column.
        let [start, end] = d.span.expect("sample diagnostics have spans");
        assert_eq!(region["byteOffset"], start);
        assert_eq!(region["byteLength"], end - start);
        let bytes = std::fs::read(repo().join(&*d.file)).unwrap();
        let (start, end) = (start as usize, end as usize);
        assert!(end <= bytes.len() && !bytes[start..end].contains(&b'\n'), "{}:{}", d.file, d.line);
        let line_start = bytes[..start].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        assert_eq!(bytes[..start].iter().filter(|&&b| b == b'\n').count() as u32 + 1, d.line);
        assert_eq!(String::from_utf8_lossy(&bytes[line_start..start]).chars().count() as u32 + 1, d.column);
    }
    // Every kind of property the samples have is there at least once.
    for key in ["phase", "session", "run", "subject"] {
        assert!(results.iter().any(|r| !r["properties"][key].is_null()), "no result has {key}");
    }
}

#[test]
fn sarif_omits_what_a_diagnostic_lacks_and_encodes_paths() {
    let doc = sarif(&hostile());
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let first = &results[0];
    assert_eq!(first["message"]["text"], HOSTILE_MESSAGE);
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "runs/my%20run%2C1%3A2/a%26b%3Cc%3E%2520.jsonl");
    let mut keys: Vec<&str> = loc["region"].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["startColumn", "startLine"], "no span: no byte region");
    assert!(first.get("properties").is_none(), "no phase, session, run or subject: no properties: {first}");
    assert_eq!(results[1]["properties"], serde_json::json!({ "phase": 4 }));
    let levels: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["error", "warning", "note"]);
}

// -------------------------------------------------------------------- JUnit

fn junit(report: &Report) -> String {
    render(report::junit::render, report)
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name).unwrap_or_else(|| panic!("<{}> has {name}", node.tag_name().name()))
}

fn count(node: roxmltree::Node, name: &str) -> usize {
    attr(node, name).parse().unwrap()
}

#[test]
fn junit_has_a_case_per_file_and_rule() {
    let report = check(&["fixtures/samples", "fixtures/transcripts/todo-list/invalid-v2.1-three-todos.jsonl"]);
    let xml = junit(&report);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    let mut files: Vec<&str> = report.diagnostics.iter().map(|d| &*d.file).collect();
    files.dedup();
    assert_eq!(suites.iter().map(|s| attr(*s, "name")).collect::<Vec<_>>(), files);
    let mut failures = 0;
    for suite in &suites {
        let file = attr(*suite, "name");
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(count(*suite, "tests"), RULES.len());
        assert_eq!(cases.iter().map(|c| attr(*c, "name")).collect::<Vec<_>>(), orchlint::checks::rule_ids());
        let mut failed = 0;
        for case in &cases {
            assert_eq!(attr(*case, "classname"), file);
            let rule = attr(*case, "name");
            let diags: Vec<&Diagnostic> =
                report.diagnostics.iter().filter(|d| &*d.file == file && d.rule == rule).collect();
            let line = |d: &&Diagnostic| {
                // The phase in force, unless the message names it already.
                let phase = d
                    .phase
                    .filter(|p| !d.message.contains(&format!("phase {p}")))
                    .map(|p| format!(" (phase {p})"))
                    .unwrap_or_default();
                format!("{}:{}: {}: {}{phase}\n", d.line, d.column, d.severity.as_str(), d.message)
            };
            let failing: String = diags.iter().filter(|d| d.severity != Severity::Note).map(line).collect();
            let notes: String = diags.iter().filter(|d| d.severity == Severity::Note).map(line).collect();
            let failure = case.children().find(|n| n.has_tag_name("failure"));
            let out = case.children().find(|n| n.has_tag_name("system-out"));
            assert_eq!(failure.and_then(|f| f.text()).unwrap_or(""), failing, "{file} {rule}");
            assert_eq!(out.and_then(|f| f.text()).unwrap_or(""), notes, "{file} {rule}");
            if let Some(failure) = failure {
                failed += 1;
                assert_eq!(attr(failure, "type"), rule);
                assert!(attr(failure, "message").contains(orchlint::checks::rule(rule).unwrap().summary));
            }
        }
        assert_eq!(count(*suite, "failures"), failed, "{file}");
        assert_eq!(count(*suite, "errors"), 0);
        failures += failed;
    }
    assert_eq!(count(root, "tests"), RULES.len() * suites.len());
    assert_eq!(count(root, "failures"), failures);
    // The samples have errors and notes, the todo-list fixture a warning.
    assert!(xml.contains(": warning: the todo list covers 3 of 12 phases"), "{xml}");
    assert!(xml.contains("message=\"1 warning: the todo phase creates a todo list"), "{xml}");
    assert!(xml.contains("<system-out>") && xml.contains(": note: "), "{xml}");
}

#[test]
fn junit_lists_clean_files_given() {
    let clean = "fixtures/transcripts/agent-count/valid-v2.0-clean.jsonl";
    let report = check(&[clean, "fixtures/transcripts/todo-list/invalid-v2.1-three-todos.jsonl"]);
    assert!(report.diagnostics.iter().all(|d| &*d.file != clean), "the clean file is clean");
    let without = junit(&report);
    assert!(!without.contains(clean));
    let mut out = Vec::new();
    report::junit::render_with_files(&report, &[clean], &mut out).unwrap();
    let xml = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(clean)).unwrap();
    assert_eq!((count(suite, "tests"), count(suite, "failures")), (RULES.len(), 0));
    assert_eq!(suite.descendants().filter(|n| n.has_tag_name("testcase")).count(), RULES.len());
    assert!(!suite.descendants().any(|n| n.has_tag_name("failure") || n.has_tag_name("system-out")));
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("testsuite")).count(), 2);
    // Naming a file that has diagnostics does not duplicate its suite.
    let mut again = Vec::new();
    report::junit::render_with_files(&report, &[clean.to_string(), report.diagnostics[0].file.to_string()], &mut again)
        .unwrap();
    assert_eq!(String::from_utf8(again).unwrap(), xml);
}

#[test]
fn junit_escapes_hostile_text() {
    let xml = junit(&hostile());
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("well-formed XML: {e}\n{xml}"));
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!(attr(suite, "name"), HOSTILE_FILE);
    let case = suite.children().find(|n| n.attribute("name") == Some("agent-count")).unwrap();
    assert_eq!(attr(case, "classname"), HOSTILE_FILE);
    let failure = case.children().find(|n| n.has_tag_name("failure")).unwrap();
    // Control characters are removed; everything else, \r included, survives.
    let clean = HOSTILE_MESSAGE.replace(['\u{0}', '\u{1b}'], "");
    assert_eq!(failure.text().unwrap(), format!("1:7: error: {clean}\n2:7: warning: too many, 50% more (phase 4)\n"));
    assert_eq!(attr(failure, "message"), "1 error, 1 warning: each phase launches its number of agents of each type");
    let out = case.children().find(|n| n.has_tag_name("system-out")).unwrap();
    assert_eq!(out.text().unwrap(), "3:7: note: note <with> & markup\n");
    // The raw bytes: entities, no raw markup from the input, no control characters.
    assert!(xml.contains(r#"name="runs/my run,1:2/a&amp;b&lt;c&gt;%20.jsonl""#), "{xml}");
    assert!(
        xml.contains("100% &lt;b&gt;done&lt;/b&gt; &amp; \"quoted\", 'single' a:b\nsecond line&#13;[31m end"),
        "{xml}"
    );
    let message = r#"message="1 error, 1 warning: each phase launches its number of agents of each type""#;
    assert!(xml.contains(message), "{xml}");
    assert!(!xml.contains('\u{0}') && !xml.contains('\u{1b}') && !xml.contains('\r'));
    assert!(!xml.contains("<b>") && !xml.contains("<with>"));
}

// ------------------------------------------------------------------- GitHub

#[test]
fn github_commands_per_diagnostic() {
    let report = samples();
    let text = render(report::github::render, &report);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), report.diagnostics.len());
    for (d, line) in report.diagnostics.iter().zip(lines) {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let expected = format!(
            "::{command} file={},line={},col={},title=orchlint({})::{}",
            d.file, d.line, d.column, d.rule, d.message
        );
        assert_eq!(line, expected);
    }
}

#[test]
fn github_escapes_hostile_text() {
    let text = render(report::github::render, &hostile());
    let expected = [
        "::error file=runs/my run%2C1%3A2/a&b<c>%2520.jsonl,line=1,col=7,title=orchlint(agent-count)::\
         100%25 <b>done</b> & \"quoted\", 'single' a:b%0Asecond line%0D\u{0}\u{1b}[31m end",
        "::warning file=runs/my run%2C1%3A2/a&b<c>%2520.jsonl,line=2,col=7,title=orchlint(agent-count)::\
         too many, 50%25 more",
        "::notice file=runs/my run%2C1%3A2/a&b<c>%2520.jsonl,line=3,col=7,title=orchlint(agent-count)::\
         note <with> & markup",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    assert_eq!(text.matches('\n').count(), 3, "one line per diagnostic: newlines in messages are escaped");
    assert_eq!(report::github::escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
    assert_eq!(report::github::escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
}

// -------------------------------------------------------------- JSON Lines

#[test]
fn jsonl_lines_equal_the_json_documents_diagnostics() {
    for report in [samples(), hostile(), check(&["fixtures/transcripts/transcript"])] {
        let json: Value = serde_json::from_str(&render(report::json::render, &report)).unwrap();
        let expected = json["diagnostics"].as_array().unwrap();
        assert!(!expected.is_empty());
        let text = render(report::jsonl::render, &report);
        assert!(text.ends_with('\n'));
        let lines: Vec<Value> = text
            .split_terminator('\n')
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        assert_eq!(&lines, expected);
    }
    assert_eq!(render(report::jsonl::render, &Report::default()), "");
}
