#!/usr/bin/env bash
# A fleet of 100 PostgreSQL databases on two servers (the main one and a second one this
# script starts with initdb/pg_ctl), side by side in one run:
#   1. `lockstep drift --env fleet` against a shell loop of one `lockstep drift --env
#      fleet --member M` per member (goal: >= 10x faster);
#   2. `lockstep deploy --env fleet` of one new migration against a loop of
#      `psql -1 -f` per database.
# Medians of --runs (default 3) runs, wall time and peak RSS (/usr/bin/time -f %M).
#
#   bench/fleet_pg.sh [--runs N] [--members N]
#
# Main server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres).
# Second server: $LOCKSTEP_PG_BIN (default /usr/lib/postgresql/15/bin), run as the
# postgres OS user when this runs as root; stopped and removed at the end.
set -euo pipefail

runs=3
n=100
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --members) n="$2"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
admin="${LOCKSTEP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
pgbin="${LOCKSTEP_PG_BIN:-/usr/lib/postgresql/15/bin}"
for tool in psql python3 cargo /usr/bin/time "$pgbin/initdb" "$pgbin/pg_ctl"; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "== building lockstep (release)"
cargo build --release --quiet
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/lockstep"

work="$(mktemp -d)"
second="$(mktemp -d /tmp/lockstep-bench-pg-XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg=()
[ "$(id -u)" = 0 ] && { chown postgres: "$second"; as_pg=(runuser -u postgres --); }
main_dbs=()
cleanup() {
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$second/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$second" "$work"
    # Concurrent drops share their checkpoints.
    for d in "${main_dbs[@]}"; do
        psql -q -X "$admin" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 &
    done
    wait
}
trap cleanup EXIT

echo "== second server on port $port"
"${as_pg[@]}" "$pgbin/initdb" -D "$second/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$second/data" -l "$second/log" -w \
    -o "-p $port -k $second -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60" start >/dev/null
admin2="postgres://postgres@127.0.0.1:$port/postgres"

base="${admin%%\?*}"
echo "== $n databases: one in four on the main server, the rest on the second"
: >"$work/members.txt"
urls=()
for i in $(seq -w 1 "$n"); do
    d="lsbench_fleet_$i"
    if [ $((10#$i % 4)) = 1 ]; then
        u="${base%/*}/$d"; a="$admin"; main_dbs+=("$d")
    else
        u="postgres://postgres@127.0.0.1:$port/$d"; a="$admin2"
    fi
    PGOPTIONS="-c client_min_messages=warning" psql -q -X "$a" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d" >/dev/null
    echo "m$i $u" >>"$work/members.txt"
    urls+=("$u")
done

mkdir -p "$work/migrations"
cat >"$work/migrations/20260101000000_init.up.sql" <<'EOF'
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id), total numeric(12,2) NOT NULL DEFAULT 0 CHECK (total >= 0), status text NOT NULL DEFAULT 'new');
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE, sku text NOT NULL, qty integer NOT NULL, PRIMARY KEY (order_id, sku));
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_open ON orders (status) WHERE status <> 'done';
CREATE VIEW open_orders AS SELECT o.id, c.email, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status <> 'done';
CREATE FUNCTION order_total(p bigint) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT total FROM orders WHERE id = p $$;
EOF
cat >"$work/lockstep.toml" <<EOF
migrations = "migrations"
[env.fleet]
members = "members.txt"
concurrency = 8
EOF
(cd "$work" && "$bin" deploy --env fleet >/dev/null 2>"$work/err") || { cat "$work/err"; exit 1; }
# Some drift, for drift to group.
for i in 003 017 042 077; do
    psql -q -X "$(sed -n "s/^m$i //p" "$work/members.txt")" -c "CREATE INDEX bi_total ON orders (total)" >/dev/null
done

# time_of CMD...: "<wall seconds> <peak KiB>" of CMD (its exit code is ignored: drift exits 1).
time_of() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>>"$work/err" || true
    cat "$work/time" | tail -1
}
# The loop's peak is its largest single process.
cat >"$work/drift_loop.sh" <<EOF
peak=0
for m in \$(cut -d' ' -f1 "$work/members.txt"); do
    /usr/bin/time -f "%M" -o "$work/t1" "$bin" drift --env fleet --member "\$m" >/dev/null 2>&1
    k=\$(tail -1 "$work/t1"); [ "\$k" -gt "\$peak" ] && peak=\$k
done
echo "\$peak" >"$work/looppeak"
EOF
median() { python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.3f}")' "$@"; }

fleet_t=(); fleet_m=(); loop_t=(); loop_m=()
echo "== drift over $n members on two servers ($runs runs each)"
for r in $(seq 1 "$runs"); do
    read -r t m < <(cd "$work" && time_of "$bin" drift --env fleet)
    fleet_t+=("$t"); fleet_m+=("$m")
    read -r t _ < <(cd "$work" && time_of bash "$work/drift_loop.sh")
    loop_t+=("$t"); loop_m+=("$(cat "$work/looppeak")")
    echo "   run $r: fleet ${fleet_t[-1]}s ${fleet_m[-1]}KiB · loop ${loop_t[-1]}s (largest process ${loop_m[-1]}KiB)"
done
ft=$(median "${fleet_t[@]}"); lt=$(median "${loop_t[@]}")
echo "   median: lockstep drift --env fleet ${ft}s, peak $(median "${fleet_m[@]}")KiB; loop of lockstep drift --member ${lt}s, peak $(median "${loop_m[@]}")KiB; ratio $(python3 -c "print(f'{$lt/$ft:.1f}')")x faster"

fleet_t=(); fleet_m=(); psql_t=(); psql_m=()
echo "== deploy of one new migration over $n members vs psql -1 -f per database ($runs runs each)"
for r in $(seq 1 "$runs"); do
    v=$((20260200000000 + r))
    printf 'ALTER TABLE orders ADD COLUMN note_%s text;\nCREATE TABLE audit_%s (id bigserial PRIMARY KEY, order_id bigint REFERENCES orders (id), at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX audit_%s_order ON audit_%s (order_id);\n' "l$r" "l$r" "l$r" "l$r" >"$work/migrations/${v}_step$r.up.sql"
    printf 'ALTER TABLE orders ADD COLUMN note_%s text;\nCREATE TABLE audit_%s (id bigserial PRIMARY KEY, order_id bigint REFERENCES orders (id), at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX audit_%s_order ON audit_%s (order_id);\n' "p$r" "p$r" "p$r" "p$r" >"$work/psql_step$r.sql"
    (cd "$work" && "$bin" hash >/dev/null)
    # --allow-drift: the drift made above is not what this measures.
    read -r t m < <(cd "$work" && time_of "$bin" deploy --env fleet --allow-drift)
    fleet_t+=("$t"); fleet_m+=("$m")
    cat >"$work/psql_loop.sh" <<EOF
peak=0
while read -r name url; do
    /usr/bin/time -f "%M" -o "$work/t2" psql -q -X -v ON_ERROR_STOP=1 -1 -f "$work/psql_step$r.sql" "\$url" >/dev/null || exit 1
    k=\$(tail -1 "$work/t2"); [ "\$k" -gt "\$peak" ] && peak=\$k
done <"$work/members.txt"
echo "\$peak" >"$work/looppeak"
EOF
    read -r t _ < <(time_of bash "$work/psql_loop.sh")
    psql_t+=("$t"); psql_m+=("$(cat "$work/looppeak")")
    echo "   run $r: lockstep ${fleet_t[-1]}s ${fleet_m[-1]}KiB · psql loop ${psql_t[-1]}s (largest process ${psql_m[-1]}KiB)"
done
ft=$(median "${fleet_t[@]}"); pt=$(median "${psql_t[@]}")
echo "   median: lockstep deploy --env fleet ${ft}s, peak $(median "${fleet_m[@]}")KiB; loop of psql -1 -f ${pt}s, peak $(median "${psql_m[@]}")KiB; ratio $(python3 -c "print(f'{$pt/$ft:.1f}')")x (psql loop time / lockstep time)"
applied=$(psql -X -At "$(sed -n 's/^m001 //p' "$work/members.txt")" -c "SELECT count(*) FROM lockstep.history WHERE outcome = 'applied'")
echo "   m001 history: $applied applied migrations (1 + $runs expected)"
