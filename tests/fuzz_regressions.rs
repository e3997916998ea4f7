//! The inputs the fuzz targets (`fuzz/`) found crashing, kept in
//! `fuzz/regressions/<target>/`, run through the same calls as the targets.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

fn each_input(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panics", path.display());
    }
}

#[test]
fn transcript_inputs() {
    each_input("transcript", targets::transcript);
}

#[test]
fn project_inputs() {
    each_input("project", targets::project);
}

#[test]
fn rules_inputs() {
    each_input("rules", targets::rules);
}

#[test]
fn config_inputs() {
    each_input("config", targets::config);
}

#[test]
fn trace_inputs() {
    each_input("trace", targets::trace);
}

#[test]
fn cassette_inputs() {
    each_input("cassette", targets::cassette);
}

#[test]
fn serve_request_inputs() {
    each_input("serve_request", targets::serve_request);
}

#[test]
fn guard_input_inputs() {
    each_input("guard_input", targets::guard_input);
}

#[test]
fn every_target_has_its_regression_folder_and_its_test() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    let this = std::fs::read_to_string(file!()).unwrap();
    for name in manifest.lines().filter_map(|l| l.strip_prefix("name = \"")).map(|n| n.trim_end_matches('"')) {
        if name == "orchlint-fuzz" {
            continue;
        }
        assert!(fuzz.join("regressions").join(name).is_dir(), "fuzz/regressions/{name}/ is missing");
        assert!(this.contains(&format!("each_input(\"{name}\"")), "no test runs fuzz/regressions/{name}/");
    }
}
