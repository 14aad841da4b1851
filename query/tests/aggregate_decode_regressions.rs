//! Regression tests for inputs the ir_decode fuzz target found (DESIGN.md I4: untrusted bytes
//! never panic, abort or allocate beyond their size). Inputs are `AggregationPart::encode`
//! layouts, as hex.

use tilefold_query::aggregate::{AggregationPart, Ir, PartArgs};
use tilefold_query::config::Operation;
use tilefold_query::DataType;

fn bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn part(op: Operation) -> AggregationPart {
    AggregationPart::new(op, "x", &DataType::Double, None, &PartArgs::default()).unwrap()
}

/// A t-digest of one centroid weighing 2^63: merging it with itself overflowed the crate's
/// weight counter (a panic). Such a state is rejected when decoded.
#[test]
fn an_implausibly_heavy_digest_is_rejected() {
    let p = part(Operation::ApproxPercentile);
    let input = bytes("010c3000000002011410000000000100000000000000000000000000f03f000000000000f03f000000000000f03f0000000000000080");
    match p.decode(&input) {
        Err(e) => assert!(e.reason.contains("t-digest"), "{e}"),
        Ok(mut ir) => {
            let copy = ir.clone();
            assert!(
                p.merge(&mut ir, &copy).is_err(),
                "a merge past 2^53 values is an error, not a panic"
            );
        }
    }
}

/// The crate's legacy t-digest layout (leading zero bytes) sized a buffer from an unchecked
/// count: a 64 GiB allocation. Only the native layout is accepted.
#[test]
fn a_legacy_digest_layout_is_rejected_before_allocating() {
    let p = part(Operation::ApproxPercentile);
    let input =
        bytes("010c20000000000000013ff00000000000003ff00000000000004059000000000000ffffffff");
    let err = p.decode(&input).unwrap_err();
    assert!(err.reason.contains("not a native t-digest"), "{err}");
}

/// AVERAGE's count wraps like COUNT and SUM (R-AGG-12) instead of overflowing.
#[test]
fn average_counts_wrap_instead_of_overflowing() {
    let p = part(Operation::Average);
    let mut ir = p
        .decode(&bytes("0104000000000000f03f0100000000000040"))
        .unwrap();
    let copy = ir.clone();
    p.merge(&mut ir, &copy).unwrap();
    let Ir::Average { count, .. } = ir else {
        panic!("average state")
    };
    assert_eq!(count, (0x4000_0000_0000_0001_i64).wrapping_mul(2));
}
