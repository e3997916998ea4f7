//! orchlint: checks recorded Claude Code orchestrator transcripts against
//! delegation rules.
//!
//! The pipeline, one module a stage: [`ingest`] (file formats → events with
//! source locations) → [`model`] (launches, returns, runs, phases) →
//! [`checks`] (one file per rule) → [`report`] (one file per output format).
//! [`engine`] drives it; [`workflow`] is the rules file.

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod baseline;
pub mod cassette;
pub mod checks;
pub mod config;
pub mod diagnostic;
pub mod diff;
pub mod engine;
pub mod guard;
pub mod ingest;
pub mod merge;
pub mod model;
pub mod outcome;
pub mod replay;
pub mod report;
pub mod serve;
pub mod settings;
pub mod shard;
pub mod words;
pub mod workflow;
