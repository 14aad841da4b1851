//! Untrusted config text never panics (DESIGN.md I4): every truncation and many byte edits of
//! the fixtures, and very deep nesting, give a config or a typed error. The cargo-fuzz target
//! `fuzz/fuzz_targets/config_parse.rs` explores the same path with arbitrary bytes.

use std::fs;
use std::path::{Path, PathBuf};

use tilefold_query::config::{Config, ConfigKind};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    [
        "production/group_bys/shop/purchases.detail",
        "production/joins/shop/checkout.with_derivations",
        "semantics/production/joins/payments/checkout_model.v2",
        "semantics/production/staging_queries/payments/daily_stats.v1",
    ]
    .iter()
    .map(|path| root.join(path))
    .collect()
}

/// Parses `text` as every kind; an accepted config must write back to itself.
fn exercise(text: &str) {
    for kind in [None, Some(ConfigKind::GroupBy), Some(ConfigKind::Join)] {
        if let Ok(config) = Config::from_json_str(text, kind) {
            let reread = Config::from_json_str(&config.to_json_string(), Some(config.kind()));
            assert_eq!(reread.unwrap(), config);
        }
    }
}

#[test]
fn truncations_and_edits_never_panic() {
    for file in fixtures() {
        let text = fs::read_to_string(&file).unwrap();
        for end in (0..text.len()).filter(|end| text.is_char_boundary(*end)) {
            exercise(&text[..end]);
        }
        let bytes = text.as_bytes();
        for (position, replacement) in (0..bytes.len())
            .step_by(7)
            .zip([b'0', b'"', b'}', b'-', b'9', b'[', b'n'].iter().cycle())
        {
            let mut edited = bytes.to_vec();
            edited[position] = *replacement;
            if let Ok(edited) = String::from_utf8(edited) {
                exercise(&edited);
            }
        }
    }
}

#[test]
fn deep_nesting_is_an_error() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Config::from_json_str(&deep, None).is_err());
    let deep_object = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    assert!(Config::from_json_str(&deep_object, Some(ConfigKind::Join)).is_err());
}

/// Joins chained through JoinSources load as deep as the JSON nesting limit (128) allows, and
/// fail with a typed error beyond it.
#[test]
fn chained_join_sources_load_up_to_the_nesting_limit() {
    assert!(Config::from_json_str(&chained_joins(15), Some(ConfigKind::Join)).is_ok());
    let error = Config::from_json_str(&chained_joins(40), Some(ConfigKind::Join)).unwrap_err();
    assert!(
        error.to_string().contains("recursion limit exceeded"),
        "{error}"
    );
}

fn chained_joins(depth: usize) -> String {
    let mut join = r#"{"metaData": {"name": "t.j0"}, "left": {"events": {"table": "t.e",
        "query": {"selects": {"k": "k"}, "timeColumn": "ts"}}}, "joinParts": []}"#
        .to_owned();
    for depth in 1..=depth {
        join = format!(
            r#"{{"metaData": {{"name": "t.j{depth}"}}, "left": {{"events": {{"table": "t.e",
            "query": {{"selects": {{"k": "k"}}, "timeColumn": "ts"}}}}}}, "joinParts": [
            {{"groupBy": {{"metaData": {{"name": "t.g{depth}"}}, "keyColumns": ["k"],
            "sources": [{{"joinSource": {{"join": {join}, "query": {{"selects": {{"k": "k"}},
            "timeColumn": "ts"}}}}}}]}}}}]}}"#
        );
    }
    join
}
