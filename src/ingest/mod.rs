//! File formats → events with source locations.

pub mod blocks;
pub mod discover;
pub mod guard_log;
pub mod input;
pub mod known;
pub mod lines;
pub mod raw;
pub mod stream;
pub mod subagent;
pub mod transcript;
