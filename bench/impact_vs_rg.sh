#!/usr/bin/env bash
# Times `lockstep impact` against `rg -w -i` with the same identifiers on a large real
# code tree, side by side, alternating, N runs each. See bench/README.md.
#
#   bench/impact_vs_rg.sh [--runs N] [--no-build] [DIR ...]
#
# Default tree: ~/.cargo/registry/src, $CORPUS (/tmp/corpus), /usr/include and
# /usr/lib/python3.11 (whichever exist). The temp project's one pending migration drops two
# columns and renames a third; lockstep's regex holds the three column names (a column
# target's table only ranks lines that name the column), and rg gets the same three.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

runs=5
build=1
dirs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --no-build) build=0 ;;
        -h|--help) usage ;;
        *) dirs+=("$(cd "$1" && pwd)") ;;
    esac
    shift
done
if [ ${#dirs[@]} -eq 0 ]; then
    for d in "$HOME/.cargo/registry/src" "${CORPUS:-/tmp/corpus}" /usr/include /usr/lib/python3.11; do
        [ -d "$d" ] && dirs+=("$d")
    done
fi

need rg cargo python3
release_bin "$build"
lockstep="$bin"

echo "== tree: ${dirs[*]}"
du -shc "${dirs[@]}" | tail -1 | sed 's/^/   size on disk: /'
echo "   files: $(rg --files "${dirs[@]}" | wc -l) (rg --files: honouring .gitignore, no hidden)"
echo "   bytes in those files (text and binary): $(rg --files -0 "${dirs[@]}" | xargs -0 cat | wc -c | awk '{printf "%.0f MB", $1/1e6}')"

proj="$(mktemp -d)"
trap 'rm -rf "$proj"' EXIT
mkdir -p "$proj/migrations"
{
    printf 'migrations = "migrations"\ncode = ['
    sep=""
    for d in "${dirs[@]}"; do printf '%s"%s"' "$sep" "$d"; sep=", "; done
    printf ']\n'
} >"$proj/lockstep.toml"
cat >"$proj/migrations/20260401090000_cleanup.up.sql" <<'SQL'
ALTER TABLE users DROP COLUMN password_hash;
ALTER TABLE media DROP COLUMN safe_from_quarantine;
ALTER TABLE destinations RENAME COLUMN retry_last_ts TO retry_last_attempt_ts;
SQL
echo "-- no way back" >"$proj/migrations/20260401090000_cleanup.down.sql"

ids=(password_hash safe_from_quarantine retry_last_ts)
rg_args=(-w -i)
for i in "${ids[@]}"; do rg_args+=(-e "$i"); done

now() { date +%s.%N; }
run_lockstep() { (cd "$proj" && "$lockstep" impact --format json >"$proj/out.json"); }
run_rg() { rg "${rg_args[@]}" "${dirs[@]}" >"$proj/rg.txt" || true; }

# Warm the page cache once for each.
run_lockstep
run_rg
echo "   lockstep references: $(python3 -c 'import json,sys; print(sum(len(c["references"]) for c in json.load(open(sys.argv[1]))["changes"]))' "$proj/out.json"), rg lines: $(wc -l <"$proj/rg.txt")"

ls_times=()
rg_times=()
for r in $(seq "$runs"); do
    t0=$(now); run_lockstep; t1=$(now)
    run_rg; t2=$(now)
    a=$(python3 -c "print(f'{$t1-$t0:.3f}')")
    b=$(python3 -c "print(f'{$t2-$t1:.3f}')")
    ls_times+=("$a")
    rg_times+=("$b")
    echo "run $r: lockstep impact ${a}s   rg ${b}s"
done
ma=$(median "${ls_times[@]}"); mb=$(median "${rg_times[@]}")
echo "median: lockstep impact ${ma}s, rg ${mb}s, ratio $(ratio "$ma" "$mb")x"
# Peak memory, one more run each (GNU time's maximum resident set size).
if [ -x /usr/bin/time ]; then
    ls_kb=$( { (cd "$proj" && /usr/bin/time -f %M "$lockstep" impact --format json >/dev/null) ; } 2>&1 | tail -1)
    rg_kb=$( { /usr/bin/time -f %M rg "${rg_args[@]}" "${dirs[@]}" >/dev/null || true; } 2>&1 | tail -1)
    echo "peak RSS: lockstep impact $((ls_kb / 1024)) MiB, rg $((rg_kb / 1024)) MiB"
fi
