//! Layering of a sweep's settings: built-in defaults < YAML file < `ANOLAB_*` environment
//! < command-line `key=value` overrides (figment), then expansion into runs.

use super::sweep::{expand, SweepSpec, DEFAULT_MAX_RUNS};
use crate::registry::figment_message;
use figment::providers::{Env, Format, Serialized, Yaml};
use figment::Figment;
use serde_json::Value;
use std::path::Path;

/// Why a sweep could not be loaded. Each message names the file, key or override.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("sweep file `{0}` not found")]
    NotFound(String),
    #[error("override `{raw}`: {reason}")]
    BadOverride { raw: String, reason: String },
    #[error("in `{file}`: {message}")]
    Invalid { file: String, message: String },
}

/// One command-line override: `model.nz=16` (one value) or `model.nz=16,32` (a sweep axis).
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: Value,
}

/// Parses `key=value`. The value is read as YAML (so `2e-4` is a number and `[1, 2]` a
/// list); `a,b,c` outside brackets is a list, which makes the key a sweep axis.
pub fn parse_override(raw: &str) -> Result<Override, ConfigError> {
    let bad = |reason: &str| ConfigError::BadOverride {
        raw: raw.to_string(),
        reason: reason.to_string(),
    };
    let (key, text) = raw
        .split_once('=')
        .ok_or_else(|| bad("expected key=value, e.g. model.nz=16 or model.nz=16,32"))?;
    let key = key.trim();
    let valid_key = !key.is_empty()
        && key.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    if !valid_key {
        return Err(bad("the key must be dotted names, e.g. train.epochs"));
    }
    let text = text.trim();
    let value = if !text.starts_with('[') && text.contains(',') {
        let items = text
            .split(',')
            .map(|item| parse_yaml_scalar(item.trim()).map_err(|e| bad(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        Value::Array(items)
    } else {
        parse_yaml_scalar(text).map_err(|e| bad(&e))?
    };
    Ok(Override {
        key: key.to_string(),
        value,
    })
}

/// The first number in `value` that is NaN or infinite, with its dotted key.
fn non_finite(prefix: &str, value: &figment::value::Value) -> Option<(String, f64)> {
    use figment::value::{Num, Value as F};
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        F::Num(_, Num::F64(v)) if !v.is_finite() => Some((prefix.to_string(), *v)),
        F::Num(_, Num::F32(v)) if !v.is_finite() => Some((prefix.to_string(), f64::from(*v))),
        F::Dict(_, map) => map.iter().find_map(|(k, v)| non_finite(&key(k), v)),
        F::Array(_, items) => items.iter().find_map(|v| non_finite(prefix, v)),
        _ => None,
    }
}

/// figment's own string parser keeps `2e-4` a string, so values go through the YAML parser.
fn parse_yaml_scalar(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Err("empty value".into());
    }
    let figment = Figment::from(Yaml::string(&format!("v: {text}")));
    let raw: figment::value::Value = figment
        .extract_inner("v")
        .map_err(|e| format!("cannot read `{text}` as a value: {e}"))?;
    if let Some((_, v)) = non_finite("", &raw) {
        return Err(format!("a setting must be a finite number, found {v}"));
    }
    figment
        .extract_inner::<Value>("v")
        .map_err(|e| format!("cannot read `{text}` as a value: {e}"))
}

/// Loads a sweep file with the environment and overrides on top, and expands it into runs
/// (at most [`DEFAULT_MAX_RUNS`]; see [`load_sweep_limited`]).
pub fn load_sweep(file: &Path, overrides: &[Override]) -> Result<SweepSpec, ConfigError> {
    load_sweep_limited(file, overrides, DEFAULT_MAX_RUNS)
}

/// [`load_sweep`] with another bound on the runs (`--max-runs`): a larger sweep is
/// refused, with its count and the axes that made it, before it is expanded.
pub fn load_sweep_limited(
    file: &Path,
    overrides: &[Override],
    max_runs: usize,
) -> Result<SweepSpec, ConfigError> {
    let file_name = file.display().to_string();
    if !file.is_file() {
        return Err(ConfigError::NotFound(file_name));
    }
    let mut figment = Figment::new()
        .merge(Yaml::file(file))
        .merge(Env::prefixed("ANOLAB_").split("__"));
    for o in overrides {
        figment = figment.merge(Serialized::global(&o.key, &o.value));
    }
    let invalid = |message: String| ConfigError::Invalid {
        file: file_name.clone(),
        message,
    };
    // JSON has no NaN or infinity: serde_json would turn YAML's `.nan`/`.inf` into null
    // ("found unit"), so they are found, and named, before the conversion.
    let raw: figment::value::Value = figment
        .extract()
        .map_err(|e| invalid(figment_message(&e)))?;
    if let Some((key, v)) = non_finite("", &raw) {
        return Err(invalid(format!(
            "key `{key}` must be a finite number, found {v}"
        )));
    }
    let doc: Value = figment
        .extract()
        .map_err(|e| invalid(figment_message(&e)))?;
    expand(doc, max_runs).map_err(|message| ConfigError::Invalid {
        file: file_name,
        message,
    })
}
