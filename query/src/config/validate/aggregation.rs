//! Checks of one aggregation: argMap, windows, elementWise, columns.

use std::collections::BTreeSet;

use super::{Checker, FieldPath};
use crate::config::{Accuracy, Aggregation, ConfigError, Operation, TimeUnit};

/// Smallest and largest lgK of the APPROX_UNIQUE_COUNT sketch.
const LG_K_RANGE: std::ops::RangeInclusive<i64> = 4..=26;

/// What an aggregation's checks need to know about its GroupBy.
pub(super) struct GroupByContext<'a> {
    /// The GroupBy's accuracy (R-ACC-1).
    pub(super) accuracy: Accuracy,
    /// Whether `backfillStartDate` is set.
    pub(super) has_backfill_start_date: bool,
    /// The selected columns, when the sources have selects.
    pub(super) columns: Option<&'a BTreeSet<&'a str>>,
    /// The selected columns, for messages.
    pub(super) selects: &'a str,
}

pub(super) fn check_aggregation(
    checker: &Checker,
    path: &FieldPath,
    aggregation: &Aggregation,
    context: &GroupByContext<'_>,
) -> Result<(), ConfigError> {
    check_args(checker, path, aggregation)?;
    check_windows(checker, path, aggregation, context)?;
    if aggregation.is_element_wise() && !aggregation.buckets().is_empty() {
        return Err(checker.error(
            &path.field("elementWise"),
            "elementWise cannot be combined with buckets",
        ));
    }
    if let Some(columns) = context.columns {
        if !columns.contains(aggregation.input_column.as_str()) {
            return Err(checker.error(
                &path.field("inputColumn"),
                format!(
                    "{} is not selected by the source (selects: {})",
                    aggregation.input_column, context.selects
                ),
            ));
        }
        for (index, bucket) in aggregation.buckets().iter().enumerate() {
            if !columns.contains(bucket.as_str()) {
                return Err(checker.error(
                    &path.field("buckets").index(index),
                    format!(
                        "{bucket} is not selected by the source (selects: {})",
                        context.selects
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `k` and `percentiles` (R-AGG-9).
fn check_args(
    checker: &Checker,
    path: &FieldPath,
    aggregation: &Aggregation,
) -> Result<(), ConfigError> {
    let operation = aggregation.operation;
    let args = path.field("argMap");
    if operation.uses_k() {
        let k_path = args.field("k");
        let k = aggregation
            .k()
            .map_err(|error| checker.error(&k_path, error.to_string()))?;
        match k {
            None if operation.requires_k() => {
                return Err(checker.error(
                    &k_path,
                    format!("k needs to be specified in the argMap for {operation} type"),
                ));
            }
            Some(k) if k < 0 && (operation.requires_k() || operation == Operation::Histogram) => {
                return Err(checker.error(
                    &k_path,
                    format!("k must not be negative for {operation}, got {k}"),
                ));
            }
            Some(k) if operation == Operation::ApproxUniqueCount && !LG_K_RANGE.contains(&k) => {
                return Err(checker.error(
                    &k_path,
                    format!(
                        "k is the sketch's lgK for {operation} and must be within {}..={}, got {k}",
                        LG_K_RANGE.start(),
                        LG_K_RANGE.end()
                    ),
                ));
            }
            _ => {}
        }
    }
    if operation == Operation::ApproxPercentile {
        let percentiles_path = args.field("percentiles");
        let percentiles = aggregation
            .try_percentiles()
            .map_err(|error| checker.error(&percentiles_path, error.to_string()))?;
        for (index, percentile) in percentiles.unwrap_or_default().iter().enumerate() {
            if !(0.0..=1.0).contains(percentile) {
                return Err(checker.error(
                    &percentiles_path,
                    format!("percentile {percentile} (entry {index}) is outside [0, 1]"),
                ));
            }
        }
    }
    Ok(())
}

/// Window lengths (R-WIN-1) and HOURS windows (R-WIN-6).
fn check_windows(
    checker: &Checker,
    path: &FieldPath,
    aggregation: &Aggregation,
    context: &GroupByContext<'_>,
) -> Result<(), ConfigError> {
    let windows = aggregation.windows.as_deref().unwrap_or(&[]);
    for (index, window) in windows.iter().enumerate() {
        let window_path = path.field("windows").index(index);
        if window.length <= 0 {
            return Err(checker.error(
                &window_path.field("length"),
                format!("a window length must be positive, got {}", window.length),
            ));
        }
        if window.time_unit == TimeUnit::Hours && !window.is_unbounded() {
            if context.accuracy == Accuracy::Snapshot {
                return Err(checker.error(
                    &window_path,
                    "an HOURS window needs a TEMPORAL GroupBy, but this GroupBy is SNAPSHOT \
                     (Window can only be multiples of 1d or the operation needs to be \
                     un-windowed.)",
                ));
            }
            if context.has_backfill_start_date {
                return Err(checker.error(
                    &window_path,
                    "an HOURS window cannot be used with backfillStartDate (Window can only be \
                     multiples of 1d or the operation needs to be un-windowed.)",
                ));
            }
        }
    }
    Ok(())
}
