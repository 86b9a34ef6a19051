#!/usr/bin/env bash
# A fleet of 1,000 SQLite members, side by side in one run:
#   1. `lockstep drift --env stores` against a shell loop of one
#      `lockstep drift --env stores --member M` per member (goal: >= 10x faster);
#   2. `lockstep deploy --env stores` with nothing to apply against a loop of one
#      `lockstep deploy --env stores --member M` per member (goal: >= 10x faster).
# Medians of --runs (default 3) runs, wall time and peak RSS (/usr/bin/time -f %M; for a
# loop, its largest single process).
#
#   bench/fleet_sqlite.sh [--runs N] [--members N]
set -euo pipefail

runs=3
n=1000
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --members) n="$2"; shift ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
for tool in python3 cargo /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "== building lockstep (release)"
cargo build --release --quiet
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/lockstep"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/migrations" "$work/db"
cat >"$work/migrations/20260101000000_init.up.sql" <<'EOF'
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, customer_id INTEGER NOT NULL REFERENCES customers (id), total NUMERIC NOT NULL DEFAULT 0 CHECK (total >= 0), status TEXT NOT NULL DEFAULT 'new');
CREATE TABLE order_items (order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE, sku TEXT NOT NULL, qty INTEGER NOT NULL, PRIMARY KEY (order_id, sku));
CREATE INDEX orders_customer ON orders (customer_id);
CREATE VIEW open_orders AS SELECT o.id, c.email, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'done';
EOF
cat >"$work/migrations/20260201000000_items.up.sql" <<'EOF'
ALTER TABLE order_items ADD COLUMN price NUMERIC NOT NULL DEFAULT 0;
CREATE INDEX order_items_sku ON order_items (sku);
EOF
for i in $(seq -w 1 "$n"); do echo "store$i sqlite://db/store$i.db"; done >"$work/stores.txt"
cat >"$work/lockstep.toml" <<EOF
migrations = "migrations"
[env.stores]
members = "stores.txt"
concurrency = 8
EOF
echo "== $n members: deploying them once (setup)"
(cd "$work" && "$bin" deploy --env stores >/dev/null 2>"$work/err") || { cat "$work/err"; exit 1; }
# Some drift, for drift to group.
python3 - "$work/db" "$n" <<'EOF'
import sqlite3, sys
n = int(sys.argv[2])
for i in sorted({3, 17, n * 2 // 5, n * 3 // 4}):
    c = sqlite3.connect(f"{sys.argv[1]}/store{i:0{len(str(n))}d}.db")
    c.execute("CREATE INDEX bi_total ON orders (total)")
    c.commit()
EOF

time_of() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>>"$work/err" || true
    tail -1 "$work/time"
}
# A loop of one lockstep per member; its peak is its largest single process.
loop_script() {
    cat >"$work/loop_$1.sh" <<EOF
peak=0
for m in \$(cut -d' ' -f1 "$work/stores.txt"); do
    /usr/bin/time -f "%M" -o "$work/t1" "$bin" $1 --env stores --member "\$m" >/dev/null 2>&1
    k=\$(tail -1 "$work/t1"); [ "\$k" -gt "\$peak" ] && peak=\$k
done
echo "\$peak" >"$work/looppeak"
EOF
}
median() { python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

compare() {
    local cmd="$1" fleet_t=() fleet_m=() loop_t=() loop_m=() t m r
    loop_script "$cmd"
    echo "== $cmd over $n members: lockstep $cmd --env stores vs a loop of lockstep $cmd --member ($runs runs each)"
    for r in $(seq 1 "$runs"); do
        read -r t m < <(cd "$work" && time_of "$bin" "$cmd" --env stores)
        fleet_t+=("$t"); fleet_m+=("$m")
        read -r t _ < <(cd "$work" && time_of bash "$work/loop_$cmd.sh")
        loop_t+=("$t"); loop_m+=("$(cat "$work/looppeak")")
        echo "   run $r: fleet ${fleet_t[-1]}s ${fleet_m[-1]}KiB · loop ${loop_t[-1]}s (largest process ${loop_m[-1]}KiB)"
    done
    local ft lt
    ft=$(median "${fleet_t[@]}"); lt=$(median "${loop_t[@]}")
    echo "   median: fleet ${ft}s, peak $(median "${fleet_m[@]}")KiB; loop ${lt}s, peak $(median "${loop_m[@]}")KiB; ratio $(python3 -c "print(f'{$lt/$ft:.1f}')")x faster"
}

compare drift
compare deploy
