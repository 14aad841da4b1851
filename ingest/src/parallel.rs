//! Work spread over the machine's cores: a bulk load splits, prepares and writes each
//! partition on its own.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Threads at most for [`par_map`] (machines this targets have 2 cores).
const MAX_THREADS: usize = 8;

/// `f` applied to every item, on up to one thread per core, each taking the next item not yet
/// taken; results in item order. Every item is processed even if some fail.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let result = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item is processed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_item_order() {
        let items: Vec<u64> = (0..1000).collect();
        let out = par_map(&items, |&i| {
            // Uneven work, so that threads finish items out of order.
            let mut x = i;
            for _ in 0..(i % 7) * 1000 {
                x = std::hint::black_box(x);
            }
            x * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(par_map(&[] as &[u8], |_| 0).is_empty());
    }
}
