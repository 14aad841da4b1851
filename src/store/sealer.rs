//! The background seal thread: the live writer asks for a seal once the head is due and goes on
//! committing (to `head.redb`) while it runs; one seal runs at a time. A request made during a
//! seal runs another one right after it, so rows committed meanwhile are sealed too.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use super::Store;

/// The seal thread, or `None` parts when no thread could be started (seals then run on the
/// caller's thread).
#[derive(Debug)]
pub(super) struct Sealer {
    /// Wakes the thread; holds at most one request, as one seal covers every row before it.
    wake: Option<Sender<()>>,
    /// Whether each seal succeeded, in order.
    done: Receiver<bool>,
    thread: Option<JoinHandle<()>>,
    /// `store` itself, to seal on the caller's thread without a seal thread.
    store: Store,
}

impl Sealer {
    /// Starts the seal thread for `store` (a handle without a writer).
    pub fn start(store: &Store) -> Sealer {
        let (wake, wanted) = crossbeam_channel::bounded::<()>(1);
        let (done_tx, done) = crossbeam_channel::unbounded();
        let sealer = store.clone();
        let thread = std::thread::Builder::new()
            .name("tilefold-seal".into())
            .spawn(move || {
                lower_priority();
                while wanted.recv().is_ok() {
                    // A failed seal commit latches the store; the next request reports it.
                    let sealed = sealer.compact().is_ok();
                    let _ = done_tx.send(sealed);
                }
            })
            .ok();
        Sealer {
            wake: thread.as_ref().map(|_| wake),
            done,
            thread,
            store: store.clone(),
        }
    }

    /// Asks for a seal; returns at once (without a seal thread: once it is done).
    pub fn request(&self) {
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

    /// Asks for seals and waits for them until `enough` holds or a seal fails.
    pub fn wait_until(&self, enough: impl Fn() -> bool) {
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
/// what is left (when the head is full, the writer waits and leaves it to them).
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
