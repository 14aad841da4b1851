//! The worked examples and edge cases of SEMANTICS.md §3 and §9, one test each, by rule ID.
//! Expected values are computed by hand from the rules, not from the implementation.

mod common;

use common::*;
use tilefold_query::aggregate::{AggregationError, AggregationPart, Ir, PartArgs};
use tilefold_query::config::Operation as Op;
use tilefold_query::{DataType as T, Value as V};

#[test]
fn r_agg_1_no_input_is_null_and_count_of_nothing_is_null_e_08() {
    for op in [
        Op::Count,
        Op::Sum,
        Op::Average,
        Op::Max,
        Op::UniqueCount,
        Op::Variance,
    ] {
        let p = part(op, T::Long);
        assert_eq!(fold(&p, &rows([V::Null, V::Null])), V::Null, "{op}");
    }
}

#[test]
fn r_agg_2_dates_and_unaccepted_types_fail() {
    let err = AggregationPart::new(Op::Sum, "d", &T::Date, None, &PartArgs::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("Date type and Timestamp time should not be aggregated over"),
        "{err}"
    );
    let err =
        AggregationPart::new(Op::Max, "t", &T::Timestamp, None, &PartArgs::default()).unwrap_err();
    assert!(err
        .to_string()
        .contains("Please use Query's Select expressions to transform them into Long."));
    let err =
        AggregationPart::new(Op::Sum, "s", &T::String, None, &PartArgs::default()).unwrap_err();
    assert_eq!(err.to_string(), "s: STRING is incompatible with SUM");
    let err =
        AggregationPart::new(Op::Average, "b", &T::Byte, None, &PartArgs::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "b: BYTE is incompatible with AVERAGE",
        "BYTE only for COUNT/FIRST/LAST/K"
    );
    assert!(AggregationPart::new(Op::Count, "b", &T::Byte, None, &PartArgs::default()).is_ok());
    assert!(AggregationPart::new(Op::Last, "b", &T::Byte, None, &PartArgs::default()).is_ok());
    // Decision (§3.2): HISTOGRAM over a known non-STRING input is rejected when set up.
    let err =
        AggregationPart::new(Op::Histogram, "n", &T::Long, None, &PartArgs::default()).unwrap_err();
    assert_eq!(err.to_string(), "n: LONG is incompatible with HISTOGRAM");
}

#[test]
fn r_agg_3_nan_becomes_null_only_for_direct_outputs_e_10() {
    let avg = part(Op::Average, T::Double);
    assert_eq!(fold(&avg, &doubles(&[1.0, f64::INFINITY])), V::Null);
    assert_eq!(fold(&avg, &doubles(&[f64::NAN])), V::Null);
    // A bucketed SKEW over 2 values keeps its NaN inside the map.
    let skew = AggregationPart::new(
        Op::Skew,
        "x",
        &T::Double,
        Some(("b", &T::String)),
        &PartArgs::default(),
    )
    .unwrap();
    let mut ir = Ir::Empty;
    skew.update(&mut ir, &V::Double(1.0), Some("a"), 0).unwrap();
    skew.update(&mut ir, &V::Double(2.0), Some("a"), 1).unwrap();
    let V::Map(entries) = skew.finalize(&ir) else {
        panic!("map")
    };
    assert!(matches!(entries[0].1, V::Double(v) if v.is_nan()));
    // Non-finite values inside list outputs stay.
    let top = part_k(Op::TopK, T::Double, 2);
    assert_close(
        &fold(&top, &doubles(&[1.0, f64::INFINITY])),
        &V::List(vec![f64::INFINITY.into(), 1.0.into()]),
    );
}

#[test]
fn r_agg_4_lists_are_flattened_for_simple_operations() {
    let input = rows([list(&[1, 2, 3]), list(&[3, 4]), list(&[5])]);
    assert_close(
        &fold(&part(Op::Average, list_t(T::Long)), &input),
        &V::Double(3.0),
    );
    assert_eq!(fold(&part(Op::Count, list_t(T::Long)), &input), V::Long(6));
    // Null elements are not inputs.
    let with_null = rows([V::List(vec![V::Long(1), V::Null])]);
    assert_eq!(
        fold(&part(Op::Count, list_t(T::Long)), &with_null),
        V::Long(1)
    );
}

#[test]
fn e_11_only_empty_lists_give_null() {
    let input = rows([list(&[]), list(&[])]);
    assert_eq!(fold(&part(Op::Count, list_t(T::Long)), &input), V::Null);
    assert_eq!(fold(&part(Op::Sum, list_t(T::Long)), &input), V::Null);
}

#[test]
fn r_agg_5_and_e_13_string_keyed_maps_are_aggregated_per_key() {
    let input = rows([
        map_of(&[("a", V::Long(1)), ("b", V::Long(10))]),
        map_of(&[("a", V::Long(2)), ("c", V::Null)]),
    ]);
    let sum = part(Op::Sum, map_t(T::String, T::Long));
    assert_eq!(
        fold(&sum, &input),
        map_of(&[("a", V::Long(3)), ("b", V::Long(10))])
    );
    // MAP<LONG,V> is not flattened: SUM does not accept it, COUNT counts whole maps.
    let long_map = map_t(T::Long, T::Long);
    let err =
        AggregationPart::new(Op::Sum, "m", &long_map, None, &PartArgs::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "m: MAP<LONG,LONG> is incompatible with SUM"
    );
    let maps = rows([V::map(vec![(V::Long(1), V::Long(2))]), V::map(vec![])]);
    assert_eq!(fold(&part(Op::Count, long_map), &maps), V::Long(2));
    // Buckets over a map input fail.
    let err = AggregationPart::new(
        Op::Sum,
        "m",
        &map_t(T::String, T::Long),
        Some(("b", &T::String)),
        &PartArgs::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "m: Bucketing over map columns is currently unsupported"
    );
}

#[test]
fn r_agg_6_and_e_12_last_over_a_list_returns_the_whole_list() {
    let input = rows([list(&[1, 2]), list(&[3, 4, 5])]);
    assert_eq!(
        fold(&part(Op::Last, list_t(T::Long)), &input),
        list(&[3, 4, 5])
    );
    assert_eq!(
        fold(&part(Op::First, list_t(T::Long)), &input),
        list(&[1, 2])
    );
    let last2 = part_k(Op::LastK, list_t(T::Long), 2);
    assert_eq!(
        fold(&last2, &input),
        V::List(vec![list(&[3, 4, 5]), list(&[1, 2])])
    );
}

fn element_wise(op: Op) -> AggregationPart {
    let args = PartArgs {
        element_wise: true,
        ..PartArgs::default()
    };
    AggregationPart::new(op, "x", &list_t(T::Double), None, &args).unwrap()
}

#[test]
fn r_agg_7_element_wise_aggregates_each_position() {
    let p = element_wise(Op::Average);
    let input = rows([
        V::List(vec![1.0.into(), 10.0.into()]),
        V::List(vec![3.0.into(), 20.0.into()]),
    ]);
    assert_close(&fold(&p, &input), &V::List(vec![2.0.into(), 15.0.into()]));
}

#[test]
fn e_14_element_wise_fails_on_null_elements_and_unequal_lengths() {
    let p = element_wise(Op::Sum);
    let mut ir = Ir::Empty;
    let err = p
        .update(&mut ir, &V::List(vec![1.0.into(), V::Null]), None, 0)
        .unwrap_err();
    assert_eq!(err, AggregationError::NullInTensor);
    assert_eq!(
        err.to_string(),
        "Null values are not allowed within tensors"
    );
    p.update(&mut ir, &V::List(vec![1.0.into(), 2.0.into()]), None, 0)
        .unwrap();
    let err = p
        .update(&mut ir, &V::List(vec![1.0.into()]), None, 1)
        .unwrap_err();
    assert!(
        err.to_string().starts_with("Tensor dimensions must match"),
        "{err}"
    );
    // Merging states of different dimensions fails too.
    let other = fold_ir(
        &p,
        &rows([V::List(vec![1.0.into(), 2.0.into(), 3.0.into()])]),
    );
    assert!(p.merge(&mut ir, &other).is_err());
    // elementWise cannot be combined with buckets, and needs a list.
    let args = PartArgs {
        element_wise: true,
        ..PartArgs::default()
    };
    assert!(AggregationPart::new(
        Op::Sum,
        "x",
        &list_t(T::Double),
        Some(("b", &T::String)),
        &args
    )
    .is_err());
    assert!(AggregationPart::new(Op::Sum, "x", &T::Double, None, &args).is_err());
}

#[test]
fn r_agg_8_and_e_15_buckets_skip_null_bucket_values_and_hold_only_fed_buckets() {
    let p = AggregationPart::new(
        Op::Sum,
        "x",
        &T::Long,
        Some(("b", &T::String)),
        &PartArgs::default(),
    )
    .unwrap();
    let mut ir = Ir::Empty;
    p.update(&mut ir, &V::Long(5), Some("visa"), 0).unwrap();
    p.update(&mut ir, &V::Long(7), None, 1).unwrap();
    p.update(&mut ir, &V::Null, Some("amex"), 2).unwrap();
    p.update(&mut ir, &V::Long(1), Some("visa"), 3).unwrap();
    assert_eq!(p.finalize(&ir), map_of(&[("visa", V::Long(6))]));
    assert_eq!(p.output_type(), &map_t(T::String, T::Long));
    let err = AggregationPart::new(
        Op::Sum,
        "x",
        &T::Long,
        Some(("b", &T::Long)),
        &PartArgs::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bucket column b must be STRING, found LONG"
    );
}

#[test]
fn r_agg_9_k_is_required_for_k_operations() {
    for op in [Op::LastK, Op::FirstK, Op::TopK, Op::BottomK] {
        let err = AggregationPart::new(op, "x", &T::Long, None, &PartArgs::default()).unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "k needs to be specified in the argMap for {op} type"
            )),
            "{err}"
        );
    }
    let args = PartArgs {
        percentiles: Some(vec![0.5, 1.5]),
        ..PartArgs::default()
    };
    assert!(AggregationPart::new(Op::ApproxPercentile, "x", &T::Double, None, &args).is_err());
}

#[test]
fn r_agg_10_deletes_on_empty_state_leave_one_negative_element() {
    let mut ir = Ir::Empty;
    let count = part(Op::Count, T::Long);
    count.delete(&mut ir, &V::Long(3), None, 0).unwrap();
    assert_eq!(count.finalize(&ir), V::Long(-1));
    let sum = part(Op::Sum, T::Long);
    let mut ir = Ir::Empty;
    sum.delete(&mut ir, &V::Long(3), None, 0).unwrap();
    assert_eq!(sum.finalize(&ir), V::Long(-3));
    let avg = part(Op::Average, T::Long);
    let mut ir = Ir::Empty;
    avg.delete(&mut ir, &V::Long(3), None, 0).unwrap();
    assert_close(&avg.finalize(&ir), &V::Double(3.0)); // (−3) / (−1)
    let hist = part(Op::Histogram, T::String);
    let mut ir = Ir::Empty;
    hist.delete(&mut ir, &V::from("v"), None, 0).unwrap();
    assert_eq!(hist.finalize(&ir), map_of(&[("v", V::Long(-1))]));
}

#[test]
fn e_09_insert_and_its_delete_give_zero_zero_and_null() {
    for (op, want) in [
        (Op::Count, V::Long(0)),
        (Op::Sum, V::Long(0)),
        (Op::Average, V::Null),
    ] {
        let p = part(op, T::Long);
        let mut ir = Ir::Empty;
        p.update(&mut ir, &V::Long(4), None, 0).unwrap();
        p.delete(&mut ir, &V::Long(4), None, 0).unwrap();
        assert_eq!(p.finalize(&ir), want, "{op}");
    }
}

#[test]
fn e_31_max_does_not_fall_after_a_delete() {
    let p = part(Op::Max, T::Long);
    let mut ir = fold_ir(&p, &longs(&[3, 9]));
    p.delete(&mut ir, &V::Long(9), None, 2).unwrap();
    assert_eq!(p.finalize(&ir), V::Long(9));
}

#[test]
fn r_op_count_sum_and_e_22_long_sums_wrap() {
    assert_eq!(
        fold(&part(Op::Sum, T::Long), &longs(&[i64::MAX, 1])),
        V::Long(i64::MIN)
    );
    assert_eq!(fold(&part(Op::Sum, T::Int), &longs(&[1, 2, 3])), V::Long(6));
    let bools = rows([V::Boolean(true), V::Boolean(false), V::Boolean(true)]);
    assert_eq!(fold(&part(Op::Sum, T::Boolean), &bools), V::Long(2));
    assert_close(
        &fold(&part(Op::Sum, T::Float), &doubles(&[0.5, 0.25])),
        &V::Double(0.75),
    );
    assert_eq!(part(Op::Sum, T::Float).output_type(), &T::Double);
}

#[test]
fn r_op_moments_worked_example() {
    let input = doubles(&[1.0, 2.0, 3.0, 10.0]);
    assert_close(
        &fold(&part(Op::Variance, T::Double), &input),
        &V::Double(12.5),
    );
    assert_close(
        &fold(&part(Op::Skew, T::Double), &input),
        &V::Double(1.018_233_764_908_628_4),
    );
    assert_close(
        &fold(&part(Op::Kurtosis, T::Double), &input),
        &V::Double(-0.7696),
    );
    assert_close(
        &fold(&part(Op::Variance, T::Long), &longs(&[7])),
        &V::Double(0.0),
    );
    assert_eq!(fold(&part(Op::Skew, T::Long), &longs(&[1, 2])), V::Null);
    assert_eq!(
        fold(&part(Op::Kurtosis, T::Long), &longs(&[1, 2, 3])),
        V::Null
    );
    assert_eq!(
        fold(&part(Op::Skew, T::Long), &longs(&[5, 5, 5])),
        V::Null,
        "M2 = 0"
    );
}

#[test]
fn r_op_minmax_nan_and_signed_zero_e_21() {
    assert_eq!(
        fold(&part(Op::Max, T::Double), &doubles(&[1.0, f64::NAN, 2.0])),
        V::Null
    );
    assert_eq!(
        fold(&part(Op::Min, T::Double), &doubles(&[1.0, f64::NAN, 2.0])),
        V::Null
    );
    let zeros = doubles(&[-0.0, 0.0]);
    let V::Double(max) = fold(&part(Op::Max, T::Double), &zeros) else {
        panic!()
    };
    let V::Double(min) = fold(&part(Op::Min, T::Double), &zeros) else {
        panic!()
    };
    assert!(max == 0.0 && max.is_sign_positive() && min == 0.0 && min.is_sign_negative());
    assert_eq!(
        fold(&part(Op::Min, T::Int), &longs(&[4, -2, 9])),
        V::Long(-2)
    );
}

#[test]
fn e_20_string_max_uses_utf16_order() {
    assert_eq!(
        fold(&part(Op::Max, T::String), &strs(&["\u{FF21}", "😀"])),
        V::from("\u{FF21}")
    );
    assert_eq!(
        fold(&part(Op::Min, T::String), &strs(&["\u{FF21}", "😀"])),
        V::from("😀")
    );
}

#[test]
fn r_op_firstlast_and_e_16_equal_ts_ties() {
    // E-16: a SNAPSHOT source without timeColumn gives all of a day's rows one ts.
    let day_end = 1_703_116_799_999;
    let input: Vec<(i64, V)> = ["m", "z", "a"]
        .iter()
        .map(|s| (day_end, V::from(*s)))
        .collect();
    assert_eq!(fold(&part(Op::First, T::String), &input), V::from("a"));
    assert_eq!(fold(&part(Op::Last, T::String), &input), V::from("z"));
    let timed = vec![(3, V::Long(1)), (1, V::Long(9)), (2, V::Long(5))];
    assert_eq!(fold(&part(Op::First, T::Long), &timed), V::Long(9));
    assert_eq!(fold(&part(Op::Last, T::Long), &timed), V::Long(1));
}

#[test]
fn r_op_klist_worked_examples() {
    let input = vec![
        (1000, V::from("x")),
        (2000, V::from("y")),
        (2000, V::from("z")),
        (3000, V::from("w")),
    ];
    assert_eq!(
        fold(&part_k(Op::LastK, T::String, 2), &input),
        V::List(vec!["w".into(), "z".into()])
    );
    assert_eq!(
        fold(&part_k(Op::FirstK, T::String, 2), &input),
        V::List(vec!["x".into(), "y".into()])
    );
    assert_eq!(fold(&part(Op::Last, T::String), &input), V::from("w"));
    let nums = longs(&[5, 1, 5, 3, 2]);
    assert_eq!(
        fold(&part_k(Op::TopK, T::Long, 3), &nums),
        V::List(vec![5.into(), 5.into(), 3.into()])
    );
    assert_eq!(
        fold(&part_k(Op::BottomK, T::Long, 2), &nums),
        V::List(vec![1.into(), 2.into()])
    );
    // min(k, inputs) values.
    assert_eq!(
        fold(&part_k(Op::TopK, T::Long, 10), &longs(&[2])),
        V::List(vec![2.into()])
    );
}

#[test]
fn e_32_identical_pair_gives_a_last_k_duplicate() {
    let input = vec![(10, V::Long(7)), (10, V::Long(7))];
    assert_eq!(
        fold(&part_k(Op::LastK, T::Long, 3), &input),
        V::List(vec![7.into(), 7.into()])
    );
}

#[test]
fn r_op_unique_and_e_18() {
    let bins = rows([
        V::Binary(vec![1, 2]),
        V::Binary(vec![1, 2]),
        V::Binary(vec![3]),
    ]);
    assert_eq!(fold(&part(Op::UniqueCount, T::Binary), &bins), V::Long(2));
    let floats = doubles(&[f64::NAN, f64::NAN, 0.0, -0.0]);
    assert_eq!(fold(&part(Op::UniqueCount, T::Double), &floats), V::Long(3));
}

#[test]
fn r_op_bounded_and_e_19() {
    let input = strs(&["a", "b", "a", "c", "d"]);
    assert_eq!(
        fold(&part_k(Op::BoundedUniqueCount, T::String, 3), &input),
        V::Long(3)
    );
    let many = longs(&(0..20).collect::<Vec<_>>());
    assert_eq!(
        fold(&part(Op::BoundedUniqueCount, T::Long), &many),
        V::Long(8),
        "default k = 8"
    );
}

#[test]
fn r_op_approxunique_is_within_fifteen_percent_at_lgk_8() {
    let p = part(Op::ApproxUniqueCount, T::Long);
    for n in [1usize, 10, 100, 1_000, 20_000] {
        let input: Vec<(i64, V)> = (0..n).map(|i| (0, V::Long(i as i64 * 7919))).collect();
        let V::Long(est) = fold(&p, &input) else {
            panic!()
        };
        let err = (est - n as i64).abs() as f64;
        assert!(err <= (0.15 * n as f64).max(1.0), "n {n} estimate {est}");
    }
    // INT hashes as LONG: the same values give the same sketch.
    let ints = part(Op::ApproxUniqueCount, T::Int);
    let input = longs(&[1, 2, 3, 2]);
    assert_eq!(fold(&ints, &input), fold(&p, &input));
}

#[test]
fn r_op_pctl_worked_examples() {
    let p = part(Op::ApproxPercentile, T::Double);
    assert_eq!(
        fold(&p, &doubles(&[1.0, 2.0, 3.0, 4.0])),
        V::List(vec![3.0.into()])
    );
    let args = PartArgs {
        percentiles: Some(vec![0.5, 0.95]),
        ..PartArgs::default()
    };
    let p = part_with(Op::ApproxPercentile, T::Double, args);
    assert_eq!(
        fold(&p, &doubles(&[5.0, 1.0, 4.0, 2.0, 3.0])),
        V::List(vec![3.0.into(), 5.0.into()])
    );
    let as_float = part(Op::ApproxPercentile, T::Long);
    assert_eq!(
        fold(&as_float, &longs(&[16_777_217])),
        V::List(vec![16_777_216.0.into()])
    );
    assert_eq!(as_float.output_type(), &list_t(T::Float));
}

#[test]
fn r_op_pctl_above_k_is_within_rank_error() {
    let k = 32;
    let args = PartArgs {
        k: Some(k),
        percentiles: Some(vec![0.1, 0.5, 0.9]),
        ..PartArgs::default()
    };
    let p = part_with(Op::ApproxPercentile, T::Double, args);
    let n = 5_000;
    let input: Vec<(i64, V)> = (0..n)
        .map(|i| (0, V::Double(((i * 7_919) % n) as f64)))
        .collect();
    let V::List(qs) = fold(&p, &input) else {
        panic!()
    };
    for (q, phi) in qs.iter().zip([0.1, 0.5, 0.9]) {
        let rank = q.as_f64().unwrap() / n as f64; // values are a permutation of 0..n
        assert!(
            (rank - phi).abs() <= 3.0 / (k as f64).sqrt(),
            "phi {phi} got {q:?}"
        );
    }
}

#[test]
fn r_op_hist_worked_example_and_e_17() {
    let p = part_k(Op::Histogram, T::String, 2);
    let input = strs(&["a", "a", "a", "b", "b", "c", "c", "d"]);
    assert_eq!(
        fold(&p, &input),
        map_of(&[("a", V::Long(3)), ("b", V::Long(2))])
    );
    assert_eq!(p.output_type(), &map_t(T::String, T::Int));
    let all = part(Op::Histogram, T::String);
    let mut ir = fold_ir(&all, &strs(&["a", "b"]));
    all.delete(&mut ir, &V::from("a"), None, 0).unwrap();
    assert_eq!(all.finalize(&ir), map_of(&[("b", V::Long(1))]));
    all.delete(&mut ir, &V::from("b"), None, 0).unwrap();
    assert_eq!(
        all.finalize(&ir),
        V::map(vec![]),
        "removing every key gives {{}}, not null"
    );
}

#[test]
fn r_op_approxhist_exact_while_small_and_e_23_keys() {
    let p = part_k(Op::ApproxHistogramK, T::Double, 4);
    let input = doubles(&[1.0, 1.0, 1e10, 0.5]);
    let want = map_of(&[
        ("1.0", V::Long(2)),
        ("1.0E10", V::Long(1)),
        ("0.5", V::Long(1)),
    ]);
    assert_eq!(fold(&p, &input), want);
    let longs_p = part_k(Op::ApproxHistogramK, T::Long, 8);
    assert_eq!(
        fold(&longs_p, &longs(&[-3, -3])),
        map_of(&[("-3", V::Long(2))])
    );
    // k <= 0: {} once the sketch is in use.
    let zero = part_k(Op::ApproxHistogramK, T::String, 0);
    assert_eq!(fold(&zero, &strs(&["a"])), V::map(vec![]));
}

#[test]
fn r_op_approxhist_sketch_keeps_heavy_hitters() {
    let p = part_k(Op::ApproxHistogramK, T::String, 4);
    let mut input = Vec::new();
    for i in 0..2_000 {
        input.push((i, V::from(if i % 2 == 0 { "heavy" } else { "" })));
        if i % 2 == 1 {
            input.last_mut().unwrap().1 = V::String(format!("rare{i}"));
        }
    }
    let V::Map(entries) = fold(&p, &input) else {
        panic!()
    };
    assert!(entries.len() <= 4);
    assert_eq!(
        entries.first().map(|e| &e.0),
        Some(&V::from("heavy")),
        "{entries:?}"
    );
}
