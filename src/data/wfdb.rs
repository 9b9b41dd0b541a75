//! A reader for the parts of the WFDB formats that PhysioNet's MIT-BIH Arrhythmia
//! Database uses: text headers, format-212 signal files, binary MIT annotation files
//! (`.atr`) and `rdann` text dumps of annotations.
//!
//! Anything outside that subset (another signal format, multi-segment records, signals
//! spread over several files) is refused with an error naming the file and line rather
//! than read approximately.

use std::fs;
use std::path::{Path, PathBuf};

use super::DataError;

/// A parsed WFDB header (`NNN.hea`).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The header file this was read from, kept for error messages.
    pub path: PathBuf,
    /// Record name from the record line, e.g. "100".
    pub record: String,
    /// Sampling frequency in Hz.
    pub fs: f64,
    /// Samples per signal.
    pub n_samples: usize,
    /// One entry per signal line, in channel order.
    pub signals: Vec<Signal>,
    /// The text of the `#` comment lines (age, sex, medication), without the `#`.
    pub comments: Vec<String>,
}

/// One signal line of a header.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// Signal file name, relative to the header's folder.
    pub file: String,
    /// Storage format; this reader supports only 212.
    pub format: u32,
    /// ADC gain in adu per physical unit (mV for MIT-BIH).
    pub gain: f64,
    /// ADC resolution in bits.
    pub adc_resolution: u32,
    /// The adu value that corresponds to 0 physical units.
    pub adc_zero: i32,
    /// The first sample, stored so readers can check they decode correctly.
    pub init_value: i32,
    /// The 16-bit sum of all samples, stored for the same reason.
    pub checksum: i16,
    /// Block size (0 for MIT-BIH: the file is one stream).
    pub block_size: u32,
    /// Lead or signal description, e.g. "MLII".
    pub description: String,
}

impl Signal {
    /// Converts a digital sample to physical units: `(adu − adc_zero) / gain`.
    pub fn to_physical(&self, adu: i16) -> f64 {
        (f64::from(adu) - f64::from(self.adc_zero)) / self.gain
    }
}

impl Header {
    /// The channel whose description is `lead`, if any.
    pub fn channel(&self, lead: &str) -> Option<usize> {
        self.signals.iter().position(|s| s.description == lead)
    }
}

/// Reads a WFDB header. Accepts CRLF or LF line endings, a missing final newline,
/// blank lines and `#` comment lines.
pub fn read_header(path: &Path) -> Result<Header, DataError> {
    let text = read_text(path)?;
    parse_header(path, &text)
}

/// [`read_header`] on `text`, the content of `path` (named in errors); also the fuzz
/// target's entry.
pub fn parse_header(path: &Path, text: &str) -> Result<Header, DataError> {
    let line_err = |line: usize, problem: String| DataError::Line {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut comments = Vec::new();
    let mut record_line: Option<(String, usize, f64, usize)> = None;
    let mut signals = Vec::new();
    // `str::lines` strips both "\n" and "\r\n" and does not need a final newline.
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if let Some(comment) = line.strip_prefix('#') {
            comments.push(comment.trim().to_string());
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        match &record_line {
            None => {
                record_line = Some(parse_record_line(&fields).map_err(|p| line_err(line_no, p))?)
            }
            Some((_, n_signals, _, _)) => {
                if signals.len() == *n_signals {
                    return Err(line_err(
                        line_no,
                        format!("more signal lines than the {n_signals} the record line announces"),
                    ));
                }
                signals.push(parse_signal_line(line, &fields).map_err(|p| line_err(line_no, p))?);
            }
        }
    }
    let Some((record, n_signals, fs, n_samples)) = record_line else {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: "no record line (expected e.g. `100 2 360 650000`)".into(),
        });
    };
    if signals.len() != n_signals {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: format!(
                "the record line announces {n_signals} signals but {} signal lines follow",
                signals.len()
            ),
        });
    }
    // A header for another record (a renamed or mixed-up file) would otherwise be read
    // against the wrong signal and annotation files without complaint.
    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
        if stem != record {
            return Err(DataError::Content {
                path: path.to_path_buf(),
                problem: format!("the record line names record {record}, not {stem}"),
            });
        }
    }
    Ok(Header {
        path: path.to_path_buf(),
        record,
        fs,
        n_samples,
        signals,
        comments,
    })
}

/// `NNN 2 360 650000`: record name, number of signals, sampling frequency, samples.
fn parse_record_line(fields: &[&str]) -> Result<(String, usize, f64, usize), String> {
    let [record, n_signals, fs, n_samples] = fields else {
        return Err(format!(
            "record line has {} fields; expected exactly 4: `name signals frequency samples`",
            fields.len()
        ));
    };
    if record.contains('/') {
        return Err(format!("multi-segment record `{record}` is not supported"));
    }
    let n_signals: usize = parse_field(n_signals, "number of signals")?;
    let fs: f64 = parse_field(fs, "sampling frequency")?;
    let n_samples: usize = parse_field(n_samples, "number of samples")?;
    if n_signals == 0 {
        return Err("record has no signals".into());
    }
    if !(fs.is_finite() && fs > 0.0) {
        return Err(format!("sampling frequency {fs} is not a positive number"));
    }
    if n_samples == 0 {
        return Err("number of samples is 0 (unknown lengths are not supported)".into());
    }
    Ok((record.to_string(), n_signals, fs, n_samples))
}

/// `NNN.dat 212 200 11 1024 <init> <checksum> 0 <description>`.
fn parse_signal_line(line: &str, fields: &[&str]) -> Result<Signal, String> {
    if fields.len() < 9 {
        return Err(format!(
            "signal line has {} fields; expected `file format gain resolution zero init checksum blocksize description`",
            fields.len()
        ));
    }
    if fields[1] != "212" {
        return Err(format!(
            "signal format `{}` is not supported; only format 212 is read",
            fields[1]
        ));
    }
    let gain: f64 = parse_field(fields[2], "ADC gain")?;
    if !(gain.is_finite() && gain > 0.0) {
        return Err(format!("ADC gain {gain} is not a positive number"));
    }
    // The description is the rest of the line and may contain spaces.
    let description = nth_field_onwards(line, 8);
    Ok(Signal {
        file: fields[0].to_string(),
        format: 212,
        gain,
        adc_resolution: parse_field(fields[3], "ADC resolution")?,
        adc_zero: parse_field(fields[4], "ADC zero")?,
        init_value: parse_field(fields[5], "initial value")?,
        checksum: parse_field(fields[6], "checksum")?,
        block_size: parse_field(fields[7], "block size")?,
        description: description.to_string(),
    })
}

/// The text of `line` from its `n`-th whitespace-separated field (0-based) to the end.
fn nth_field_onwards(line: &str, n: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.trim_end()
}

fn parse_field<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse().map_err(|_| {
        format!(
            "{what} `{text}` is not a valid {}",
            std::any::type_name::<T>()
        )
    })
}

/// Reads every signal of a record stored in format 212, one `Vec` of adu per channel.
///
/// Checks the file size against `n_samples × signals`, and each channel's first sample
/// and 16-bit checksum against the header, so a truncated, padded or mis-decoded file
/// is an error rather than silently wrong data.
pub fn read_signals(dir: &Path, header: &Header) -> Result<Vec<Vec<i16>>, DataError> {
    let file = &header.signals[0].file;
    if let Some(other) = header.signals.iter().find(|s| &s.file != file) {
        return Err(DataError::Content {
            path: header.path.clone(),
            problem: format!(
                "signals are stored in several files ({file}, {}); only one file per record is supported",
                other.file
            ),
        });
    }
    let path = dir.join(file);
    let bytes = fs::read(&path).map_err(|cause| DataError::Io {
        path: path.clone(),
        cause,
    })?;
    decode_212(&path, header, &bytes)
}

/// [`read_signals`] on the bytes of the signal file `path`.
pub fn decode_212(path: &Path, header: &Header, bytes: &[u8]) -> Result<Vec<Vec<i16>>, DataError> {
    let path = path.to_path_buf();
    let n_channels = header.signals.len();
    let total = header.n_samples * n_channels;
    // Two 12-bit samples per 3 bytes; an odd final sample takes 2 bytes.
    let expected_len = total / 2 * 3 + total % 2 * 2;
    if bytes.len() != expected_len {
        return Err(DataError::Content {
            path,
            problem: format!(
                "file has {} bytes but the header ({} samples × {n_channels} signals in format 212) implies {expected_len}",
                bytes.len(),
                header.n_samples
            ),
        });
    }
    let mut channels = vec![Vec::with_capacity(header.n_samples); n_channels];
    // Samples are interleaved frame by frame; consecutive pairs of the interleaved
    // stream share 3 bytes: s0 = b0 | (b1 & 0x0F) << 8, s1 = b2 | (b1 & 0xF0) << 4.
    let mut k = 0;
    let mut push = |value: u16| {
        // Sign-extend 12 bits by shifting into the top of an i16 and back.
        channels[k % n_channels].push(((value << 4) as i16) >> 4);
        k += 1;
    };
    let mut chunks = bytes.chunks_exact(3);
    for c in &mut chunks {
        push(u16::from(c[0]) | (u16::from(c[1]) & 0x0F) << 8);
        push(u16::from(c[2]) | (u16::from(c[1]) & 0xF0) << 4);
    }
    if let [b0, b1] = chunks.remainder() {
        push(u16::from(*b0) | (u16::from(*b1) & 0x0F) << 8);
    }
    for (i, (spec, samples)) in header.signals.iter().zip(&channels).enumerate() {
        let Some(&first) = samples.first() else {
            return Err(DataError::Content {
                path,
                problem: "the header declares no samples".into(),
            });
        };
        let first = i32::from(first);
        if first != spec.init_value {
            return Err(DataError::Content {
                path,
                problem: format!(
                    "signal {i} ({}): first sample is {first} but the header says {}",
                    spec.description, spec.init_value
                ),
            });
        }
        let sum = samples.iter().fold(0i16, |acc, &s| acc.wrapping_add(s));
        if sum != spec.checksum {
            return Err(DataError::Content {
                path,
                problem: format!(
                    "signal {i} ({}): checksum is {sum} but the header says {}",
                    spec.description, spec.checksum
                ),
            });
        }
    }
    Ok(channels)
}

/// One annotation, with the fields `rdann` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// 0-based sample index into the signal file.
    pub sample: usize,
    /// Annotation type as its WFDB mnemonic, e.g. "N", "V", "+".
    pub symbol: String,
    pub subtype: i32,
    pub chan: i32,
    pub num: i32,
    /// Auxiliary text, e.g. a rhythm such as "(AFIB" on `+` annotations.
    pub aux: Option<String>,
}

/// The standard WFDB annotation codes (`ecgcodes.h`) and their mnemonics.
const SYMBOLS: [(u16, &str); 39] = [
    (1, "N"),
    (2, "L"),
    (3, "R"),
    (4, "a"),
    (5, "V"),
    (6, "F"),
    (7, "J"),
    (8, "A"),
    (9, "S"),
    (10, "E"),
    (11, "j"),
    (12, "/"),
    (13, "Q"),
    (14, "~"),
    (16, "|"),
    (18, "s"),
    (19, "T"),
    (20, "*"),
    (21, "D"),
    (22, "\""),
    (23, "="),
    (24, "p"),
    (25, "B"),
    (26, "^"),
    (27, "t"),
    (28, "+"),
    (29, "u"),
    (30, "?"),
    (31, "!"),
    (32, "["),
    (33, "]"),
    (34, "e"),
    (35, "n"),
    (36, "@"),
    (37, "x"),
    (38, "f"),
    (39, "("),
    (40, ")"),
    (41, "r"),
];

fn code_symbol(code: u16) -> Option<&'static str> {
    SYMBOLS.iter().find(|(c, _)| *c == code).map(|(_, s)| *s)
}

// Pseudo-annotation codes of the MIT format.
const SKIP: u16 = 59;
const NUM: u16 = 60;
const SUB: u16 = 61;
const CHN: u16 = 62;
const AUX: u16 = 63;

/// Reads a binary MIT-format annotation file (`.atr`).
///
/// The file is a stream of little-endian 16-bit words: annotation type code in the top
/// 6 bits, time since the previous annotation in the low 10. SKIP carries a longer
/// interval in the next two words (PDP-11 order: high word first); SUB, CHN, NUM and
/// AUX modify the annotation just read (CHN and NUM also carry over to later
/// annotations, as in WFDB's `getann`); a zero word ends the file.
pub fn read_atr(path: &Path) -> Result<Vec<Annotation>, DataError> {
    let bytes = fs::read(path).map_err(|cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    parse_atr(path, &bytes)
}

/// [`read_atr`] on `bytes`, the content of `path` (named in errors); also the fuzz
/// target's entry.
pub fn parse_atr(path: &Path, bytes: &[u8]) -> Result<Vec<Annotation>, DataError> {
    let err = |offset: usize, problem: String| DataError::Bytes {
        path: path.to_path_buf(),
        offset: offset as u64,
        problem,
    };
    let word_at = |offset: usize| -> Result<u16, DataError> {
        match bytes.get(offset..offset + 2) {
            Some(w) => Ok(u16::from_le_bytes([w[0], w[1]])),
            None => Err(err(
                offset,
                "file ends without the terminating zero word".into(),
            )),
        }
    };
    let mut annotations: Vec<Annotation> = Vec::new();
    let mut time: i64 = 0;
    let (mut chan, mut num) = (0, 0);
    let mut pos = 0;
    loop {
        let word = word_at(pos)?;
        let (code, data) = (word >> 10, word & 0x3FF);
        let start = pos;
        pos += 2;
        // WFDB stores the modifier fields in C chars: subtype and num signed, chan
        // unsigned, so only the low byte of the 10-bit field counts.
        let low_byte = (data & 0xFF) as u8;
        match code {
            0 if data == 0 => break,
            0 => {
                return Err(err(
                    start,
                    format!("annotation code 0 with time delta {data}"),
                ))
            }
            SKIP => {
                let high = word_at(pos)?;
                let low = word_at(pos + 2)?;
                pos += 4;
                time += i64::from(((u32::from(high) << 16) | u32::from(low)) as i32);
            }
            NUM | SUB | CHN | AUX => {
                let Some(last) = annotations.last_mut() else {
                    return Err(err(
                        start,
                        format!("modifier code {code} before any annotation"),
                    ));
                };
                match code {
                    NUM => {
                        num = i32::from(low_byte as i8);
                        last.num = num;
                    }
                    SUB => last.subtype = i32::from(low_byte as i8),
                    CHN => {
                        chan = i32::from(low_byte);
                        last.chan = chan;
                    }
                    _ => {
                        let len = usize::from(data);
                        let Some(text) = bytes.get(pos..pos + len) else {
                            return Err(err(
                                start,
                                format!("aux text of {len} bytes runs past the end of the file"),
                            ));
                        };
                        // The stored text may carry a trailing NUL; `rdann` does not print it.
                        let text: String = text
                            .iter()
                            .take_while(|&&b| b != 0)
                            .map(|&b| char::from(b)) // Latin-1, as WFDB treats aux bytes
                            .collect();
                        last.aux = Some(text);
                        pos += len + len % 2; // padded to a whole word
                    }
                }
            }
            _ => {
                let Some(symbol) = code_symbol(code) else {
                    return Err(err(
                        start,
                        format!("annotation code {code} is not in the standard WFDB table"),
                    ));
                };
                time += i64::from(data);
                let sample = usize::try_from(time)
                    .map_err(|_| err(start, format!("annotation time {time} is negative")))?;
                annotations.push(Annotation {
                    sample,
                    symbol: symbol.to_string(),
                    subtype: 0,
                    chan,
                    num,
                    aux: None,
                });
            }
        }
    }
    Ok(annotations)
}

/// Reads annotations dumped as text by PhysioNet's `rdann`: a header line
/// (`Time Sample # Type Sub Chan Num`), then one annotation per line with those six
/// whitespace-separated columns, optionally followed by a TAB and the aux text.
pub fn read_rdann_txt(path: &Path) -> Result<Vec<Annotation>, DataError> {
    parse_rdann_txt(path, &read_text(path)?)
}

/// [`read_rdann_txt`] on the text of `path`.
pub fn parse_rdann_txt(path: &Path, text: &str) -> Result<Vec<Annotation>, DataError> {
    let line_err = |line: usize, problem: String| DataError::Line {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim_start().starts_with("Time") => {}
        _ => {
            return Err(line_err(
                1,
                "expected the rdann header line `Time Sample # Type Sub Chan Num`".into(),
            ))
        }
    }
    let mut annotations = Vec::new();
    for (i, line) in lines {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let (columns, aux) = match line.split_once('\t') {
            Some((columns, aux)) => (columns, Some(aux.to_string())),
            None => (line, None),
        };
        let fields: Vec<&str> = columns.split_whitespace().collect();
        let [_time, sample, symbol, subtype, chan, num] = fields[..] else {
            return Err(line_err(
                line_no,
                format!(
                    "expected 6 columns `Time Sample# Type Sub Chan Num`, found {}",
                    fields.len()
                ),
            ));
        };
        if !SYMBOLS.iter().any(|(_, s)| *s == symbol) {
            return Err(line_err(
                line_no,
                format!("annotation type `{symbol}` is not in the standard WFDB table"),
            ));
        }
        let parse = |text: &str, what: &str| {
            parse_field::<i32>(text, what).map_err(|p| line_err(line_no, p))
        };
        annotations.push(Annotation {
            sample: parse_field(sample, "sample number").map_err(|p| line_err(line_no, p))?,
            symbol: symbol.to_string(),
            subtype: parse(subtype, "subtype")?,
            chan: parse(chan, "chan")?,
            num: parse(num, "num")?,
            aux,
        });
    }
    Ok(annotations)
}

fn read_text(path: &Path) -> Result<String, DataError> {
    let bytes = fs::read(path).map_err(|cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    String::from_utf8(bytes).map_err(|e| DataError::Bytes {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to() as u64,
        problem: "not valid UTF-8 text".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEA_100: &str = "100 2 360 650000\r\n100.dat 212 200 11 1024 995 -22131 0 MLII\r\n100.dat 212 200 11 1024 1011 20052 0 V5\r\n# 69 M 1085 1629 x1\r\n# Aldomet, Inderal\r\n";

    #[test]
    fn header_crlf_lf_and_no_final_newline_agree() {
        let path = Path::new("100.hea");
        let crlf = parse_header(path, HEA_100).unwrap();
        let lf = parse_header(path, &HEA_100.replace("\r\n", "\n")).unwrap();
        let bare = parse_header(path, HEA_100.trim_end()).unwrap();
        assert_eq!(crlf, lf);
        assert_eq!(crlf, bare);
        assert_eq!(crlf.record, "100");
        assert_eq!(crlf.fs, 360.0);
        assert_eq!(crlf.n_samples, 650_000);
        assert_eq!(crlf.signals[1].description, "V5");
        assert_eq!(crlf.signals[0].checksum, -22131);
        assert_eq!(crlf.comments, ["69 M 1085 1629 x1", "Aldomet, Inderal"]);
        assert_eq!(crlf.channel("MLII"), Some(0));
        assert_eq!(crlf.signals[0].to_physical(1224), 1.0);
    }

    fn header_error(text: &str) -> String {
        parse_header(Path::new("dir/100.hea"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn header_errors_name_file_and_line() {
        let e = header_error(&HEA_100.replace(" 212 200 11 1024 1011", " 16 200 11 1024 1011"));
        assert!(e.starts_with("dir/100.hea:3:"), "{e}");
        assert!(e.contains("format `16`"), "{e}");
        let e = header_error("100 2 360\n");
        assert!(e.starts_with("dir/100.hea:1:"), "{e}");
        let e = header_error("100 1 360 650000\n100.dat 212 200 11 1024 995 x 0 MLII\n");
        assert!(
            e.starts_with("dir/100.hea:2:") && e.contains("checksum `x`"),
            "{e}"
        );
        let e = header_error("100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n");
        assert!(e.contains("announces 2 signals but 1"), "{e}");
        let e = header_error("101 1 360 650000\n101.dat 212 200 11 1024 995 0 0 MLII\n");
        assert!(e.contains("names record 101, not 100"), "{e}");
    }

    #[test]
    fn atr_modifiers_skip_and_aux() {
        let words: [u16; 13] = [
            1 << 10 | 100,   // N, 100 samples in
            60 << 10 | 5,    // NUM 5: this and later annotations
            62 << 10 | 1,    // CHN 1: likewise
            59 << 10,        // SKIP by the next two words, high first:
            1,               //   70000 = 1 · 65536
            4464,            //         + 4464
            5 << 10,         // V at the skipped-to time
            61 << 10 | 0xFF, // SUB −1 (a signed char)
            63 << 10 | 3,    // AUX of 3 bytes, padded to 4
            u16::from_le_bytes(*b"(V"),
            u16::from_le_bytes(*b"T\0"),
            28 << 10 | 10, // + 10 samples later: subtype and aux reset
            0,             // end
        ];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let anns = parse_atr(Path::new("x.atr"), &bytes).unwrap();
        let ann = |sample, symbol: &str, subtype, aux: Option<&str>| Annotation {
            sample,
            symbol: symbol.into(),
            subtype,
            chan: 1,
            num: 5,
            aux: aux.map(str::to_string),
        };
        assert_eq!(
            anns,
            [
                ann(100, "N", 0, None),
                ann(70_100, "V", -1, Some("(VT")),
                ann(70_110, "+", 0, None),
            ]
        );
        let e = parse_atr(Path::new("x.atr"), &bytes[..bytes.len() - 2]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "x.atr: at byte {}: file ends without the terminating zero word",
                bytes.len() - 2
            )
        );
        let e = parse_atr(Path::new("x.atr"), &(15u16 << 10 | 1).to_le_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("code 15 is not in the standard WFDB table"),
            "{e}"
        );
    }

    #[test]
    fn symbol_table_is_one_to_one() {
        for (i, (ci, si)) in SYMBOLS.iter().enumerate() {
            for (cj, sj) in &SYMBOLS[i + 1..] {
                assert!(ci != cj && si != sj);
            }
        }
    }
}
