#!/usr/bin/env bash
# Times `lockstep inspect --format json` against `pg_dump --schema-only` on a schema of
# 10,000 tables (bench/gen_10k.py). See bench/README.md.
#
#   bench/inspect_vs_pg_dump.sh [--keep] [--runs N] [--tables N]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres); the
# benchmark database lockstep_bench_10k is dropped first and, unless --keep, at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

keep=0
runs=5
tables=10000
parse_options "runs tables" "keep" "$@"

cd "$root"
admin="$pg_admin"
db=lockstep_bench_10k
url="$(pg_url "$db")"
need psql pg_dump python3 cargo
release_bin

cleanup() {
    if [ "$keep" = 0 ]; then
        psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "== creating $db with $tables tables"
PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
SECONDS=0
python3 bench/gen_10k.py --tables "$tables" | psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null
printf "   loaded in %d s: " "$SECONDS"
psql -At "$url" -c "SELECT (SELECT count(*) FROM pg_tables WHERE schemaname ~ '^s[0-9]') || ' tables, ' ||
    (SELECT count(*) FROM pg_indexes WHERE schemaname ~ '^s[0-9]') || ' indexes (with keys), ' ||
    (SELECT count(*) FROM pg_constraint WHERE contype = 'f') || ' foreign keys, ' ||
    (SELECT count(*) FROM pg_views WHERE schemaname ~ '^s[0-9]') || ' views, ' ||
    (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname ~ '^s[0-9]') || ' functions'"

lockstep=("$bin" inspect "$url" --format json)
peer=(pg_dump --schema-only "$url")
echo "== warm-up (one run each, not counted)"
measure "${lockstep[@]}" >/dev/null
measure "${peer[@]}" >/dev/null
versus "$runs" lockstep pg_dump lockstep peer
echo "lockstep/pg_dump wall-time ratio: $(ratio "$a_s" "$b_s")x (goal: <= 0.5x)"
echo "peak RSS medians: lockstep $((${a_kib%.*} / 1024)) MiB, pg_dump $((${b_kib%.*} / 1024)) MiB"
if [ "$keep" = 1 ]; then
    echo "kept database: $url"
fi
