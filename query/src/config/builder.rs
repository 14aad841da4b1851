//! Builders for GroupBys and Joins in Rust; `build()` validates like the loaders do.

use super::{
    Accuracy, Aggregation, BootstrapPart, ConfigError, Derivation, EventSource, ExternalPart,
    GroupBy, Join, JoinPart, LabelPart, MetaData, Source,
};

/// Builds a [`GroupBy`]; start with [`GroupBy::builder`].
///
/// ```
/// use tilefold_query::config::{Aggregation, GroupBy, Operation, Source, Window};
///
/// let group_by = GroupBy::builder("shop.purchases.v1")
///     .source(
///         Source::events("data.purchases")
///             .select("user_id", "user_id")
///             .select("price", "purchase_price")
///             .time_column("ts")
///             .topic("events/purchases"),
///     )
///     .key("user_id")
///     .aggregation(Aggregation::new(Operation::Sum, "price").window(Window::days(3)))
///     .build()?;
/// assert_eq!(group_by.output_columns()[0].name, "price_sum_3d");
/// # Ok::<(), tilefold_query::config::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct GroupByBuilder {
    group_by: GroupBy,
}

impl GroupBy {
    /// Starts building a GroupBy named `name` (`<team>.<module path>.<variable>`).
    pub fn builder(name: impl Into<String>) -> GroupByBuilder {
        GroupByBuilder {
            group_by: GroupBy {
                meta_data: Some(MetaData::named(name)),
                ..GroupBy::default()
            },
        }
    }
}

impl GroupByBuilder {
    fn meta_data(&mut self) -> &mut MetaData {
        self.group_by
            .meta_data
            .get_or_insert_with(MetaData::default)
    }

    /// Replaces the metadata (its name included).
    pub fn meta(mut self, meta_data: MetaData) -> Self {
        self.group_by.meta_data = Some(meta_data);
        self
    }

    /// Sets `metaData.online`.
    pub fn online(mut self, online: bool) -> Self {
        self.meta_data().online = Some(online);
        self
    }

    /// Sets `metaData.team`.
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.meta_data().team = Some(team.into());
        self
    }

    /// Sets `metaData.outputNamespace`.
    pub fn output_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.meta_data().output_namespace = Some(namespace.into());
        self
    }

    /// Adds a source.
    pub fn source(mut self, source: impl Into<Source>) -> Self {
        self.group_by
            .sources
            .get_or_insert_with(Vec::new)
            .push(source.into());
        self
    }

    /// Adds a key column.
    pub fn key(mut self, column: impl Into<String>) -> Self {
        self.group_by
            .key_columns
            .get_or_insert_with(Vec::new)
            .push(column.into());
        self
    }

    /// Adds an aggregation.
    pub fn aggregation(mut self, aggregation: Aggregation) -> Self {
        self.group_by
            .aggregations
            .get_or_insert_with(Vec::new)
            .push(aggregation);
        self
    }

    /// Sets an explicit accuracy (otherwise inferred, R-ACC-1).
    pub fn accuracy(mut self, accuracy: Accuracy) -> Self {
        self.group_by.accuracy = Some(accuracy);
        self
    }

    /// Sets `backfillStartDate`.
    pub fn backfill_start_date(mut self, date: impl Into<String>) -> Self {
        self.group_by.backfill_start_date = Some(date.into());
        self
    }

    /// Adds a derivation.
    pub fn derivation(mut self, derivation: Derivation) -> Self {
        self.group_by
            .derivations
            .get_or_insert_with(Vec::new)
            .push(derivation);
        self
    }

    /// Validates and returns the GroupBy.
    pub fn build(self) -> Result<GroupBy, ConfigError> {
        self.group_by.validate()?;
        Ok(self.group_by)
    }
}

/// Builds a [`Join`]; start with [`Join::builder`].
///
/// ```
/// use tilefold_query::config::{Aggregation, GroupBy, Join, JoinPart, Operation, Source};
///
/// let returns = GroupBy::builder("shop.returns.v1")
///     .source(Source::events("data.returns").select("user_id", "user_id")
///         .select("refund", "refund_amount").time_column("ts"))
///     .key("user_id")
///     .aggregation(Aggregation::new(Operation::Sum, "refund"))
///     .build()?;
/// let join = Join::builder("shop.checkout.v1")
///     .left(Source::events("data.checkouts").select("buyer", "user_id").time_column("ts"))
///     .part(JoinPart::new(returns).prefix("r").key_mapping("buyer", "user_id"))
///     .build()?;
/// assert_eq!(join.output_columns(), ["r_shop_returns_v1_refund_sum"]);
/// # Ok::<(), tilefold_query::config::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct JoinBuilder {
    left: Option<Source>,
    /// Everything but the left, which is a placeholder until `build`.
    join: Join,
}

impl Join {
    /// Starts building a Join named `name`; set its left with [`JoinBuilder::left`].
    pub fn builder(name: impl Into<String>) -> JoinBuilder {
        JoinBuilder {
            left: None,
            join: Join::new(name, EventSource::default()),
        }
    }
}

impl JoinBuilder {
    fn meta_data(&mut self) -> &mut MetaData {
        self.join.meta_data.get_or_insert_with(MetaData::default)
    }

    /// Replaces the metadata (its name included).
    pub fn meta(mut self, meta_data: MetaData) -> Self {
        self.join.meta_data = Some(meta_data);
        self
    }

    /// Sets `metaData.online`.
    pub fn online(mut self, online: bool) -> Self {
        self.meta_data().online = Some(online);
        self
    }

    /// Sets `metaData.team`.
    pub fn team(mut self, team: impl Into<String>) -> Self {
        self.meta_data().team = Some(team.into());
        self
    }

    /// Sets `metaData.outputNamespace`.
    pub fn output_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.meta_data().output_namespace = Some(namespace.into());
        self
    }

    /// Sets the left source.
    pub fn left(mut self, left: impl Into<Source>) -> Self {
        self.left = Some(left.into());
        self
    }

    /// Adds a GroupBy part.
    pub fn part(mut self, part: JoinPart) -> Self {
        self.join.join_parts.push(part);
        self
    }

    /// Adds an external part.
    pub fn external_part(mut self, part: ExternalPart) -> Self {
        self.join
            .online_external_parts
            .get_or_insert_with(Vec::new)
            .push(part);
        self
    }

    /// Adds a bootstrap part.
    pub fn bootstrap_part(mut self, part: BootstrapPart) -> Self {
        self.join
            .bootstrap_parts
            .get_or_insert_with(Vec::new)
            .push(part);
        self
    }

    /// Sets the label part.
    pub fn label_part(mut self, part: LabelPart) -> Self {
        self.join.label_part = Some(part);
        self
    }

    /// Adds a row id column.
    pub fn row_id(mut self, column: impl Into<String>) -> Self {
        self.join
            .row_ids
            .get_or_insert_with(Vec::new)
            .push(column.into());
        self
    }

    /// Skips left rows whose `column` holds one of the SQL `literals` offline (R-JOIN-7).
    pub fn skew_key<L: Into<String>>(
        mut self,
        column: impl Into<String>,
        literals: impl IntoIterator<Item = L>,
    ) -> Self {
        let literals = literals.into_iter().map(Into::into).collect();
        self.join
            .skew_keys
            .get_or_insert_with(Default::default)
            .insert(column, literals);
        self
    }

    /// Adds a derivation.
    pub fn derivation(mut self, derivation: Derivation) -> Self {
        self.join
            .derivations
            .get_or_insert_with(Vec::new)
            .push(derivation);
        self
    }

    /// Validates and returns the Join.
    pub fn build(self) -> Result<Join, ConfigError> {
        let JoinBuilder { left, mut join } = self;
        let Some(left) = left else {
            return Err(ConfigError::Invalid {
                config: join.name().to_owned(),
                field: "left".to_owned(),
                reason: "a Join needs a left source".to_owned(),
            });
        };
        join.left = left;
        join.validate()?;
        Ok(join)
    }
}
