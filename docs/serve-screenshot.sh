#!/usr/bin/env bash
# Makes docs/serve.png: the demo story on PostgreSQL (dev ahead with the release, qa in
# step, prod drifted by a column a BI tool's role added by hand, with the DDL audit
# installed so the page names who did it), served by `lockstep serve` and photographed by
# headless Chromium.
#
#   docs/serve-screenshot.sh [OUT.png]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres); it
# creates demo_dev, demo_qa, demo_prod and the role bi_etl, and drops them at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$root/docs/serve.png}")"
admin="${LOCKSTEP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
base="${admin%/*}"
cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/lockstep"
work="$(mktemp -d)"
cleanup() {
    [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
    for d in demo_dev demo_qa demo_prod; do psql -q "$admin" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" 2>/dev/null || true; done
    psql -q "$admin" -c "DROP ROLE IF EXISTS bi_etl" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# The page is titled after the project's folder.
mkdir "$work/retail-pos"
cd "$work/retail-pos"
export USER="${USER:-$(id -un)}"
mkdir migrations
cat > migrations/20260101090000_customers_and_orders.up.sql <<'SQL'
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), total_cents integer NOT NULL CHECK (total_cents >= 0), placed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer ON orders (customer_id);
SQL
cat > migrations/20260115090000_point_of_sale.up.sql <<'SQL'
CREATE TABLE stores (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL UNIQUE, city text NOT NULL);
ALTER TABLE orders ADD COLUMN store_id bigint REFERENCES stores(id);
SQL
cat > migrations/20260301090000_order_segment.up.sql <<'SQL'
-- Release 2026.03: segment orders for the loyalty programme.
ALTER TABLE orders ADD COLUMN segment text NOT NULL DEFAULT 'retail';
SQL
{
    echo 'migrations = "migrations"'
    for e in dev qa prod; do printf '[env.%s]\nurl = "%s/demo_%s"\n' "$e" "$base" "$e"; done
} > lockstep.toml
for d in demo_dev demo_qa demo_prod; do psql -q "$admin" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d"; done
# A role that may alter the table without a grant (which would be drift of its own).
psql -q "$admin" -c "DROP ROLE IF EXISTS bi_etl" -c "CREATE ROLE bi_etl LOGIN SUPERUSER"
"$bin" -q hash
"$bin" -q deploy --env dev
"$bin" -q deploy --env qa --to 20260115090000
"$bin" -q deploy --env prod --to 20260115090000
"$bin" -q audit install --env prod
# What the story's BI module did two weeks before deploy night.
PGAPPNAME=metabase psql -q "$base/demo_prod?user=bi_etl" -c "ALTER TABLE orders ADD COLUMN segment text"
"$bin" serve --listen 127.0.0.1:0 --refresh 10m > serve.out 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q '^serving' serve.out 2>/dev/null && break; sleep 0.2; done
url="$(sed -n 's/^serving \(http[^ ]*\).*/\1/p' serve.out | head -1)"
url="${url%/}"
for _ in $(seq 1 300); do curl -sf "$url/api/status" >/dev/null && break; sleep 0.2; done
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
    --window-size=1280,1400 --screenshot="$out" "$url" 2>/dev/null
curl -s "$url/api/drift?env=prod" | python3 -c 'import json,sys; i=json.load(sys.stdin)["items"][0]; print(i["object"], "by", i.get("author"))'
echo "wrote $out"
