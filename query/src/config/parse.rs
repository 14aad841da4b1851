//! JSON text ⇄ configs: parsing with field paths in errors, validation, serialization.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::{load, ConfigError, GroupBy, Join, StagingQuery};

/// The three kinds of compiled config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigKind {
    /// A GroupBy, under `production/group_bys/`.
    GroupBy,
    /// A Join, under `production/joins/`.
    Join,
    /// A StagingQuery, under `production/staging_queries/`.
    StagingQuery,
}

impl ConfigKind {
    /// Every kind.
    pub const ALL: [ConfigKind; 3] = [
        ConfigKind::GroupBy,
        ConfigKind::Join,
        ConfigKind::StagingQuery,
    ];

    /// The directory under `production/` holding this kind (R-CFG-5).
    pub const fn directory(self) -> &'static str {
        match self {
            ConfigKind::GroupBy => "group_bys",
            ConfigKind::Join => "joins",
            ConfigKind::StagingQuery => "staging_queries",
        }
    }

    /// The kind stored in directory `name`, if any.
    pub fn from_directory(name: &str) -> Option<Self> {
        ConfigKind::ALL
            .into_iter()
            .find(|kind| kind.directory() == name)
    }

    /// The kind a JSON object looks like: `joinParts` → Join, a string `query` → StagingQuery,
    /// `keyColumns` or `sources` → GroupBy.
    pub fn from_shape(value: &Value) -> Option<Self> {
        let object = value.as_object()?;
        if object.contains_key("joinParts") {
            Some(ConfigKind::Join)
        } else if object.get("query").is_some_and(Value::is_string) {
            Some(ConfigKind::StagingQuery)
        } else if object.contains_key("keyColumns") || object.contains_key("sources") {
            Some(ConfigKind::GroupBy)
        } else {
            None
        }
    }
}

impl fmt::Display for ConfigKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigKind::GroupBy => "GroupBy",
            ConfigKind::Join => "Join",
            ConfigKind::StagingQuery => "StagingQuery",
        })
    }
}

/// A config of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Config {
    /// A GroupBy.
    GroupBy(GroupBy),
    /// A Join (boxed: it embeds its left source inline).
    Join(Box<Join>),
    /// A StagingQuery.
    StagingQuery(StagingQuery),
}

impl Config {
    /// Parses and validates a config of `kind`, or of the kind its JSON shape suggests when
    /// `kind` is `None` ([`ConfigKind::from_shape`]).
    pub fn from_json_str(text: &str, kind: Option<ConfigKind>) -> Result<Self, ConfigError> {
        let value = parse_json(text)?;
        let kind = match kind.or_else(|| ConfigKind::from_shape(&value)) {
            Some(kind) => kind,
            None => {
                return Err(ConfigError::Invalid {
                    config: "<unknown>".to_owned(),
                    field: String::new(),
                    reason: "not a GroupBy, Join or StagingQuery: expected joinParts, a query \
                             string, keyColumns or sources"
                        .to_owned(),
                })
            }
        };
        Ok(match kind {
            ConfigKind::GroupBy => Config::GroupBy(GroupBy::from_parsed(text, &value)?),
            ConfigKind::Join => Config::Join(Box::new(Join::from_parsed(text, &value)?)),
            ConfigKind::StagingQuery => {
                Config::StagingQuery(StagingQuery::from_parsed(text, &value)?)
            }
        })
    }

    /// The kind.
    pub fn kind(&self) -> ConfigKind {
        match self {
            Config::GroupBy(_) => ConfigKind::GroupBy,
            Config::Join(_) => ConfigKind::Join,
            Config::StagingQuery(_) => ConfigKind::StagingQuery,
        }
    }

    /// `metaData.name`.
    pub fn name(&self) -> &str {
        match self {
            Config::GroupBy(group_by) => group_by.name(),
            Config::Join(join) => join.name(),
            Config::StagingQuery(staging_query) => staging_query.name(),
        }
    }

    /// The compiled JSON form as pretty-printed text, map entries in their order.
    pub fn to_json_string(&self) -> String {
        match self {
            Config::GroupBy(group_by) => group_by.to_json_string(),
            Config::Join(join) => join.to_json_string(),
            Config::StagingQuery(staging_query) => staging_query.to_json_string(),
        }
    }

    /// The compiled JSON form.
    pub fn to_json_value(&self) -> Value {
        match self {
            Config::GroupBy(group_by) => group_by.to_json_value(),
            Config::Join(join) => join.to_json_value(),
            Config::StagingQuery(staging_query) => staging_query.to_json_value(),
        }
    }
}

/// Parses JSON text; syntax errors give line and column.
pub(crate) fn parse_json(text: &str) -> Result<Value, ConfigError> {
    serde_json::from_str(text).map_err(|error| ConfigError::Syntax {
        line: error.line(),
        column: error.column(),
        message: without_position(&error),
    })
}

/// serde_json's message without its ` at line L column C` suffix.
fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    message.strip_suffix(&suffix).unwrap_or(&message).to_owned()
}

/// Decodes `text`, already parsed as `value`, into `T`; errors name the config and the field
/// path. Decoding reads the text itself, not `value`, so map entries keep their order.
fn decode<T: DeserializeOwned>(
    text: &str,
    value: &Value,
    kind: ConfigKind,
) -> Result<T, ConfigError> {
    let config = match value.pointer("/metaData/name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => format!("<unnamed {kind}>"),
    };
    if !value.is_object() {
        return Err(ConfigError::Invalid {
            config,
            field: String::new(),
            reason: format!("a {kind} must be a JSON object"),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        ConfigError::Invalid {
            config,
            field: if path == "." { String::new() } else { path },
            reason: without_position(error.inner()),
        }
    })
}

fn to_value<T: Serialize>(config: &T) -> Value {
    // Config structures have string map keys only, so serialization cannot fail.
    serde_json::to_value(config).unwrap_or(Value::Null)
}

/// `from_json_str`, `from_path`, `to_json_value`, `to_json_string` for a
/// config type.
macro_rules! json_io {
    ($type:ident, $kind:expr) => {
        impl $type {
            /// Parses compiled JSON (R-CFG-1, R-CFG-2) and validates it.
            pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
                Self::from_parsed(text, &parse_json(text)?)
            }

            /// Decodes `text`, already parsed as `value`, and validates it.
            pub(crate) fn from_parsed(text: &str, value: &Value) -> Result<Self, ConfigError> {
                let config: Self = decode(text, value, $kind)?;
                config.validate()?;
                Ok(config)
            }

            /// Reads, parses and validates a compiled config file; errors name the file.
            pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
                let path = path.as_ref();
                load::read_config_file(path)
                    .and_then(|text| Self::from_json_str(&text))
                    .map_err(|error| error.in_file(path))
            }

            /// The compiled JSON form: enums as integers, booleans as `0`/`1`, unset fields
            /// omitted (R-CFG-2).
            pub fn to_json_value(&self) -> Value {
                to_value(self)
            }

            /// The compiled JSON form as pretty-printed text, map entries in their order.
            pub fn to_json_string(&self) -> String {
                // As for `to_value`: string map keys only, so this cannot fail.
                serde_json::to_string_pretty(self).unwrap_or_default()
            }
        }
    };
}

json_io!(GroupBy, ConfigKind::GroupBy);
json_io!(Join, ConfigKind::Join);
json_io!(StagingQuery, ConfigKind::StagingQuery);
