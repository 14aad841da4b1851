//! `StagingQuery`: a templated SQL query materialized daily (SEMANTICS.md §2.2).

use serde::{Deserialize, Serialize};

use super::json::opt_bool;
use super::MetaData;

/// SQL with `{{ start_date }}`, `{{ end_date }}`, `{{ latest_date }}` and
/// `{{ max_date(table=…) }}` templates, written to `<outputNamespace>.<cleanName>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagingQuery {
    /// Name and descriptive fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
    /// The SQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// First partition computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_partition: Option<String>,
    /// Spark setup statements; never run (R-CFG-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setups: Option<Vec<String>>,
    /// Create a view instead of a table.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub create_view: Option<bool>,
}

impl StagingQuery {
    /// A staging query named `name` running `sql`, with `setups: []`.
    pub fn new(name: impl Into<String>, sql: impl Into<String>) -> Self {
        StagingQuery {
            meta_data: Some(MetaData::named(name)),
            query: Some(sql.into()),
            setups: Some(Vec::new()),
            ..StagingQuery::default()
        }
    }

    /// `metaData.name`, or `""` when unset (a validated StagingQuery always has one).
    pub fn name(&self) -> &str {
        self.meta_data.as_ref().map_or("", MetaData::name)
    }

    /// `<outputNamespace>.<cleanName>` (R-NAME-5), when a namespace is set.
    pub fn output_table(&self) -> Option<String> {
        self.meta_data.as_ref().and_then(MetaData::output_table)
    }
}
