//! Output naming (SEMANTICS.md §5, R-CFG-6, R-CFG-7): column, prefix and table names.
//!
//! ```
//! use tilefold_query::config::{Operation, Window};
//! use tilefold_query::naming;
//!
//! let name = naming::column_name("price", Operation::Average, None, Some(&Window::hours(1)), Some("card_type"));
//! assert_eq!(name, "price_average_1h_by_card_type");
//! assert_eq!(naming::clean_name("payments.merchant_txn.v1"), "payments_merchant_txn_v1");
//! ```

use std::collections::HashSet;

use crate::config::{Derivation, Operation, Window};

/// Columns that are never value columns of a GroupBy without aggregations (R-NAME-3).
pub const RESERVED_COLUMNS: [&str; 5] = ["ts", "ds", "ts_ds", "is_before", "mutation_ts"];

/// Replaces every character outside `[A-Za-z0-9_]` with `_` (R-CFG-6).
pub fn clean_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A join's request name: the first `.` replaced by `/` (R-CFG-7).
pub fn request_name(join_name: &str) -> String {
    join_name.replacen('.', "/", 1)
}

/// A join's name from a request name: the first `/` replaced by `.` (R-CFG-7). A dotted name is
/// returned unchanged.
pub fn join_name_from_request(request_name: &str) -> String {
    request_name.replacen('/', ".", 1)
}

/// `_<length>d` or `_<length>h` exactly as written, or `""` for an unbounded window (R-NAME-1).
pub fn window_suffix(window: Option<&Window>) -> String {
    match window {
        Some(window) if !window.is_unbounded() => {
            format!("_{}{}", window.length, window.time_unit.suffix())
        }
        _ => String::new(),
    }
}

/// The lower-case operation name, or `last<k>`, `first<k>`, `top<k>`, `bottom<k>` (R-NAME-1).
pub fn operation_suffix(operation: Operation, k: Option<i64>) -> String {
    let k = k.map(|k| k.to_string()).unwrap_or_default();
    match operation {
        Operation::LastK => format!("last{k}"),
        Operation::FirstK => format!("first{k}"),
        Operation::TopK => format!("top{k}"),
        Operation::BottomK => format!("bottom{k}"),
        other => other.name().to_ascii_lowercase(),
    }
}

/// `<input>_<op><window><bucket>` (R-NAME-1); `k` matters only for the `_K` operations.
pub fn column_name(
    input_column: &str,
    operation: Operation,
    k: Option<i64>,
    window: Option<&Window>,
    bucket: Option<&str>,
) -> String {
    let bucket = bucket.map(|b| format!("_by_{b}")).unwrap_or_default();
    format!(
        "{input_column}_{}{}{bucket}",
        operation_suffix(operation, k),
        window_suffix(window)
    )
}

/// A join part's `fullPrefix`: `[<prefix>_]<cleanName(group_by_name)>` (R-NAME-6).
pub fn full_prefix(prefix: Option<&str>, group_by_name: &str) -> String {
    match prefix {
        Some(prefix) => format!("{prefix}_{}", clean_name(group_by_name)),
        None => clean_name(group_by_name),
    }
}

/// An external part's `fullName`: `ext_[<prefix>_]<cleanName(source_name)>` (R-NAME-7).
pub fn external_full_name(prefix: Option<&str>, source_name: &str) -> String {
    format!("ext_{}", full_prefix(prefix, source_name))
}

/// `<prefix>_<column>`: a part's column in a join (R-NAME-6, R-NAME-7).
pub fn prefixed(prefix: &str, column: &str) -> String {
    format!("{prefix}_{column}")
}

/// `label_<column>`: a label column in `_labeled` views (R-NAME-8).
pub fn label_column(column: &str) -> String {
    format!("label_{column}")
}

/// A config's output table: `<namespace>.<cleanName(name)>` (R-NAME-5).
pub fn output_table(namespace: &str, name: &str) -> String {
    format!("{namespace}.{}", clean_name(name))
}

/// A join part's table: `<join_table>_[<prefix>_]<cleanName(group_by_name)>` (R-NAME-5).
pub fn join_part_table(join_table: &str, prefix: Option<&str>, group_by_name: &str) -> String {
    format!("{join_table}_{}", full_prefix(prefix, group_by_name))
}

/// The reference's batch KV dataset: `<CLEANNAME_UPPER>_BATCH` (R-NAME-5).
pub fn batch_dataset(group_by_name: &str) -> String {
    format!("{}_BATCH", clean_name(group_by_name).to_uppercase())
}

/// The reference's streaming KV dataset: `<CLEANNAME_UPPER>_STREAMING` (R-NAME-5).
pub fn streaming_dataset(group_by_name: &str) -> String {
    format!("{}_STREAMING", clean_name(group_by_name).to_uppercase())
}

/// Tables derived from a config's output table (R-NAME-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableSuffix {
    /// `_upload`: values uploaded for serving.
    Upload,
    /// `_logged`: online fetch logs.
    Logged,
    /// `_bootstrap`: the union of bootstraps.
    Bootstrap,
    /// `_consistency`: consistency metrics.
    Consistency,
    /// `_comparison`: offline recomputation of logged rows.
    Comparison,
    /// `_labels`: label values.
    Labels,
    /// `_labeled`: features joined with labels.
    Labeled,
    /// `_labeled_latest`: the newest labels per `ds`.
    LabeledLatest,
    /// `_daily_stats`: statistics.
    DailyStats,
    /// `_daily_inc`: incremental daily aggregates.
    DailyInc,
}

impl TableSuffix {
    /// The suffix, with its leading `_`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TableSuffix::Upload => "_upload",
            TableSuffix::Logged => "_logged",
            TableSuffix::Bootstrap => "_bootstrap",
            TableSuffix::Consistency => "_consistency",
            TableSuffix::Comparison => "_comparison",
            TableSuffix::Labels => "_labels",
            TableSuffix::Labeled => "_labeled",
            TableSuffix::LabeledLatest => "_labeled_latest",
            TableSuffix::DailyStats => "_daily_stats",
            TableSuffix::DailyInc => "_daily_inc",
        }
    }
}

/// `<output_table><suffix>`, e.g. `features.payments_merchant_txn_v1_upload` (R-NAME-5).
pub fn related_table(output_table: &str, suffix: TableSuffix) -> String {
    format!("{output_table}{}", suffix.as_str())
}

/// One column of a derivation projection (R-NAME-9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projected<'a> {
    /// Base column `base[index]`, kept by `*`.
    Base {
        /// Index in the base columns.
        index: usize,
        /// Its name.
        name: &'a str,
    },
    /// Derivation `derivations[index]`.
    Derived {
        /// Index in the derivations.
        index: usize,
        /// The output name.
        name: &'a str,
        /// The expression.
        expression: &'a str,
    },
}

impl<'a> Projected<'a> {
    /// The output column name.
    pub fn name(&self) -> &'a str {
        match self {
            Projected::Base { name, .. } | Projected::Derived { name, .. } => name,
        }
    }
}

/// The output of `derivations` over `base` columns, in derivation order (R-NAME-9): `*` expands,
/// where it appears, to every base column except those used verbatim as a derivation's
/// expression; without `*`, base columns appear only through derivations. Without derivations the
/// output is the base columns.
pub fn derivation_projection<'a>(
    base: &'a [String],
    derivations: &'a [Derivation],
) -> Vec<Projected<'a>> {
    if derivations.is_empty() {
        return base
            .iter()
            .enumerate()
            .map(|(index, name)| Projected::Base { index, name })
            .collect();
    }
    let expressions: HashSet<&str> = derivations
        .iter()
        .map(|derivation| derivation.expression.as_str())
        .collect();
    let mut projected = Vec::new();
    for (index, derivation) in derivations.iter().enumerate() {
        if derivation.is_star() {
            let kept = base
                .iter()
                .enumerate()
                .filter(|(_, column)| !expressions.contains(column.as_str()));
            projected.extend(kept.map(|(index, name)| Projected::Base { index, name }));
        } else {
            projected.push(Projected::Derived {
                index,
                name: &derivation.name,
                expression: &derivation.expression,
            });
        }
    }
    projected
}

/// The names of [`derivation_projection`].
pub fn derivation_names(base: &[String], derivations: &[Derivation]) -> Vec<String> {
    derivation_projection(base, derivations)
        .iter()
        .map(|column| column.name().to_owned())
        .collect()
}
