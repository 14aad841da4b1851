//! `Join`: a left source enriched with GroupBy parts (SEMANTICS.md §2.2, §6).

use serde::{Deserialize, Serialize};

use super::{
    BootstrapPart, Derivation, ExternalPart, JoinPart, LabelPart, MetaData, OrderedMap, Source,
};
use crate::naming;

/// A left source whose rows are enriched, point in time, with the values of GroupBy parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Join {
    /// Name and descriptive fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
    /// The rows to enrich.
    pub left: Source,
    /// The GroupBy parts.
    pub join_parts: Vec<JoinPart>,
    /// Left key column → SQL literals whose rows are skipped offline (R-JOIN-7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_keys: Option<OrderedMap<Vec<String>>>,
    /// Parts fetched online by handlers (R-EXT-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_external_parts: Option<Vec<ExternalPart>>,
    /// Labels (SEMANTICS.md §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_part: Option<LabelPart>,
    /// Bootstraps (SEMANTICS.md §6.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bootstrap_parts: Option<Vec<BootstrapPart>>,
    /// Columns identifying a left row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_ids: Option<Vec<String>>,
    /// Derived columns (R-NAME-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub derivations: Option<Vec<Derivation>>,
    /// Model transforms: kept verbatim so the error can name them, and always rejected (R-CFG-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_transforms: Option<serde_json::Value>,
}

impl Join {
    /// A join named `name` over `left`, without parts.
    pub fn new(name: impl Into<String>, left: impl Into<Source>) -> Self {
        Join {
            meta_data: Some(MetaData::named(name)),
            left: left.into(),
            join_parts: Vec::new(),
            skew_keys: None,
            online_external_parts: None,
            label_part: None,
            bootstrap_parts: None,
            row_ids: None,
            derivations: None,
            model_transforms: None,
        }
    }

    /// `metaData.name`, or `""` when unset (a validated Join always has one).
    pub fn name(&self) -> &str {
        self.meta_data.as_ref().map_or("", MetaData::name)
    }

    /// The name with every character outside `[A-Za-z0-9_]` replaced by `_` (R-CFG-6).
    pub fn clean_name(&self) -> String {
        naming::clean_name(self.name())
    }

    /// The name used in fetch requests: the first `.` replaced by `/` (R-CFG-7), e.g.
    /// `payments/checkout_model.v2`.
    pub fn request_name(&self) -> String {
        naming::request_name(self.name())
    }

    /// `<outputNamespace>.<cleanName>` (R-NAME-5), when a namespace is set.
    pub fn output_table(&self) -> Option<String> {
        self.meta_data.as_ref().and_then(MetaData::output_table)
    }

    /// The external parts, or none.
    pub fn external_parts(&self) -> &[ExternalPart] {
        self.online_external_parts.as_deref().unwrap_or(&[])
    }

    /// The bootstrap parts, or none.
    pub fn bootstrap_parts(&self) -> &[BootstrapPart] {
        self.bootstrap_parts.as_deref().unwrap_or(&[])
    }

    /// The row ids, or none.
    pub fn row_ids(&self) -> &[String] {
        self.row_ids.as_deref().unwrap_or(&[])
    }

    /// The derivations, or none.
    pub fn derivations(&self) -> &[Derivation] {
        self.derivations.as_deref().unwrap_or(&[])
    }

    /// The label GroupBys, or none.
    pub fn labels(&self) -> &[JoinPart] {
        self.label_part.as_ref().map_or(&[], LabelPart::labels)
    }

    /// The `fullPrefix` of join part `index` (R-NAME-6), if it exists.
    pub fn part_full_prefix(&self, index: usize) -> Option<String> {
        self.join_parts.get(index).map(JoinPart::full_prefix)
    }

    /// The `fullName` of external part `index` (R-NAME-7), if it exists.
    pub fn external_full_name(&self, index: usize) -> Option<String> {
        self.external_parts()
            .get(index)
            .map(ExternalPart::full_name)
    }
}
