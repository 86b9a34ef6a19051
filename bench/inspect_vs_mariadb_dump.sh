#!/usr/bin/env bash
# Times `lockstep inspect --format json` against `mariadb-dump --no-data` on a MySQL /
# MariaDB schema of 5,000 tables (bench/gen_mysql.py). See bench/README.md.
#
#   bench/inspect_vs_mariadb_dump.sh [--keep] [--runs N] [--tables N]
#
# Server: $LOCKSTEP_TEST_MYSQL (default mysql://root@127.0.0.1:3306/test); the benchmark
# database lockstep_bench_5k is dropped first and, unless --keep, at the end.
set -euo pipefail

keep=0
runs=3
tables=5000
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) keep=1 ;;
        --runs) runs="$2"; shift ;;
        --tables) tables="$2"; shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
admin="${LOCKSTEP_TEST_MYSQL:-mysql://root@127.0.0.1:3306/test}"
db=lockstep_bench_5k

# mysql://[user[:password]@]host[:port]/database → client arguments; the password goes
# in MYSQL_PWD, never on a command line.
rest="${admin#*://}"
authority="${rest%%/*}"
userinfo=""
hostport="$authority"
if [[ "$authority" == *@* ]]; then
    userinfo="${authority%@*}"
    hostport="${authority##*@}"
fi
user="${userinfo%%:*}"
[ -z "$user" ] && user=root
if [[ "$userinfo" == *:* ]]; then
    export MYSQL_PWD="${userinfo#*:}"
fi
host="${hostport%%:*}"
port=3306
[[ "$hostport" == *:* ]] && port="${hostport##*:}"
scheme="${admin%%://*}"
url="${scheme}://${authority}/${db}"
conn=(--host="$host" --port="$port" --user="$user" --protocol=TCP)

client="$(command -v mariadb || command -v mysql || true)"
dumper="$(command -v mariadb-dump || command -v mysqldump || true)"
for tool in "$client" "$dumper" python3 cargo; do
    [ -n "$tool" ] && command -v "$tool" >/dev/null || { echo "missing: mariadb/mysql, mariadb-dump/mysqldump, python3 or cargo" >&2; exit 2; }
done

echo "== building lockstep (release)"
cargo build --release --quiet
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/lockstep"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }

cleanup() {
    [ -n "${tfile:-}" ] && rm -f "$tfile"
    if [ "$keep" = 0 ]; then
        "$client" "${conn[@]}" -e "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "== creating $db with $tables tables"
"$client" "${conn[@]}" -e "DROP DATABASE IF EXISTS $db; CREATE DATABASE $db"
SECONDS=0
python3 bench/gen_mysql.py --tables "$tables" | "$client" "${conn[@]}" "$db"
printf "   loaded in %d s: " "$SECONDS"
"$client" "${conn[@]}" -N -e "SELECT CONCAT(
    (SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$db' AND TABLE_TYPE = 'BASE TABLE'), ' tables, ',
    (SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$db'), ' columns, ',
    (SELECT count(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '$db'), ' indexes (with keys), ',
    (SELECT count(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '$db'), ' foreign keys, ',
    (SELECT count(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '$db'), ' views, ',
    (SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '$db'), ' triggers, ',
    (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '$db'), ' routines')"

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

dump=("$dumper" "${conn[@]}" --no-data "$db")
echo "== warm-up (one run each, not counted)"
measure "$bin" inspect "$url" --format json >/dev/null
measure "${dump[@]}" >/dev/null

ls_times=(); ls_mem=(); md_times=(); md_mem=()
printf "%-5s %12s %14s %14s %14s\n" run "lockstep s" "mariadb-dump s" "lockstep KiB" "dump KiB"
for i in $(seq 1 "$runs"); do
    # Alternate which tool goes first, so neither always meets a warmer cache.
    if [ $((i % 2)) = 1 ]; then
        l=$(measure "$bin" inspect "$url" --format json)
        d=$(measure "${dump[@]}")
    else
        d=$(measure "${dump[@]}")
        l=$(measure "$bin" inspect "$url" --format json)
    fi
    read -r lt lm <<<"$l"
    read -r dt dm <<<"$d"
    ls_times+=("$lt"); ls_mem+=("$lm"); md_times+=("$dt"); md_mem+=("$dm")
    printf "%-5s %12s %14s %14s %14s\n" "$i" "$lt" "$dt" "$lm" "$dm"
done

median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
lt=$(median "${ls_times[@]}"); dt=$(median "${md_times[@]}")
lm=$(median "${ls_mem[@]}"); dm=$(median "${md_mem[@]}")
ratio=$(python3 -c "print(f'{$lt / $dt:.2f}')")
printf "%-5s %12s %14s %14s %14s\n" median "$lt" "$dt" "$lm" "$dm"
echo "lockstep/mariadb-dump wall-time ratio: ${ratio}x (goal: <= 0.5x)"
echo "peak RSS medians: lockstep $((lm / 1024)) MiB, mariadb-dump $((dm / 1024)) MiB"
if [ "$keep" = 1 ]; then
    echo "kept database: $url"
fi
