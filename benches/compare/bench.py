"""benches/compare driver (run.sh calls it): tilefold apply/load/backfill under /usr/bin/time -v,
the DuckDB side (duck.py) likewise, then a row-by-row comparison and the figures.

usage: python3 bench.py --tilefold BIN --configs DIR --data DIR --work DIR
Exits 1 on any value mismatch, 2 on a failed step.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
JOIN = "bench/checkout.v1"
REL_TOL, ABS_TOL = 1e-9, 1e-12  # SEMANTICS.md R-AGG-12
TIME = "/usr/bin/time"


def run(label, argv, log_dir):
    """Runs argv under /usr/bin/time -v (when present); returns (wall seconds, peak RSS bytes)."""
    timed = os.access(TIME, os.X_OK)
    err_path = os.path.join(log_dir, f"{label}.stderr")
    full = ([TIME, "-v"] if timed else []) + argv
    t0 = time.perf_counter()
    with open(err_path, "w") as err:
        proc = subprocess.run(full, stdout=subprocess.PIPE, stderr=err, text=True)
    wall = time.perf_counter() - t0
    stderr = open(err_path).read()
    if proc.returncode != 0:
        sys.stderr.write(f"compare: step {label} failed ({' '.join(argv)}):\n{proc.stdout}{stderr}")
        sys.exit(2)
    rss = None
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if m:
        rss = int(m.group(1)) * 1024
    for line in proc.stdout.splitlines():
        print(f"  [{label}] {line}")
    return wall, rss


def fmt_rss(b):
    return "n/a" if b is None else f"{b / 2**20:,.0f} MiB"


def fmt_rate(n, s):
    return f"{n / s / 1e6:,.3f} M/s" if s > 0 else "inf"


def compare(tf_path, duck_path, examples=5):
    """Row-by-row comparison; returns (mismatch count, example lines, checked cells)."""
    tf = pq.read_table(tf_path)
    dk = pq.read_table(duck_path)
    problems = []
    if tf.num_rows != dk.num_rows:
        return 1, [f"row count: tilefold {tf.num_rows}, duckdb {dk.num_rows}"], 0
    # Left-input order (ds partition, then file order): the key columns must line up exactly.
    for col in ("user_id", "ts", "ds"):
        a = tf.column(col).to_numpy(zero_copy_only=False)
        b = dk.column(col).to_numpy(zero_copy_only=False)
        bad = np.nonzero(a != b)[0]
        if len(bad):
            return len(bad), [f"row order: column {col} differs at row {bad[0]}: "
                              f"tilefold {a[bad[0]]!r}, duckdb {b[bad[0]]!r}"], 0
    feats = [c for c in dk.column_names if c not in ("user_id", "ts", "ds")]
    missing = [c for c in feats if c not in tf.column_names]
    if missing:
        return len(missing), [f"tilefold output lacks columns {missing}"], 0
    n_bad, cells = 0, 0
    uid = tf.column("user_id").to_numpy(zero_copy_only=False)
    ts = tf.column("ts").to_numpy()
    for c in feats:
        ca, cb = tf.column(c), dk.column(c)
        na = ca.is_null().to_numpy(zero_copy_only=False)
        nb = cb.is_null().to_numpy(zero_copy_only=False)
        fa = pc.fill_null(ca, 0).to_numpy()
        fb = pc.fill_null(cb, 0).to_numpy()
        if pa.types.is_floating(ca.type) or pa.types.is_floating(cb.type):
            fa, fb = fa.astype(np.float64), fb.astype(np.float64)
            close = np.abs(fa - fb) <= np.maximum(REL_TOL * np.maximum(np.abs(fa), np.abs(fb)), ABS_TOL)
        else:
            close = fa.astype(np.int64) == fb.astype(np.int64)
        bad = (na != nb) | (~na & ~nb & ~close)
        cells += len(bad)
        idx = np.nonzero(bad)[0]
        n_bad += len(idx)
        for i in idx[: max(0, examples - len(problems))]:
            va = None if na[i] else fa[i].item()
            vb = None if nb[i] else fb[i].item()
            problems.append(f"row {i} (user_id={uid[i]}, ts={ts[i]}) {c}: "
                            f"tilefold {va!r}, duckdb {vb!r}")
    return n_bad, problems, cells


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tilefold", required=True)
    ap.add_argument("--configs", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--scale", default="?")
    args = ap.parse_args()

    purchases = os.path.join(args.data, "purchases.parquet")
    checkouts = os.path.join(args.data, "checkouts.parquet")
    n_events = pq.ParquetFile(purchases).metadata.num_rows
    n_left = pq.ParquetFile(checkouts).metadata.num_rows
    store = os.path.join(args.work, "store")
    logs = os.path.join(args.work, "logs")
    tf_out = os.path.join(args.work, "tf.parquet")
    duck_out = os.path.join(args.work, "duck.parquet")
    duck_json = os.path.join(args.work, "duck.json")
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(logs, exist_ok=True)
    for p in (tf_out, duck_out, duck_json):
        if os.path.exists(p):
            os.remove(p)

    tf = [args.tilefold, "--store", store]
    print(f"compare: scale {args.scale}: {n_events:,} events, {n_left:,} left rows")
    run("apply", tf + ["apply", args.configs], logs)
    load_p_s, load_p_rss = run("load-purchases", tf + ["load", "data.purchases", purchases], logs)
    load_c_s, load_c_rss = run("load-checkouts", tf + ["load", "data.checkouts", checkouts], logs)
    bf_s, bf_rss = run("backfill", tf + ["backfill", JOIN, "--out", tf_out], logs)
    duck_wall, duck_rss = run("duckdb", [sys.executable, os.path.join(HERE, "duck.py"),
                                         purchases, checkouts, duck_out, duck_json], logs)
    duck = json.load(open(duck_json))

    n_bad, problems, cells = compare(tf_out, duck_out)

    store_bytes = sum(os.path.getsize(os.path.join(d, f))
                      for d, _, fs in os.walk(store) for f in fs)
    lscpu = subprocess.run(["sh", "-c", "lscpu | grep 'Model name' | sed 's/.*: *//'"],
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    q, qw = duck["query_s"], duck["query_window_s"]
    st = duck["steps_s"]
    common = ", ".join(f"{k} {v:.2f}" for k, v in st.items()
                       if k not in ("range_join", "window_frames"))
    tf_total = load_p_s + load_c_s + bf_s
    print()
    print(f"machine            {os.cpu_count()} cpus, {lscpu or 'unknown CPU'}")
    print(f"events / left rows {n_events:,} / {n_left:,}  (scale {args.scale})")
    print(f"tilefold load      purchases {load_p_s:.2f} s = {fmt_rate(n_events, load_p_s)} events, "
          f"peak RSS {fmt_rss(load_p_rss)}")
    print(f"                   checkouts {load_c_s:.2f} s = {fmt_rate(n_left, load_c_s)} rows, "
          f"peak RSS {fmt_rss(load_c_rss)}; store {store_bytes / 2**20:,.0f} MiB")
    print(f"tilefold backfill  {bf_s:.2f} s ({fmt_rate(n_left, bf_s)} left rows), "
          f"peak RSS {fmt_rss(bf_rss)}")
    print(f"duckdb {duck['duckdb_version']:<11} query {q:.2f} s with the range join for MAX/UNIQUE_COUNT "
          f"({st['range_join']:.2f}), {qw:.2f} s with window frames instead "
          f"({st['window_frames']:.2f}); common steps: {common}")
    print(f"                   Parquet read into DuckDB {duck['load_s']:.2f} s; threads "
          f"{duck['threads']}; process peak RSS {fmt_rss(duck_rss)} (both variants, one process)")
    print(f"ratio              duckdb query / tilefold backfill = {q / bf_s:.2f}x "
          f"(range join), {qw / bf_s:.2f}x (window frames)")
    print(f"                   (duckdb read+query) / (tilefold load+backfill) = "
          f"{(duck['load_s'] + q) / tf_total:.2f}x (range join), "
          f"{(duck['load_s'] + qw) / tf_total:.2f}x (window frames)")
    if duck["window_variant_mismatches"]:
        n_bad += duck["window_variant_mismatches"]
        problems.append(f"duckdb's window-frame variant differs from its range join on "
                        f"{duck['window_variant_mismatches']} left rows")
    if n_bad:
        print(f"values             {n_bad:,} MISMATCHED cells of {cells:,}; first ones:")
        for p in problems:
            print(f"  {p}")
        sys.exit(1)
    print(f"values             all {cells:,} feature cells equal "
          f"(doubles within rel {REL_TOL:g}, abs {ABS_TOL:g})")


if __name__ == "__main__":
    main()
