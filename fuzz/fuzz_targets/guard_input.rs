//! `orchlint guard`'s hook input and its answer on a transcript (the hook's
//! JSON and the transcript split at the first 0xFF byte).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    orchlint_fuzz::guard_input(data);
});
