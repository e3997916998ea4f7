//! `rust-version` in Cargo.toml is true: it is the highest `rust-version`
//! declared by the crates the lock file builds orchlint with (normal and
//! build dependencies; dev-dependencies only matter for the tests), and the
//! README says the same.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::repo;

fn version(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

#[test]
fn rust_version_is_what_the_lock_file_needs() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let vv = Command::new(rustc).arg("-vV").output().expect("rustc -vV");
    let vv = String::from_utf8_lossy(&vv.stdout);
    let host = vv.lines().find_map(|l| l.strip_prefix("host: ")).expect("host triple").to_string();
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host])
        .current_dir(repo())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = meta["resolve"]["root"].as_str().unwrap();
    // What a build of orchlint compiles: `cargo tree` resolves features as
    // the build does (the metadata's resolve unites those of dev-dependencies).
    let tree = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tree", "--locked", "--offline", "-e", "normal,build", "--prefix", "none", "--target", &host])
        .current_dir(repo())
        .output()
        .expect("cargo tree runs");
    assert!(tree.status.success(), "{}", String::from_utf8_lossy(&tree.stderr));
    let built: BTreeSet<(String, String)> = String::from_utf8_lossy(&tree.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?.to_string(), words.next()?.trim_start_matches('v').to_string()))
        })
        .collect();
    let (needed, by) = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["id"] != root)
        .filter(|p| built.contains(&(p["name"].as_str().unwrap().into(), p["version"].as_str().unwrap().into())))
        .filter_map(|p| Some((version(p["rust_version"].as_str()?), p["id"].as_str().unwrap())))
        .max()
        .expect("some dependency declares a rust-version");
    let declared = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == root)
        .and_then(|p| p["rust_version"].as_str())
        .expect("Cargo.toml declares rust-version");
    let needed_text = needed.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
    assert_eq!(version(declared), needed, "rust-version {declared}, but {by} needs {needed_text}");
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.contains(&format!("`rust-version` {declared}")), "the README names another rust-version");
}
