//! Sealed event segments: one Arrow IPC file per segment, sealed with a checksummed trailer,
//! written atomically and read back memory-mapped without copying column data.
//!
//! A segment's life: [`write_segment`] encodes and publishes it (`writer.rs`), [`Segment::open`]
//! maps, verifies and decodes it (`reader.rs`); `footer.rs` is the trailer format and `mmap.rs`
//! the one place that maps files.

mod footer;
mod mmap;
mod reader;
mod writer;

pub use reader::Segment;
pub use writer::write_segment;
