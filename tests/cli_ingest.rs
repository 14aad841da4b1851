//! `tilefold ingest TOPIC [FILE|-]`: JSON lines from a file or stdin reach the store and a fetch
//! sees them; a malformed line (not JSON, not an object, a value of the wrong type, a time in
//! the future) is reported as `line N: reason` with its own line number whatever the batch size,
//! and every other line is ingested; `--strict` stops at the first one with the lines before it
//! ingested and none after it; `--producer` makes a re-run ingest no line twice. `compact` and
//! `check` leave fetched values unchanged. Expected values are sums and counts written by hand.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("tilefold-cli-ingest-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn store(&self) -> String {
        self.0.join("store").display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `t.cli.v1`: per key `k`, SUM(v) and COUNT(v), unbounded, from topic `ev`.
const GROUP_BY: &str = r#"{"metaData": {"name": "t.cli.v1"}, "keyColumns": ["k"],
    "sources": [{"events": {"table": "data.ev", "topic": "ev", "query": {"selects": {"k": "k", "v": "v"}, "timeColumn": "ts"}}}],
    "aggregations": [{"inputColumn": "v", "operation": 7, "argMap": {}},
                     {"inputColumn": "v", "operation": 6, "argMap": {}}]}"#;

fn tilefold(store: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tilefold"))
        .arg("--store")
        .arg(store)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Runs the command and expects it to succeed; returns stdout and stderr.
fn ok(store: &str, args: &[&str], stdin: Option<&str>) -> (String, String) {
    let out = tilefold(store, args, stdin);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{args:?}: {stderr}");
    (stdout, stderr)
}

/// A store with `t.cli.v1` applied through the CLI.
fn store_with_config(dir: &TempDir) -> String {
    let config = dir.write("t_cli_v1", GROUP_BY);
    let store = dir.store();
    let (stdout, _) = ok(&store, &["apply", &config], None);
    assert_eq!(stdout.trim(), "applied 1 group-bys, 0 joins");
    store
}

/// (SUM(v), COUNT(v)) of key `k` as `fetch --group-by` prints them; `None` for no rows. (With a
/// small page cache: `--cache-mb` changes no value.)
fn fetched(store: &str, k: &str) -> (Option<i64>, Option<i64>) {
    let keys = format!(r#"{{"k": "{k}"}}"#);
    let (stdout, _) = ok(
        store,
        &[
            "--cache-mb",
            "16",
            "fetch",
            "--group-by",
            "t.cli.v1",
            "--keys",
            &keys,
        ],
        None,
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    (json["v_sum"].as_i64(), json["v_count"].as_i64())
}

/// An hour ago, in epoch milliseconds: the store rejects rows more than 10 minutes ahead.
fn base() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now - 3_600_000
}

fn event(k: &str, v: i64, ts: i64) -> String {
    format!(r#"{{"k": "{k}", "v": {v}, "ts": {ts}}}"#)
}

/// The summary line, without its timing (which varies).
fn summary(stdout: &str) -> &str {
    let first = stdout.lines().next().unwrap_or("");
    first.split(" in ").next().unwrap()
}

#[test]
fn lines_from_a_file_and_from_stdin_are_ingested_and_fetched() {
    let dir = TempDir::new("happy");
    let store = store_with_config(&dir);
    let t = base();
    // A blank line and a CRLF line ending are fine.
    let file = [
        event("a", 1, t),
        event("b", 10, t + 1),
        String::new(),
        event("a", 2, t + 2) + "\r",
    ]
    .join("\n");
    let file = dir.write("events.jsonl", &file);
    let (stdout, stderr) = ok(&store, &["ingest", "ev", &file], None);
    assert_eq!(
        summary(&stdout),
        "ingested 3 rows into ev (0 late, 0 skipped lines)"
    );
    assert!(stdout.contains(" rows/s)\n"), "{stdout}");
    assert_eq!(stdout.lines().nth(1), Some("  t.cli.v1: 3 rows kept"));
    assert_eq!(stderr, "", "no progress line when stderr is not a terminal");
    assert_eq!(fetched(&store, "a"), (Some(3), Some(2)));
    assert_eq!(fetched(&store, "b"), (Some(10), Some(1)));

    // From stdin, as `-` and without FILE.
    let more = format!("{}\n{}\n", event("a", 4, t + 3), event("c", 7, t + 4));
    let (stdout, _) = ok(&store, &["ingest", "ev", "-"], Some(&more));
    assert_eq!(
        summary(&stdout),
        "ingested 2 rows into ev (0 late, 0 skipped lines)"
    );
    let last = event("b", 5, t + 5);
    let (stdout, _) = ok(&store, &["ingest", "ev"], Some(&last));
    assert_eq!(
        summary(&stdout),
        "ingested 1 rows into ev (0 late, 0 skipped lines)"
    );
    assert_eq!(fetched(&store, "a"), (Some(7), Some(3)));
    assert_eq!(fetched(&store, "b"), (Some(15), Some(2)));
    assert_eq!(fetched(&store, "c"), (Some(7), Some(1)));
    assert_eq!(fetched(&store, "zz"), (None, None));
}

/// Lines 2, 3, 5 and 7 are malformed: bad JSON, an array, a string where v is a LONG, a time a
/// day ahead of the clock. Line 4 is blank.
fn malformed_input(t: i64) -> String {
    [
        event("a", 1, t),
        r#"{"k": "a", "v": 2, "#.to_owned(),
        "[1, 2]".to_owned(),
        String::new(),
        format!(r#"{{"k": "a", "v": "seven", "ts": {}}}"#, t + 1),
        event("a", 4, t + 2),
        event("b", 8, t + 86_400_000),
        event("b", 16, t + 3),
    ]
    .join("\n")
}

#[test]
fn malformed_lines_are_reported_by_line_number_and_the_others_are_ingested() {
    // Whatever the batch size: one line per batch, rejected batches split in halves, or the
    // whole input in one batch.
    for batch_rows in ["1", "3", "10000"] {
        let dir = TempDir::new(&format!("malformed-{batch_rows}"));
        let store = store_with_config(&dir);
        let t = base();
        // A first batch gives the stored rows their types.
        ok(&store, &["ingest", "ev"], Some(&event("a", 100, t - 1)));
        let file = dir.write("events.jsonl", &malformed_input(t));
        let out = tilefold(
            &store,
            &["ingest", "ev", &file, "--batch-rows", batch_rows],
            None,
        );
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "skipping is the default: {stderr}");
        let reported: Vec<&str> = stderr.lines().collect();
        assert_eq!(reported.len(), 4, "batch rows {batch_rows}: {stderr}");
        assert!(
            reported[0].starts_with("line 2: not JSON: EOF while parsing"),
            "{stderr}"
        );
        assert_eq!(reported[1], "line 3: not a JSON object but an array");
        assert!(
            reported[2].starts_with("line 5: topic ev: ") && reported[2].contains("column v"),
            "{stderr}"
        );
        assert!(
            reported[3].starts_with("line 7: topic ev: ")
                && reported[3].contains(&format!("ts {}", t + 86_400_000)),
            "{stderr}"
        );
        assert_eq!(
            summary(&stdout),
            "ingested 3 rows into ev (0 late, 4 skipped lines)",
            "batch rows {batch_rows}"
        );
        assert_eq!(fetched(&store, "a"), (Some(100 + 1 + 4), Some(3)));
        assert_eq!(fetched(&store, "b"), (Some(16), Some(1)));
    }
}

#[test]
fn strict_stops_at_the_first_malformed_line_and_keeps_the_lines_before_it() {
    let dir = TempDir::new("strict");
    let store = store_with_config(&dir);
    let t = base();
    ok(&store, &["ingest", "ev"], Some(&event("a", 100, t - 1)));
    // Line 5, a value of the wrong type, is the first malformed line: lines 1 and 3, in its
    // batch, are ingested; the lines after it are not.
    let file = dir.write(
        "events.jsonl",
        &[
            event("a", 1, t),
            String::new(),
            event("a", 2, t + 1),
            String::new(),
            format!(r#"{{"k": "a", "v": "seven", "ts": {}}}"#, t + 2),
            event("a", 4, t + 3),
            "not json".to_owned(),
            event("a", 8, t + 4),
        ]
        .join("\n"),
    );
    let out = tilefold(
        &store,
        &["ingest", "ev", &file, "--strict", "--batch-rows", "3"],
        None,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].starts_with("line 5: topic ev: "), "{stderr}");
    assert!(lines[1].contains("--strict: stopped at line 5"), "{stderr}");
    assert_eq!(
        summary(&stdout),
        "ingested 2 rows into ev (0 late, 0 skipped lines)"
    );
    assert_eq!(fetched(&store, "a"), (Some(100 + 1 + 2), Some(3)));

    // A line that is not JSON stops the command too, after the lines before it in its batch.
    let input = [event("b", 1, t), "{".to_owned(), event("b", 2, t + 1)].join("\n");
    let out = tilefold(&store, &["ingest", "ev", "--strict"], Some(&input));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("line 2: not JSON: "), "{stderr}");
    assert!(stderr.contains("--strict: stopped at line 2"), "{stderr}");
    assert_eq!(fetched(&store, "b"), (Some(1), Some(1)));
}

#[test]
fn an_unknown_topic_or_file_gives_one_clear_line_and_a_non_zero_exit() {
    let dir = TempDir::new("unknown");
    let store = store_with_config(&dir);
    let out = tilefold(&store, &["ingest", "nope"], Some(&event("a", 1, base())));
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("topic nope: no registered GroupBy reads this topic"),
        "{stderr}"
    );

    let missing = dir.0.join("missing.jsonl").display().to_string();
    let out = tilefold(&store, &["ingest", "ev", &missing], None);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&missing), "{stderr}");

    let out = tilefold(&store, &["ingest", "ev", "--batch-rows", "0"], None);
    assert!(!out.status.success());
    assert_eq!(fetched(&store, "a"), (None, None));
}

#[test]
fn compact_then_check_succeed_and_fetched_values_do_not_change() {
    let dir = TempDir::new("compact");
    let store = store_with_config(&dir);
    let t = base();
    let input: Vec<String> = (0..50)
        .map(|i| event(["a", "b", "c"][i % 3], i as i64, t + i as i64 * 60_000))
        .collect();
    ok(
        &store,
        &["ingest", "ev", "--batch-rows", "7"],
        Some(&input.join("\n")),
    );
    // a: 0 + 3 + ... + 48 (17 rows), b: 1 + 4 + ... + 49 (17 rows), c: 2 + 5 + ... + 47 (16).
    let expected = [
        ("a", (Some(408), Some(17))),
        ("b", (Some(425), Some(17))),
        ("c", (Some(392), Some(16))),
    ];
    for (k, values) in expected {
        assert_eq!(fetched(&store, k), values, "{k} before compact");
    }
    let (stdout, _) = ok(&store, &["compact"], None);
    assert!(
        stdout.starts_with("sealed 50 rows of 1 group-bys; "),
        "{stdout}"
    );
    assert!(stdout.contains("  t.cli.v1: 50 rows sealed"), "{stdout}");
    let (stdout, _) = ok(&store, &["check"], None);
    assert!(
        stdout.starts_with("checked ") && stdout.trim_end().ends_with(" of 1 group-bys: ok"),
        "{stdout}"
    );
    for (k, values) in expected {
        assert_eq!(fetched(&store, k), values, "{k} after compact");
    }
    // Nothing left to seal.
    let (stdout, _) = ok(&store, &["compact"], None);
    assert!(
        stdout.starts_with("sealed 0 rows of 0 group-bys"),
        "{stdout}"
    );
}

#[test]
fn a_rerun_with_the_same_producer_ingests_no_line_twice() {
    let dir = TempDir::new("producer");
    let store = store_with_config(&dir);
    let t = base();
    let mut lines: Vec<String> = (0..5).map(|i| event("a", 1 << i, t + i)).collect();
    let file = dir.write("events.jsonl", &lines.join("\n"));
    let args = [
        "ingest",
        "ev",
        &file,
        "--producer",
        "p1",
        "--batch-rows",
        "2",
    ];
    let (stdout, _) = ok(&store, &args, None);
    assert_eq!(
        summary(&stdout),
        "ingested 5 rows into ev (0 late, 0 skipped lines)"
    );
    // The same command again: every line is committed already.
    let (stdout, stderr) = ok(&store, &args, None);
    assert_eq!(
        summary(&stdout),
        "ingested 0 rows into ev (0 late, 0 skipped lines)"
    );
    assert!(stderr.contains("resuming after line 5"), "{stderr}");
    assert_eq!(fetched(&store, "a"), (Some(31), Some(5)));
    // Lines appended to the same input: only they are ingested.
    lines.push(event("a", 32, t + 5));
    lines.push(event("a", 64, t + 6));
    std::fs::write(Path::new(&file), lines.join("\n")).unwrap();
    let (stdout, _) = ok(&store, &args, None);
    assert_eq!(
        summary(&stdout),
        "ingested 2 rows into ev (0 late, 0 skipped lines)"
    );
    assert_eq!(fetched(&store, "a"), (Some(127), Some(7)));
}

#[test]
fn max_lateness_rejects_and_counts_rows_past_the_bound() {
    let dir = TempDir::new("late");
    let store = store_with_config(&dir);
    let t = base();
    let day = 86_400_000;
    ok(&store, &["ingest", "ev"], Some(&event("a", 5, t)));
    let input = [event("a", 7, t - 3_600_000), event("a", 11, t - 3 * day)].join("\n");
    let (stdout, _) = ok(
        &store,
        &["ingest", "ev", "--max-lateness", &day.to_string()],
        Some(&input),
    );
    assert!(
        summary(&stdout).contains("(1 late, 0 skipped lines)"),
        "{stdout}"
    );
    // The hour-late row counts; the three-days-late one does not.
    assert_eq!(fetched(&store, "a").1, Some(2));
}
