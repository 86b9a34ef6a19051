#!/usr/bin/env bash
# What the DDL audit costs a deploy: Lemmy's 233 diesel migrations deployed by
# `lockstep deploy` on a fresh database, without the audit and with it installed
# (`lockstep audit install` first, not timed), alternating, median of N (default 3) in
# one run. Prints the medians, the ratio, the peak memory of each deploy and the
# audit's rows. See bench/README.md.
#
#   bench/audit_overhead.sh [--runs N] [--migrations DIR]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres), a
# superuser (event triggers need one). Corpus: $LOCKSTEP_CORPUS/lemmy-0.19.21/migrations
# (default /tmp/corpus/...). The database lockstep_bench_audit is dropped first and at
# the end.
set -euo pipefail

runs=3
corpus="${LOCKSTEP_CORPUS:-/tmp/corpus}"
src="$corpus/lemmy-0.19.21/migrations"
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --migrations) src="$2"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
admin="${LOCKSTEP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
db=lockstep_bench_audit
base="${admin%%\?*}"
query=""
[ "$base" != "$admin" ] && query="?${admin#*\?}"
url="${base%/*}/${db}${query}"

for tool in psql python3 cargo /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
[ -d "$src" ] || { echo "no migrations at $src (run ../shared/corpus/get.sh)" >&2; exit 2; }

echo "== building lockstep (release)"
cargo build --release --quiet
bin="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/lockstep"
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }

work="$(mktemp -d)"
cleanup() {
    rm -rf "$work"
    psql -q -X "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cp -r "$src" "$work/migrations"
cat >"$work/lockstep.toml" <<TOML
migrations = "migrations"
layout = "diesel"

[env.bench]
url = "$url"
TOML
n=$(find "$work/migrations" -mindepth 1 -maxdepth 1 -type d -exec test -e '{}/up.sql' ';' -print | wc -l)
echo "== $n migrations from $src"

fresh() {
    PGOPTIONS="-c client_min_messages=warning" psql -q -X -v ON_ERROR_STOP=1 "$admin" \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
}
now() { python3 -c 'import time; print(time.monotonic())'; }

# Prints "seconds peak_kib".
deploy() {
    local t0 t1 kib
    t0=$(now)
    (cd "$work" && /usr/bin/time -f %M -o "$work/mem" "$bin" deploy --env bench >/dev/null 2>"$work/err") \
        || { echo "lockstep deploy FAILED:" >&2; cat "$work/err" >&2; exit 1; }
    t1=$(now)
    kib=$(tail -1 "$work/mem")
    python3 -c "print(f'{$t1 - $t0:.3f} $kib')"
}
without() { fresh; deploy; }
with() {
    fresh
    (cd "$work" && "$bin" audit install --env bench >/dev/null 2>"$work/err") \
        || { echo "lockstep audit install FAILED:" >&2; cat "$work/err" >&2; exit 1; }
    deploy
}

echo "== warm-up (one run each, not counted; the first deploy writes lockstep.sum)"
without >/dev/null
with >/dev/null
rows=$(psql -X -At "$url" -c "SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE deploy_id IS NULL) || ' out-of-band' FROM lockstep.audit")
echo "   audit after one deploy: $rows"

no_t=(); au_t=(); no_m=(); au_m=()
printf "%-6s %14s %14s %16s %16s\n" run "no audit s" "audit s" "no audit KiB" "audit KiB"
for i in $(seq 1 "$runs"); do
    # Alternate which goes first.
    if [ $((i % 2)) = 1 ]; then
        read -r a am < <(without); read -r b bm < <(with)
    else
        read -r b bm < <(with); read -r a am < <(without)
    fi
    no_t+=("$a"); au_t+=("$b"); no_m+=("$am"); au_m+=("$bm")
    printf "%-6s %14s %14s %16s %16s\n" "$i" "$a" "$b" "$am" "$bm"
done

median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
nt=$(median "${no_t[@]}"); at=$(median "${au_t[@]}")
printf "%-6s %14s %14s %16s %16s\n" median "$nt" "$at" "$(median "${no_m[@]}")" "$(median "${au_m[@]}")"
echo "with/without audit wall-time ratio: $(python3 -c "print(f'{$at / $nt:.2f}')")x"
