//! The background seal thread: the live writer asks for a seal once the head is due and goes on
//! committing (to `head.redb`) while it runs; one seal runs at a time. A request made during a
//! seal runs another one right after it, so rows committed meanwhile are sealed too.
//!
//! When no seal is asked for during `Options::merge_when_idle`, the thread merges stream
//! segments that seals leave alone ([`Store::merge_segments`]), run after run until none is
//! left or a seal is asked for.
//!
//! Flow control, when rows arrive faster than seals move them (as RocksDB slows writes down
//! before it stops them): past [`SLOW_HEAD`] times `Options::seal_rows` unsealed rows the writer
//! paces itself to the rate of the last seal (down to a quarter of it as the head nears
//! [`FULL_HEAD`] times), so acks slow down evenly; past [`FULL_HEAD`] times it waits for seals,
//! so memory stays bounded.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::{lock, Store};
use crate::Error;

/// Unsealed rows, in multiples of `Options::seal_rows`, past which the writer paces itself.
const SLOW_HEAD: usize = 2;

/// Unsealed rows, in multiples of `Options::seal_rows`, past which the writer waits for seals.
const FULL_HEAD: usize = 4;

/// The longest pause of the writer after one commit while pacing.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// The seal thread, or `None` parts when no thread could be started (seals then run on the
/// caller's thread).
#[derive(Debug)]
pub(super) struct Sealer {
    /// Wakes the thread; holds at most one request, as one seal covers every row before it.
    wake: Option<Sender<()>>,
    /// Whether each seal succeeded, in order.
    done: Receiver<bool>,
    /// Rows per second of the last seal the thread ran.
    rate: Arc<Mutex<Option<f64>>>,
    thread: Option<JoinHandle<()>>,
    /// `store` itself, to seal on the caller's thread without a seal thread.
    store: Store,
}

impl Sealer {
    /// Starts the seal thread for `store` (a handle without a writer).
    pub fn start(store: &Store) -> Sealer {
        let (wake, wanted) = crossbeam_channel::bounded::<()>(1);
        let (done_tx, done) = crossbeam_channel::unbounded();
        let rate = Arc::new(Mutex::new(None));
        let sealer = store.clone();
        let measured = rate.clone();
        let thread = std::thread::Builder::new()
            .name("tilefold-seal".into())
            .spawn(move || {
                lower_priority();
                let idle = sealer.inner.options.merge_when_idle;
                // How long to wait for a request before merging: after a merge, not at all
                // (a backlog is worked off run by run, seal requests first).
                let mut wait = idle;
                loop {
                    let request = match wait {
                        Some(wait) => wanted.recv_timeout(wait),
                        None => wanted.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match request {
                        Ok(()) => {}
                        Err(RecvTimeoutError::Disconnected) => break,
                        Err(RecvTimeoutError::Timeout) => {
                            // An error leaves nothing committed (a failed commit latches the
                            // store, and the next request reports it); it is tried again
                            // after the next idle spell.
                            let merged = std::panic::catch_unwind(AssertUnwindSafe(|| {
                                sealer.merge_segments()
                            }));
                            wait = match merged {
                                Ok(Ok(n)) if n > 0 => Some(Duration::ZERO),
                                _ => idle,
                            };
                            continue;
                        }
                    }
                    wait = idle;
                    let began = Instant::now();
                    // A failed seal commit latches the store; the next request reports it. So
                    // does a panic (a bug): reopening recovers the last commit.
                    let sealed = std::panic::catch_unwind(AssertUnwindSafe(|| sealer.compact()))
                        .unwrap_or_else(|_| {
                            let err = Error::Request("a seal panicked".into());
                            sealer.live().latch(&err);
                            Err(err)
                        });
                    if let Ok(report) = &sealed {
                        let rows: usize = report.group_bys.values().sum();
                        let seconds = began.elapsed().as_secs_f64();
                        if rows > 0 && seconds > 0.0 {
                            *lock(&measured) = Some(rows as f64 / seconds);
                        }
                    }
                    let _ = done_tx.send(sealed.is_ok());
                }
            })
            .ok();
        Sealer {
            wake: thread.as_ref().map(|_| wake),
            done,
            rate,
            thread,
            store: store.clone(),
        }
    }

    /// After a commit that added `added` head rows: asks for a seal when the rows no seal is
    /// working on reached `seal_rows`, then paces or stops the writer if the head is too big.
    pub fn after_commit(&self, added: usize) {
        let seal_rows = self.store.inner.options.seal_rows;
        let heads = &self.store.state().heads;
        if heads.open_rows() >= seal_rows {
            self.request();
        }
        let rows = heads.rows();
        let (slow, full) = (
            seal_rows.saturating_mul(SLOW_HEAD),
            seal_rows.saturating_mul(FULL_HEAD),
        );
        if rows >= full {
            self.wait_until(|| self.store.state().heads.rows() < full);
        } else if rows >= slow {
            if let Some(rate) = *lock(&self.rate) {
                // The seal rate at the slow mark, a quarter of it near the full one.
                let slowdown = 1.0 + 3.0 * (rows - slow) as f64 / (full - slow).max(1) as f64;
                let pause = Duration::from_secs_f64(added as f64 * slowdown / rate);
                std::thread::sleep(MAX_PAUSE.min(pause));
            }
        }
    }

    /// Asks for a seal; returns at once (without a seal thread: once it is done).
    fn request(&self) {
        match &self.wake {
            // Full: a seal is requested already, and it will cover every row committed so far.
            Some(wake) => {
                let _ = wake.try_send(());
            }
            None => {
                let _ = self.store.compact();
            }
        }
    }

    /// Asks for seals and waits for them until `enough` holds or a seal fails. The caller (the
    /// writer) adds no rows meanwhile, so the first seal that begins after this call seals every
    /// row: `enough` must hold for an empty head (`seal_rows` is at least 1).
    fn wait_until(&self, enough: impl Fn() -> bool) {
        while self.done.try_recv().is_ok() {}
        while !enough() {
            self.request();
            if self.wake.is_none() || !matches!(self.done.recv(), Ok(true)) {
                return;
            }
        }
    }
}

/// The nice value of seal threads: fetches and live commits take the CPU first, and seals use
/// what is left (when the head is full, the writer waits and leaves it to them). The price:
/// `apply`, `load` and `compact` wait for a seal under way, which runs slower on a busy CPU.
const SEAL_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority to [`SEAL_NICE`]; threads it starts (the
/// folding thread) inherit it. Best effort: a failure leaves the priority as it was. Linux
/// only, where a nice value is a thread's own; elsewhere it is the whole process's.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::process::setpriority_process(Some(rustix::thread::gettid()), SEAL_NICE);
    }
}

impl Drop for Sealer {
    /// Runs the seal asked for, if any, and stops the thread.
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
