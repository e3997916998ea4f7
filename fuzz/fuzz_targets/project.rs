//! A project folder (session file and a subagent file, split at the first
//! 0xFF byte) read as `check`, `inspect` and `serve --replay` read it.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    orchlint_fuzz::project(data);
});
