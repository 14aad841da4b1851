//! Online fetch (SEMANTICS.md §7): the evaluator at T = `atMillis` or now, keys cast to the key
//! types, per-part exceptions, missing data absent, derivations applied.

use std::cell::RefCell;
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

use super::bound::{BoundGroupBy, DataView, TileMemo};
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
        // Compiled when the state was published; compiled here only if it somehow was not.
        let compiled;
        let online = match state.online.get(&name) {
            Some(online) => online.as_ref(),
            None => {
                compiled = OnlineJoin::compile(join, &state.bound);
                &compiled
            }
        };
        // The join parts' values, in the order of `online.base`.
        let mut row: Vec<Value> = Vec::with_capacity(online.base.len());
        let mut exceptions: Vec<(String, Value)> = Vec::new();
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for (part, columns) in join.join_parts.iter().zip(&online.parts) {
            let group_by = &part.group_by;
            let bound = state.bound.get(group_by.name());
            let filled = row.len();
            values.clear();
            missing.clear();
            for key in group_by.key_columns() {
                match keys.get(part.left_column_for(key)) {
                    Some(v) => values.push(v.clone()),
                    None => missing.push(part.left_column_for(key).to_owned()),
                }
            }
            if !missing.is_empty() {
                exceptions.push((
                    columns.exception.clone(),
                    Value::String(format!(
                        "join part {}: missing keys {} (keys given: {})",
                        columns.prefix,
                        missing.join(", "),
                        keys.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                ));
            } else if let Some(bound) = bound {
                match part_row(bound, &state, &values, QueryTime::At(t), t) {
                    Ok(Some(r)) => row.extend(r.into_iter().take(columns.width)),
                    Ok(None) => {}
                    Err(e) => exceptions.push((
                        columns.exception.clone(),
                        Value::String(format!("join part {}: {e}", columns.prefix)),
                    )),
                }
            }
            row.resize(filled + columns.width, Value::Null);
        }
        let mut external: Vec<(Field, Value)> = Vec::new();
        for part in join.external_parts() {
            let full = part.full_name();
            if part.source.is_contextual() {
                // R-EXT-3: the request's own values.
                for field in part.source.value_fields() {
                    let value = keys.get(field).cloned().unwrap_or(Value::Null);
                    external.push((
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
            let result = match &online.derivations {
                Some(derivations) if external.is_empty() => derivations.apply(&row, keys, t),
                _ => {
                    let base: Vec<(Field, Value)> = online
                        .base
                        .iter()
                        .cloned()
                        .zip(row.iter().cloned())
                        .chain(external.iter().cloned())
                        .collect();
                    derive_online(join, &base, keys, t)
                }
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
        // R-ONL-10, E-28: a failed part's (derived) columns are removed; its exception stays.
        let failed: Vec<&str> = exceptions
            .iter()
            .filter_map(|(n, _)| n.strip_suffix("exception"))
            .collect();
        let kept =
            |n: &str, v: &Value| !v.is_null() && !failed.iter().any(|prefix| n.starts_with(prefix));
        match derived {
            Some(values) => features
                .values
                .extend(values.into_iter().filter(|(n, v)| kept(n, v))),
            None => {
                let base = online.base.iter().map(Field::name).zip(row);
                let external = external.into_iter().map(|(f, v)| (f.name().clone(), v));
                features.values.extend(
                    base.filter(|(n, v)| kept(n, v))
                        .map(|(n, v)| (n.clone(), v))
                        .chain(external.filter(|(n, v)| kept(n, v))),
                );
            }
        }
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
    let Some(key) = part_key(bound, key_values)? else {
        return Ok(None);
    };
    key_row(bound, state, None, key.cast, &key.encoded, at, t).map(Some)
}

/// A GroupBy key of one request or left row.
pub(super) struct PartKey {
    /// The key values cast to the GroupBy's key types (its derivations read them).
    pub cast: Vec<Value>,
    /// The key as stored: what tiles and segment rows are looked up by.
    pub encoded: Vec<u8>,
}

/// `key_values` cast to the GroupBy's key types, and encoded; `None` when a key is null
/// (R-JOIN-4).
pub(super) fn part_key(
    bound: &BoundGroupBy,
    key_values: &[Value],
) -> std::result::Result<Option<PartKey>, String> {
    let Some(cast) = bound
        .keys
        .cast_values(key_values)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    let encoded = bound
        .keys
        .encode(&cast)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    Ok(Some(PartKey { cast, encoded }))
}

/// One part's values for the key `cast`, encoded as `key`, at `at`; tiles go through `memo`
/// when given (backfill), else straight to the database (fetch).
pub(super) fn key_row(
    bound: &BoundGroupBy,
    state: &State,
    memo: Option<&RefCell<TileMemo>>,
    cast: Vec<Value>,
    key: &[u8],
    at: QueryTime,
    t: i64,
) -> std::result::Result<Vec<Value>, String> {
    let data = DataView {
        group_by: bound,
        read: &state.read,
        head: state.heads.get(bound.name()),
        memo,
    };
    let values = bound
        .evaluator
        .evaluate(&data, key, at)
        .map_err(|e| e.to_string())?;
    match &bound.derivations {
        None => Ok(values),
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
            derive_row(derivations, &fields, &row)
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

/// What fetching a join needs that depends only on the published state, prepared once per
/// state: each join part's column names and types, and the join's derivations compiled (R-DER-4:
/// reused across calls).
#[derive(Debug)]
pub(super) struct OnlineJoin {
    /// Per join part, in order.
    parts: Vec<PartColumns>,
    /// The join parts' output columns (named `<prefix>_<column>`), in order.
    base: Vec<Field>,
    /// `None` when the join has no derivations, when they need request-typed inputs
    /// (contextual external parts), or when they do not compile (each fetch then compiles them
    /// and reports the failure, R-ONL-10).
    derivations: Option<OnlineDerivations>,
}

/// One join part's share of [`OnlineJoin::base`].
#[derive(Debug)]
struct PartColumns {
    /// The part's full prefix.
    prefix: String,
    /// The name of the part's exception column, `<prefix>_exception`.
    exception: String,
    /// How many columns the part has.
    width: usize,
}

impl OnlineJoin {
    /// Prepares `join` against the current GroupBys.
    pub(super) fn compile(join: &Join, bound: &BTreeMap<String, Arc<BoundGroupBy>>) -> OnlineJoin {
        let mut parts = Vec::with_capacity(join.join_parts.len());
        let mut base = Vec::new();
        for part in &join.join_parts {
            let prefix = part.full_prefix();
            let fields = match bound.get(part.group_by.name()) {
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
            parts.push(PartColumns {
                exception: format!("{prefix}_exception"),
                prefix,
                width: fields.len(),
            });
        }
        let derivations = OnlineDerivations::compile(join, bound, &base);
        OnlineJoin {
            parts,
            base,
            derivations,
        }
    }
}

/// A join's derivations compiled once for fetch: over the base columns, the left key columns
/// typed as the GroupBy keys they map to, `ts` and `ds`.
#[derive(Debug)]
struct OnlineDerivations {
    keys: Vec<KeyCodec>,
    fields: Vec<Field>,
    derivations: Derivations,
}

impl OnlineDerivations {
    /// Compiles `join`'s derivations over `base`, its join parts' columns; `None` when it has
    /// none, when they need request-typed inputs (contextual external parts), or when they do
    /// not compile.
    fn compile(
        join: &Join,
        bound: &BTreeMap<String, Arc<BoundGroupBy>>,
        base: &[Field],
    ) -> Option<OnlineDerivations> {
        let derivations = join.derivations.as_deref().filter(|d| !d.is_empty())?;
        if !join.external_parts().is_empty() {
            return None;
        }
        let mut keys: Vec<KeyCodec> = Vec::new();
        for part in &join.join_parts {
            let group_by = bound.get(part.group_by.name());
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
        let mut fields = base.to_vec();
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
            keys,
            fields,
            derivations,
        })
    }

    /// The derived values of one fetch: `base` holds the join parts' values.
    fn apply(
        &self,
        base: &[Value],
        keys: &BTreeMap<String, Value>,
        t: i64,
    ) -> std::result::Result<Vec<(String, Value)>, String> {
        let mut row: Vec<Value> = Vec::with_capacity(self.fields.len());
        row.extend_from_slice(base);
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
