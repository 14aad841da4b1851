//! The 24-byte trailer that seals a segment file:
//!
//! ```text
//! segment := ipc · crc32(ipc):u32 LE · reserved:u32 LE (0) · len(ipc):u64 LE · b"TFSEG\0\0\x01"
//! ```
//!
//! `ipc` is one Arrow IPC file. The trailer is checked before any of `ipc` is decoded.

/// Length of the trailer in bytes.
pub(crate) const TRAILER_LEN: usize = 24;

/// Identifies a tilefold segment, format 1.
pub(crate) const MAGIC: [u8; 8] = *b"TFSEG\0\0\x01";

/// The trailer of `ipc`.
pub(crate) fn encode_trailer(ipc: &[u8]) -> [u8; TRAILER_LEN] {
    let mut trailer = [0u8; TRAILER_LEN];
    trailer[0..4].copy_from_slice(&crc32fast::hash(ipc).to_le_bytes());
    // 4..8 reserved, zero.
    trailer[8..16].copy_from_slice(&(ipc.len() as u64).to_le_bytes());
    trailer[16..24].copy_from_slice(&MAGIC);
    trailer
}

/// Verifies the trailer of a whole segment file and returns the length of its IPC part.
/// The error describes the first mismatch found.
pub(crate) fn verify_trailer(file: &[u8]) -> Result<usize, String> {
    let Some(ipc_len) = file.len().checked_sub(TRAILER_LEN) else {
        return Err(format!(
            "truncated: {} bytes, shorter than the {TRAILER_LEN}-byte trailer",
            file.len()
        ));
    };
    let (ipc, trailer) = file.split_at(ipc_len);
    let field = |range: std::ops::Range<usize>| &trailer[range];
    if field(16..24) != MAGIC {
        return Err(format!(
            "bad magic {:02x?}, expected {MAGIC:02x?} (truncated or not a segment)",
            field(16..24)
        ));
    }
    let stored_len = u64::from_le_bytes(le_array(field(8..16)));
    if stored_len != ipc_len as u64 {
        return Err(format!(
            "trailer records {stored_len} IPC bytes, the file holds {ipc_len}"
        ));
    }
    let reserved = u32::from_le_bytes(le_array(field(4..8)));
    if reserved != 0 {
        return Err(format!(
            "reserved trailer field is {reserved:#x}, expected 0"
        ));
    }
    let stored_crc = u32::from_le_bytes(le_array(field(0..4)));
    let computed_crc = crc32fast::hash(ipc);
    if stored_crc != computed_crc {
        return Err(format!(
            "checksum mismatch: stored {stored_crc:#010x}, computed {computed_crc:#010x} over {ipc_len} bytes"
        ));
    }
    Ok(ipc_len)
}

/// A fixed-size array from a slice of exactly that length (lengths here are constants).
fn le_array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut array = [0u8; N];
    array.copy_from_slice(bytes);
    array
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(ipc: &[u8]) -> Vec<u8> {
        let mut file = ipc.to_vec();
        file.extend_from_slice(&encode_trailer(ipc));
        file
    }

    #[test]
    fn round_trip() {
        let file = sealed(b"arrow bytes");
        assert_eq!(verify_trailer(&file), Ok(11));
        assert_eq!(verify_trailer(&sealed(b"")), Ok(0));
    }

    #[test]
    fn every_flipped_bit_and_every_truncation_is_caught() {
        let file = sealed(b"arrow bytes");
        for byte in 0..file.len() {
            for bit in 0..8 {
                let mut bad = file.clone();
                bad[byte] ^= 1 << bit;
                assert!(verify_trailer(&bad).is_err(), "flip at {byte}:{bit}");
            }
        }
        for len in 0..file.len() {
            assert!(verify_trailer(&file[..len]).is_err(), "cut at {len}");
        }
    }
}
