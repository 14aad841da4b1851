//! `GroupBy` and `Derivation` (SEMANTICS.md §2.2).

use serde::{Deserialize, Serialize};

use super::json::opt_bool;
use super::{Accuracy, Aggregation, MetaData, Source};

/// A derived output column: a Spark SQL expression over the base values (R-DER-1), or the `*`
/// entry keeping the base values (R-NAME-9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Derivation {
    /// The output column, or `*`.
    pub name: String,
    /// The expression, or `*`.
    pub expression: String,
    /// Optional metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
}

impl Derivation {
    /// The name of the `*` entry.
    pub const STAR: &'static str = "*";

    /// Column `name` computed by `expression`.
    pub fn new(name: impl Into<String>, expression: impl Into<String>) -> Self {
        Derivation {
            name: name.into(),
            expression: expression.into(),
            meta_data: None,
        }
    }

    /// The `{"name": "*", "expression": "*"}` entry.
    pub fn star() -> Self {
        Derivation::new(Derivation::STAR, Derivation::STAR)
    }

    /// Whether this is the `*` entry.
    pub fn is_star(&self) -> bool {
        self.name == Derivation::STAR
    }
}

/// Aggregations of one or more sources by key columns, or (without aggregations) the selected
/// columns of an entity snapshot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupBy {
    /// Name and descriptive fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
    /// The sources, unioned (R-SRC-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<Source>>,
    /// The key columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_columns: Option<Vec<String>>,
    /// The aggregations; absent means none (R-NAME-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregations: Option<Vec<Aggregation>>,
    /// Explicit accuracy; absent means inferred (R-ACC-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<Accuracy>,
    /// First day of a standalone backfill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfill_start_date: Option<String>,
    /// Derived columns (R-NAME-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivations: Option<Vec<Derivation>>,
    /// A hint that never changes values.
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_incremental: Option<bool>,
}

impl GroupBy {
    /// `metaData.name`, or `""` when unset (a validated GroupBy always has one).
    pub fn name(&self) -> &str {
        self.meta_data.as_ref().map_or("", MetaData::name)
    }

    /// The name with every character outside `[A-Za-z0-9_]` replaced by `_` (R-CFG-6).
    pub fn clean_name(&self) -> String {
        crate::naming::clean_name(self.name())
    }

    /// The sources, or none.
    pub fn sources(&self) -> &[Source] {
        self.sources.as_deref().unwrap_or(&[])
    }

    /// The key columns, or none.
    pub fn key_columns(&self) -> &[String] {
        self.key_columns.as_deref().unwrap_or(&[])
    }

    /// The aggregations, or none.
    pub fn aggregations(&self) -> &[Aggregation] {
        self.aggregations.as_deref().unwrap_or(&[])
    }

    /// The derivations, or none.
    pub fn derivations(&self) -> &[Derivation] {
        self.derivations.as_deref().unwrap_or(&[])
    }

    /// Whether the GroupBy aggregates (`aggregations` is present, even if empty).
    pub fn is_aggregated(&self) -> bool {
        self.aggregations.is_some()
    }

    /// The accuracy (R-ACC-1): the explicit one, else TEMPORAL if any source has a topic (an
    /// events `topic`, an entities `mutationTopic`, or a JoinSource whose parent's left has one),
    /// else SNAPSHOT.
    pub fn accuracy(&self) -> Accuracy {
        match self.accuracy {
            Some(accuracy) => accuracy,
            None if self.sources().iter().any(|source| source.topic().is_some()) => {
                Accuracy::Temporal
            }
            None => Accuracy::Snapshot,
        }
    }

    /// `<outputNamespace>.<cleanName>` (R-NAME-5), when a namespace is set.
    pub fn output_table(&self) -> Option<String> {
        self.meta_data.as_ref().and_then(MetaData::output_table)
    }
}
