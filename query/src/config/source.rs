//! Sources: events, entities and chained joins (SEMANTICS.md §2.2, §4.5, R-CFG-8).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::json::opt_bool;
use super::{Join, Query};

/// A table of timestamped events, optionally streamed from a topic.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSource {
    /// The Hive table; may end in `/k=v` sub-partition filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The stream; may carry `/k=v` args. Makes the GroupBy TEMPORAL by default (R-ACC-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The row selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
    /// Every partition holds the full history (R-SRC-5).
    #[serde(default, with = "opt_bool", skip_serializing_if = "Option::is_none")]
    pub is_cumulative: Option<bool>,
}

/// Daily snapshots of entities, optionally with a mutation log (R-MUT-1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntitySource {
    /// The snapshot table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_table: Option<String>,
    /// The table of mutations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_table: Option<String>,
    /// The stream of mutations. Makes the GroupBy TEMPORAL by default (R-ACC-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutation_topic: Option<String>,
    /// The row selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
}

/// The output rows of a parent join, fed through a query (R-SRC-7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinSource {
    /// The complete parent join.
    pub join: Box<Join>,
    /// The selection applied to the parent's output rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<Query>,
}

/// Whether a source's rows are events or entity snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataModel {
    /// Timestamped events.
    Events,
    /// Entity snapshots (and mutations).
    Entities,
}

/// Where a GroupBy or a join's left reads its rows: exactly one of `events`, `entities` or
/// `joinSource` (R-CFG-8).
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `{"events": …}`
    Events(EventSource),
    /// `{"entities": …}`
    Entities(EntitySource),
    /// `{"joinSource": …}`
    JoinSource(JoinSource),
}

impl Source {
    /// An events source reading `table`; chain builder methods, then pass it where a `Source` is
    /// expected.
    pub fn events(table: impl Into<String>) -> EventSource {
        EventSource {
            table: Some(table.into()),
            ..EventSource::default()
        }
    }

    /// An entities source reading the snapshot table `snapshot_table`.
    pub fn entities(snapshot_table: impl Into<String>) -> EntitySource {
        EntitySource {
            snapshot_table: Some(snapshot_table.into()),
            ..EntitySource::default()
        }
    }

    /// A source reading the output rows of `join`.
    pub fn join_source(join: Join) -> JoinSource {
        JoinSource {
            join: Box::new(join),
            query: None,
        }
    }

    /// The JSON field naming the variant: `events`, `entities` or `joinSource`.
    pub fn variant_name(&self) -> &'static str {
        match self {
            Source::Events(_) => "events",
            Source::Entities(_) => "entities",
            Source::JoinSource(_) => "joinSource",
        }
    }

    /// The source's own query (for a JoinSource, the query over the parent's output).
    pub fn query(&self) -> Option<&Query> {
        match self {
            Source::Events(events) => events.query.as_ref(),
            Source::Entities(entities) => entities.query.as_ref(),
            Source::JoinSource(join_source) => join_source.query.as_ref(),
        }
    }

    /// The streaming topic: an events `topic`, an entities `mutationTopic`, or for a JoinSource
    /// the topic of the parent join's left (R-ACC-1).
    pub fn topic(&self) -> Option<&str> {
        match self {
            Source::Events(events) => events.topic.as_deref(),
            Source::Entities(entities) => entities.mutation_topic.as_deref(),
            Source::JoinSource(join_source) => join_source.join.left.topic(),
        }
    }

    /// Events or entities; a JoinSource counts as its parent's left (R-SRC-7).
    pub fn data_model(&self) -> DataModel {
        match self {
            Source::Events(_) => DataModel::Events,
            Source::Entities(_) => DataModel::Entities,
            Source::JoinSource(join_source) => join_source.join.left.data_model(),
        }
    }

    /// The table read: events `table`, entities `snapshotTable`; `None` for a JoinSource.
    pub fn table(&self) -> Option<&str> {
        match self {
            Source::Events(events) => events.table.as_deref(),
            Source::Entities(entities) => entities.snapshot_table.as_deref(),
            Source::JoinSource(_) => None,
        }
    }

    /// Whether this is a cumulative events source (R-SRC-5).
    pub fn is_cumulative(&self) -> bool {
        matches!(self, Source::Events(events) if events.is_cumulative == Some(true))
    }
}

/// Builder methods shared by the three source kinds; each edits the source's query, creating it
/// with [`Query::new`] if absent.
macro_rules! query_builder_methods {
    () => {
        fn query_mut(&mut self) -> &mut Query {
            self.query.get_or_insert_with(Query::new)
        }

        /// Replaces the query.
        pub fn query(mut self, query: Query) -> Self {
            self.query = Some(query);
            self
        }

        /// Selects `expression` as column `name`.
        pub fn select(mut self, name: impl Into<String>, expression: impl Into<String>) -> Self {
            self.query_mut()
                .selects
                .get_or_insert_with(Default::default)
                .insert(name, expression.into());
            self
        }

        /// Adds a filter (filters are ANDed).
        pub fn where_clause(mut self, clause: impl Into<String>) -> Self {
            self.query_mut()
                .wheres
                .get_or_insert_with(Vec::new)
                .push(clause.into());
            self
        }

        /// Sets the expression giving epoch milliseconds.
        pub fn time_column(mut self, expression: impl Into<String>) -> Self {
            self.query_mut().time_column = Some(expression.into());
            self
        }

        /// Sets the first partition read.
        pub fn start_partition(mut self, partition: impl Into<String>) -> Self {
            self.query_mut().start_partition = Some(partition.into());
            self
        }

        /// Sets the last partition read.
        pub fn end_partition(mut self, partition: impl Into<String>) -> Self {
            self.query_mut().end_partition = Some(partition.into());
            self
        }

        /// Sets the partition column.
        pub fn partition_column(mut self, column: impl Into<String>) -> Self {
            self.query_mut().partition_column = Some(column.into());
            self
        }
    };
}

impl EventSource {
    query_builder_methods!();

    /// Sets the streaming topic.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// Marks the source cumulative (R-SRC-5).
    pub fn cumulative(mut self, cumulative: bool) -> Self {
        self.is_cumulative = Some(cumulative);
        self
    }
}

impl EntitySource {
    query_builder_methods!();

    /// Sets the mutation table.
    pub fn mutation_table(mut self, table: impl Into<String>) -> Self {
        self.mutation_table = Some(table.into());
        self
    }

    /// Sets the mutation topic.
    pub fn mutation_topic(mut self, topic: impl Into<String>) -> Self {
        self.mutation_topic = Some(topic.into());
        self
    }

    /// Sets the column holding a mutation's time.
    pub fn mutation_time_column(mut self, column: impl Into<String>) -> Self {
        self.query_mut().mutation_time_column = Some(column.into());
        self
    }

    /// Sets the column telling a mutation's before row.
    pub fn reversal_column(mut self, column: impl Into<String>) -> Self {
        self.query_mut().reversal_column = Some(column.into());
        self
    }
}

impl JoinSource {
    query_builder_methods!();
}

impl From<EventSource> for Source {
    fn from(source: EventSource) -> Self {
        Source::Events(source)
    }
}

impl From<EntitySource> for Source {
    fn from(source: EntitySource) -> Self {
        Source::Entities(source)
    }
}

impl From<JoinSource> for Source {
    fn from(source: JoinSource) -> Self {
        Source::JoinSource(source)
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Source::Events(events) => map.serialize_entry("events", events)?,
            Source::Entities(entities) => map.serialize_entry("entities", entities)?,
            Source::JoinSource(join_source) => map.serialize_entry("joinSource", join_source)?,
        }
        map.end()
    }
}

/// The JSON form of a Source: three optional fields, of which exactly one must be set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceUnion {
    events: Option<EventSource>,
    entities: Option<EntitySource>,
    join_source: Option<JoinSource>,
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let union = SourceUnion::deserialize(deserializer)?;
        let set: Vec<&str> = [
            union.events.is_some().then_some("events"),
            union.entities.is_some().then_some("entities"),
            union.join_source.is_some().then_some("joinSource"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match (union.events, union.entities, union.join_source) {
            (Some(events), None, None) => Ok(Source::Events(events)),
            (None, Some(entities), None) => Ok(Source::Entities(entities)),
            (None, None, Some(join_source)) => Ok(Source::JoinSource(join_source)),
            _ => Err(serde::de::Error::custom(format!(
                "a Source must set exactly one of events, entities or joinSource, but it sets {}",
                if set.is_empty() {
                    "none".to_owned()
                } else {
                    set.join(" and ")
                }
            ))),
        }
    }
}
