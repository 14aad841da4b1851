//! Decodes arbitrary bytes as the IR states of one aggregator (the first two bytes pick it from
//! `tilefold_fuzz::cases()`); decoded states must re-encode stably, merge and finalize without
//! panicking. Set `TILEFOLD_FUZZ_STRICT=1` to also require merges of decoded states to succeed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tilefold_fuzz::check_ir_decode(data);
});
