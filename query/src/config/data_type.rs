//! `TDataType` and `DataField`: the schemas of external sources (SEMANTICS.md §2.2).

use serde::{Deserialize, Serialize};

use super::DataKind;

/// A data type: a kind, with fields for STRUCT and element types for LIST and MAP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TDataType {
    /// The kind.
    pub kind: DataKind,
    /// STRUCT fields, LIST element or MAP key and value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Vec<DataField>>,
    /// The name; required for STRUCT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A named field of a [`TDataType`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataField {
    /// The field name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The field type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_type: Option<TDataType>,
}

impl TDataType {
    /// A type of `kind` without params or name.
    pub fn new(kind: DataKind) -> Self {
        TDataType {
            kind,
            params: None,
            name: None,
        }
    }

    /// A STRUCT named `name` with the given `(field name, type)` fields.
    pub fn structure<N: Into<String>>(
        name: impl Into<String>,
        fields: impl IntoIterator<Item = (N, TDataType)>,
    ) -> Self {
        TDataType {
            kind: DataKind::Struct,
            params: Some(
                fields
                    .into_iter()
                    .map(|(field, data_type)| DataField {
                        name: Some(field.into()),
                        data_type: Some(data_type),
                    })
                    .collect(),
            ),
            name: Some(name.into()),
        }
    }

    /// The params, or none.
    pub fn params(&self) -> &[DataField] {
        self.params.as_deref().unwrap_or(&[])
    }

    /// The names of a STRUCT's fields, in order (fields without a name are skipped).
    pub fn field_names(&self) -> Vec<&str> {
        self.params()
            .iter()
            .filter_map(|field| field.name.as_deref())
            .collect()
    }
}
