#!/usr/bin/env bash
# A fleet of 100 tenants, each a schema of one PostgreSQL database (schema-per-tenant,
# members written `postgres://…/db?schema=tenant_NNN`), side by side in one run:
#   1. `lockstep drift --env tenants` against a shell loop of one
#      `lockstep drift --env tenants --member M` per tenant;
#   2. `lockstep status --env tenants` against a loop of `lockstep status --member M`.
# The fleet reads the tenants of a database one after another on the connection the
# previous tenant finished with; each command of a loop starts a server process of its
# own. Wall time and peak RSS of each run (for a loop, its largest process), the medians
# of --runs (default 3) and the ratio. See bench/README.md.
#
#   bench/fleet_tenants.sh [--runs N] [--members N]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres); the
# database lsbench_tenants is made there and dropped at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=3
members=100
parse_options "runs members" "" "$@"
n="$members"

cd "$root"
need psql cargo
release_bin

work="$(mktemp -d)"
db=lsbench_tenants
url="$(pg_url "$db")"
trap 'rm -rf "$work"; psql -q -X "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
PGOPTIONS="-c client_min_messages=warning" psql -q -X "$pg_admin" \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null

echo "== $n tenants, schemas of the database $db"
for k in $(seq 1 "$n"); do
    i="$(printf %03d "$k")"
    # The URL's own query, if any, comes first.
    case "$url" in
        *\?*) echo "t$i $url&schema=tenant_$i" ;;
        *) echo "t$i $url?schema=tenant_$i" ;;
    esac
done >"$work/members.txt"

mkdir -p "$work/migrations"
# The schema of bench/fleet_pg.sh, without schema-qualified names.
sed -n '/^cat >"$work\/migrations\/20260101000000_init.up.sql" <<.EOF.$/,/^EOF$/p' \
    "$root/bench/fleet_pg.sh" | sed '1d;$d' >"$work/migrations/20260101000000_init.up.sql"
[ -s "$work/migrations/20260101000000_init.up.sql" ] || { echo "no schema found in bench/fleet_pg.sh" >&2; exit 1; }
printf 'migrations = "migrations"\n[env.tenants]\nmembers = "members.txt"\nconcurrency = 8\n' >"$work/lockstep.toml"
(cd "$work" && "$bin" deploy --env tenants >/dev/null 2>"$work/err") || { cat "$work/err"; exit 1; }
# The same extra index in four tenants, for drift to group.
for i in 003 017 042 077; do
    [ "$((10#$i))" -le "$n" ] && psql -q -X "$url" -c "CREATE INDEX bi_total ON tenant_$i.orders (total)" >/dev/null
done

cd "$work"
echo "== drift over $n tenants: one lockstep drift --env tenants vs a loop of lockstep drift --member"
fleet_versus_loop tenants drift members.txt
drift_fleet=("${fleet_cmd[@]}")
drift_loop=("${loop_cmd[@]}")
echo "== status of $n tenants: one lockstep status --env tenants vs a loop of lockstep status --member"
fleet_versus_loop tenants status members.txt
sessions() { psql -X -At "$pg_admin" -c "SELECT sessions FROM pg_stat_database WHERE datname = '$db'"; }
s0="$(sessions)"; "${drift_fleet[@]}" >/dev/null 2>&1; s1="$(sessions)"; "${drift_loop[@]}" >/dev/null 2>&1; s2="$(sessions)"
echo "== server sessions started on $db (pg_stat_database.sessions): one fleet drift $((s1 - s0)), the loop $((s2 - s1))"
