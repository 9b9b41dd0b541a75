//! The `.npz` (zip, stored or deflated) reader on arbitrary bytes, member `x`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = anolab::data::npy::parse_npz(std::path::Path::new("fuzz.npz:x"), data, "x");
});
