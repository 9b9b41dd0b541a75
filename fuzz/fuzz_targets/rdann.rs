//! The `rdann` text annotation reader on arbitrary text.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = anolab::data::wfdb::parse_rdann_txt(std::path::Path::new("fuzz.txt"), &text);
});
