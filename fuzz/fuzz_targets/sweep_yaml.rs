//! A sweep file and an override line on arbitrary text: load and expand (at most 1,000
//! runs), an error or a sweep, never a panic or a hang.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (yaml, line) = text.split_once("\n--\n").unwrap_or((&text, ""));
    let overrides: Vec<_> = line
        .split_whitespace()
        .filter_map(|o| anolab::config::parse_override(o).ok())
        .collect();
    let path = std::env::temp_dir().join(format!("anolab-fuzz-{}.yaml", std::process::id()));
    if std::fs::write(&path, yaml).is_ok() {
        let _ = anolab::config::load_sweep_limited(&path, &overrides, 1_000);
    }
});
