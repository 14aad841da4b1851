//! Shared by the live-ingest stress tests (`ingest_crash.rs`, `ingest_concurrency.rs`): a GroupBy
//! over topic `ev` with windows whose tail hops differ, a Join reading it for two keys at once, a
//! naive oracle written from SEMANTICS.md R-WIN-2/R-WIN-3, and a small deterministic PRNG.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tilefold::query::config::Config;
use tilefold::{ConfigSet, Features, Options, Store, Value};

pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;

pub const GROUP_BY: &str = "t.stress.v1";
pub const JOIN: &str = "t.stressjoin.v1";

/// One raw event: (key, value, ts).
pub type Event = (String, i64, i64);

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("tilefold-stress-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// `t.stress.v1`: per key `k`, SUM(v) over 1 hour (tail hop 5 minutes) and 1 day (tail hop 1
/// hour), MAX(v) over 1 day and an unbounded COUNT(v), from table `data.ev` and topic `ev`.
/// `t.stressjoin.v1` joins it twice: left column `k1` under prefix `x`, `k2` under `y`, so one
/// fetch reads two keys from one committed state.
pub fn configs() -> ConfigSet {
    let group_by = format!(
        r#"{{"metaData": {{"name": "{GROUP_BY}"}}, "keyColumns": ["k"],
        "sources": [{{"events": {{"table": "data.ev", "topic": "ev", "query": {{"selects": {{"k": "k", "v": "v"}}, "timeColumn": "ts"}}}}}}],
        "aggregations": [{{"inputColumn": "v", "operation": 7, "argMap": {{}}, "windows": [{{"length": 1, "timeUnit": 0}}, {{"length": 1, "timeUnit": 1}}]}},
                         {{"inputColumn": "v", "operation": 1, "argMap": {{}}, "windows": [{{"length": 1, "timeUnit": 1}}]}},
                         {{"inputColumn": "v", "operation": 6, "argMap": {{}}}}]}}"#
    );
    let join = format!(
        r#"{{"metaData": {{"name": "{JOIN}"}}, "left": {{"events": {{"table": "data.left", "query": {{"selects": {{"k1": "k1", "k2": "k2", "ts": "ts"}}, "timeColumn": "ts"}}}}}},
        "joinParts": [{{"groupBy": {group_by}, "keyMapping": {{"k1": "k"}}, "prefix": "x"}},
                      {{"groupBy": {group_by}, "keyMapping": {{"k2": "k"}}, "prefix": "y"}}]}}"#
    );
    let mut set = ConfigSet::new();
    set.insert(Config::from_json_str(&group_by, None).unwrap());
    set.insert(Config::from_json_str(&join, None).unwrap());
    set
}

/// A store in `dir`, opened with `options`, with [`configs`] applied.
pub fn open_store(dir: &TempDir, options: Options) -> Store {
    let store = Store::open_with_options(&dir.0, options).unwrap();
    store.apply(&configs()).unwrap();
    store
}

/// The values of one key at one time; `None` is an absent (null) feature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agg {
    pub sum_1h: Option<i64>,
    pub sum_1d: Option<i64>,
    pub max_1d: Option<i64>,
    pub count: Option<i64>,
}

/// R-WIN-2 / R-WIN-3: an event is in window W at T iff floor(T − W, tailHop(W)) ≤ ts < T.
fn window_start(t: i64, window: i64) -> i64 {
    let hop = if window >= 12 * DAY {
        DAY
    } else if window >= 12 * HOUR {
        HOUR
    } else {
        5 * MINUTE
    };
    (t - window).div_euclid(hop) * hop
}

/// What a fetch of `k` at `t` must give over `events`, by scanning them.
pub fn naive<'a>(events: impl IntoIterator<Item = &'a Event>, k: &str, t: i64) -> Agg {
    let (hour, day) = (window_start(t, HOUR), window_start(t, DAY));
    let mut agg = Agg::default();
    for (key, v, ts) in events {
        if key != k || *ts >= t {
            continue;
        }
        agg.count = Some(agg.count.unwrap_or(0) + 1);
        if *ts >= day {
            agg.sum_1d = Some(agg.sum_1d.unwrap_or(0) + v);
            agg.max_1d = Some(agg.max_1d.map_or(*v, |m| m.max(*v)));
        }
        if *ts >= hour {
            agg.sum_1h = Some(agg.sum_1h.unwrap_or(0) + v);
        }
    }
    agg
}

/// The features whose names start with `prefix` (empty for a GroupBy's own fetch, `<part's full
/// prefix>_` for a join part) as an [`Agg`]; panics on a feature it does not know.
pub fn agg_of(features: &Features, prefix: &str) -> Agg {
    let mut agg = Agg::default();
    for (name, value) in &features.values {
        let Some(column) = name.strip_prefix(prefix) else {
            continue;
        };
        let value = match value {
            Value::Long(x) => *x,
            other => panic!("{name}: unexpected {other:?}"),
        };
        let slot = match column {
            "v_sum_1h" => &mut agg.sum_1h,
            "v_sum_1d" => &mut agg.sum_1d,
            "v_max_1d" => &mut agg.max_1d,
            "v_count" => &mut agg.count,
            _ => panic!("unexpected feature {name} in {features:?}"),
        };
        *slot = Some(value);
    }
    agg
}

pub fn fetch_key(store: &Store, k: &str, t: i64) -> Agg {
    let keys = BTreeMap::from([("k".to_owned(), Value::String(k.into()))]);
    let features = store.fetch_group_by(GROUP_BY, &keys, Some(t)).unwrap();
    agg_of(&features, "")
}

/// One fetch of the join: the values of `k1` (part `x`) and `k2` (part `y`) from one state.
pub fn fetch_pair(store: &Store, k1: &str, k2: &str, t: i64) -> (Agg, Agg) {
    let keys = BTreeMap::from([
        ("k1".to_owned(), Value::String(k1.into())),
        ("k2".to_owned(), Value::String(k2.into())),
    ]);
    let features = store.fetch_join(JOIN, &keys, Some(t)).unwrap();
    assert!(
        !features
            .values
            .iter()
            .any(|(n, _)| n.ends_with("_exception")),
        "{features:?}"
    );
    (
        agg_of(&features, "x_t_stress_v1_"),
        agg_of(&features, "y_t_stress_v1_"),
    )
}

/// splitmix64: small, deterministic, good enough to pick kill times and keys.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// `name`'s value parsed, or `default` when unset.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text}: not a number")),
        Err(_) => default,
    }
}
