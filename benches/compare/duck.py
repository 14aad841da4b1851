"""DuckDB side of benches/compare: the features of bench.checkout.v1 in plain SQL.

usage: python3 duck.py PURCHASES.parquet CHECKOUTS.parquet OUT.parquet TIMINGS.json

Two timed phases, both with DuckDB's default settings (in-memory database, threads = cores):
  load   read both Parquet files into in-memory DuckDB tables, columns as they are;
  query  everything else: the GroupBy's select/where, per-user prefix sums, ASOF joins at the
         window edges (SUM/COUNT/AVERAGE), a range join (MAX/UNIQUE_COUNT), ordering in the
         backfill's row order and writing OUT.parquet. The counterpart of `tilefold backfill`.
         A second MAX/UNIQUE_COUNT variant with window frames (RANGE BETWEEN per-row offset
         PRECEDING AND 1 PRECEDING) runs too; query_window_s counts it instead of the range
         join. OUT.parquet holds the range join's values; the variants are checked equal.

Window rule (SEMANTICS.md R-WIN-2/3, TEMPORAL accuracy): an event is in window W at query time
T iff floor(T - W, hop) <= ts < T, hop = 1 hour for 3d and 1 day for 14d and 30d (W >= 12 days).
Nulls (R-AGG-1): a null price is ignored; SUM/COUNT/AVERAGE/MAX are null when no non-null price
is in the window (COUNT is null, not 0); UNIQUE_COUNT is null when no non-null merchant is.
"""
import json
import sys
import time

import duckdb

DAY, HOUR = 86_400_000, 3_600_000
# (suffix, window length ms, tail hop ms)
WINDOWS = [("3d", 3 * DAY, HOUR), ("14d", 14 * DAY, DAY), ("30d", 30 * DAY, DAY)]
P = "bench_purchases_v1_"


def main():
    purchases, checkouts, out, timings_path = sys.argv[1:5]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    t0 = time.perf_counter()
    con.execute(f"CREATE TABLE purchases AS SELECT * FROM read_parquet('{purchases}')")
    # file_row_number: the row's position in the file, for the backfill's row order.
    con.execute(
        f"CREATE TABLE checkouts AS SELECT * FROM read_parquet('{checkouts}', file_row_number = true)"
    )
    t_load = time.perf_counter() - t0

    starts = ",\n           ".join(
        f"(ts - {w}) // {hop} * {hop} AS start_{s}" for s, w, hop in WINDOWS
    )
    lower_joins = "\n".join(
        f"ASOF LEFT JOIN pre lo_{s} ON l.user_id = lo_{s}.user_id AND l.start_{s} > lo_{s}.ts"
        for s, _, _ in WINDOWS
    )
    cnt = {s: f"(coalesce(hi.cc, 0) - coalesce(lo_{s}.cc, 0))" for s, _, _ in WINDOWS}
    sm = {s: f"(hi.cs - coalesce(lo_{s}.cs, 0))" for s, _, _ in WINDOWS}
    sums = ",\n           ".join(
        f"CASE WHEN {cnt[s]} > 0 THEN {sm[s]} END AS {P}price_sum_{s}" for s, _, _ in WINDOWS
    )
    counts = ",\n           ".join(
        f"CASE WHEN {cnt[s]} > 0 THEN {cnt[s]} END AS {P}price_count_{s}" for s, _, _ in WINDOWS
    )
    avgs = ",\n           ".join(
        f"CASE WHEN {cnt[s]} > 0 THEN {sm[s]} / {cnt[s]} END AS {P}price_average_{s}"
        for s, _, _ in WINDOWS
    )

    sql = [
        # The GroupBy's query: selects, wheres, and the rows a load drops (null time, null key).
        """CREATE TEMP TABLE ev AS
           SELECT user_id, merchant, ts,
                  purchase_price * (1 - merchant_fee_percent / 100) AS price
           FROM purchases
           WHERE (purchase_price IS NOT NULL OR merchant IS NOT NULL)
             AND ts IS NOT NULL AND user_id IS NOT NULL""",
        # Prefix sums per user over distinct timestamps (so an ASOF match on ts never lands in
        # the middle of a run of equal timestamps). cs/cc: sum and count of non-null prices
        # with event ts <= this ts.
        """CREATE TEMP TABLE pre AS
           SELECT user_id, ts,
                  sum(s) OVER w AS cs,
                  (sum(c) OVER w)::BIGINT AS cc
           FROM (SELECT user_id, ts, coalesce(sum(price), 0) AS s, count(price) AS c
                 FROM ev GROUP BY user_id, ts)
           WINDOW w AS (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING)""",
        f"""CREATE TEMP TABLE l AS
           SELECT file_row_number AS rn, user_id, ts, ds,
           {starts}
           FROM checkouts""",
        # SUM/COUNT/AVERAGE: prefix at the upper edge (last ts < T) minus prefix at each lower
        # edge (last ts < start), i.e. events with start <= ts < T.
        f"""CREATE TEMP TABLE sca AS
           SELECT l.rn,
           {sums},
           {counts},
           {avgs}
           FROM l
           ASOF LEFT JOIN pre hi ON l.user_id = hi.user_id AND l.ts > hi.ts
           {lower_joins}""",
        # MAX/UNIQUE_COUNT 30d: range join, left row x the user's events in the window.
        f"""CREATE TEMP TABLE mu AS
           SELECT l.rn,
                  max(e.price) AS {P}price_max_30d,
                  CASE WHEN count(DISTINCT e.merchant) > 0
                       THEN count(DISTINCT e.merchant) END AS {P}merchant_unique_count_30d
           FROM l JOIN ev e
             ON e.user_id = l.user_id AND e.ts >= l.start_30d AND e.ts < l.ts
           GROUP BY l.rn""",
        # Variant: MAX/UNIQUE_COUNT 30d with window frames instead of the range join. Left
        # rows join the event stream with null values; each left row's frame is
        # RANGE BETWEEN (T - start_30d) PRECEDING AND 1 PRECEDING, i.e. start_30d <= ts < T.
        f"""CREATE TEMP TABLE mu_w AS
           SELECT rn, mx AS {P}price_max_30d,
                  CASE WHEN uc > 0 THEN uc END AS {P}merchant_unique_count_30d
           FROM (SELECT rn, is_left,
                        max(price) OVER w AS mx,
                        count(DISTINCT merchant) OVER w AS uc
                 FROM (SELECT NULL::BIGINT AS rn, FALSE AS is_left, user_id, ts, price, merchant,
                              0::BIGINT AS back
                       FROM ev
                       UNION ALL
                       SELECT rn, TRUE, user_id, ts, NULL, NULL, ts - start_30d FROM l)
                 WINDOW w AS (PARTITION BY user_id ORDER BY ts
                              RANGE BETWEEN back PRECEDING AND 1 PRECEDING)
                 QUALIFY is_left)""",
        # The backfill's row order: left partition (ds), then file order.
        f"""COPY (
           SELECT l.user_id, l.ts, l.ds,
                  {", ".join(f"{P}price_sum_{s}" for s, _, _ in WINDOWS)},
                  {", ".join(f"{P}price_count_{s}" for s, _, _ in WINDOWS)},
                  {", ".join(f"{P}price_average_{s}" for s, _, _ in WINDOWS)},
                  {P}price_max_30d, {P}merchant_unique_count_30d
           FROM l
           LEFT JOIN sca USING (rn)
           LEFT JOIN mu USING (rn)
           ORDER BY l.ds, l.rn
        ) TO '{out}' (FORMAT parquet)""",
    ]
    steps = ["select_where", "prefix_sums", "left", "asof_joins", "range_join",
             "window_frames", "order_write"]
    step_times = {}
    t0 = time.perf_counter()
    for name, stmt in zip(steps, sql):
        ts = time.perf_counter()
        con.execute(stmt)
        step_times[name] = time.perf_counter() - ts
    # The two MAX/UNIQUE_COUNT variants are alternatives: each query time leaves the other out.
    total = time.perf_counter() - t0
    t_query = total - step_times["window_frames"]
    t_query_window = total - step_times["range_join"]
    # Untimed: the variants must agree (the output holds the range join's values).
    variant_mismatches = con.execute(
        f"""SELECT count(*) FROM l LEFT JOIN mu a USING (rn) LEFT JOIN mu_w b USING (rn)
            WHERE a.{P}price_max_30d IS DISTINCT FROM b.{P}price_max_30d
               OR a.{P}merchant_unique_count_30d IS DISTINCT FROM b.{P}merchant_unique_count_30d"""
    ).fetchone()[0]
    pairs = con.execute(
        """SELECT count(*) FROM l JOIN ev e
           ON e.user_id = l.user_id AND e.ts >= l.start_30d AND e.ts < l.ts"""
    ).fetchone()[0] if "--count-pairs" in sys.argv else None

    with open(timings_path, "w") as f:
        json.dump({
            "duckdb_version": duckdb.__version__,
            "threads": threads,
            "memory_limit": memory_limit,
            "load_s": t_load,
            "query_s": t_query,
            "query_window_s": t_query_window,
            "window_variant_mismatches": variant_mismatches,
            "steps_s": step_times,
            "range_join_pairs": pairs,
            "sql": sql,
        }, f, indent=2)


if __name__ == "__main__":
    main()
