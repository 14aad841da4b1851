//! The parts of a Join: GroupBy parts, external parts, bootstraps and labels (SEMANTICS.md §2.2).

use serde::{Deserialize, Serialize};

use super::{GroupBy, MetaData, OrderedMap, Query, TDataType};
use crate::naming;

/// A GroupBy joined to the left on its keys (R-JOIN-2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinPart {
    /// The GroupBy, embedded in full.
    pub group_by: GroupBy,
    /// Left column → GroupBy key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_mapping: Option<OrderedMap<String>>,
    /// Prefix of the part's columns (R-NAME-6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl JoinPart {
    /// A part joining `group_by` on its keys under their own names.
    pub fn new(group_by: GroupBy) -> Self {
        JoinPart {
            group_by,
            key_mapping: None,
            prefix: None,
        }
    }

    /// Sets the prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Maps left column `left_column` to GroupBy key `key`.
    pub fn key_mapping(mut self, left_column: impl Into<String>, key: impl Into<String>) -> Self {
        self.key_mapping
            .get_or_insert_with(OrderedMap::new)
            .insert(left_column, key.into());
        self
    }

    /// `[<prefix>_]<cleanName(groupBy name)>` (R-NAME-6).
    pub fn full_prefix(&self) -> String {
        naming::full_prefix(self.prefix.as_deref(), self.group_by.name())
    }

    /// The left column read for GroupBy key `key`: its mapping's left column, else `key`.
    pub fn left_column_for<'a>(&'a self, key: &'a str) -> &'a str {
        self.key_mapping
            .iter()
            .flat_map(OrderedMap::iter)
            .find(|(_, target)| target.as_str() == key)
            .map_or(key, |(left, _)| left)
    }
}

/// The factory that creates an external source's handler.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactoryConfig {
    /// The registered factory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factory_name: Option<String>,
    /// Its parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factory_params: Option<OrderedMap<String>>,
}

/// A source of values fetched online by a handler (R-EXT-1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSource {
    /// Name (finds the handler; `contextual` is built in) and descriptive fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetaData>,
    /// STRUCT of the keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_schema: Option<TDataType>,
    /// STRUCT of the values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_schema: Option<TDataType>,
    /// The handler factory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factory_config: Option<FactoryConfig>,
    /// The GroupBy computing the values offline (R-EXT-4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_group_by: Option<GroupBy>,
}

impl ExternalSource {
    /// The name of the built-in source returning the request's own values (R-EXT-3).
    pub const CONTEXTUAL: &'static str = "contextual";

    /// A source named `name` with the given key and value STRUCTs.
    pub fn new(name: impl Into<String>, key_schema: TDataType, value_schema: TDataType) -> Self {
        ExternalSource {
            metadata: Some(MetaData::named(name)),
            key_schema: Some(key_schema),
            value_schema: Some(value_schema),
            ..ExternalSource::default()
        }
    }

    /// `metadata.name`, or `""`.
    pub fn name(&self) -> &str {
        self.metadata.as_ref().map_or("", MetaData::name)
    }

    /// Whether this is the `contextual` source.
    pub fn is_contextual(&self) -> bool {
        self.name() == ExternalSource::CONTEXTUAL
    }

    /// The value field names, in order.
    pub fn value_fields(&self) -> Vec<&str> {
        self.value_schema
            .as_ref()
            .map(TDataType::field_names)
            .unwrap_or_default()
    }
}

/// An external source joined online (R-EXT-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalPart {
    /// The source.
    pub source: ExternalSource,
    /// Left column → external key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_mapping: Option<OrderedMap<String>>,
    /// Prefix of the part's columns (R-NAME-7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl ExternalPart {
    /// A part fetching `source`.
    pub fn new(source: ExternalSource) -> Self {
        ExternalPart {
            source,
            key_mapping: None,
            prefix: None,
        }
    }

    /// Sets the prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Maps left column `left_column` to external key `key`.
    pub fn key_mapping(mut self, left_column: impl Into<String>, key: impl Into<String>) -> Self {
        self.key_mapping
            .get_or_insert_with(OrderedMap::new)
            .insert(left_column, key.into());
        self
    }

    /// `ext_[<prefix>_]<cleanName(source name)>` (R-NAME-7).
    pub fn full_name(&self) -> String {
        naming::external_full_name(self.prefix.as_deref(), self.source.name())
    }
}

/// A table whose values take precedence over computed ones (R-BOOT-1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapPart {
    /// Descriptive fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
    /// The bootstrap table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Filter of the bootstrap rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
    /// Matching columns; default the join's `rowIds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_columns: Option<Vec<String>>,
}

impl BootstrapPart {
    /// A bootstrap from `table`.
    pub fn new(table: impl Into<String>) -> Self {
        BootstrapPart {
            table: Some(table.into()),
            ..BootstrapPart::default()
        }
    }
}

/// Labels joined to past left rows (SEMANTICS.md §6.2).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelPart {
    /// The label GroupBys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<JoinPart>>,
    /// Days back of the first labeled left partition, plus one (R-LABEL-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_start_offset: Option<i32>,
    /// Days back of the last labeled left partition, plus one (R-LABEL-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_end_offset: Option<i32>,
    /// Descriptive fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
}

impl LabelPart {
    /// Labels for the left partitions `left_start_offset` … `left_end_offset` days back.
    pub fn new(left_start_offset: i32, left_end_offset: i32) -> Self {
        LabelPart {
            labels: None,
            left_start_offset: Some(left_start_offset),
            left_end_offset: Some(left_end_offset),
            meta_data: None,
        }
    }

    /// Adds a label GroupBy.
    pub fn label(mut self, part: JoinPart) -> Self {
        self.labels.get_or_insert_with(Vec::new).push(part);
        self
    }

    /// The label parts, or none.
    pub fn labels(&self) -> &[JoinPart] {
        self.labels.as_deref().unwrap_or(&[])
    }
}
