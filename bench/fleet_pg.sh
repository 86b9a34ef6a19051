#!/usr/bin/env bash
# A fleet of 100 PostgreSQL databases on two servers (the main one and a second one this
# script starts with initdb and pg_ctl), side by side in one run:
#   1. `lockstep drift --env fleet` against a shell loop of one
#      `lockstep drift --env fleet --member M` per member (goal: >= 10x faster), and
#      the same loop against `lockstep status --env fleet`, which opens every member
#      and inspects none: the most any drift that opens each member could gain; and
#      that `status` against a loop of `lockstep status --member`: what a fleet gains
#      over a loop of the same least work per member;
#   2. `lockstep deploy --env fleet` of one new migration against a loop of
#      `psql -1 -f` of the same statements per database.
# Wall time and peak RSS of each run (for a loop, its largest process), the medians of
# --runs (default 3) and the ratio. See bench/README.md.
#
#   bench/fleet_pg.sh [--runs N] [--members N]
#
# Main server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres);
# one member in four is there, dropped at the end. Second server: initdb and pg_ctl
# from $LOCKSTEP_PG_BIN (default /usr/lib/postgresql/15/bin), run as the postgres OS
# user when this runs as root; stopped and removed at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=3
members=100
parse_options "runs members" "" "$@"
n="$members"
pgbin="${LOCKSTEP_PG_BIN:-/usr/lib/postgresql/15/bin}"

cd "$root"
need psql python3 cargo "$pgbin/initdb" "$pgbin/pg_ctl"
release_bin

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
        psql -q -X "$pg_admin" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 &
    done
    wait
}
trap cleanup EXIT

echo "== second server on port $port"
"${as_pg[@]}" "$pgbin/initdb" -D "$second/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$second/data" -l "$second/log" -w \
    -o "-p $port -k $second -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60" start >/dev/null

echo "== $n databases: one in four on the main server, the rest on the second"
for k in $(seq 1 "$n"); do
    i="$(printf %03d "$k")"
    d="lsbench_fleet_$i"
    if [ $((k % 4)) = 1 ]; then
        u="$(pg_url "$d")"; a="$pg_admin"; main_dbs+=("$d")
    else
        u="postgres://postgres@127.0.0.1:$port/$d"; a="postgres://postgres@127.0.0.1:$port/postgres"
    fi
    PGOPTIONS="-c client_min_messages=warning" psql -q -X "$a" \
        -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d" >/dev/null
    echo "m$i $u"
done >"$work/members.txt"

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
printf 'migrations = "migrations"\n[env.fleet]\nmembers = "members.txt"\nconcurrency = 8\n' >"$work/lockstep.toml"
(cd "$work" && "$bin" deploy --env fleet >/dev/null 2>"$work/err") || { cat "$work/err"; exit 1; }
# The same extra index on four members, for drift to group.
for i in 003 017 042 077; do
    u="$(sed -n "s/^m$i //p" "$work/members.txt")"
    [ -n "$u" ] && psql -q -X "$u" -c "CREATE INDEX bi_total ON orders (total)" >/dev/null
done

cd "$work"
echo "== drift over $n members on two servers: one lockstep drift --env fleet vs a loop of lockstep drift --member"
fleet_versus_loop fleet drift members.txt " (goal: 10x)"
drift_loop=("${loop_cmd[@]}")
# The ceiling of that ratio on this machine: `status` opens each member and reads its
# history, as drift does, but inspects nothing. A fleet drift that skipped every
# member's inspection would still pay this.
status=(bash -c "\"$bin\" status --env fleet >/dev/null")
echo "== the same loop vs one lockstep status --env fleet (each member opened and its history read, nothing inspected)"
versus "$runs" status loop status drift_loop
echo "   ceiling: the loop of drifts takes $(ratio "$b_s" "$a_s")x the time of opening every member once"
# What a fleet gains over a loop of the same command when the command does the least
# it can per member (open it, read its history): the loop's extra cost is then only a
# process per member. Drift does the same plus its inspection on both sides.
echo "== status: one lockstep status --env fleet vs a loop of lockstep status --member (the same work per member, plus a process each)"
fleet_versus_loop fleet status members.txt

# Each run deploys a new migration: the command writes it (a column, a table with a
# foreign key, an index; names numbered by run) and then applies it, so both sides pay
# for writing one small file.
step() {
    printf 'ALTER TABLE orders ADD COLUMN note_%s text;\nCREATE TABLE audit_%s (id bigserial PRIMARY KEY, order_id bigint REFERENCES orders (id), at timestamptz NOT NULL DEFAULT now());\nCREATE INDEX audit_%s_order ON audit_%s (order_id);\n' "$1" "$1" "$1" "$1"
}
export -f step
echo 0 >lockstep.count
echo 0 >psql.count
lockstep_deploy=(bash -c "k=\$((\$(cat lockstep.count) + 1)); echo \$k >lockstep.count; step l\$k >migrations/\$((20260200000000 + k))_step\$k.up.sql; \"$bin\" hash && \"$bin\" deploy --env fleet --allow-drift")
psql_loop=(bash -c "k=\$((\$(cat psql.count) + 1)); echo \$k >psql.count; step p\$k >step.sql; while read -r name url; do psql -q -X -v ON_ERROR_STOP=1 -1 -f step.sql \"\$url\" || exit 1; done <members.txt")
echo "== deploy of one new migration over $n members: lockstep deploy --env fleet vs a loop of psql -1 -f"
versus "$runs" lockstep psql lockstep_deploy psql_loop
echo "   psql's loop takes $(ratio "$b_s" "$a_s")x lockstep's time"
echo "   m001 has $(psql -X -At "$(sed -n 's/^m001 //p' members.txt)" -c "SELECT count(*) FROM lockstep.history WHERE outcome = 'applied'") applied migrations (1 + $runs expected)"
