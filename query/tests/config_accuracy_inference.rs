//! R-ACC-1 and E-40: an explicit accuracy wins; otherwise a topic, a mutationTopic, or a
//! JoinSource whose parent's left has a topic makes a GroupBy TEMPORAL, else it is SNAPSHOT.

use tilefold_query::config::{Accuracy, Aggregation, GroupBy, Join, Operation, Source, Window};

fn group_by(source: impl Into<Source>, accuracy: Option<Accuracy>) -> GroupBy {
    let builder = GroupBy::builder("shop.accuracy.v1")
        .source(source)
        .key("user_id")
        .aggregation(Aggregation::new(Operation::Count, "user_id").window(Window::days(7)));
    match accuracy {
        Some(accuracy) => builder.accuracy(accuracy).build().unwrap(),
        None => builder.build().unwrap(),
    }
}

fn events() -> tilefold_query::config::EventSource {
    Source::events("data.events")
        .select("user_id", "user_id")
        .time_column("ts")
}

#[test]
fn events_topic_decides_when_accuracy_is_absent() {
    assert_eq!(group_by(events(), None).accuracy(), Accuracy::Snapshot);
    // E-40: adding a topic makes it TEMPORAL.
    assert_eq!(
        group_by(events().topic("events"), None).accuracy(),
        Accuracy::Temporal
    );
    // An explicit accuracy wins both ways.
    let snapshot = group_by(events().topic("events"), Some(Accuracy::Snapshot));
    assert_eq!(snapshot.accuracy(), Accuracy::Snapshot);
    let temporal = group_by(events(), Some(Accuracy::Temporal));
    assert_eq!(temporal.accuracy(), Accuracy::Temporal);
}

#[test]
fn entities_mutation_topic_makes_temporal() {
    let entities = || {
        Source::entities("data.users")
            .select("user_id", "user_id")
            .time_column("ts")
    };
    assert_eq!(group_by(entities(), None).accuracy(), Accuracy::Snapshot);
    let with_topic = entities()
        .mutation_table("data.users_mutations")
        .mutation_topic("cdc");
    assert_eq!(group_by(with_topic, None).accuracy(), Accuracy::Temporal);
}

#[test]
fn join_source_follows_its_parent_left() {
    let parent = |left: tilefold_query::config::EventSource| {
        Join::builder("shop.parent.v1")
            .left(left.select("user_id", "user_id"))
            .build()
            .unwrap()
    };
    let chained = |join| {
        Source::join_source(join)
            .select("user_id", "user_id")
            .time_column("ts")
    };
    let quiet = group_by(
        chained(parent(Source::events("data.checkouts").time_column("ts"))),
        None,
    );
    assert_eq!(quiet.accuracy(), Accuracy::Snapshot);
    let streamed = parent(
        Source::events("data.checkouts")
            .time_column("ts")
            .topic("checkouts"),
    );
    assert_eq!(
        group_by(chained(streamed), None).accuracy(),
        Accuracy::Temporal
    );
}
