#!/usr/bin/env bash
# Issue 16's figures at 10,000 tables (bench/gen_10k.py), lockstep and its peer side by
# side in one run, median of N (default 3) unless a run takes over a minute:
#
#   replay   cold replay of the schema (`lockstep snapshot`, no cache) vs psql applying
#            the file to a fresh database with synchronous_commit=off
#   drift    a second `lockstep drift --expected replay` of the same environment vs a
#            bare `lockstep inspect`
#   deploy   `lockstep deploy` of DEPLOY_TABLES tables as one no-transaction migration
#            vs psql applying the same file statement by statement (autocommit, no -1)
#   inspect  `lockstep inspect --format json` vs the catalog floor (the inspector's own
#            queries through psql, output to /dev/null) vs `pg_dump --schema-only`, with
#            peak memory; then the same again with the other core busy (a shell loop)
#
#   bench/scale_10k.sh [--runs N] [--tables N] [--deploy-tables N] [--no-build]
#                      [--only replay,drift,deploy,inspect] [--reuse-env]
#
# --reuse-env keeps lockstep_bench_scale_env at the end and, when it exists already,
# does not load it again (loading 10,000 tables takes minutes): for several --only runs.
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres). The
# databases psql and deploy write to are named after this run's pid
# (lockstep_bench_scale_psql_PID, ..._deploy_PID), so two runs on one server do not drop
# each other's; they and lockstep_bench_scale_env (unless --reuse-env) are dropped at
# the end.
set -euo pipefail

runs=3
tables=10000
deploy_tables=2000
build=1
only="replay,drift,deploy,inspect"
reuse_env=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --tables) tables="$2"; shift ;;
        --deploy-tables) deploy_tables="$2"; shift ;;
        --no-build) build=0 ;;
        --only) only="$2"; shift ;;
        --reuse-env) reuse_env=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
want() { [[ ",$only," == *",$1,"* ]]; }

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
admin="${LOCKSTEP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
base="${admin%%\?*}"
query=""
[ "$base" != "$admin" ] && query="?${admin#*\?}"
url_of() { echo "${base%/*}/$1${query}"; }

for tool in psql pg_dump python3 cargo /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

if [ "$build" = 1 ]; then
    echo "== building lockstep (release)"
    cargo build --release --quiet --bin lockstep && cargo build --release --quiet -p lockstep-db --example pg_catalog_floor
fi
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
# LOCKSTEP_BIN: another build to time (an older commit's, for before/after figures).
bin="${LOCKSTEP_BIN:-$target/release/lockstep}"
floor_gen="$target/release/examples/pg_catalog_floor"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }

work="$(mktemp -d)"
busy_pid=""
psql_db="lockstep_bench_scale_psql_$$"
deploy_db="lockstep_bench_scale_deploy_$$"
dbs=("$psql_db" "$deploy_db")
[ "$reuse_env" = 1 ] || dbs+=(lockstep_bench_scale_env)
dropdb_() { psql -q -X "$admin" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true; }
cleanup() {
    [ -n "$busy_pid" ] && kill "$busy_pid" 2>/dev/null || true
    for d in "${dbs[@]}"; do dropdb_ "$d"; done
    rm -rf "$work"
}
trap cleanup EXIT
fresh() {
    PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 "$admin" \
        -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

# Wall seconds and peak RSS (KiB) of one command, stdout discarded; fails loudly.
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" \
        || { echo "FAILED: $*" >&2; cat "$work/err" >&2; tail -1 "$work/time" >&2; return 1; }
    tail -1 "$work/time"
}
median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
# Runs `runs` times, or once when the first run of either side took over a minute.
n_runs() { python3 -c "print(1 if max($1, $2) > 60 else $runs)"; }

# lockstep returns once the server runs the DROP DATABASE of its scratch database, not
# once the files are gone (see crates/db/src/scratch.rs): the next timed command must
# not pay for that, so `settle` waits, untimed, until every scratch database that was
# not there at the last `scratch_before` is gone (other people's may come and go).
scratch_dbs() { psql -X -At "$admin" -c "SELECT datname FROM pg_database WHERE datname LIKE 'lockstep\_scratch\_%' ORDER BY 1"; }
scratch_before() { scratch_dbs >"$work/scratch.before"; }
settle() {
    local i
    for i in $(seq 1 3600); do
        [ -z "$(scratch_dbs | comm -23 - "$work/scratch.before")" ] && return
        sleep 0.5
    done
    echo "scratch databases still on the server after 30 min" >&2
}

# Runs the functions $1 and $2 (labelled $3 and $4), each printing what `measure`
# prints, side by side, alternating which goes first, `runs` times (once when the first
# run of either took over a minute); prints every run and the medians, and leaves the
# median wall times in a_med and b_med.
alternate() {
    local a b i=1 at=() bt=()
    printf "%-6s %14s %14s\n" run "$3 s" "$4 s"
    while :; do
        if [ $((i % 2)) = 1 ]; then a=$("$1"); b=$("$2"); else b=$("$2"); a=$("$1"); fi
        at+=("${a% *}"); bt+=("${b% *}")
        printf "%-6s %14s %14s\n" "$i" "${a% *}" "${b% *}"
        [ "$i" -ge "$(n_runs "${at[0]}" "${bt[0]}")" ] && break
        i=$((i + 1))
    done
    a_med=$(median "${at[@]}"); b_med=$(median "${bt[@]}")
    printf "%-6s %14s %14s\n" median "$a_med" "$b_med"
}

echo "== generating $tables tables (and $deploy_tables for deploy)"
python3 bench/gen_10k.py --tables "$tables" >"$work/schema.sql"
python3 bench/gen_10k.py --tables "$deploy_tables" >"$work/deploy.sql"

# A project whose one migration is the schema, run without a transaction (one would
# exceed max_locks_per_transaction).
project() { # dir, schema file, env url
    mkdir -p "$1/migrations"
    { echo "-- lockstep:no-transaction"; cat "$2"; } >"$1/migrations/1_schema.up.sql"
    printf 'migrations = "migrations"\n[env.bench]\nurl = "%s"\n' "$3" >"$1/lockstep.toml"
}
env_url="$(url_of lockstep_bench_scale_env)"
project "$work/p10k" "$work/schema.sql" "$env_url"
# The replay needs only a server to create its scratch database on, not the loaded
# environment: `snapshot` never reads or writes the environment itself.
project "$work/preplay" "$work/schema.sql" "$admin"
load_env() {
    if [ "$reuse_env" = 1 ] && [ "$(psql -X -At "$admin" -c "SELECT count(*) FROM pg_database WHERE datname = 'lockstep_bench_scale_env'")" = 1 ]; then
        echo "== reusing lockstep_bench_scale_env"
        return
    fi
    echo "== loading $tables tables into lockstep_bench_scale_env (psql, not timed)"
    fresh lockstep_bench_scale_env
    PGOPTIONS="-c synchronous_commit=off" psql -q -X -v ON_ERROR_STOP=1 -f "$work/schema.sql" "$env_url" >/dev/null
    # What autovacuum would have done by the time anyone inspects a schema this size
    # (this machine's server runs with it off): catalogs with statistics and visibility
    # maps. Unanalyzed, every side's catalog statements take about three times as long.
    psql -q -X -c "VACUUM ANALYZE" "$env_url" >/dev/null
}

if want drift; then
    load_env
    if [ "$(psql -X -At "$env_url" -c "SELECT to_regclass('lockstep.history') IS NULL")" = t ]; then
        echo "== baselining it"
        (cd "$work/p10k" && "$bin" baseline --env bench --to 1 --no-verify >/dev/null)
    fi
fi

if want replay; then
    echo
    echo "== cold replay of $tables tables: lockstep snapshot (no cache) vs psql -f with synchronous_commit=off"
    psql_url="$(url_of "$psql_db")"
    replay_lockstep() {
        rm -rf "$work/preplay/.lockstep/cache" "$work/preplay/snapshots"
        scratch_before
        (cd "$work/preplay" && measure "$bin" snapshot --to 1)
        settle
    }
    # psql's database is dropped after its run, untimed, as lockstep's scratch database
    # is (`settle`): otherwise its dirty buffers and the fsyncs of its files, tens of
    # thousands at 10,000 tables, fall to the next checkpoint, inside the next timed
    # command, which after psql's run is lockstep's.
    replay_psql() {
        local rc=0
        fresh "$psql_db"
        PGOPTIONS="-c synchronous_commit=off -c client_min_messages=warning" \
            measure psql -q -X -v ON_ERROR_STOP=1 -f "$work/schema.sql" "$psql_url" || rc=$?
        dropdb_ "$psql_db"
        return "$rc"
    }
    alternate replay_lockstep replay_psql lockstep psql
    dropdb_ "$psql_db"
    l="$a_med"; p="$b_med"
    echo "RESULT replay: lockstep/psql(synchronous_commit=off) = $(ratio "$l" "$p")x (goal <= 1.0x)"
fi

if want drift; then
    echo
    echo "== second drift check (expected by replay) vs a bare inspect, $tables tables"
    rm -rf "$work/p10k/.lockstep/cache"
    scratch_before
    first=$(cd "$work/p10k" && measure "$bin" drift --env bench --expected replay) \
        || { echo "the first drift check did not come out clean" >&2; exit 1; }
    echo "first drift check (replays, fills the cache): ${first% *} s"
    settle
    drift_second() { (cd "$work/p10k" && measure "$bin" drift --env bench --expected replay); }
    inspect_bare() { measure "$bin" inspect "$env_url" --format json; }
    alternate drift_second inspect_bare drift inspect
    d="$a_med"; n="$b_med"
    echo "RESULT drift: second drift/inspect = $(ratio "$d" "$n")x (goal <= 1.5x)"
fi

if want deploy; then
    echo
    echo "== deploy of $deploy_tables tables as one no-transaction migration vs psql -f (autocommit)"
    dep_url="$(url_of "$deploy_db")"
    project "$work/p2k" "$work/deploy.sql" "$dep_url"
    deploy_lockstep() {
        fresh "$deploy_db"
        (cd "$work/p2k" && measure "$bin" deploy --env bench)
    }
    deploy_psql() {
        fresh "$deploy_db"
        PGOPTIONS="-c client_min_messages=warning" \
            measure psql -q -X -v ON_ERROR_STOP=1 -f "$work/deploy.sql" "$dep_url"
    }
    alternate deploy_lockstep deploy_psql lockstep psql
    dropdb_ "$deploy_db"
    l="$a_med"; p="$b_med"
    echo "RESULT deploy: lockstep/psql(autocommit) = $(ratio "$l" "$p")x (goal <= 1.2x)"
fi

if want inspect; then
    if ! want replay && ! want drift; then
        load_env
    fi
    "$floor_gen" >"$work/floor.sql"
    inspect_round() { # label
        measure "$bin" inspect "$env_url" --format json >/dev/null
        measure psql -X -q -f "$work/floor.sql" "$env_url" >/dev/null
        measure pg_dump --schema-only "$env_url" >/dev/null
        local lt=() lm=() ft=() fm=() dt=() dm=() l f d
        printf "%-6s %12s %12s %12s %12s %12s %12s\n" run "lockstep s" "floor s" "pg_dump s" "lockstep KiB" "floor KiB" "pg_dump KiB"
        for i in $(seq 1 "$runs"); do
            if [ $((i % 2)) = 1 ]; then
                l=$(measure "$bin" inspect "$env_url" --format json)
                f=$(measure psql -X -q -f "$work/floor.sql" "$env_url")
                d=$(measure pg_dump --schema-only "$env_url")
            else
                d=$(measure pg_dump --schema-only "$env_url")
                f=$(measure psql -X -q -f "$work/floor.sql" "$env_url")
                l=$(measure "$bin" inspect "$env_url" --format json)
            fi
            lt+=("${l% *}"); lm+=("${l#* }"); ft+=("${f% *}"); fm+=("${f#* }"); dt+=("${d% *}"); dm+=("${d#* }")
            printf "%-6s %12s %12s %12s %12s %12s %12s\n" "$i" "${l% *}" "${f% *}" "${d% *}" "${l#* }" "${f#* }" "${d#* }"
        done
        l=$(median "${lt[@]}"); f=$(median "${ft[@]}"); d=$(median "${dt[@]}")
        printf "%-6s %12s %12s %12s %12s %12s %12s\n" median "$l" "$f" "$d" "$(median "${lm[@]}")" "$(median "${fm[@]}")" "$(median "${dm[@]}")"
        echo "RESULT inspect ($1): lockstep/floor = $(ratio "$l" "$f")x (goal <= 1.5x), lockstep/pg_dump = $(ratio "$l" "$d")x (goal <= 0.3x), lockstep peak RSS $(( $(median "${lm[@]}") / 1024 )) MiB"
    }
    echo
    echo "== inspect of $tables tables, quiet"
    inspect_round quiet
    echo
    echo "== inspect of $tables tables, the other core busy (a shell busy loop)"
    bash -c 'while :; do :; done' &
    busy_pid=$!
    inspect_round busy
    kill "$busy_pid"; busy_pid=""
fi
