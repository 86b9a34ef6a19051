#!/usr/bin/env bash
# Times `lockstep deploy` of Lemmy's 233 diesel migrations against psql applying the
# same up.sql files one by one, each in a single transaction (`psql -1 -f`), on a fresh
# database per run. See bench/README.md.
#
#   bench/deploy_vs_psql.sh [--runs N] [--migrations DIR]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres).
# Corpus: $LOCKSTEP_CORPUS/lemmy-0.19.21/migrations (default /tmp/corpus/...).
# The database lockstep_bench_lemmy is dropped first and at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=5
corpus="${LOCKSTEP_CORPUS:-/tmp/corpus}"
src="$corpus/lemmy-0.19.21/migrations"
migrations=""
parse_options "runs migrations" "" "$@"
src="${migrations:-$src}"

cd "$root"
admin="$pg_admin"
need psql python3 cargo
release_bin
lemmy_project lockstep_bench_lemmy bench
mapfile -t dirs < <(find "$work/migrations" -mindepth 1 -maxdepth 1 -type d -exec test -e '{}/up.sql' ';' -print | sort)
echo "== ${#dirs[@]} migrations from $src"

fresh() {
    PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 "$admin" \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
}
now() { python3 -c 'import time; print(time.monotonic())'; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

run_lockstep() {
    fresh
    local t0 t1
    t0=$(now)
    (cd "$work" && "$bin" deploy --env bench >/dev/null 2>"$work/lockstep.err") \
        || { echo "lockstep deploy FAILED:" >&2; cat "$work/lockstep.err" >&2; exit 1; }
    t1=$(now)
    elapsed "$t0" "$t1"
}
run_psql() {
    fresh
    local t0 t1 d
    t0=$(now)
    for d in "${dirs[@]}"; do
        psql -q -X -v ON_ERROR_STOP=1 -1 -f "$d/up.sql" "$url" >/dev/null 2>"$work/psql.err" \
            || { echo "psql FAILED on $d/up.sql:" >&2; cat "$work/psql.err" >&2; exit 1; }
    done
    t1=$(now)
    elapsed "$t0" "$t1"
}

# For context only: one psql session running every file in one transaction (no process
# start or connection per file): what the server work alone costs.
run_psql_one() {
    fresh
    local t0 t1 args=() d
    for d in "${dirs[@]}"; do args+=(-f "$d/up.sql"); done
    t0=$(now)
    psql -q -X -v ON_ERROR_STOP=1 -1 "${args[@]}" "$url" >/dev/null 2>"$work/psql.err" \
        || { echo "psql (one session) FAILED:" >&2; cat "$work/psql.err" >&2; exit 1; }
    t1=$(now)
    elapsed "$t0" "$t1"
}

echo "== warm-up (one run each, not counted; the first deploy writes lockstep.sum)"
run_lockstep >/dev/null
run_psql >/dev/null
# Same schema both ways (lockstep's own objects are left out of the comparison).
PGOPTIONS="-c client_min_messages=warning" psql -q -X "$admin" -c "DROP DATABASE IF EXISTS ${db}_ls WITH (FORCE)" -c "CREATE DATABASE ${db}_ls" >/dev/null
url_ls="$(pg_url "${db}_ls")"
sed -i "s#^url = .*#url = \"$url_ls\"#" "$work/lockstep.toml"
(cd "$work" && "$bin" deploy --env bench >/dev/null 2>&1)
if "$bin" diff "$url_ls" "$url" >/dev/null 2>&1; then
    echo "   schemas identical (lockstep diff exit 0)"
else
    echo "   WARNING: lockstep's and psql's schemas differ (lockstep diff exit $?)"
fi
psql -q -X "$admin" -c "DROP DATABASE IF EXISTS ${db}_ls WITH (FORCE)" >/dev/null
sed -i "s#^url = .*#url = \"$url\"#" "$work/lockstep.toml"

ls_times=(); ps_times=(); one_times=()
printf "%-6s %12s %12s %22s\n" run "lockstep s" "psql -1 s" "(psql one session s)"
for i in $(seq 1 "$runs"); do
    # Alternate which tool goes first.
    if [ $((i % 2)) = 1 ]; then
        l=$(run_lockstep); p=$(run_psql)
    else
        p=$(run_psql); l=$(run_lockstep)
    fi
    o=$(run_psql_one)
    ls_times+=("$l"); ps_times+=("$p"); one_times+=("$o")
    printf "%-6s %12s %12s %22s\n" "$i" "$l" "$p" "($o)"
done

lt=$(median "${ls_times[@]}"); pt=$(median "${ps_times[@]}")
ratio=$(ratio "$lt" "$pt")
ot=$(median "${one_times[@]}")
printf "%-6s %12s %12s %22s\n" median "$lt" "$pt" "($ot)"
echo "lockstep/psql wall-time ratio: ${ratio}x (goal: <= 1.1x)"
echo "for context, lockstep/(psql one session, no history, no checks): $(ratio "$lt" "$ot")x"
