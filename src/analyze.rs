//! A report on loaded configs (SEMANTICS.md R-ANA-1, the parts that need no data): for each
//! GroupBy its keys, accuracy, sources and output columns with their operation, input and
//! window; for each Join its left, its parts and its output columns offline and online.

use std::fmt;

use serde_json::{json, Value as Json};
use tilefold_query::config::{ConfigSet, GroupBy, Join, Source};
use tilefold_query::naming::window_suffix;

/// The analysis of a set of configs, printable as text or JSON.
#[derive(Debug, Clone)]
pub struct Report {
    json: Json,
}

impl Report {
    pub fn to_json(&self) -> &Json {
        &self.json
    }
}

/// Analyzes every config of the set.
pub fn analyze(configs: &ConfigSet) -> Report {
    let group_bys: Vec<Json> = configs.group_bys.values().map(group_by).collect();
    let joins: Vec<Json> = configs.joins.values().map(join).collect();
    let staging: Vec<Json> = configs
        .staging_queries
        .values()
        .map(|s| json!({ "name": s.name(), "query": s.query.as_deref().unwrap_or("").trim() }))
        .collect();
    Report {
        json: json!({ "group_bys": group_bys, "joins": joins, "staging_queries": staging }),
    }
}

fn source(source: &Source) -> Json {
    json!({
        "kind": source.variant_name(),
        "table": source.table(),
        "topic": source.topic(),
    })
}

fn group_by(g: &GroupBy) -> Json {
    let columns: Vec<Json> = g
        .output_columns()
        .into_iter()
        .map(|c| {
            json!({
                "name": c.name,
                "operation": c.operation.map(|op| op.name()),
                "input_column": c.input_column,
                "window": c.window.as_ref().map(|w| window_suffix(Some(w)).trim_start_matches('_').to_owned()),
                "bucket": c.bucket,
            })
        })
        .collect();
    json!({
        "name": g.name(),
        "keys": g.key_columns(),
        "accuracy": g.accuracy().name(),
        "sources": g.sources().iter().map(source).collect::<Vec<_>>(),
        "columns": columns,
    })
}

fn join(j: &Join) -> Json {
    let parts: Vec<Json> = j
        .join_parts
        .iter()
        .map(|p| {
            json!({
                "group_by": p.group_by.name(),
                "full_prefix": p.full_prefix(),
                "key_mapping": p.key_mapping.as_ref().map(|m| m.iter().map(|(k, v)| format!("{k} -> {v}")).collect::<Vec<_>>()),
            })
        })
        .collect();
    json!({
        "name": j.name(),
        "request_name": j.request_name(),
        "left": source(&j.left),
        "parts": parts,
        "columns": j.output_columns(),
        "online_columns": j.online_output_columns(),
    })
}

fn text(value: &Json) -> &str {
    value.as_str().unwrap_or("")
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |key: &str| self.json[key].as_array().cloned().unwrap_or_default();
        for g in list("group_bys") {
            let keys: Vec<&str> = g["keys"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            writeln!(
                f,
                "group_by {}  ({}, keys: {})",
                text(&g["name"]),
                text(&g["accuracy"]),
                keys.join(", ")
            )?;
            for s in g["sources"].as_array().into_iter().flatten() {
                write!(f, "  source  {} {}", text(&s["kind"]), text(&s["table"]))?;
                match s["topic"].as_str() {
                    Some(topic) => writeln!(f, " (topic {topic})")?,
                    None => writeln!(f)?,
                }
            }
            for c in g["columns"].as_array().into_iter().flatten() {
                let (op, window) = match c["operation"].as_str() {
                    Some(op) => (op, c["window"].as_str().unwrap_or("unbounded")),
                    None => ("SELECT", ""),
                };
                writeln!(
                    f,
                    "  {:<40} {:<20} {:<16} {}",
                    text(&c["name"]),
                    op,
                    text(&c["input_column"]),
                    window
                )?;
            }
        }
        for j in list("joins") {
            writeln!(
                f,
                "join {}  (request name {}, left {} {})",
                text(&j["name"]),
                text(&j["request_name"]),
                text(&j["left"]["kind"]),
                text(&j["left"]["table"])
            )?;
            for p in j["parts"].as_array().into_iter().flatten() {
                writeln!(
                    f,
                    "  part    {} as {}",
                    text(&p["group_by"]),
                    text(&p["full_prefix"])
                )?;
            }
            for c in j["columns"].as_array().into_iter().flatten() {
                writeln!(f, "  {}", text(c))?;
            }
        }
        for s in list("staging_queries") {
            writeln!(f, "staging_query {}", text(&s["name"]))?;
        }
        Ok(())
    }
}
