//! Checksummed values: every stored value carries a CRC-32 of its bytes, verified on each read,
//! so a flipped byte is reported as corruption instead of being decoded.
//!
//! ```text
//! sealed := payload · crc32(payload):u32 little-endian
//! ```

/// The stored bytes do not match their checksum, or are too short to carry one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("checksum mismatch: stored {stored:#010x}, computed {computed:#010x} over {len} bytes")]
pub struct ChecksumError {
    pub stored: u32,
    pub computed: u32,
    pub len: usize,
}

/// Appends the checksum of `buf[start..]` to `buf`.
pub fn seal(buf: &mut Vec<u8>, start: usize) {
    let crc = crc32fast::hash(&buf[start.min(buf.len())..]);
    buf.extend_from_slice(&crc.to_le_bytes());
}

/// `payload` with its checksum appended.
pub(crate) fn sealed(payload: &[u8]) -> Vec<u8> {
    let mut sealed = Vec::with_capacity(payload.len() + 4);
    sealed.extend_from_slice(payload);
    seal(&mut sealed, 0);
    sealed
}

/// The payload of sealed bytes, after verifying its checksum.
pub fn unseal(sealed: &[u8]) -> Result<&[u8], ChecksumError> {
    let Some(split) = sealed.len().checked_sub(4) else {
        return Err(ChecksumError {
            stored: 0,
            computed: 0,
            len: sealed.len(),
        });
    };
    let (payload, tail) = sealed.split_at(split);
    let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
    let computed = crc32fast::hash(payload);
    if stored != computed {
        return Err(ChecksumError {
            stored,
            computed,
            len: payload.len(),
        });
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_every_flipped_bit_is_caught() {
        let mut buf = b"tile".to_vec();
        seal(&mut buf, 0);
        assert_eq!(unseal(&buf).unwrap(), b"tile");
        for byte in 0..buf.len() {
            for bit in 0..8 {
                let mut bad = buf.clone();
                bad[byte] ^= 1 << bit;
                assert!(unseal(&bad).is_err(), "flip at {byte}:{bit}");
            }
        }
    }

    #[test]
    fn short_input_is_an_error() {
        for len in 0..4 {
            assert!(unseal(&vec![0u8; len]).is_err());
        }
    }

    #[test]
    fn seals_only_from_start() {
        let mut buf = b"headerpayload".to_vec();
        seal(&mut buf, 6);
        assert_eq!(unseal(&buf[6..]).unwrap(), b"payload");
    }
}
