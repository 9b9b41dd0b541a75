//! The binary MIT annotation (`.atr`) parser on arbitrary bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = anolab::data::wfdb::parse_atr(std::path::Path::new("fuzz.atr"), data);
});
