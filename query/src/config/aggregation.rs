//! Windows and aggregations (SEMANTICS.md §2.2, §3, R-WIN-1).

use serde::{Deserialize, Serialize};

use super::json::opt_bool;
use super::{ArgError, Operation, OrderedMap, TimeUnit};

/// A window length; `length` 2147483647 means unbounded (R-WIN-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// Number of units; positive in a valid config.
    pub length: i32,
    /// The unit.
    pub time_unit: TimeUnit,
}

impl Window {
    /// The length Chronon uses for an unbounded window.
    pub const UNBOUNDED_LENGTH: i32 = i32::MAX;

    /// A window of `length` days.
    pub const fn days(length: i32) -> Self {
        Window {
            length,
            time_unit: TimeUnit::Days,
        }
    }

    /// A window of `length` hours.
    pub const fn hours(length: i32) -> Self {
        Window {
            length,
            time_unit: TimeUnit::Hours,
        }
    }

    /// The explicit unbounded window (length 2147483647 days).
    pub const fn unbounded() -> Self {
        Window::days(Window::UNBOUNDED_LENGTH)
    }

    /// Whether the window is unbounded.
    pub const fn is_unbounded(&self) -> bool {
        self.length == Window::UNBOUNDED_LENGTH
    }

    /// The window's length in milliseconds, `None` when unbounded (R-TIME-2).
    pub const fn millis(&self) -> Option<i64> {
        if self.is_unbounded() {
            None
        } else {
            Some(self.length as i64 * self.time_unit.millis())
        }
    }
}

/// One aggregation of a GroupBy: an operation over an input column, for each window and bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregation {
    /// The aggregated column (after the source's selects).
    pub input_column: String,
    /// The operation.
    pub operation: Operation,
    /// Operation arguments as strings, e.g. `"k": "20"` (R-CFG-4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arg_map: Option<OrderedMap<String>>,
    /// The windows; absent means one unbounded window (R-WIN-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<Vec<Window>>,
    /// STRING columns whose values split the output into a map (R-AGG-8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<String>>,
    /// Aggregate each list position separately (R-AGG-7).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub element_wise: Option<bool>,
}

impl Aggregation {
    /// `operation` over `input_column`, unbounded, with an empty argMap (as Chronon's compiler
    /// writes it). Chain [`window`](Self::window), [`bucket`](Self::bucket), [`arg`](Self::arg).
    pub fn new(operation: Operation, input_column: impl Into<String>) -> Self {
        Aggregation {
            input_column: input_column.into(),
            operation,
            arg_map: Some(OrderedMap::new()),
            windows: None,
            buckets: None,
            element_wise: None,
        }
    }

    /// Adds a window.
    pub fn window(mut self, window: Window) -> Self {
        self.windows.get_or_insert_with(Vec::new).push(window);
        self
    }

    /// Adds a bucket column.
    pub fn bucket(mut self, column: impl Into<String>) -> Self {
        self.buckets
            .get_or_insert_with(Vec::new)
            .push(column.into());
        self
    }

    /// Sets an argMap entry, e.g. `.arg("k", "10")`.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.arg_map
            .get_or_insert_with(OrderedMap::new)
            .insert(name, value.into());
        self
    }

    /// Sets `elementWise`.
    pub fn element_wise(mut self, element_wise: bool) -> Self {
        self.element_wise = Some(element_wise);
        self
    }

    /// The argMap entry `name`, if present.
    pub fn arg_value(&self, name: &str) -> Option<&str> {
        self.arg_map
            .as_ref()
            .and_then(|args| args.get(name))
            .map(String::as_str)
    }

    /// The parsed `k` of the argMap, or `None` when absent (R-AGG-9). `k` is a decimal 32-bit
    /// integer; defaults per operation are [`Operation::default_k`].
    pub fn k(&self) -> Result<Option<i64>, ArgError> {
        match self.arg_value("k") {
            None => Ok(None),
            Some(text) => text
                .parse::<i32>()
                .map(|k| Some(i64::from(k)))
                .map_err(|_| ArgError::KNotAnInteger(text.to_owned())),
        }
    }

    /// The parsed `percentiles` of the argMap, or `None` when absent or malformed (a validated
    /// config never has malformed percentiles). APPROX_PERCENTILE's default is `[0.5]`.
    pub fn percentiles(&self) -> Option<Vec<f64>> {
        self.try_percentiles().ok().flatten()
    }

    /// The parsed `percentiles` of the argMap: a JSON list of numbers (R-CFG-4, R-AGG-9).
    pub fn try_percentiles(&self) -> Result<Option<Vec<f64>>, ArgError> {
        match self.arg_value("percentiles") {
            None => Ok(None),
            Some(text) => serde_json::from_str::<Vec<f64>>(text)
                .map(Some)
                .map_err(|_| ArgError::PercentilesNotAList(text.to_owned())),
        }
    }

    /// The windows outputs are computed for, `None` meaning unbounded: one unbounded window when
    /// `windows` is absent, and length 2147483647 as unbounded (R-WIN-1). An empty `windows` list
    /// gives no outputs, as in the reference.
    pub fn output_windows(&self) -> Vec<Option<Window>> {
        match &self.windows {
            None => vec![None],
            Some(windows) => windows
                .iter()
                .map(|window| (!window.is_unbounded()).then_some(*window))
                .collect(),
        }
    }

    /// The bucket columns, or none.
    pub fn buckets(&self) -> &[String] {
        self.buckets.as_deref().unwrap_or(&[])
    }

    /// Whether `elementWise` is set to true.
    pub fn is_element_wise(&self) -> bool {
        self.element_wise == Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_parses_decimal_integers_only() {
        let agg = |k: &str| Aggregation::new(Operation::LastK, "x").arg("k", k);
        assert_eq!(agg("10").k(), Ok(Some(10)));
        assert_eq!(agg("-3").k(), Ok(Some(-3)));
        assert!(agg("1.5").k().is_err());
        assert!(agg("ten").k().is_err());
        assert!(agg("99999999999").k().is_err());
        assert_eq!(Aggregation::new(Operation::Sum, "x").k(), Ok(None));
    }

    #[test]
    fn windows_and_millis() {
        assert_eq!(Window::hours(24).millis(), Some(86_400_000));
        assert_eq!(Window::days(30).millis(), Some(2_592_000_000));
        assert_eq!(Window::unbounded().millis(), None);
        let agg = Aggregation::new(Operation::Sum, "x")
            .window(Window::days(1))
            .window(Window::unbounded());
        assert_eq!(agg.output_windows(), [Some(Window::days(1)), None]);
        assert_eq!(
            Aggregation::new(Operation::Sum, "x").output_windows(),
            [None]
        );
    }
}
