#!/usr/bin/env bash
# Times `lockstep inspect --format json` against `pg_dump --schema-only` on a schema of
# 10,000 tables (bench/gen_10k.py). See bench/README.md.
#
#   bench/inspect_vs_pg_dump.sh [--keep] [--runs N] [--tables N]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres); the
# benchmark database lockstep_bench_10k is dropped first and, unless --keep, at the end.
set -euo pipefail

keep=0
runs=5
tables=10000
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --runs) runs="$2"; shift ;;
        --tables) tables="$2"; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
admin="${LOCKSTEP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
db=lockstep_bench_10k
# Replace the database part of the admin URL (keep any ?query).
base="${admin%%\?*}"
query=""
[ "$base" != "$admin" ] && query="?${admin#*\?}"
url="${base%/*}/${db}${query}"

for tool in psql pg_dump python3 cargo; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

echo "== building lockstep (release)"
cargo build --release --quiet
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/lockstep"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }

cleanup() {
    [ -n "${tfile:-}" ] && rm -f "$tfile"
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

# Wall time (s) and peak RSS (KiB) of one command, stdout discarded.
if /usr/bin/time -f "%e %M" true >/dev/null 2>&1; then
    tfile="$(mktemp)"
    measure() {
        /usr/bin/time -f "%e %M" -o "$tfile" "$@" >/dev/null 2>/dev/null || { echo "FAILED: $*" >&2; return 1; }
        tail -1 "$tfile"
    }
else
    measure() {
        python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
e = time.monotonic() - t
if r.returncode != 0:
    sys.stderr.write("FAILED: %s\n" % " ".join(sys.argv[1:]))
    sys.exit(1)
print("%.2f %d" % (e, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
    }
fi

echo "== warm-up (one run each, not counted)"
measure "$bin" inspect "$url" --format json >/dev/null
measure pg_dump --schema-only "$url" >/dev/null

ls_times=(); ls_mem=(); pd_times=(); pd_mem=()
printf "%-5s %12s %12s %14s %14s\n" run "lockstep s" "pg_dump s" "lockstep KiB" "pg_dump KiB"
for i in $(seq 1 "$runs"); do
    # Alternate which tool goes first, so neither always meets a warmer cache.
    if [ $((i % 2)) = 1 ]; then
        l=$(measure "$bin" inspect "$url" --format json)
        p=$(measure pg_dump --schema-only "$url")
    else
        p=$(measure pg_dump --schema-only "$url")
        l=$(measure "$bin" inspect "$url" --format json)
    fi
    read -r lt lm <<<"$l"
    read -r pt pm <<<"$p"
    ls_times+=("$lt"); ls_mem+=("$lm"); pd_times+=("$pt"); pd_mem+=("$pm")
    printf "%-5s %12s %12s %14s %14s\n" "$i" "$lt" "$pt" "$lm" "$pm"
done

median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
lt=$(median "${ls_times[@]}"); pt=$(median "${pd_times[@]}")
lm=$(median "${ls_mem[@]}"); pm=$(median "${pd_mem[@]}")
ratio=$(python3 -c "print(f'{$lt / $pt:.2f}')")
printf "%-5s %12s %12s %14s %14s\n" median "$lt" "$pt" "$lm" "$pm"
echo "lockstep/pg_dump wall-time ratio: ${ratio}x (goal: <= 0.5x)"
echo "peak RSS medians: lockstep $((lm / 1024)) MiB, pg_dump $((pm / 1024)) MiB"
if [ "$keep" = 1 ]; then
    echo "kept database: $url"
fi
