#!/usr/bin/env bash
# Times `lockstep inspect --format json` against `mariadb-dump --no-data` on a MySQL /
# MariaDB schema of 5,000 tables (bench/gen_mysql.py). See bench/README.md.
#
#   bench/inspect_vs_mariadb_dump.sh [--keep] [--runs N] [--tables N]
#
# Server: $LOCKSTEP_TEST_MYSQL (default mysql://root@127.0.0.1:3306/test); the benchmark
# database lockstep_bench_5k is dropped first and, unless --keep, at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

keep=0
runs=3
tables=5000
parse_options "runs tables" "keep" "$@"

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

release_bin

cleanup() {
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

dump=("$dumper" "${conn[@]}" --no-data "$db")
lockstep=("$bin" inspect "$url" --format json)
peer=("${dump[@]}")
echo "== warm-up (one run each, not counted)"
measure "${lockstep[@]}" >/dev/null
measure "${peer[@]}" >/dev/null
versus "$runs" lockstep mariadb-dump lockstep peer
echo "lockstep/mariadb-dump wall-time ratio: $(ratio "$a_s" "$b_s")x (goal: <= 0.5x)"
echo "peak RSS medians: lockstep $((${a_kib%.*} / 1024)) MiB, mariadb-dump $((${b_kib%.*} / 1024)) MiB"
if [ "$keep" = 1 ]; then
    echo "kept database: $url"
fi
