//! Layering of a sweep's settings: built-in defaults < YAML file < `ANOLAB_*` environment
//! (figment) < command-line `key=value` overrides, then expansion into runs.
//!
//! An override is a key (`model.nz=16`) or a whole group (`model=ae`: the model section
//! becomes `ae` with its defaults; `model=ae,vae` an axis of whole models). Groups apply
//! first, keys after them, whatever their order on the line, so `model=ae model.nz=16`
//! and `model.nz=16 model=ae` mean the same. A key given for a section that is a list of
//! alternatives applies to those that set it (or to all when none does; see [`set_in`]),
//! and a `train.*` key also to the `train:` block a model alternative carries (the
//! command line wins over the file).

use super::sweep::{expand, SweepSpec, DEFAULT_MAX_RUNS, GROUPS};
use crate::registry::figment_message;
use figment::providers::{Env, Format, Yaml};
use figment::Figment;
use serde_json::{Map, Value};
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
    let figment = Figment::new()
        .merge(Yaml::file(file))
        .merge(Env::prefixed("ANOLAB_").split("__"));
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
    let mut doc: Value = figment
        .extract()
        .map_err(|e| invalid(figment_message(&e)))?;
    apply_overrides(&mut doc, overrides)?;
    expand(doc, max_runs).map_err(|message| ConfigError::Invalid {
        file: file_name,
        message,
    })
}

/// Applies the command line to the merged document: group choices first, then keys (see
/// the module comment).
fn apply_overrides(doc: &mut Value, overrides: &[Override]) -> Result<(), ConfigError> {
    let (groups, keys): (Vec<&Override>, Vec<&Override>) = overrides
        .iter()
        .partition(|o| GROUPS.contains(&o.key.as_str()));
    let top = object(doc);
    for o in groups {
        let chosen = group_choice(&o.key, &o.value).map_err(|reason| ConfigError::BadOverride {
            raw: format!("{}={}", o.key, o.value),
            reason,
        })?;
        top.insert(o.key.clone(), chosen);
    }
    for o in keys {
        let path: Vec<&str> = o.key.split('.').collect();
        set_in(doc, &path, &o.value);
        if path.len() > 1 && path[0] == "train" {
            set_in_model_train(doc, &path[1..], &o.value);
        }
    }
    Ok(())
}

/// `model=ae` → `{name: ae}`; `model=ae,vae` → a list of them (an axis of whole groups).
fn group_choice(group: &str, value: &Value) -> Result<Value, String> {
    let named = |name: &Value| {
        match name {
        Value::String(name) => Ok(Value::Object(Map::from_iter([(
            "name".to_string(),
            Value::String(name.clone()),
        )]))),
        other => Err(format!(
            "`{group}=` takes a {group} name or a list of names (e.g. {group}=NAME or {group}=A,B), found {other}"
        )),
    }
    };
    match value {
        Value::Array(names) => names
            .iter()
            .map(named)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        one => named(one),
    }
}

/// The map `value` is, made one if it is not (a key set below a plain value replaces it).
fn object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut().expect("just made an object")
}

/// Sets the dotted `path` below `node`. A list of mappings on the way (a section's
/// alternatives) gets it in those that set it already, or in all of them when none
/// does: `model.ndf=64` on `[{name: ganomaly, ndf: 32}, {name: knn}]` widens GANomaly
/// and leaves kNN (which has no `ndf`) alone; `model.nz=16` after `model=ae,vae` sets
/// both.
fn set_in(node: &mut Value, path: &[&str], value: &Value) {
    if let Value::Array(alternatives) = node {
        if alternatives.iter().all(Value::is_object) && !alternatives.is_empty() {
            let sets = |alt: &Value| path.iter().try_fold(alt, |n, k| n.get(*k)).is_some();
            let any_sets = alternatives.iter().any(sets);
            for alternative in alternatives {
                if !any_sets || sets(alternative) {
                    set_in(alternative, path, value);
                }
            }
            return;
        }
    }
    let map = object(node);
    match path {
        [] => {}
        [last] => {
            map.insert(last.to_string(), value.clone());
        }
        [first, rest @ ..] => set_in(
            map.entry(first.to_string())
                .or_insert(Value::Object(Map::new())),
            rest,
            value,
        ),
    }
}

/// A `train.KEY` override also sets KEY in each model alternative's own `train:` block
/// that sets it, which would otherwise win over the command line.
fn set_in_model_train(doc: &mut Value, path: &[&str], value: &Value) {
    let Some(model) = doc.get_mut("model") else {
        return;
    };
    let alternatives: Vec<&mut Value> = match model {
        Value::Array(items) => items.iter_mut().collect(),
        one => vec![one],
    };
    for alternative in alternatives {
        if let Some(train) = alternative.get_mut("train").filter(|t| t.is_object()) {
            let sets_it = path
                .iter()
                .try_fold(&*train, |node, key| node.get(*key))
                .is_some();
            if sets_it {
                set_in(train, path, value);
            }
        }
    }
}
