//! The machinery behind the two registries, `models::ModelConfig` and
//! `data::DatasetConfig`: a `name:`-tagged section read into the struct of the named
//! entry with errors that name the key (unknown key → the valid keys; unknown name → the
//! valid names), and the range checks every entry's `validate` uses.
//!
//! It knows no model and no dataset; it must not grow per-entry code. An entry is added
//! by one line in its registry (see [`tagged_registry`]).

use figment::providers::Serialized;
use figment::Figment;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Declares a registry: an enum with one variant per entry, serialised with its `name`
/// tag, the list of names, `name()`, `spec()` (the entry's settings behind the registry's
/// trait) and a deserialiser with keyed errors. One line per entry:
/// `"beatgan" => Beatgan(beatgan::BeatganConfig),`.
macro_rules! tagged_registry {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident: dyn $Trait:ident, names $NAMES:ident, section $section:literal {
            $( $(#[$vmeta:meta])* $name:literal => $Variant:ident($Config:ty), )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(tag = "name")]
        pub enum $Enum {
            $( $(#[$vmeta])* #[serde(rename = $name)] $Variant($Config), )+
        }

        /// Every `name`, in registry order.
        pub const $NAMES: &[&str] = &[$($name),+];

        impl $Enum {
            /// The entry's `name`, as written in sweep files and stored with each run.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$Variant(_) => $name, )+
                }
            }

            /// The entry's settings, behind the registry's trait.
            pub fn spec(&self) -> &dyn $Trait {
                match self {
                    $( Self::$Variant(c) => c, )+
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $Enum {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let (name, fields) = $crate::registry::tagged_section(d, $NAMES)?;
                match name.as_str() {
                    $( $name => $crate::registry::section_fields::<D, $Config>($section, $name, fields)
                        .map(Self::$Variant), )+
                    _ => unreachable!("tagged_section checked the name"),
                }
            }
        }
    };
}
pub(crate) use tagged_registry;

/// Splits a `name:`-tagged section into its name and the remaining fields.
pub fn tagged_section<'de, D: Deserializer<'de>>(
    d: D,
    names: &[&str],
) -> Result<(String, Map<String, Value>), D::Error> {
    let mut fields = Map::<String, Value>::deserialize(d)?;
    match fields.remove("name") {
        Some(Value::String(name)) if names.contains(&name.as_str()) => Ok((name, fields)),
        Some(other) => Err(D::Error::custom(format!(
            "unknown name {other}; valid names: {}",
            names.join(", ")
        ))),
        None => Err(D::Error::custom(format!(
            "missing `name`; valid names: {}",
            names.join(", ")
        ))),
    }
}

/// Deserialises the fields of entry `name` of a `section` into its struct. serde's
/// internally tagged enums lose the field's name in errors; going through figment keeps
/// it (`nz: invalid type`). A key the entry does not have is named with the entry and
/// its keys (`key `ndf` is not a setting of model `lstm_ae`; its settings: nz`).
pub fn section_fields<'de, D: Deserializer<'de>, T: DeserializeOwned>(
    section: &str,
    name: &str,
    fields: Map<String, Value>,
) -> Result<T, D::Error> {
    Figment::from(Serialized::defaults(Value::Object(fields)))
        .extract()
        .map_err(|e| {
            // Only a key of the entry itself (figment's path is that key); one inside
            // a nested block (a teacher's) keeps figment's message, which has its path.
            let unknown = e.clone().into_iter().find_map(|err| match err.kind {
                figment::error::Kind::UnknownField(field, expected)
                    if err.path.iter().filter(|p| *p != "default").count() <= 1 =>
                {
                    Some((field, expected))
                }
                _ => None,
            });
            D::Error::custom(match unknown {
                Some((field, [])) => {
                    format!("key `{field}` is not a setting of {section} `{name}`, which has none besides `name`")
                }
                Some((field, expected)) => format!(
                    "key `{field}` is not a setting of {section} `{name}`; its settings: {}",
                    expected.join(", ")
                ),
                None => figment_message(&e),
            })
        })
}

/// A figment error as people read it: figment prefixes keys with its profile
/// ("default."), which users never see, and a section's own error already names the key
/// inside it, which is joined to the section's path.
pub fn figment_message(e: &figment::Error) -> String {
    let mut parts = Vec::new();
    for err in e.clone() {
        let path: Vec<&str> = err
            .path
            .iter()
            .map(String::as_str)
            .filter(|p| *p != "default")
            .collect();
        let kind = match &err.kind {
            // figment's own text quotes the list again ("expected ``a` or `b``").
            figment::error::Kind::UnknownVariant(found, expected) => format!(
                "unknown variant `{found}`, expected one of {}",
                quoted(expected)
            ),
            kind => kind.to_string(),
        };
        if path.is_empty() {
            parts.push(kind);
        } else if let Some(inner) = kind.strip_prefix("key `") {
            parts.push(format!("key `{}.{inner}", path.join(".")));
        } else {
            parts.push(format!("key `{}`: {kind}", path.join(".")));
        }
    }
    parts.join("; ")
}

/// `a`, `b`, `c`: names as a message lists them.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Ok` when `ok`, else the message every range check gives: the key, the valid range
/// and the value found.
pub fn check(ok: bool, key: &str, what: &str, got: impl std::fmt::Display) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("key `{key}` must be {what}, found {got}"))
    }
}

/// Sizes (widths, counts) of a section: each at least 1.
pub fn check_sizes(section: &str, pairs: &[(&str, usize)]) -> Result<(), String> {
    for (key, v) in pairs {
        check(*v >= 1, &format!("{section}.{key}"), "at least 1", v)?;
    }
    Ok(())
}

/// Loss weights of a section: each a finite number ≥ 0.
pub fn check_weights(section: &str, pairs: &[(&str, f64)]) -> Result<(), String> {
    for (key, v) in pairs {
        check(
            *v >= 0.0 && v.is_finite(),
            &format!("{section}.{key}"),
            "a number ≥ 0",
            v,
        )?;
    }
    Ok(())
}

/// A positive, finite number (learning rates, temperatures).
pub fn check_positive(key: &str, v: f64) -> Result<(), String> {
    check(v > 0.0 && v.is_finite(), key, "a positive number", v)
}

/// A value in the closed unit interval [0, 1].
pub fn check_unit(key: &str, v: f64) -> Result<(), String> {
    check((0.0..=1.0).contains(&v), key, "in [0, 1]", v)
}
