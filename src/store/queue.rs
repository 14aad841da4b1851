//! Back-pressure on the live writer's queue: [`Store::send`](super::Store::send) lets a
//! producer keep many requests in flight, and without a bound a producer faster than the writer
//! (or one sending while the writer waits for a seal) would grow the queue without limit. The
//! queue holds at most `Options::max_queued_rows` rows; a send that would pass it waits until
//! the writer has committed enough. A request larger than the bound is let in alone.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// Rows sent to the writer and not yet committed (or failed).
#[derive(Debug)]
pub(super) struct QueueBudget {
    rows: Mutex<usize>,
    freed: Condvar,
    limit: usize,
}

impl QueueBudget {
    pub fn new(limit: usize) -> Arc<QueueBudget> {
        Arc::new(QueueBudget {
            rows: Mutex::new(0),
            freed: Condvar::new(),
            limit: limit.max(1),
        })
    }

    /// Waits until `rows` more fit (or the queue is empty), then counts them until the returned
    /// token is dropped.
    pub fn acquire(self: &Arc<Self>, rows: usize) -> Queued {
        let mut queued = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        while *queued > 0 && *queued + rows > self.limit {
            queued = self
                .freed
                .wait(queued)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *queued += rows;
        Queued {
            rows,
            budget: Arc::clone(self),
        }
    }

    /// Rows queued now.
    pub fn rows(&self) -> usize {
        *self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request's rows counted in the queue; dropping it (once the request is committed, failed
/// or dropped, a writer's panic included) gives them back.
#[derive(Debug)]
pub(super) struct Queued {
    rows: usize,
    budget: Arc<QueueBudget>,
}

impl Drop for Queued {
    fn drop(&mut self) {
        let mut queued = self
            .budget
            .rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *queued = queued.saturating_sub(self.rows);
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn a_send_past_the_bound_waits_for_rows_to_be_committed() {
        let budget = QueueBudget::new(10);
        let first = budget.acquire(6);
        let second = budget.acquire(4);
        assert_eq!(budget.rows(), 10);
        let done = AtomicUsize::new(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                let _third = budget.acquire(1);
                done.store(1, Ordering::SeqCst);
            });
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(
                done.load(Ordering::SeqCst),
                0,
                "10 rows queued, the bound is 10"
            );
            drop(first);
        });
        assert_eq!(done.load(Ordering::SeqCst), 1);
        drop(second);
        assert_eq!(budget.rows(), 0);
        // A request larger than the bound enters an empty queue.
        let big = budget.acquire(25);
        assert_eq!(budget.rows(), 25);
        drop(big);
        assert_eq!(budget.rows(), 0);
    }
}
