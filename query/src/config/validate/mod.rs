//! Load-time validation: the rules of SEMANTICS.md checkable from a config alone.
//!
//! Type-dependent rules (HISTOGRAM over non-STRING, buckets on map columns, R-AGG-2) need
//! schemas and are checked by the aggregation algebra.

mod aggregation;
mod group_by;
mod join;

use std::collections::{BTreeMap, BTreeSet};

use super::{ConfigError, GroupBy, Join, MetaData, Query, StagingQuery};

impl GroupBy {
    /// Checks the rules of SEMANTICS.md that need no schema; the loaders and
    /// [`GroupByBuilder::build`](super::GroupByBuilder::build) run it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checker = Checker::new(self.name(), "GroupBy");
        group_by::check_group_by(&checker, &FieldPath::root(), self)
    }
}

impl Join {
    /// Checks the rules of SEMANTICS.md that need no schema, including those of every embedded
    /// GroupBy; the loaders and [`JoinBuilder::build`](super::JoinBuilder::build) run it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checker = Checker::new(self.name(), "Join");
        join::check_join(&checker, &FieldPath::root(), self)
    }
}

impl StagingQuery {
    /// Checks that the staging query has a name and a query.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let checker = Checker::new(self.name(), "StagingQuery");
        let root = FieldPath::root();
        check_name(&checker, &root, self.meta_data.as_ref())?;
        if self.query.as_deref().is_none_or(str::is_empty) {
            return Err(checker.error(&root.field("query"), "a StagingQuery needs a query"));
        }
        Ok(())
    }
}

/// Names the config being checked and builds errors.
pub(super) struct Checker {
    config: String,
}

impl Checker {
    fn new(name: &str, kind: &str) -> Self {
        let config = if name.is_empty() {
            format!("<unnamed {kind}>")
        } else {
            name.to_owned()
        };
        Checker { config }
    }

    /// The error for the config at `path`.
    fn error(&self, path: &FieldPath, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            config: self.config.clone(),
            field: path.0.clone(),
            reason: reason.into(),
        }
    }
}

/// A JSON field path such as `joinParts[0].groupBy.aggregations[4].argMap.k`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FieldPath(String);

impl FieldPath {
    fn root() -> Self {
        FieldPath(String::new())
    }

    fn field(&self, name: &str) -> Self {
        if self.0.is_empty() {
            FieldPath(name.to_owned())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    fn index(&self, index: usize) -> Self {
        FieldPath(format!("{}[{index}]", self.0))
    }
}

/// `metaData.name` must be present and non-empty.
fn check_name(
    checker: &Checker,
    path: &FieldPath,
    meta_data: Option<&MetaData>,
) -> Result<(), ConfigError> {
    match meta_data.map(MetaData::name) {
        Some(name) if !name.is_empty() => Ok(()),
        _ => Err(checker.error(&path.field("metaData").field("name"), "a name is required")),
    }
}

/// The columns a query makes available, when it has selects: the selected names plus `ts` and
/// the partition column, which every source provides.
fn available_columns(query: Option<&Query>) -> Option<BTreeSet<&str>> {
    let query = query?;
    let mut columns: BTreeSet<&str> = query.selects.as_ref()?.keys().collect();
    columns.insert(super::TIME_COLUMN);
    columns.insert(query.partition_column_or_default());
    Some(columns)
}

/// `a, b, c` of a query's selected columns, for messages.
fn list_selects(query: Option<&Query>) -> String {
    query
        .and_then(Query::selected_columns)
        .unwrap_or_default()
        .join(", ")
}

/// Fails with "output column X is produced twice" for the first repeated name (R-NAME-4).
fn check_unique<'a>(
    checker: &Checker,
    names: impl IntoIterator<Item = (&'a str, FieldPath)>,
) -> Result<(), ConfigError> {
    let mut seen: BTreeMap<&str, FieldPath> = BTreeMap::new();
    for (name, path) in names {
        if let Some(first) = seen.get(name) {
            let first = if first.0.is_empty() {
                "the config".to_owned()
            } else {
                first.0.clone()
            };
            return Err(checker.error(
                &path,
                format!("output column {name} is produced twice (also by {first})"),
            ));
        }
        seen.insert(name, path);
    }
    Ok(())
}
