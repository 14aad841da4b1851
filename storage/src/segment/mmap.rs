//! The crate's one `unsafe` block: memory-mapping a sealed segment file.

#![allow(unsafe_code)]

use std::fs::File;

use memmap2::Mmap;

/// Maps the whole of `file` read-only.
///
/// Callers pass only sealed segment files of this store.
pub(crate) fn map_segment(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: `Mmap::map` is unsafe because the mapped bytes change (or, on truncation, fault
    // with SIGBUS) if the file is modified while mapped. Segment files are immutable after the
    // atomic rename that publishes them (`write_atomic`), are written only by this store, and
    // are never truncated or rewritten in place while referenced: the store holds the LOCK, so
    // no other tilefold writer runs, and garbage collection removes only unreferenced files
    // (removing a path leaves existing mappings of the inode valid).
    unsafe { Mmap::map(file) }
}
