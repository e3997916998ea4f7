//! `check` of a transcript on standard input: `engine::check_bytes`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    orchlint_fuzz::transcript(data);
});
