#!/usr/bin/env bash
# No silent blind spot, measured on PostgreSQL's own regression-suite SQL: each file runs
# into a fresh database (errors on purpose included), lockstep plans the script that
# creates that schema from an empty database (`lockstep diff EMPTY SOURCE --format sql`),
# the script runs on the empty one, and `pg_dump --schema-only` of both must print the
# same lines (sorted, comments and blank lines aside). Prints one line per file and a
# summary of the failures grouped by cause.
#
#   bench/regress_roundtrip.sh [--bin PATH] [--only GLOB] [--out DIR]
#
# --bin: the lockstep binary (default: target/debug/lockstep, built if missing).
# --out: where each file's plan, dumps and difference are kept (default: a temp dir).
# Files that would touch the server beyond their database (ALTER SYSTEM, tablespaces,
# other databases, shell commands, server files, reconnects) are skipped and counted.
# Roles named regress* that a file creates are dropped after it.
# Server: $LOCKSTEP_TEST_PG; corpus: $LOCKSTEP_CORPUS (default /tmp/corpus).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bin=""
only="*.sql"
out=""
parse_options "bin only out" "" "$@"

need psql pg_dump
dir="${LOCKSTEP_CORPUS:-/tmp/corpus}/pglast/libpg_query/test/sql/postgres_regress"
[ -d "$dir" ] || { echo "no regression SQL at $dir (run ../shared/corpus/get.sh)" >&2; exit 2; }
if [ -z "$bin" ]; then
    bin="$root/target/debug/lockstep"
    [ -x "$bin" ] || (cd "$root" && cargo build --quiet)
fi
[ -n "$out" ] || out="$(mktemp -d)"
mkdir -p "$out"

src_db="ls_regress_src_$$"
dst_db="ls_regress_dst_$$"
src="$(pg_url "$src_db")"
dst="$(pg_url "$dst_db")"
drop_dbs() {
    local d
    for d in "$src_db" "$dst_db"; do
        # A subscription keeps its database; without a slot it drops without connecting.
        psql -q -X -d "$(pg_url "$d")" >/dev/null 2>&1 <<'SQL' || true
SELECT format('ALTER SUBSCRIPTION %I DISABLE; ALTER SUBSCRIPTION %I SET (slot_name = NONE); DROP SUBSCRIPTION %I', s.subname, s.subname, s.subname)
FROM pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \gexec
SQL
        psql -q -X "$pg_admin" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
}
regress_roles() {
    psql -X -At "$pg_admin" -c "SELECT rolname FROM pg_roles WHERE rolname LIKE 'regress%' ORDER BY 1"
}
trap drop_dbs EXIT

# The lines of a schema-only dump that two identical schemas share.
dump() {
    pg_dump --schema-only --no-comments -d "$1" 2>&1 |
        grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict' | LC_ALL=C sort
}

unsafe='ALTER SYSTEM|^\\!|DATABASE|TABLESPACE|^\\c|\\connect|pg_terminate_backend|pg_reload_conf|lo_import|lo_export|pg_file_write|COPY .* TO .?/|pg_read_file|pg_ls_dir'
pass=0 fail=0 skipped=0
: >"$out/causes"
for f in "$dir"/$only; do
    name="$(basename "$f" .sql)"
    if grep -qE "$unsafe" "$f"; then
        echo "skip  $name (touches the server beyond its database)"
        skipped=$((skipped + 1))
        continue
    fi
    drop_dbs
    psql -q -X "$pg_admin" -c "CREATE DATABASE \"$src_db\"" -c "CREATE DATABASE \"$dst_db\"" >/dev/null
    before="$(regress_roles)"
    # As the regression suite runs them: errors are part of the test, so they go on.
    (cd "$dir" && PGOPTIONS='-c statement_timeout=60s' timeout 120 psql -X -q -v ON_ERROR_STOP=0 -d "$src" -f "$f" >/dev/null 2>&1) || true
    cause=""
    if ! "$bin" diff "$dst" "$src" --format sql -q >"$out/$name.plan.sql" 2>"$out/$name.plan.err"; then
        [ -s "$out/$name.plan.err" ] && cause="lockstep diff failed: $(head -c 200 "$out/$name.plan.err" | tr '\n' ' ')"
    fi
    if [ -z "$cause" ]; then
        if ! psql -X -q -v ON_ERROR_STOP=1 -d "$dst" -f "$out/$name.plan.sql" >/dev/null 2>"$out/$name.apply.err"; then
            cause="create script failed: $(grep -m1 ERROR "$out/$name.apply.err" | sed 's/^.*ERROR: *//')"
        fi
    fi
    if [ -z "$cause" ]; then
        dump "$src" >"$out/$name.src.dump"
        dump "$dst" >"$out/$name.dst.dump"
        if ! diff "$out/$name.src.dump" "$out/$name.dst.dump" >"$out/$name.diff"; then
            cause="pg_dump differs: $(grep -m1 '^[<>]' "$out/$name.diff" | cut -c1-160)"
        fi
    fi
    # Roles this file made are server-wide: drop them (what they own went with the database).
    for r in $(comm -13 <(echo "$before") <(regress_roles)); do
        drop_dbs
        psql -q -X "$pg_admin" -c "DROP ROLE IF EXISTS \"$r\"" >/dev/null 2>&1 || true
    done
    if [ -z "$cause" ]; then
        echo "pass  $name"
        pass=$((pass + 1))
    else
        echo "FAIL  $name: $cause"
        printf '%s\t%s\n' "$name" "$cause" >>"$out/causes"
        fail=$((fail + 1))
    fi
done

echo
echo "== $pass pass, $fail fail, $skipped skipped of $((pass + fail + skipped)) files (details in $out)"
echo "== failures by cause (the error or first differing dump line, names and numbers masked):"
cut -f2 "$out/causes" |
    sed -E 's/"[^"]*"/"…"/g; s/[0-9]+/N/g; s/(pg_dump differs: [<>] [A-Z]+( [A-Z]+)*).*/\1/; s/(create script failed: [^:]{0,60}).*/\1/' |
    sort | uniq -c | sort -rn
