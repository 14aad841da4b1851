"""(Copy of /work/shared/samples/make_data.py for benches/compare; the only change is the
MAKE_DATA_ONLY_PURCHASES_CHECKOUTS early exit after data.checkouts.)

Writes the sample tables that the configs in chronon/production read, as Parquet.

usage: python3 make_data.py OUTDIR [SCALE] [SEED]     (needs numpy and pyarrow)
SCALE 1 gives ~20k purchases over 30 days for 500 users; larger scales grow linearly.
Every table has a `ds` partition column (yyyy-MM-dd, UTC); times are epoch milliseconds.
"""
import os, sys, datetime as dt, numpy as np, pyarrow as pa, pyarrow.parquet as pq

out = sys.argv[1]
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
DAY, HOUR = 86_400_000, 3_600_000
END = 1793491200000  # 2026-11-01T00:00:00Z
DAYS = 30
START = END - DAYS * DAY
n_users = max(10, int(500 * scale))

def ds(ms):
    return [dt.datetime.fromtimestamp(m / 1000, dt.timezone.utc).strftime("%Y-%m-%d") for m in ms]

def users_pick(n):
    w = 1.0 / np.arange(1, n_users + 1) ** 0.8
    return rng.choice(n_users, size=n, p=w / w.sum())

def write(name, cols):
    pq.write_table(pa.table(cols), f"{out}/{name}.parquet")
    print(name, len(next(iter(cols.values()))))

# data.purchases: events; 1% null prices, some timestamps on hour/day boundaries
n = int(20_000 * scale)
u = users_pick(n)
ts = rng.integers(START, END, size=n)
snap = rng.random(n)
ts = np.where(snap < 0.03, ts - ts % HOUR, ts)
ts = np.where(snap < 0.01, ts - ts % DAY, ts)
price = np.round(rng.gamma(2.0, 20.0, size=n), 2)
write("purchases", {
    "user_id": [f"u{x}" for x in u],
    "merchant": [f"m{x}" for x in rng.integers(0, 50, size=n)],
    "purchase_price": pa.array(price, mask=rng.random(n) < 0.01),
    "merchant_fee_percent": rng.integers(0, 10, size=n).astype(np.float64),
    "ts": pa.array(ts, pa.int64()),
    "ds": ds(ts),
})
# data.checkouts: the left side; a tenth at exactly a purchase's timestamp, some unknown users
m = int(2_000 * scale)
cu = users_pick(m)
cts = rng.integers(START + 7 * DAY, END, size=m)
k = m // 10
pick = rng.integers(0, n, size=k)
cu[:k], cts[:k] = u[pick], ts[pick]
uid = [f"u{x}" for x in cu]
for i in range(k, k + m // 50):
    uid[i] = f"unknown{i}"
write("checkouts", {
    "user_id": uid,
    "cart_total": np.round(rng.gamma(2.0, 30.0, size=m), 2),
    "ts": pa.array(cts, pa.int64()),
    "ds": ds(cts),
})
# benches/compare: the comparison needs only the two tables above, and the random draws for
# them come first, so stopping here leaves them identical to the full run's.
if os.environ.get("MAKE_DATA_ONLY_PURCHASES_CHECKOUTS"):
    sys.exit(0)
# data.returns: events, batch only
r = int(2_000 * scale)
rts = rng.integers(START, END, size=r)
write("returns", {
    "user_id": [f"u{x}" for x in users_pick(r)],
    "refund_amount": np.round(rng.gamma(2.0, 10.0, size=r), 2),
    "ts": pa.array(rts, pa.int64()),
    "ds": ds(rts),
})
# data.users: daily full snapshots of a dimension table
days = [START + d * DAY for d in range(DAYS)]
ids, age, country, dsc = [], [], [], []
countries = np.array(["US", "DE", "FR", "BR", "IN", "JP"])
home = rng.integers(0, len(countries), size=n_users)
for d, day in enumerate(days):
    for x in range(n_users):
        if x % 7 == 0 and d < 10:   # some users appear later
            continue
        ids.append(f"u{x}"); age.append(d + x % 400)
        country.append(countries[(home[x] + (1 if d > 20 and x % 11 == 0 else 0)) % len(countries)])
        dsc.append(ds([day])[0])
write("users", {"user_id": ids, "account_age_days": pa.array(age, pa.int64()), "country": country, "ds": dsc})
# data.accounts snapshots and data.accounts_mutations (change data capture)
n_acc = int(800 * scale)
owner = users_pick(n_acc)
created = rng.integers(START - 60 * DAY, END, size=n_acc)
balance = np.round(rng.gamma(2.0, 100.0, size=n_acc), 2)
rows = {"account_id": [], "user_id": [], "balance": [], "created_ts": [], "ds": []}
mut = {"account_id": [], "user_id": [], "balance": [], "created_ts": [], "mutation_ts": [], "is_before": [], "ds": []}
for d, day in enumerate(days):
    for a in range(n_acc):
        if created[a] >= day + DAY:
            continue
        if rng.random() < 0.02:  # balance update during this day: before and after rows
            mts = int(day + rng.integers(0, DAY))
            new = round(float(balance[a]) + float(rng.normal(0, 50)), 2)
            for before, val in ((True, float(balance[a])), (False, new)):
                mut["account_id"].append(f"a{a}"); mut["user_id"].append(f"u{owner[a]}")
                mut["balance"].append(val); mut["created_ts"].append(int(created[a]))
                mut["mutation_ts"].append(mts); mut["is_before"].append(before); mut["ds"].append(ds([day])[0])
            balance[a] = new
        rows["account_id"].append(f"a{a}"); rows["user_id"].append(f"u{owner[a]}")
        rows["balance"].append(float(balance[a])); rows["created_ts"].append(int(created[a])); rows["ds"].append(ds([day])[0])
rows["created_ts"] = pa.array(rows["created_ts"], pa.int64())
mut["created_ts"] = pa.array(mut["created_ts"], pa.int64())
mut["mutation_ts"] = pa.array(mut["mutation_ts"], pa.int64())
write("accounts", rows)
write("accounts_mutations", mut)
