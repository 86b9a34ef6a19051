#!/usr/bin/env bash
# Drift on the 10,000-table schema of gen_10k.py: the expected schema from a snapshot,
# and from a replay, next to `lockstep inspect` on its own and `pg_dump --schema-only`.
#
#   bench/drift_10k.sh [--runs N] [--tables N]
#
# Builds a lockstep project whose one migration is the generated schema (declared
# no-transaction: one transaction would exceed max_locks_per_transaction), deploys it
# to a fresh database, writes the snapshot, then times each command N times.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$root"
RUNS=3
TABLES=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --tables) TABLES="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--tables N]" >&2; exit 2 ;;
  esac
done
ADMIN="$pg_admin"
DB=lockstep_bench_drift
URL="$(pg_url "$DB")"
cargo build --release -q
BIN="$PWD/target/release/lockstep"
WORK=$(mktemp -d)
cleanup() { psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
mkdir -p "$WORK/migrations"
{ echo "-- lockstep:no-transaction"; python3 bench/gen_10k.py --tables "$TABLES"; } > "$WORK/migrations/1_schema.up.sql"
printf 'migrations = "migrations"\n[env.bench]\nurl = "%s"\n' "$URL" > "$WORK/lockstep.toml"
cd "$WORK"
t0=$(date +%s.%N); "$BIN" deploy --env bench >/dev/null; t1=$(date +%s.%N)
echo "deploy of $TABLES tables: $(python3 -c "print(round($t1-$t0,1))") s"
t0=$(date +%s.%N); "$BIN" snapshot --env bench >/dev/null; t1=$(date +%s.%N)
echo "snapshot (one replay): $(python3 -c "print(round($t1-$t0,1))") s"

time_it() { # label, command...
  local label="$1"; shift
  local times=()
  for _ in $(seq 1 "$RUNS"); do
    local s e
    s=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || true
    e=$(date +%s.%N)
    times+=("$(python3 -c "print($e-$s)")")
  done
  python3 - "$label" "${times[@]}" <<'PY'
import statistics, sys
label, xs = sys.argv[1], [float(x) for x in sys.argv[2:]]
print(f"{label:<28} runs {' '.join(f'{x:.2f}' for x in xs)}  median {statistics.median(xs):.2f} s")
PY
}
time_it "inspect" "$BIN" inspect "$URL" --format json
time_it "pg_dump --schema-only" pg_dump --schema-only "$URL"
time_it "drift --expected snapshot" "$BIN" drift --env bench --expected snapshot
time_it "drift --expected replay" "$BIN" drift --env bench --expected replay
"$BIN" drift --env bench --expected snapshot
