#!/usr/bin/env bash
# tilefold vs DuckDB on a purchases-style join backfill (see README.md in this directory).
#
#   benches/compare/run.sh [SCALE]      SCALE 1 = 20k purchases / 2k checkouts (default 5;
#                                       500 = 10M / 1M, the issue's target)
#
# Environment: CARGO_TARGET_DIR (default target), SEED (1), TILEFOLD (a binary: skips the
# build), COMPARE_PYTHON (a python3 with duckdb, pyarrow and numpy: skips the venv),
# COMPARE_DIR (work directory, default $CARGO_TARGET_DIR/compare/scale-SCALE).
# Exit status: 0 values equal, 1 value mismatch, 2 a step failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCALE="${1:-5}"
SEED="${SEED:-1}"
TARGET="${CARGO_TARGET_DIR:-target}"
WORK="${COMPARE_DIR:-$TARGET/compare/scale-$SCALE}"
HERE=benches/compare

has_modules() { [[ -x "$1" ]] && "$1" -c 'import duckdb, pyarrow, numpy' 2>/dev/null; }

# 1. Python with duckdb, pyarrow, numpy: $COMPARE_PYTHON, else an existing venv
#    ($TARGET/compare-venv, then $TARGET/venv), else a new $TARGET/compare-venv.
PY="${COMPARE_PYTHON:-}"
if [[ -z "$PY" ]]; then
    for candidate in "$TARGET/compare-venv/bin/python" "$TARGET/venv/bin/python"; do
        if has_modules "$candidate"; then PY="$candidate"; break; fi
    done
fi
if [[ -z "$PY" ]]; then
    echo "compare: creating $TARGET/compare-venv (pip install duckdb pyarrow numpy)" >&2
    python3 -m venv "$TARGET/compare-venv"
    "$TARGET/compare-venv/bin/pip" install --quiet duckdb pyarrow numpy
    PY="$TARGET/compare-venv/bin/python"
fi
has_modules "$PY" || { echo "compare: $PY lacks duckdb/pyarrow/numpy" >&2; exit 2; }

# 2. Data (kept between runs: regenerated only when missing).
DATA="$TARGET/compare/data-scale-$SCALE-seed-$SEED"
if [[ ! -f "$DATA/purchases.parquet" || ! -f "$DATA/checkouts.parquet" ]]; then
    mkdir -p "$DATA.tmp"
    echo "compare: generating data at scale $SCALE, seed $SEED" >&2
    MAKE_DATA_ONLY_PURCHASES_CHECKOUTS=1 "$PY" "$HERE/make_data.py" "$DATA.tmp" "$SCALE" "$SEED" >&2
    rm -rf "$DATA" && mv "$DATA.tmp" "$DATA"
fi

# 3. The release binary.
if [[ -z "${TILEFOLD:-}" ]]; then
    cargo build --release --quiet --bin tilefold
    TILEFOLD="$TARGET/release/tilefold"
fi

# 4-9. apply, load, backfill, DuckDB, compare, report.
mkdir -p "$WORK"
exec "$PY" "$HERE/bench.py" --tilefold "$TILEFOLD" --configs "$HERE/configs" \
    --data "$DATA" --work "$WORK" --scale "$SCALE"
