//! Output columns of GroupBys and Joins (SEMANTICS.md §5).

use super::{GroupBy, Join, Operation, Window};
use crate::naming::{self, RESERVED_COLUMNS};

/// A value column of a GroupBy (R-NAME-1 … R-NAME-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputColumn {
    /// The column name, e.g. `price_sum_3d`.
    pub name: String,
    /// Index of the aggregation in `aggregations`; `None` for a selected column of a GroupBy
    /// without aggregations (R-NAME-3).
    pub aggregation: Option<usize>,
    /// The operation; `None` without aggregations.
    pub operation: Option<Operation>,
    /// The aggregated (or selected) column.
    pub input_column: String,
    /// The window; `None` when unbounded (or without aggregations).
    pub window: Option<Window>,
    /// The bucket column, if any.
    pub bucket: Option<String>,
}

impl GroupBy {
    /// The value columns, before derivations: for each aggregation, for each bucket, for each
    /// window (R-NAME-1, R-NAME-2); without aggregations, the first source's selected columns
    /// minus the keys and the reserved columns (R-NAME-3), or none if it selects all columns.
    pub fn output_columns(&self) -> Vec<OutputColumn> {
        match &self.aggregations {
            Some(aggregations) => aggregations
                .iter()
                .enumerate()
                .flat_map(|(index, aggregation)| {
                    let k = aggregation.k().ok().flatten();
                    let windows = aggregation.output_windows();
                    let buckets: Vec<Option<&String>> = if aggregation.buckets().is_empty() {
                        vec![None]
                    } else {
                        aggregation.buckets().iter().map(Some).collect()
                    };
                    buckets.into_iter().flat_map(move |bucket| {
                        windows.clone().into_iter().map(move |window| OutputColumn {
                            name: naming::column_name(
                                &aggregation.input_column,
                                aggregation.operation,
                                k,
                                window.as_ref(),
                                bucket.map(String::as_str),
                            ),
                            aggregation: Some(index),
                            operation: Some(aggregation.operation),
                            input_column: aggregation.input_column.clone(),
                            window,
                            bucket: bucket.cloned(),
                        })
                    })
                })
                .collect(),
            None => self.selected_value_columns(),
        }
    }

    fn selected_value_columns(&self) -> Vec<OutputColumn> {
        let Some(query) = self.sources().first().and_then(|source| source.query()) else {
            return Vec::new();
        };
        let partition_column = query.partition_column_or_default();
        query
            .selected_columns()
            .unwrap_or_default()
            .into_iter()
            .filter(|column| {
                !self.key_columns().iter().any(|key| key == column)
                    && !RESERVED_COLUMNS.contains(column)
                    && *column != partition_column
            })
            .map(|column| OutputColumn {
                name: column.to_owned(),
                aggregation: None,
                operation: None,
                input_column: column.to_owned(),
                window: None,
                bucket: None,
            })
            .collect()
    }

    /// The value column names after derivations (R-NAME-9). The key and partition columns are
    /// always kept besides these.
    pub fn value_columns(&self) -> Vec<String> {
        let base: Vec<String> = self.output_columns().into_iter().map(|c| c.name).collect();
        naming::derivation_names(&base, self.derivations())
    }
}

/// Where a join's base value column comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnOrigin {
    /// Value column `column` of `joinParts[part]` (R-NAME-6).
    Part {
        /// Index in `joinParts`.
        part: usize,
        /// The GroupBy's column name.
        column: String,
    },
    /// Value field `column` of `onlineExternalParts[part]`, or offline a value column of its
    /// `offlineGroupBy` (R-NAME-7, R-EXT-4).
    External {
        /// Index in `onlineExternalParts`.
        part: usize,
        /// The field or GroupBy column name.
        column: String,
    },
}

/// A base value column of a join, before derivations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinColumn {
    /// The prefixed name, e.g. `r_shop_returns_v1_refund_sum_30d`.
    pub name: String,
    /// Where its value comes from.
    pub origin: ColumnOrigin,
}

/// Which output of a join: the online fetch or the offline backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Serving {
    /// Online fetches: external parts give their valueSchema fields.
    Online,
    /// Offline backfills: external parts give their `offlineGroupBy` columns, or their value
    /// fields as nulls, and contextual parts give nothing (R-EXT-3, R-EXT-4, R-BOOT-4).
    Offline,
}

impl Join {
    /// The base value columns in order: each part's columns prefixed by its `fullPrefix`, then
    /// the external parts' columns prefixed by their `fullName`.
    pub fn base_columns(&self, serving: Serving) -> Vec<JoinColumn> {
        let parts = self
            .join_parts
            .iter()
            .enumerate()
            .flat_map(|(part, join_part)| {
                let prefix = join_part.full_prefix();
                join_part
                    .group_by
                    .value_columns()
                    .into_iter()
                    .map(move |column| JoinColumn {
                        name: naming::prefixed(&prefix, &column),
                        origin: ColumnOrigin::Part { part, column },
                    })
            });
        let externals = self
            .external_parts()
            .iter()
            .enumerate()
            .flat_map(|(part, external)| {
                let full_name = external.full_name();
                let columns: Vec<String> = match (serving, &external.source.offline_group_by) {
                    (Serving::Offline, Some(group_by)) => group_by.value_columns(),
                    (Serving::Offline, None) if external.source.is_contextual() => Vec::new(),
                    _ => external
                        .source
                        .value_fields()
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                };
                columns.into_iter().map(move |column| JoinColumn {
                    name: naming::prefixed(&full_name, &column),
                    origin: ColumnOrigin::External { part, column },
                })
            });
        parts.chain(externals).collect()
    }

    /// The offline value columns after derivations (R-NAME-9, R-DER-2); the left columns come
    /// before them.
    pub fn output_columns(&self) -> Vec<String> {
        self.projected_columns(Serving::Offline)
    }

    /// The online value columns after derivations (R-NAME-9).
    pub fn online_output_columns(&self) -> Vec<String> {
        self.projected_columns(Serving::Online)
    }

    fn projected_columns(&self, serving: Serving) -> Vec<String> {
        let base: Vec<String> = self
            .base_columns(serving)
            .into_iter()
            .map(|column| column.name)
            .collect();
        naming::derivation_names(&base, self.derivations())
    }

    /// The label columns of the `_labeled` view: `label_<fullPrefix>_<column>` (R-NAME-8).
    pub fn label_columns(&self) -> Vec<String> {
        self.labels()
            .iter()
            .flat_map(|label| {
                let prefix = label.full_prefix();
                label
                    .group_by
                    .value_columns()
                    .into_iter()
                    .map(move |column| naming::label_column(&naming::prefixed(&prefix, &column)))
            })
            .collect()
    }
}
