//! Topics: which GroupBy sources read a live topic, and where a source's table hands over to its
//! topic (lambda semantics, README "Live ingest").

use std::collections::BTreeMap;

use tilefold_query::config::{GroupBy, Source};
use tilefold_query::window::{day_start, parse_day};

use super::catalog::TableEntry;

/// A topic's name without its `/k=v` arguments: `events/purchases/host=a` → `events/purchases`.
pub fn topic_name(topic: &str) -> &str {
    let mut name = topic;
    while let Some((rest, last)) = name.rsplit_once('/') {
        if !last.contains('=') {
            break;
        }
        name = rest;
    }
    name
}

/// The events source of `group_by` that reads a topic, with the topic's name. A GroupBy has at
/// most one streaming source (R-SRC-3).
pub fn stream_source(group_by: &GroupBy) -> Option<(usize, &str)> {
    group_by
        .sources()
        .iter()
        .enumerate()
        .find_map(|(i, source)| match source {
            Source::Events(e) => e.topic.as_deref().map(|t| (i, topic_name(t))),
            _ => None,
        })
}

/// The batch end of source `index`: the end of the last loaded partition of its table within
/// the source's partition range; `None` without a table or loaded partitions.
pub fn batch_end(
    group_by: &GroupBy,
    index: usize,
    tables: &BTreeMap<String, TableEntry>,
) -> Option<i64> {
    let Source::Events(source) = group_by.sources().get(index)? else {
        return None;
    };
    let table = source.table.as_deref()?.split('/').next()?;
    let last = source.query.as_ref().and_then(|q| q.end_partition.clone());
    tables
        .get(table)?
        .partitions
        .keys()
        .filter(|p| last.as_ref().is_none_or(|l| *p <= l))
        .filter_map(|p| parse_day(p))
        .max()
        .map(|day| day_start(day + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arguments_are_not_part_of_the_name() {
        assert_eq!(topic_name("events/purchases"), "events/purchases");
        assert_eq!(
            topic_name("events/purchases/host=a/port=9"),
            "events/purchases"
        );
        assert_eq!(topic_name("clicks"), "clicks");
    }
}
