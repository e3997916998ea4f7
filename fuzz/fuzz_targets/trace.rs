#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    orchlint_fuzz::trace(data);
});
