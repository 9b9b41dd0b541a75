//! The `.npy` parser on arbitrary bytes: an error or an array, never a panic or a huge
//! allocation.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = anolab::data::npy::parse(std::path::Path::new("fuzz.npy"), data);
});
