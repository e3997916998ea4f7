//! The rule registry is complete: every rule has documentation, a section in
//! the rules file, fixtures both ways in at least two generations, and a unique id.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{fixtures, manifest, repo};
use orchlint::checks::RULES;
use orchlint::workflow::{Workflows, DEFAULT_RULES};

#[test]
fn rule_ids_are_unique_and_kebab_case() {
    let mut seen = BTreeSet::new();
    for rule in RULES {
        assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
        assert!(
            rule.id.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !rule.id.starts_with('-'),
            "rule id {} is not kebab-case",
            rule.id
        );
    }
}

#[test]
fn the_rules_spec_ids_are_all_implemented() {
    let spec = [
        "phase-announcement",
        "phase-order",
        "agent-count",
        "agent-type",
        "agent-namespace",
        "parallel-launch",
        "sequential-steps",
        "wait-for-agents",
        "forbidden-tool",
        "agent-tool",
        "read-policy",
        "approval-gate",
        "approach-selection",
        "todo-list",
        "capsule",
        "incomplete-run",
        "transcript",
    ];
    let ids: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(ids, spec.into_iter().collect());
}

#[test]
fn every_rule_has_its_documentation_file_as_explain_text() {
    for rule in RULES {
        let path = repo().join(format!("docs/rules/{}.md", rule.id));
        let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing", path.display()));
        assert_eq!(rule.doc, on_disk, "explain text of {} differs from {}", rule.id, path.display());
        for section in ["## What it checks", "## Why", "## Example", "## How to fix"] {
            assert!(on_disk.contains(section), "{} lacks a `{section}` section", path.display());
        }
        assert!(on_disk.starts_with(&format!("# {}\n", rule.id)), "{} must start with its id", path.display());
    }
}

#[test]
fn every_rule_a_bundled_workflow_uses_has_help_in_its_rules_file() {
    for wf in Workflows::builtin().iter() {
        for rule in RULES.iter().filter(|r| wf.uses(r.id)) {
            let help =
                wf.help_for(rule.id).unwrap_or_else(|| panic!("[help] of {} has no entry for {}", wf.name, rule.id));
            assert!(!help.trim().is_empty());
        }
    }
    assert!(DEFAULT_RULES.contains("[help]"));
}

#[test]
fn every_rule_has_fixtures_both_ways_in_two_generations() {
    let mut seen: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    let manifest = manifest();
    for f in &manifest {
        assert!(fixtures().join(&f.file).is_file(), "{} is listed but missing", f.file);
        assert!(RULES.iter().any(|r| r.id == f.rule), "{} names unknown rule {}", f.file, f.rule);
        let kind = if f.kind == "valid" { "valid" } else { "invalid" };
        let rule = RULES.iter().find(|r| r.id == f.rule).unwrap().id;
        seen.entry((rule, kind)).or_default().insert(f.generation.clone());
    }
    for rule in RULES {
        for kind in ["valid", "invalid"] {
            let generations = seen.get(&(rule.id, kind)).cloned().unwrap_or_default();
            assert!(generations.len() >= 2, "{} has {kind} fixtures in {generations:?} only", rule.id);
        }
    }
    // Every file in the fixture folders is in the manifest (nothing untested).
    let listed: BTreeSet<String> = manifest.iter().map(|f| f.file.clone()).collect();
    for rule in RULES {
        let dir = fixtures().join(rule.id);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            // A folder beside a session fixture holds its subagent transcripts.
            let listed_as = if entry.path().is_dir() { format!("{name}.jsonl") } else { name.clone() };
            assert!(listed.contains(&format!("{}/{listed_as}", rule.id)), "{}/{name} is not in manifest.json", rule.id);
        }
    }
}

/// Errors are typed, so their codes and help reach the user: no library
/// function returns a bare `String` as its error.
#[test]
fn no_function_returns_a_string_error() {
    let pattern = regex::Regex::new(r"Result<[^,]*, String>").unwrap();
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new("src").sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for (n, line) in text.lines().enumerate() {
                if pattern.is_match(line) {
                    found.push(format!("{}:{}: {}", entry.path().display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "String errors:\n{}", found.join("\n"));
}
