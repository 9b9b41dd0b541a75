//! The delimited-text table reader (NAB CSV, digits, UCR, users' CSV) on arbitrary
//! text; the first byte picks the delimiter and whether there is a header.
#![no_main]
use anolab::data::csv::{Delimiter, Table};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let delimiter = match mode % 3 {
        0 => Delimiter::Comma,
        1 => Delimiter::Tab,
        _ => Delimiter::Whitespace,
    };
    let text = String::from_utf8_lossy(rest);
    if let Ok(table) = Table::parse(std::path::Path::new("fuzz.csv"), &text, delimiter, mode & 4 != 0) {
        for row in &table.rows {
            for c in 0..row.cells.len() {
                let _ = table.number(row, c);
            }
        }
    }
});
