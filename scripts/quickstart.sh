#!/usr/bin/env bash
# The README quickstart on the sample data: register the compiled Chronon configs, load the six
# sample tables, backfill shop.checkout.v1 to Parquet, fetch one user's features.
# TILEFOLD overrides the binary (CI passes the debug build); STORE the store directory.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${TILEFOLD:-}" ]]; then
    cargo build --release --quiet --bin tilefold
    TILEFOLD="${CARGO_TARGET_DIR:-target}/release/tilefold"
fi
STORE="${STORE:-target/quickstart-store}"
OUT="${OUT:-target/checkout_v1.parquet}"
DATA=query/tests/fixtures/data
rm -rf "$STORE"

"$TILEFOLD" --store "$STORE" apply query/tests/fixtures/production
for table in purchases checkouts returns users accounts accounts_mutations; do
    "$TILEFOLD" --store "$STORE" load "data.$table" "$DATA/$table.parquet"
done
"$TILEFOLD" --store "$STORE" backfill shop/checkout.v1 --out "$OUT"
# 2026-10-31T12:00Z, the last day of the sample data.
"$TILEFOLD" --store "$STORE" fetch shop/checkout.v1 --keys '{"user_id": "u7"}' --at 1793448000000
