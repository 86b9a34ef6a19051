#!/usr/bin/env bash
# A fleet of 1,000 SQLite members, side by side in one run:
#   1. `lockstep drift --env stores` against a shell loop of one
#      `lockstep drift --env stores --member M` per member (goal: >= 10x faster);
#   2. `lockstep deploy --env stores` with nothing to apply against a loop of one
#      `lockstep deploy --env stores --member M` per member (goal: >= 10x faster).
# Wall time and peak RSS of each run (for a loop, its largest process), the medians of
# --runs (default 3) and the ratio. See bench/README.md.
#
#   bench/fleet_sqlite.sh [--runs N] [--members N]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=3
members=1000
parse_options "runs members" "" "$@"
n="$members"

cd "$root"
need python3 cargo
release_bin

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
printf 'migrations = "migrations"\n[env.stores]\nmembers = "stores.txt"\nconcurrency = 8\n' >"$work/lockstep.toml"
echo "== $n members: deploying them once (setup)"
(cd "$work" && "$bin" deploy --env stores >/dev/null 2>"$work/err") || { cat "$work/err"; exit 1; }
# The same extra index on four members, for drift to group.
python3 - "$work/db" "$n" <<'EOF'
import sqlite3, sys
n = int(sys.argv[2])
for i in sorted({3, 17, n * 2 // 5, n * 3 // 4}):
    c = sqlite3.connect(f"{sys.argv[1]}/store{i:0{len(str(n))}d}.db")
    c.execute("CREATE INDEX bi_total ON orders (total)")
    c.commit()
EOF

cd "$work"
for cmd in drift deploy; do
    echo "== $cmd over $n members: one lockstep $cmd --env stores vs a loop of lockstep $cmd --member"
    fleet_versus_loop stores "$cmd" stores.txt " (goal: 10x)"
done
