//! NumPy `.npy` arrays of windows and labels (dataset name `npy`).
//!
//! The `.npy` format (NumPy's `numpy.lib.format`): the magic `\x93NUMPY`, a version
//! byte pair, the header length (2 bytes little-endian in version 1, 4 bytes in 2 and
//! 3), an ASCII Python dict literal `{'descr': '<f4', 'fortran_order': False,
//! 'shape': (n, l), }` padded with spaces and a newline, then the raw data. This reader
//! takes little-endian (or one-byte) bool, integer and float dtypes in C order.
//!
//! The windows file holds `n × length` (1 channel) or `n × channels × length` values,
//! used as given (scale them as the model expects, e.g. to [−1, 1]); the labels file
//! holds `n` values, 0 (normal) or 1 (anomalous). Split:
//! [`super::windows::one_class_split`]. An array inside a `.npz` archive is named
//! `file.npz:array` (the archive member `array.npy`), stored (`numpy.savez`) or deflated
//! (`numpy.savez_compressed`); the zip crate reads the archive.
//!
//! The `.npy` parsing itself stays hand-written for its errors: on the malformed files
//! of `tests/it/npy.rs` the npyz crate (0.8) names no byte offset, says "failed to fill
//! whole buffer" for a truncated data block (here: the shape, dtype, bytes needed and
//! found) and "magic not found" for an empty file, and reads Fortran-order and
//! big-endian files this reader refuses with a fix (README "Data", `npy`).

use super::windows::{check_fraction, default_val_fraction, one_class_split, one_split};
use super::{DataError, DatasetSpec, RunContext, Split, Windows};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// An array read from a `.npy` file, converted to `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
    /// Byte offset of the first element in the file, for errors about an element.
    pub data_offset: u64,
    /// Size of one element in bytes.
    pub item_size: usize,
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Reads a `.npy` file, or one array of a `.npz` archive given as `file.npz:array`.
pub fn read(path: &Path) -> Result<Array, DataError> {
    let file = file_of(path);
    let bytes = std::fs::read(&file).map_err(|cause| DataError::Io {
        path: file.clone(),
        cause,
    })?;
    match npz_member(path) {
        None => parse(path, &bytes),
        Some(member) => parse_npz(path, &bytes, &member),
    }
}

/// Array `member` (`member.npy`) of the `.npz` archive `bytes`, stored or deflated;
/// `path` (`file.npz:member`) names it in errors.
pub fn parse_npz(path: &Path, bytes: &[u8], member: &str) -> Result<Array, DataError> {
    let content = |problem: String| DataError::Content {
        path: file_of(path),
        problem,
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| content(format!("not a readable .npz (zip) archive: {e}")))?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .collect();
    let mut entry = archive.by_name(&format!("{member}.npy")).map_err(|_| {
        content(format!(
            "no array `{member}` in the archive; it holds {}",
            names.join(", ")
        ))
    })?;
    let mut array = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut array).map_err(|e| {
        content(format!(
            "array `{member}` ({} in the archive) cannot be read: {e}",
            entry.compression()
        ))
    })?;
    parse(path, &array)
}

/// The file behind a reader path: `beats.npz:windows` → `beats.npz`.
pub fn file_of(path: &Path) -> std::path::PathBuf {
    let text = path.to_string_lossy();
    match text.rsplit_once(".npz:") {
        Some((file, _)) => std::path::PathBuf::from(format!("{file}.npz")),
        None => path.to_path_buf(),
    }
}

/// The array named after `.npz:`, if the path points into an archive.
fn npz_member(path: &Path) -> Option<String> {
    let text = path.to_string_lossy();
    text.rsplit_once(".npz:")
        .map(|(_, member)| member.to_string())
}

/// Parses the bytes of a `.npy` file (`path` names it in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Array, DataError> {
    let bad = |offset: usize, problem: String| DataError::Bytes {
        path: path.to_path_buf(),
        offset: offset as u64,
        problem,
    };
    if bytes.is_empty() {
        return Err(DataError::Content {
            path: path.to_path_buf(),
            problem: "the file is empty".into(),
        });
    }
    if !bytes.starts_with(MAGIC) {
        return Err(bad(0, "not a .npy file: no \\x93NUMPY magic".into()));
    }
    let (header_start, header_len) = match bytes.get(6) {
        Some(1) if bytes.len() >= 10 => (10, u16::from_le_bytes([bytes[8], bytes[9]]) as usize),
        Some(2 | 3) if bytes.len() >= 12 => (
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        ),
        Some(v @ (1..=3)) => return Err(bad(6, format!("version {v} header is truncated"))),
        Some(v) => return Err(bad(6, format!("unsupported .npy version {v}"))),
        None => return Err(bad(6, "truncated before the version".into())),
    };
    let data_offset = header_start + header_len;
    let header = bytes.get(header_start..data_offset).ok_or_else(|| {
        bad(
            8,
            format!("header length {header_len} runs past the end of the file"),
        )
    })?;
    let header = std::str::from_utf8(header)
        .map_err(|e| bad(header_start + e.valid_up_to(), "header is not text".into()))?;
    let dict = HeaderParser {
        text: header,
        pos: 0,
        base: header_start,
    }
    .dict()
    .map_err(|(at, problem)| bad(at, problem))?;
    let field = |key: &str| {
        dict.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .ok_or_else(|| bad(header_start, format!("header has no '{key}'")))
    };
    let descr = match field("descr")? {
        HeaderValue::Str(s) => s.clone(),
        _ => return Err(bad(header_start, "'descr' is not a string".into())),
    };
    if matches!(field("fortran_order")?, HeaderValue::Bool(true)) {
        return Err(bad(
            header_start,
            "Fortran-order arrays are not read; save np.ascontiguousarray(a)".into(),
        ));
    }
    let shape = match field("shape")? {
        HeaderValue::Tuple(t) => t.clone(),
        _ => return Err(bad(header_start, "'shape' is not a tuple".into())),
    };
    let dtype = Dtype::parse(&descr).ok_or_else(|| {
        bad(
            header_start,
            format!("unsupported dtype '{descr}': use little-endian bool, int, uint or float ('<f4', '<f8', '<i8', …)"),
        )
    })?;
    // A declared shape is checked against the bytes present before anything is
    // allocated for it (a header may claim 10^12 elements).
    let needed = shape
        .iter()
        .try_fold(dtype.size as u128, |n, &d| n.checked_mul(d as u128));
    let data = &bytes[data_offset..];
    if needed != Some(data.len() as u128) {
        let needed = needed.map_or("more than 2^128".to_string(), |n| n.to_string());
        return Err(bad(
            data_offset,
            format!(
                "shape {shape:?} of '{descr}' needs {needed} data bytes, found {}",
                data.len()
            ),
        ));
    }
    Ok(Array {
        values: data
            .chunks_exact(dtype.size)
            .map(|b| dtype.value(b))
            .collect(),
        shape,
        data_offset: data_offset as u64,
        item_size: dtype.size,
    })
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Uint,
    Float,
}

#[derive(Debug, Clone, Copy)]
struct Dtype {
    kind: Kind,
    size: usize,
}

impl Dtype {
    fn parse(descr: &str) -> Option<Dtype> {
        let (order, code) = descr.split_at_checked(1)?;
        let (kind, size) = code.split_at_checked(1)?;
        let size: usize = size.parse().ok()?;
        let kind = match kind {
            "b" => Kind::Bool,
            "i" => Kind::Int,
            "u" => Kind::Uint,
            "f" => Kind::Float,
            _ => return None,
        };
        // '|' means byte order does not apply (one-byte types); '<' is little-endian.
        let ok = matches!(
            (order, kind, size),
            ("|" | "<", Kind::Bool | Kind::Int | Kind::Uint, 1)
                | ("<", Kind::Int | Kind::Uint, 2 | 4 | 8)
                | ("<", Kind::Float, 4 | 8)
        );
        ok.then_some(Dtype { kind, size })
    }

    fn value(self, b: &[u8]) -> f64 {
        let mut le = [0u8; 8];
        le[..b.len()].copy_from_slice(b);
        let bits = u64::from_le_bytes(le);
        match (self.kind, self.size) {
            (Kind::Bool | Kind::Uint, _) => bits as f64,
            // Sign-extend from the element's width.
            (Kind::Int, n) => ((bits << (64 - 8 * n)) as i64 >> (64 - 8 * n)) as f64,
            (Kind::Float, 4) => f32::from_bits(bits as u32) as f64,
            (Kind::Float, _) => f64::from_bits(bits),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum HeaderValue {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// A parser for the one Python literal `.npy` headers hold: a dict of string keys to
/// strings, booleans and tuples of integers. Errors carry the file offset.
struct HeaderParser<'a> {
    text: &'a str,
    pos: usize,
    /// File offset of the header's first byte.
    base: usize,
}

type ParseResult<T> = Result<T, (usize, String)>;

impl HeaderParser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn fail<T>(&self, expected: &str) -> ParseResult<T> {
        let found: String = self.rest().chars().take(12).collect();
        Err((
            self.base + self.pos,
            format!("header: expected {expected}, found `{found}`"),
        ))
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_space();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn dict(mut self) -> ParseResult<Vec<(String, HeaderValue)>> {
        if !self.eat("{") {
            return self.fail("`{`");
        }
        let mut entries = Vec::new();
        loop {
            if self.eat("}") {
                return Ok(entries);
            }
            let key = self.string()?;
            if !self.eat(":") {
                return self.fail("`:`");
            }
            let value = self.value()?;
            entries.push((key, value));
            if !self.eat(",") && !self.rest().trim_start().starts_with('}') {
                return self.fail("`,` or `}`");
            }
        }
    }

    fn string(&mut self) -> ParseResult<String> {
        self.skip_space();
        let Some(quote) = self
            .rest()
            .chars()
            .next()
            .filter(|c| *c == '\'' || *c == '"')
        else {
            return self.fail("a quoted string");
        };
        let body = &self.rest()[1..];
        let Some(end) = body.find(quote) else {
            return self.fail("a closing quote");
        };
        let s = body[..end].to_string();
        self.pos += end + 2;
        Ok(s)
    }

    fn value(&mut self) -> ParseResult<HeaderValue> {
        self.skip_space();
        if self.eat("True") {
            Ok(HeaderValue::Bool(true))
        } else if self.eat("False") {
            Ok(HeaderValue::Bool(false))
        } else if self.eat("(") {
            let mut dims = Vec::new();
            loop {
                if self.eat(")") {
                    return Ok(HeaderValue::Tuple(dims));
                }
                self.skip_space();
                let digits: String = self
                    .rest()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                // A trailing `L` is how Python 2 wrote long integers in old files.
                let Ok(dim) = digits.parse::<usize>() else {
                    return self.fail("a dimension (integer)");
                };
                self.pos += digits.len();
                self.eat("L");
                dims.push(dim);
                if !self.eat(",") && !self.rest().trim_start().starts_with(')') {
                    return self.fail("`,` or `)`");
                }
            }
        } else {
            self.string().map(HeaderValue::Str)
        }
    }
}

/// `.npy` windows and labels; see `data::npy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NpyConfig {
    /// `n × length` or `n × channels × length` array.
    pub windows: PathBuf,
    /// `n` labels, 0 (normal) or 1 (anomalous).
    pub labels: PathBuf,
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default = "default_val_fraction")]
    pub val_fraction: f64,
}

impl DatasetSpec for NpyConfig {
    fn validate(&self, run: &RunContext) -> Result<(), String> {
        one_split("npy", run.fold)?;
        check_fraction(self.val_fraction)
    }

    fn load(&self, _fold: usize) -> Result<Split, DataError> {
        load(
            &self.windows,
            &self.labels,
            self.split_seed,
            self.val_fraction,
        )
    }

    fn inputs(&self) -> Vec<PathBuf> {
        vec![file_of(&self.windows), file_of(&self.labels)]
    }

    fn describe_split(&self, _fold: usize) -> String {
        format!(
            "one-class: split_seed {}, val_fraction {}",
            self.split_seed, self.val_fraction
        )
    }
}

/// Windows from `windows` and labels from `labels` (both `.npy`), one-class split.
pub fn load(
    windows: &Path,
    labels: &Path,
    split_seed: u64,
    val_fraction: f64,
) -> Result<Split, DataError> {
    let x = read(windows)?;
    let y = read(labels)?;
    let (n, channels, length) = match x.shape[..] {
        [n, l] => (n, 1, l),
        [n, c, l] => (n, c, l),
        _ => {
            return Err(DataError::Content {
                path: windows.to_path_buf(),
                problem: format!(
                    "shape {:?}: windows must be n × length or n × channels × length",
                    x.shape
                ),
            })
        }
    };
    if y.shape != [n] {
        return Err(DataError::Content {
            path: labels.to_path_buf(),
            problem: format!(
                "shape {:?}: labels must be one value per window, shape [{n}] for {}",
                y.shape,
                windows.display()
            ),
        });
    }
    if n == 0 || channels * length == 0 {
        return Err(DataError::Content {
            path: windows.to_path_buf(),
            problem: format!("shape {:?} holds no windows", x.shape),
        });
    }
    let mut all = Windows::empty(channels, length);
    all.data = x.values.iter().map(|&v| v as f32).collect();
    if let Some(i) = all.data.iter().position(|v| !v.is_finite()) {
        return Err(DataError::Bytes {
            path: windows.to_path_buf(),
            offset: x.data_offset + (i * x.item_size) as u64,
            problem: format!("element {i} is {} (windows must be finite)", x.values[i]),
        });
    }
    for (i, &v) in y.values.iter().enumerate() {
        let anomalous = match v {
            0.0 => false,
            1.0 => true,
            _ => {
                return Err(DataError::Bytes {
                    path: labels.to_path_buf(),
                    offset: y.data_offset + (i * y.item_size) as u64,
                    problem: format!(
                        "label {i} is {v}: out of range, labels must be 0 (normal) or 1 (anomalous)"
                    ),
                })
            }
        };
        all.labels.push(anomalous);
        all.classes
            .push(if anomalous { "1" } else { "0" }.to_string());
    }
    all.n = n;
    if !all.labels.contains(&true) || !all.labels.contains(&false) {
        return Err(DataError::Content {
            path: labels.to_path_buf(),
            problem: "labels must include both 0 (normal) and 1 (anomalous) windows".into(),
        });
    }
    Ok(one_class_split(&all, split_seed, val_fraction))
}
