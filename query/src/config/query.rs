//! `Query`: how a source's rows are selected (SEMANTICS.md §2.2, §4.5).

use serde::{Deserialize, Serialize};

use super::OrderedMap;

/// Default `partitionColumn` (R-TIME-4).
pub const DEFAULT_PARTITION_COLUMN: &str = "ds";
/// Default `mutationTimeColumn`.
pub const DEFAULT_MUTATION_TIME_COLUMN: &str = "mutation_ts";
/// Default `reversalColumn`.
pub const DEFAULT_REVERSAL_COLUMN: &str = "is_before";
/// The name of the time column after selection.
pub const TIME_COLUMN: &str = "ts";

/// The selection applied to a source's table: `SELECT <selects> WHERE <wheres>`.
///
/// `Query::default()` has every field unset; [`Query::new`] sets `setups` to `[]`, as Chronon's
/// compiler writes it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// Output column name → Spark SQL expression; absent means all columns (R-SRC-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selects: Option<OrderedMap<String>>,
    /// Filters, ANDed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheres: Option<Vec<String>>,
    /// First partition read (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_partition: Option<String>,
    /// Last partition read (inclusive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_partition: Option<String>,
    /// Expression giving the row's epoch milliseconds, selected as `ts`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_column: Option<String>,
    /// Spark setup statements; never run (R-CFG-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setups: Option<Vec<String>>,
    /// Column holding a mutation's time (default `mutation_ts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_time_column: Option<String>,
    /// Column telling a mutation's before row (default `is_before`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversal_column: Option<String>,
    /// The partition column (default `ds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_column: Option<String>,
}

impl Query {
    /// An empty query with `setups: []`.
    pub fn new() -> Self {
        Query {
            setups: Some(Vec::new()),
            ..Query::default()
        }
    }

    /// The partition column, `ds` unless set.
    pub fn partition_column_or_default(&self) -> &str {
        self.partition_column
            .as_deref()
            .unwrap_or(DEFAULT_PARTITION_COLUMN)
    }

    /// The mutation time column, `mutation_ts` unless set.
    pub fn mutation_time_column_or_default(&self) -> &str {
        self.mutation_time_column
            .as_deref()
            .unwrap_or(DEFAULT_MUTATION_TIME_COLUMN)
    }

    /// The reversal column, `is_before` unless set.
    pub fn reversal_column_or_default(&self) -> &str {
        self.reversal_column
            .as_deref()
            .unwrap_or(DEFAULT_REVERSAL_COLUMN)
    }

    /// The names of the selected columns, in order, or `None` when all columns are selected.
    pub fn selected_columns(&self) -> Option<Vec<&str>> {
        self.selects
            .as_ref()
            .map(|selects| selects.keys().collect())
    }

    /// The `wheres`, or none.
    pub fn wheres(&self) -> &[String] {
        self.wheres.as_deref().unwrap_or(&[])
    }
}
