#!/usr/bin/env bash
# Lint figures on real migrations (issue 11): findings per rule and severity when
# `lockstep lint` reads Lemmy's 233 migrations and Synapse's SQL deltas from the corpus
# (../shared/corpus/get.sh; nothing of it is committed).
#
#   bench/lint_figures.sh [--bin PATH] [--corpus DIR] [--json DIR]
#
# --bin     the lockstep binary to measure (default: target/debug/lockstep; build it
#           first). Run it once with main's build and once with a branch's to compare.
# --corpus  default $LOCKSTEP_CORPUS, else /tmp/corpus.
# --json    also keep each set's JSON findings in DIR (for judging samples by hand).
#
# Two ways, each a table:
# - "in sequence": Lemmy as a project outside git, so every migration is linted, in
#   version order, with its down script known; Synapse's deltas as named files in order.
#   A table created by an earlier migration of the set counts as new and empty, so most
#   of Lemmy's later ALTERs are not reported (lint of a whole history);
# - "each alone": every migration linted by itself, as CI lints the one new migration
#   of a change: every table it touches exists.
# Synapse's deltas 73 to 94 (`*.sql` and
# `*.sql.postgres` of common/, main/ and state/, sorted by file name within a version, as
# Synapse runs them; `$%AUTO_INCREMENT_PRIMARY_KEY%$` replaced as its PostgreSQL engine
# does) are named files, linted in that order: they run on databases that already hold
# the v72 schema, so their tables count as existing ones.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bin="$root/target/debug/lockstep"
corpus="${LOCKSTEP_CORPUS:-/tmp/corpus}"
json=""
parse_options "bin corpus json" "" "$@"

lemmy="$corpus/lemmy-0.19.21/migrations"
synapse="$corpus/synapse/synapse/storage/schema"
for d in "$lemmy" "$synapse"; do
    [ -d "$d" ] || { echo "missing $d: run ../shared/corpus/get.sh" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/lemmy"
printf 'migrations = "%s"\n' "$lemmy" >"$work/lemmy/lockstep.toml"
(cd "$work/lemmy" && "$bin" lint --format json >"$work/lemmy.json" || true)
for d in "$lemmy"/*/; do
    (cd "$work/lemmy" && "$bin" lint --format json "$d/up.sql" || true)
done | jq -s '{findings: (map(.findings) | add)}' >"$work/lemmy-alone.json"

mkdir -p "$work/synapse"
files=()
for v in $(seq 73 94); do
    while read -r name rel; do
        out="$work/synapse/$v-$name"
        sed 's/\$%AUTO_INCREMENT_PRIMARY_KEY%\$/BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY/g' \
            "$synapse/$rel" >"$out"
        files+=("$v-$name")
    done < <(for s in common main state; do
        for f in "$synapse/$s/delta/$v"/*; do
            [ -f "$f" ] || continue
            n="$(basename "$f")"
            case "$n" in *.sql | *.sql.postgres) echo "$n $s/delta/$v/$n" ;; esac
        done
    done | sort)
done
(cd "$work/synapse" && "$bin" lint --format json "${files[@]}" >"$work/synapse.json" || true)
for f in "${files[@]}"; do
    (cd "$work/synapse" && "$bin" lint --format json "$f" || true)
done | jq -s '{findings: (map(.findings) | add)}' >"$work/synapse-alone.json"

if [ -n "$json" ]; then
    mkdir -p "$json"
    cp "$work"/*.json "$json/"
fi

table() {

echo "| rule | Lemmy error | Lemmy warning | Lemmy info | Synapse error | Synapse warning | Synapse info |"
echo "|---|---|---|---|---|---|---|"
jq -rn --slurpfile l "$1" --slurpfile s "$2" '
  def counts(f): f[0].findings | group_by(.rule)
    | map({key: .[0].rule, value: (group_by(.severity) | map({key: .[0].severity, value: length}) | from_entries)})
    | from_entries;
  (counts($l)) as $lc | (counts($s)) as $sc
  | ([$lc, $sc] | map(keys) | add | unique) as $rules
  | ($rules[] as $r
      | "| \($r) | \($lc[$r].error // 0) | \($lc[$r].warning // 0) | \($lc[$r].info // 0) | \($sc[$r].error // 0) | \($sc[$r].warning // 0) | \($sc[$r].info // 0) |"),
    "| **total** | \([$lc[]?.error // 0] | add // 0) | \([$lc[]?.warning // 0] | add // 0) | \([$lc[]?.info // 0] | add // 0) | \([$sc[]?.error // 0] | add // 0) | \([$sc[]?.warning // 0] | add // 0) | \([$sc[]?.info // 0] | add // 0) |"
'
}

echo "Lemmy: $(ls -d "$lemmy"/*/ | wc -l) migrations; Synapse: ${#files[@]} SQL deltas"
echo
echo "In sequence:"
echo
table "$work/lemmy.json" "$work/synapse.json"
echo
echo "Each alone:"
echo
table "$work/lemmy-alone.json" "$work/synapse-alone.json"
