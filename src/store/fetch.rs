//! Online fetch (SEMANTICS.md §7): the evaluator at T = `atMillis` or now, keys cast to the key
//! types, per-part exceptions, missing data absent, derivations applied.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType as ArrowType, Field, Schema};

use tilefold_query::config::{GroupBy, Join};
use tilefold_query::derivation::Derivations;
use tilefold_query::evaluate::{GroupByEvaluator, QueryTime};
use tilefold_query::key::KeyCodec;
use tilefold_query::value::{value_at, values_to_array};
use tilefold_query::window::{day_name, day_of};
use tilefold_query::Value;

use super::bound::{BoundGroupBy, DataView};
use super::{State, Store};
use crate::{Error, Result};

/// A fetch response's feature map, in column order. Null values are absent (R-ONL-6, E-08).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub values: Vec<(String, Value)>,
}

impl Features {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The map as JSON (R-REST-4).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.values
                .iter()
                .map(|(n, v)| (n.clone(), crate::json::value_to_json(v, true)))
                .collect(),
        )
    }
}

/// The current wall-clock time in epoch milliseconds.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Store {
    /// The features of GroupBy `name` for `keys` at `at` (default now). A null key gives an empty
    /// map (R-ONL-4); a key with no data gives an empty map (R-ONL-6).
    pub fn fetch_group_by(
        &self,
        name: &str,
        keys: &BTreeMap<String, Value>,
        at: Option<i64>,
    ) -> Result<Features> {
        let state = self.state();
        let name = Store::group_by_name(&state, name)
            .ok_or_else(|| Error::Request(format!("unknown group-by {name}")))?;
        let config = &state.group_bys[&name];
        let mut values = Vec::with_capacity(config.key_columns().len());
        for key in config.key_columns() {
            match keys.get(key) {
                Some(v) => values.push(v.clone()),
                None => {
                    return Err(Error::Request(format!(
                        "group-by {name}: missing key {key} (keys given: {})",
                        keys.keys().cloned().collect::<Vec<_>>().join(", ")
                    )))
                }
            }
        }
        let Some(bound) = state.bound.get(&name) else {
            return Ok(Features::default());
        };
        let t = at.unwrap_or_else(now_millis);
        let row = part_row(bound, &state, &values, QueryTime::At(t), t)
            .map_err(|e| Error::Request(format!("group-by {name}: {e}")))?;
        let mut features = Features::default();
        if let Some(row) = row {
            for (field, value) in part_fields(bound).iter().zip(row) {
                if !value.is_null() {
                    features.values.push((field.name().clone(), value));
                }
            }
        }
        Ok(features)
    }

    /// The features of Join `name` (`team/name.v1` or `team.name.v1`) for `keys` at `at`.
    pub fn fetch_join(
        &self,
        name: &str,
        keys: &BTreeMap<String, Value>,
        at: Option<i64>,
    ) -> Result<Features> {
        let state = self.state();
        let name = Store::join_name(&state, name)
            .ok_or_else(|| Error::Request(format!("unknown join {name}")))?;
        let join = &state.joins[&name];
        let t = at.unwrap_or_else(now_millis);
        let mut base: Vec<(Field, Value)> = Vec::new();
        let mut exceptions: Vec<(String, Value)> = Vec::new();
        for part in &join.join_parts {
            let prefix = part.full_prefix();
            let group_by = &part.group_by;
            let bound = state.bound.get(group_by.name());
            let fields = match bound {
                Some(b) => part_fields(b),
                None => unbound_fields(group_by),
            };
            let mut row = vec![Value::Null; fields.len()];
            let mut values = Vec::new();
            let mut missing = Vec::new();
            for key in group_by.key_columns() {
                match keys.get(part.left_column_for(key)) {
                    Some(v) => values.push(v.clone()),
                    None => missing.push(part.left_column_for(key).to_owned()),
                }
            }
            if !missing.is_empty() {
                exceptions.push((
                    format!("{prefix}_exception"),
                    Value::String(format!(
                        "join part {prefix}: missing keys {} (keys given: {})",
                        missing.join(", "),
                        keys.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                ));
            } else if let Some(bound) = bound {
                match part_row(bound, &state, &values, QueryTime::At(t), t) {
                    Ok(Some(r)) => row = r,
                    Ok(None) => {}
                    Err(e) => exceptions.push((
                        format!("{prefix}_exception"),
                        Value::String(format!("join part {prefix}: {e}")),
                    )),
                }
            }
            for (field, value) in fields.iter().zip(row) {
                let name = format!("{prefix}_{}", field.name());
                base.push((Field::new(name, field.data_type().clone(), true), value));
            }
        }
        for part in join.external_parts() {
            let full = part.full_name();
            if part.source.is_contextual() {
                // R-EXT-3: the request's own values.
                for field in part.source.value_fields() {
                    let value = keys.get(field).cloned().unwrap_or(Value::Null);
                    base.push((
                        Field::new(format!("{full}_{field}"), json_type(&value), true),
                        value,
                    ));
                }
            } else {
                exceptions.push((
                    format!("{full}_exception"),
                    Value::String(format!(
                        "no handler registered for external source {}",
                        part.source.name()
                    )),
                ));
            }
        }
        let mut features = Features::default();
        let derived = if join.derivations.as_ref().is_some_and(|d| !d.is_empty()) {
            let compiled = state.online.get(&name).filter(|o| o.matches(&base));
            let result = match compiled {
                Some(online) => online.apply(&base, keys, t),
                None => derive_online(join, &base, keys, t),
            };
            match result {
                Ok(values) => Some(values),
                Err(e) => {
                    features
                        .values
                        .push(("derivation_fetch_exception".into(), Value::String(e)));
                    None
                }
            }
        } else {
            None
        };
        let values = derived.unwrap_or_else(|| {
            base.into_iter()
                .map(|(f, v)| (f.name().clone(), v))
                .collect()
        });
        // R-ONL-10, E-28: a failed part's (derived) columns are removed; its exception stays.
        let failed: Vec<String> = exceptions
            .iter()
            .filter_map(|(n, _)| n.strip_suffix("exception").map(str::to_owned))
            .collect();
        features.values.extend(values.into_iter().filter(|(n, v)| {
            !v.is_null() && !failed.iter().any(|prefix| n.starts_with(prefix.as_str()))
        }));
        features.values.extend(exceptions);
        Ok(features)
    }
}

/// A part's output columns: the GroupBy's derivations, or its evaluator's columns.
pub(super) fn part_fields(bound: &BoundGroupBy) -> Vec<Field> {
    match &bound.derivations {
        Some(d) => d
            .output_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect(),
        None => bound.evaluator.output_fields().to_vec(),
    }
}

/// Columns of a GroupBy that has no data yet: its names, untyped.
pub(super) fn unbound_fields(group_by: &GroupBy) -> Vec<Field> {
    group_by
        .value_columns()
        .into_iter()
        .map(|n| Field::new(n, ArrowType::Null, true))
        .collect()
}

/// One part's values for `key_values` at `at` (`t` is the instant for `ts`/`ds` in derivations);
/// `None` when a key is null (R-JOIN-4).
pub(super) fn part_row(
    bound: &BoundGroupBy,
    state: &State,
    key_values: &[Value],
    at: QueryTime,
    t: i64,
) -> std::result::Result<Option<Vec<Value>>, String> {
    let Some(cast) = bound
        .keys
        .cast_values(key_values)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let key = bound
        .keys
        .encode(&cast)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let data = DataView {
        group_by: bound,
        read: &state.read,
        head: state.heads.get(bound.name()),
    };
    let values = bound
        .evaluator
        .evaluate(&data, &key, at)
        .map_err(|e| e.to_string())?;
    match &bound.derivations {
        None => Ok(Some(values)),
        Some(derivations) => {
            let mut fields: Vec<Field> = bound.evaluator.output_fields().to_vec();
            let mut row = values;
            for ((name, data_type), value) in bound.keys.columns().iter().zip(cast) {
                fields.push(Field::new(name, data_type.to_arrow(), true));
                row.push(value);
            }
            fields.push(Field::new("ts", ArrowType::Int64, true));
            row.push(Value::Long(t));
            fields.push(Field::new("ds", ArrowType::Utf8, true));
            row.push(Value::String(day_name(day_of(t))));
            derive_row(derivations, &fields, &row).map(Some)
        }
    }
}

/// The GroupBy's own derivations over its outputs, keys, `ts` and `ds` (R-NAME-9).
pub(super) fn group_by_derivations(
    config: &GroupBy,
    evaluator: &GroupByEvaluator,
    keys: &KeyCodec,
) -> Result<Option<Derivations>> {
    if config.derivations().is_empty() {
        return Ok(None);
    }
    let mut fields: Vec<Field> = evaluator.output_fields().to_vec();
    let base: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
    for (name, data_type) in keys.columns() {
        fields.push(Field::new(name, data_type.to_arrow(), true));
    }
    fields.push(Field::new("ts", ArrowType::Int64, true));
    fields.push(Field::new("ds", ArrowType::Utf8, true));
    let derivations = Derivations::compile(
        config.name(),
        "derivations",
        config.derivations(),
        &base,
        &Schema::new(fields),
    )?;
    Ok(Some(derivations))
}

/// A join's derivations compiled once for fetch (R-DER-4: reused across calls): over the base
/// columns, the left key columns typed as the GroupBy keys they map to, `ts` and `ds`.
#[derive(Debug)]
pub(super) struct OnlineDerivations {
    base: Vec<Field>,
    keys: Vec<KeyCodec>,
    fields: Vec<Field>,
    derivations: Derivations,
}

impl OnlineDerivations {
    /// Compiles `join`'s derivations against the current GroupBys; `None` when it has none, when
    /// they need request-typed inputs (contextual external parts), or when they do not compile
    /// (each fetch then compiles them and reports the failure, R-ONL-10).
    pub(super) fn compile(
        join: &Join,
        bound: &BTreeMap<String, Arc<BoundGroupBy>>,
    ) -> Option<OnlineDerivations> {
        let derivations = join.derivations.as_deref().filter(|d| !d.is_empty())?;
        if !join.external_parts().is_empty() {
            return None;
        }
        let mut base = Vec::new();
        let mut keys: Vec<KeyCodec> = Vec::new();
        for part in &join.join_parts {
            let prefix = part.full_prefix();
            let group_by = bound.get(part.group_by.name());
            let fields = match group_by {
                Some(b) => part_fields(b),
                None => unbound_fields(&part.group_by),
            };
            base.extend(fields.iter().map(|f| {
                Field::new(
                    format!("{prefix}_{}", f.name()),
                    f.data_type().clone(),
                    true,
                )
            }));
            for (i, key) in part.group_by.key_columns().iter().enumerate() {
                let left = part.left_column_for(key).to_owned();
                let data_type = group_by
                    .and_then(|b| b.keys.columns().get(i).map(|(_, t)| t.clone()))
                    .unwrap_or(tilefold_query::DataType::String);
                if !keys.iter().any(|k| k.columns()[0].0 == left) {
                    keys.extend(KeyCodec::new(vec![(left, data_type)]));
                }
            }
        }
        let names: Vec<String> = base.iter().map(|f| f.name().clone()).collect();
        keys.retain(|k| !names.contains(&k.columns()[0].0));
        let mut fields = base.clone();
        for key in &keys {
            let (name, data_type) = &key.columns()[0];
            fields.push(Field::new(name, data_type.to_arrow(), true));
        }
        for (name, data_type) in [("ts", ArrowType::Int64), ("ds", ArrowType::Utf8)] {
            if !fields.iter().any(|f| f.name() == name) {
                fields.push(Field::new(name, data_type, true));
            }
        }
        let derivations = Derivations::compile(
            join.name(),
            "derivations",
            derivations,
            &names,
            &Schema::new(fields.clone()),
        )
        .ok()?;
        Some(OnlineDerivations {
            base,
            keys,
            fields,
            derivations,
        })
    }

    /// Whether the base columns of a fetch are the ones compiled for.
    fn matches(&self, base: &[(Field, Value)]) -> bool {
        self.base.len() == base.len()
            && self
                .base
                .iter()
                .zip(base)
                .all(|(a, (b, _))| a.name() == b.name() && a.data_type() == b.data_type())
    }

    fn apply(
        &self,
        base: &[(Field, Value)],
        keys: &BTreeMap<String, Value>,
        t: i64,
    ) -> std::result::Result<Vec<(String, Value)>, String> {
        let mut row: Vec<Value> = base.iter().map(|(_, v)| v.clone()).collect();
        for key in &self.keys {
            let value = keys
                .get(&key.columns()[0].0)
                .cloned()
                .unwrap_or(Value::Null);
            // R-ONL-5: a key that does not cast is null here (its part reports the exception).
            let cast = key.cast_values(&[value]).ok().flatten();
            row.push(cast.and_then(|mut v| v.pop()).unwrap_or(Value::Null));
        }
        for field in &self.fields[row.len()..] {
            row.push(match field.name().as_str() {
                "ts" => Value::Long(t),
                _ => Value::String(day_name(day_of(t))),
            });
        }
        let values = derive_row(&self.derivations, &self.fields, &row)?;
        Ok(named(&self.derivations, values))
    }
}

/// R-ONL-9: join derivations over the base values, the request keys, `ts` and `ds`, compiled
/// for this one request (joins whose inputs are typed by the request).
fn derive_online(
    join: &Join,
    base: &[(Field, Value)],
    keys: &BTreeMap<String, Value>,
    t: i64,
) -> std::result::Result<Vec<(String, Value)>, String> {
    let names: Vec<String> = base.iter().map(|(f, _)| f.name().clone()).collect();
    let mut fields: Vec<Field> = base.iter().map(|(f, _)| f.clone()).collect();
    let mut row: Vec<Value> = base.iter().map(|(_, v)| v.clone()).collect();
    for (name, value) in keys {
        if !names.contains(name) {
            fields.push(Field::new(name, json_type(value), true));
            row.push(value.clone());
        }
    }
    for (name, value) in [
        ("ts", Value::Long(t)),
        ("ds", Value::String(day_name(day_of(t)))),
    ] {
        if !fields.iter().any(|f| f.name() == name) {
            fields.push(Field::new(name, json_type(&value), true));
            row.push(value);
        }
    }
    let schema = Schema::new(fields.clone());
    let derivations = Derivations::compile(
        join.name(),
        "derivations",
        join.derivations.as_deref().unwrap_or_default(),
        &names,
        &schema,
    )
    .map_err(|e| e.to_string())?;
    let values = derive_row(&derivations, &fields, &row)?;
    Ok(named(&derivations, values))
}

fn json_type(value: &Value) -> ArrowType {
    match value {
        Value::Long(_) => ArrowType::Int64,
        Value::Double(_) => ArrowType::Float64,
        Value::Boolean(_) => ArrowType::Boolean,
        Value::Null => ArrowType::Null,
        _ => ArrowType::Utf8,
    }
}

/// `derivations` over one row of `fields` (the fetch path of R-DER-4).
fn derive_row(
    derivations: &Derivations,
    fields: &[Field],
    row: &[Value],
) -> std::result::Result<Vec<Value>, String> {
    let columns = fields
        .iter()
        .zip(row)
        .map(|(f, v)| values_to_array(std::slice::from_ref(v), f.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields.to_vec())), columns)
        .map_err(|e| e.to_string())?;
    let out = derivations.apply(&batch).map_err(|e| e.to_string())?;
    Ok(out
        .columns()
        .iter()
        .map(|c| value_at(c.as_ref(), 0).unwrap_or(Value::Null))
        .collect())
}

/// Derived values with their column names.
fn named(derivations: &Derivations, values: Vec<Value>) -> Vec<(String, Value)> {
    derivations
        .output_schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .zip(values)
        .collect()
}
