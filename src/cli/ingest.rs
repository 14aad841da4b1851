//! `tilefold ingest TOPIC [FILE|-]`: JSON lines, one event object per line, sent to a live topic
//! in batches.
//!
//! Malformed-line policy: a line that is not a JSON object, or that the store rejects (a value of
//! the wrong type, a time too far in the future), is reported on stderr as `line N: reason` and
//! skipped; every other line is ingested. With `--strict` the command stops at the first malformed
//! line instead: every line before it is ingested, none after it.
//!
//! The store rejects a batch as a whole and names the topic, not the row; the rows of a rejected
//! batch are sent again in halves, recursively, down to the single lines that fail. The halves
//! keep the input order, so lines commit in the order they were read.

use std::fs::File;
use std::io::{BufRead, BufReader, IsTerminal};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use tilefold::{Error, IngestReport, IngestRequest, Rows, Store};

/// Longer lines are reported as malformed without being held in memory.
const MAX_LINE_BYTES: u64 = 16 << 20;

/// What `tilefold ingest` was asked to do.
pub struct IngestArgs {
    pub topic: String,
    /// `None` or `-`: stdin.
    pub file: Option<PathBuf>,
    pub strict: bool,
    pub batch_rows: NonZeroUsize,
    pub producer: Option<String>,
}

/// Why sending rows stopped early.
enum Stop {
    /// `--strict` and a malformed line.
    Strict(u64),
    /// An error that is not about a line: the store or the input failed.
    Fatal(String),
}

/// Runs the command: prints the summary on stdout, malformed lines and progress on stderr.
pub fn run(store: &Store, args: IngestArgs) -> Result<(), String> {
    let (name, mut input) = open_input(args.file.as_deref())?;
    check_topic(store, &args.topic)?;
    let resume_after = match &args.producer {
        Some(id) => store.producer_sequence(id).unwrap_or(0),
        None => 0,
    };
    if let Some(id) = args.producer.as_deref().filter(|_| resume_after > 0) {
        eprintln!(
            "producer {id} already committed lines up to {resume_after}: resuming after line {resume_after}"
        );
    }
    let started = Instant::now();
    let mut run = Run {
        store,
        topic: &args.topic,
        producer: args.producer.as_deref(),
        strict: args.strict,
        progress: Progress::new(),
        rows: Vec::new(),
        malformed: Vec::new(),
        total: IngestReport::default(),
        skipped: 0,
    };
    let stopped = run.read(&mut input, &name, resume_after, args.batch_rows.get());
    run.progress.finish();
    if let Err(Stop::Fatal(message)) = stopped {
        return Err(format!(
            "{message} ({} rows of earlier batches are ingested)",
            run.total.rows
        ));
    }
    print_summary(&args.topic, &run.total, run.skipped, started.elapsed());
    match stopped {
        Err(Stop::Strict(line)) => Err(format!(
            "--strict: stopped at line {line}; the lines before it are ingested, none after it"
        )),
        _ => Ok(()),
    }
}

fn open_input(file: Option<&Path>) -> Result<(String, Box<dyn BufRead>), String> {
    match file {
        None => Ok(("stdin".into(), Box::new(std::io::stdin().lock()))),
        Some(path) if path.as_os_str() == "-" => {
            Ok(("stdin".into(), Box::new(std::io::stdin().lock())))
        }
        Some(path) => {
            let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((
                path.display().to_string(),
                Box::new(BufReader::with_capacity(1 << 16, file)),
            ))
        }
    }
}

/// Fails when no GroupBy reads `topic`, before any input is read. An empty batch commits
/// nothing; any other error it gives is left for the real batches to report.
fn check_topic(store: &Store, topic: &str) -> Result<(), String> {
    match store.submit(IngestRequest {
        topic: topic.to_owned(),
        rows: Rows::Json(Vec::new()),
        producer: None,
    }) {
        Err(err) if is_unknown_topic(&err) => Err(err.to_string()),
        Err(Error::Latched(reason)) => Err(Error::Latched(reason).to_string()),
        _ => Ok(()),
    }
}

fn is_unknown_topic(err: &Error) -> bool {
    matches!(
        err,
        Error::Ingest(tilefold::IngestError::UnknownTopic { .. })
    )
}

/// Whether `err` is about the rows sent (so some line is at fault), not about the store.
fn is_about_rows(err: &Error) -> bool {
    matches!(
        err,
        Error::Ingest(_) | Error::Aggregation(_) | Error::Eval(_)
    ) && !is_unknown_topic(err)
}

/// The state of one `ingest` command.
struct Run<'a> {
    store: &'a Store,
    topic: &'a str,
    producer: Option<&'a str>,
    strict: bool,
    progress: Progress,
    /// The current batch: parsed objects with their line numbers.
    rows: Vec<(u64, Value)>,
    /// Malformed lines of the current batch, reported when it is sent (in line order).
    malformed: Vec<(u64, String)>,
    /// Every acknowledged batch, summed.
    total: IngestReport,
    skipped: usize,
}

impl Run<'_> {
    /// Reads every line after `resume_after`, sending batches of `batch_rows` objects.
    fn read(
        &mut self,
        input: &mut dyn BufRead,
        name: &str,
        resume_after: u64,
        batch_rows: usize,
    ) -> Result<(), Stop> {
        let mut buffer = Vec::new();
        let mut number: u64 = 0;
        while let Some(whole) = read_line(input, &mut buffer)
            .map_err(|e| Stop::Fatal(format!("reading {name} after line {number}: {e}")))?
        {
            number += 1;
            if number.is_multiple_of(1024) {
                self.progress.lines(number);
            }
            if number <= resume_after {
                continue;
            }
            let parsed = if whole {
                let text = buffer.trim_ascii();
                if text.is_empty() {
                    continue;
                }
                parse_object(text)
            } else {
                Err(format!("longer than {MAX_LINE_BYTES} bytes"))
            };
            match parsed {
                Ok(object) => self.rows.push((number, object)),
                Err(reason) => {
                    self.malformed.push((number, reason));
                    if self.strict {
                        return self.flush();
                    }
                }
            }
            if self.rows.len() >= batch_rows {
                self.progress.lines(number);
                self.flush()?;
            }
        }
        self.progress.lines(number);
        self.flush()
    }

    /// Sends the current batch and reports its malformed lines.
    fn flush(&mut self) -> Result<(), Stop> {
        let rows = std::mem::take(&mut self.rows);
        let sent = self.send(&rows);
        self.malformed.sort_unstable_by_key(|(line, _)| *line);
        let malformed = std::mem::take(&mut self.malformed);
        if self.strict {
            if let Err(Stop::Fatal(message)) = sent {
                return Err(Stop::Fatal(message));
            }
            // Sending stopped at the first line the store rejected; a line that is not an
            // object comes after every row of the batch.
            return match malformed.into_iter().next() {
                Some((line, reason)) => {
                    self.progress.report(line, &reason);
                    Err(Stop::Strict(line))
                }
                None => Ok(()),
            };
        }
        self.skipped += malformed.len();
        for (line, reason) in &malformed {
            self.progress.report(*line, reason);
        }
        sent
    }

    /// Sends `rows` as one request; when the store rejects them, sends each half again, down to
    /// the single lines at fault, which are added to `malformed`.
    fn send(&mut self, rows: &[(u64, Value)]) -> Result<(), Stop> {
        let (Some((first, _)), Some((last, _))) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let request = IngestRequest {
            topic: self.topic.to_owned(),
            rows: Rows::Json(rows.iter().map(|(_, object)| object.clone()).collect()),
            // The sequence number is the line number: a run again with the same producer skips
            // the lines committed before.
            producer: self.producer.map(|id| (id.to_owned(), *last)),
        };
        match self.store.submit(request) {
            Ok(report) if report.duplicate => {
                self.progress.note(&format!(
                    "lines {first}..={last}: producer {} already committed them; not applied again",
                    self.producer.unwrap_or_default()
                ));
                Ok(())
            }
            Ok(report) => {
                self.add(report);
                Ok(())
            }
            Err(err) if is_about_rows(&err) => {
                if let [(line, _)] = rows {
                    self.malformed.push((*line, err.to_string()));
                    return if self.strict {
                        Err(Stop::Strict(*line))
                    } else {
                        Ok(())
                    };
                }
                let (left, right) = rows.split_at(rows.len() / 2);
                self.send(left)?;
                self.send(right)
            }
            Err(err) => Err(Stop::Fatal(format!("lines {first}..={last}: {err}"))),
        }
    }

    fn add(&mut self, report: IngestReport) {
        self.total.rows += report.rows;
        for (name, counts) in report.group_bys {
            *self.total.group_bys.entry(name).or_default() += counts;
        }
        self.progress.rows(self.total.rows);
    }
}

/// Reads one line into `buffer` without its line ending. `None` at the end of the input;
/// `Some(false)` for a line longer than [`MAX_LINE_BYTES`], which is consumed, not kept.
fn read_line(input: &mut dyn BufRead, buffer: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    use std::io::Read;
    buffer.clear();
    let read = (&mut *input)
        .take(MAX_LINE_BYTES + 1)
        .read_until(b'\n', buffer)?;
    if read == 0 {
        return Ok(None);
    }
    if buffer.last() == Some(&b'\n') {
        buffer.pop();
        if buffer.last() == Some(&b'\r') {
            buffer.pop();
        }
        return Ok(Some(true));
    }
    if buffer.len() as u64 <= MAX_LINE_BYTES {
        return Ok(Some(true)); // the last line, without a newline
    }
    buffer.clear();
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(at) => {
                input.consume(at + 1);
                break;
            }
            None => {
                let all = available.len();
                input.consume(all);
            }
        }
    }
    Ok(Some(false))
}

/// One line as a JSON object, or why it is not one.
fn parse_object(text: &[u8]) -> Result<Value, String> {
    match serde_json::from_slice::<Value>(text) {
        Ok(object @ Value::Object(_)) => Ok(object),
        Ok(other) => Err(format!("not a JSON object but {}", kind(&other))),
        Err(err) => {
            // serde_json ends its message with the position; within one line only the column
            // means something.
            let message = err.to_string();
            let at = format!(" at line {} column {}", err.line(), err.column());
            let reason = message.strip_suffix(&at).unwrap_or(&message);
            Err(format!("not JSON: {reason} at column {}", err.column()))
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn print_summary(topic: &str, total: &IngestReport, skipped: usize, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    let rate = total.rows as f64 / seconds.max(1e-6);
    println!(
        "ingested {} rows into {topic} ({} late, {skipped} skipped lines) in {seconds:.2}s ({rate:.0} rows/s)",
        total.rows,
        total.late()
    );
    for (name, c) in &total.group_bys {
        let mut line = format!("  {name}: {} rows kept", c.kept);
        let dropped: Vec<String> = [
            (c.filtered, "filtered by wheres"),
            (c.null_time, "rejected: null time column"),
            (c.null_keys, "dropped: all keys null"),
            (c.late, "rejected: late"),
            (c.superseded, "superseded: before the table's batch end"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if !dropped.is_empty() {
            line.push_str("; ");
            line.push_str(&dropped.join(", "));
        }
        println!("{line}");
    }
}

/// A spinner on stderr when it is a terminal: lines read, events ingested and their rate.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    lines: u64,
    rows: usize,
}

impl Progress {
    fn new() -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let progress = Progress {
            bar,
            started: Instant::now(),
            lines: 0,
            rows: 0,
        };
        progress.show();
        progress
    }

    fn lines(&mut self, lines: u64) {
        self.lines = lines;
        self.show();
    }

    fn rows(&mut self, rows: usize) {
        self.rows = rows;
        self.show();
    }

    fn show(&self) {
        if let Some(bar) = &self.bar {
            let rate = self.rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} lines read, {} events ingested ({rate:.0} events/s)",
                self.lines, self.rows
            ));
        }
    }

    /// A malformed line on stderr, above the spinner.
    fn report(&self, line: u64, reason: &str) {
        self.note(&format!("line {line}: {reason}"));
    }

    fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
