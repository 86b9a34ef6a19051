#!/usr/bin/env bash
# Times `lockstep check --env prod` against `lockstep rehearse --env prod` on Lemmy's
# 233 diesel migrations deployed to PostgreSQL, alternating, in one run. check runs
# integrity, drift, rehearsal, lint and impact; the goal is check <= 1.2x rehearse (the
# session opens the target once and replays once). Also counts, from `-v`, how often
# check opened the target, replayed and read the live schema.
#
#   bench/check_vs_rehearse.sh [--runs N]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres).
# Corpus: $LOCKSTEP_CORPUS/lemmy-0.19.21/migrations. The database
# lockstep_bench_check is dropped first and at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=3
corpus="${LOCKSTEP_CORPUS:-/tmp/corpus}"
src="$corpus/lemmy-0.19.21/migrations"
parse_options "runs" "" "$@"

cd "$root"
admin="$pg_admin"
need psql python3 cargo
release_bin
lemmy_project lockstep_bench_check prod
psql -q -X "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
(cd "$work" && "$bin" -q deploy --env prod >/dev/null)

t() { # seconds of wall time for one command, run in the project
    local s e
    s=$(date +%s.%N)
    (cd "$work" && "$@" >/dev/null 2>&1) || true
    e=$(date +%s.%N)
    python3 -c "print(f'{$e - $s:.3f}')"
}

(cd "$work" && "$bin" check --env prod >/dev/null 2>&1) || true # warm
checks=(); rehearses=()
for i in $(seq 1 "$runs"); do
    if [ $((i % 2)) -eq 1 ]; then
        c=$(t "$bin" check --env prod); r=$(t "$bin" rehearse --env prod)
    else
        r=$(t "$bin" rehearse --env prod); c=$(t "$bin" check --env prod)
    fi
    echo "run $i: check ${c}s   rehearse ${r}s"
    checks+=("$c"); rehearses+=("$r")
done
mc=$(median "${checks[@]}"); mr=$(median "${rehearses[@]}")
echo "median: check ${mc}s, rehearse ${mr}s, ratio $(ratio "$mc" "$mr")x"
log=$(cd "$work" && "$bin" -v check --env prod 2>&1 >/dev/null || true)
echo "check -v: target opened $(grep -c 'prod: opened a connection' <<<"$log"), replays $(grep -c 'prod: replaying' <<<"$log"), live schema read $(grep -c 'prod: read the live schema' <<<"$log")"
