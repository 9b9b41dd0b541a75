//! The format-212 signal decoder with a header parsed from the same input: the text up
//! to the first NUL byte is the `.hea`, the bytes after it the `.dat`.
#![no_main]
use std::path::Path;
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some(split) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let text = String::from_utf8_lossy(&data[..split]);
    let Ok(header) = anolab::data::wfdb::parse_header(Path::new("fuzz.hea"), &text) else {
        return;
    };
    let _ = anolab::data::wfdb::decode_212(Path::new("fuzz.dat"), &header, &data[split + 1..]);
});
