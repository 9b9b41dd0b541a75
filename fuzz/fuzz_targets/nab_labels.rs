//! The NAB label file (JSON: signal → [start, end] timestamps) and its timestamps, on
//! arbitrary text; the signal looked up is the first key the text names, or `s`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let signal = text
        .split('"')
        .nth(1)
        .unwrap_or("s")
        .to_string();
    let _ = anolab::data::nab::parse_label_windows(std::path::Path::new("labels.json"), &text, &signal);
    let _ = anolab::data::nab::parse_timestamp(&text);
});
