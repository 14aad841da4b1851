//! `MetaData`: names, ownership and scheduling of a config (SEMANTICS.md §2.2).

use serde::{Deserialize, Serialize};

use super::json::opt_bool;
use super::OrderedMap;
use crate::naming;

/// Descriptive fields of a config. Only `name` and `outputNamespace` change computed values;
/// `customJson`, `dependencies` and `tableProperties` are round-tripped verbatim (R-CFG-3).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaData {
    /// `<team>.<module path>.<variable>` (R-CFG-5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Served online.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// Marked production.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub production: Option<bool>,
    /// A string holding JSON, kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_json: Option<String>,
    /// JSON-encoded `{"name","spec","start","end"}` objects or plain table specs, kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<String>>,
    /// Opaque table properties, kept verbatim (values may be malformed JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_properties: Option<OrderedMap<String>>,
    /// The namespace of output tables (R-NAME-5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_namespace: Option<String>,
    /// The owning team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Mode → environment variables.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_to_env_map: Option<OrderedMap<OrderedMap<String>>>,
    /// Run the consistency job.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub consistency_check: Option<bool>,
    /// Percentage of online requests logged (R-LOG-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_percent: Option<f64>,
    /// Schedule, e.g. `@daily`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_schedule: Option<String>,
    /// Percentage of logged rows compared by the consistency job (R-CONS-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency_sample_percent: Option<f64>,
    /// Backfill history on the first run.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub historical_backfill: Option<bool>,
    /// When the config stops being served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation_date: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl MetaData {
    /// Metadata with only a name.
    pub fn named(name: impl Into<String>) -> Self {
        MetaData {
            name: Some(name.into()),
            ..MetaData::default()
        }
    }

    /// The name, or `""` when unset.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The name with every character outside `[A-Za-z0-9_]` replaced by `_` (R-CFG-6).
    pub fn clean_name(&self) -> String {
        naming::clean_name(self.name())
    }

    /// `<outputNamespace>.<cleanName>` (R-NAME-5), when a namespace is set.
    pub fn output_table(&self) -> Option<String> {
        self.output_namespace
            .as_deref()
            .map(|namespace| naming::output_table(namespace, self.name()))
    }
}
