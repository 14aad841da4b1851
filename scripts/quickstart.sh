#!/usr/bin/env bash
# The README quickstart on the sample data: register the compiled Chronon configs, load the six
# sample tables, backfill shop.checkout.v1 to Parquet, fetch one user's features; then stream
# two live purchases into topic events/purchases and fetch the user's purchases features now.
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

# Live ingest: two purchases of u7 a minute ago, visible in the next fetch (read-your-writes).
now_ms=$(( $(date +%s) * 1000 ))
printf '{"user_id": "u7", "merchant": "m1", "purchase_price": 20.0, "merchant_fee_percent": 5.0, "ts": %d}\n{"user_id": "u7", "merchant": "m2", "purchase_price": 10.0, "merchant_fee_percent": 0.0, "ts": %d}\n' \
    $((now_ms - 60000)) $((now_ms - 30000)) |
    "$TILEFOLD" --store "$STORE" ingest events/purchases
"$TILEFOLD" --store "$STORE" fetch --group-by shop.purchases.v1 --keys '{"user_id": "u7"}' --at $((now_ms + 1))
