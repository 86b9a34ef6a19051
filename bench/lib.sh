# What the bench scripts share; each sources it right after `set -euo pipefail`:
#
#   . "$(dirname "$0")/lib.sh"
#
# It sets `root` (the workspace) and `pg_admin`, and defines the helpers below.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The script's header comment (every comment line after the shebang), then exit 0.
usage() {
    awk 'NR == 1 { next } /^#/ { print; next } { exit }' "$0"
    exit 0
}

unknown_argument() {
    echo "unknown argument: $1" >&2
    exit 2
}

# Reads the command line: `--name VALUE` for each name in $1 and `--name` for each in
# $2 (both space-separated) set the variable of that name (dashes as underscores) to
# VALUE or to 1; -h/--help prints the header; anything else is an error.
parse_options() {
    local values=" $1 " flags=" $2 " name
    shift 2
    while [ $# -gt 0 ]; do
        case "$1" in
            -h|--help) usage ;;
        esac
        name="${1#--}"
        name="${name//-/_}"
        if [[ "$1" == --* && "$values" == *" $name "* ]]; then
            [ $# -ge 2 ] || { echo "$1 needs a value" >&2; exit 2; }
            printf -v "$name" '%s' "$2"
            shift 2
        elif [[ "$1" == --* && "$flags" == *" $name "* ]]; then
            printf -v "$name" 1
            shift
        else
            unknown_argument "$1"
        fi
    done
}

# Exits 2 naming the first of the commands that is not on PATH.
need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
    done
}

# The PostgreSQL server the benchmarks use, as an admin URL.
pg_admin="${LOCKSTEP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"

# The admin URL with its database replaced by $1, any ?query kept.
pg_url() {
    local base="${pg_admin%%\?*}" query=""
    [ "$base" != "$pg_admin" ] && query="?${pg_admin#*\?}"
    echo "${base%/*}/$1${query}"
}

# A project around a copy of the diesel migrations in $src (deploy writes lockstep.sum
# into the migrations directory, and the corpus stays untouched) with one environment,
# $2, on the benchmark database $1. Sets db, url and work; on exit the project and the
# database are removed.
lemmy_project() {
    db="$1"
    url="$(pg_url "$db")"
    [ -d "$src" ] || { echo "no migrations at $src (run ../shared/corpus/get.sh)" >&2; exit 2; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"; psql -q -X "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    cp -r "$src" "$work/migrations"
    printf 'migrations = "migrations"\nlayout = "diesel"\ncode = []\n[env.%s]\nurl = "%s"\n' "$2" "$url" >"$work/lockstep.toml"
}

# Sets `bin` to the release build of lockstep, building it first unless $1 is 0.
release_bin() {
    if [ "${1:-1}" != 0 ]; then
        echo "== building lockstep (release)"
        (cd "$root" && cargo build --release --quiet)
    fi
    bin="$(cd "$root" && cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/lockstep"
    [ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }
}

# The median of the numbers given.
median() {
    printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# $1 / $2 to two decimals.
ratio() {
    python3 -c "print(f'{$1 / $2:.2f}')"
}

# Wall time (s) and peak RSS (KiB) of one command, stdout and stderr discarded; a
# failing command is reported and fails the caller.
measure() {
    if /usr/bin/time -f "%e %M" true >/dev/null 2>&1; then
        local out
        out="$(mktemp)"
        /usr/bin/time -f "%e %M" -o "$out" "$@" >/dev/null 2>/dev/null || { rm -f "$out"; echo "FAILED: $*" >&2; return 1; }
        tail -1 "$out"
        rm -f "$out"
    else
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
    fi
}

# Runs two commands side by side $1 times, alternating which goes first so that neither
# always meets a warmer cache, and prints each run's wall time and peak RSS, then their
# medians. $2 and $3 label the commands; $4 and $5 name arrays that hold them. The
# medians are left in a_s, b_s (seconds) and a_kib, b_kib.
versus() {
    local runs="$1" la="$2" lb="$3" i a b at am bt bm
    local -n cmd_a="$4" cmd_b="$5"
    local ats=() ams=() bts=() bms=()
    local row="%-6s %14s %14s %14s %14s\n"
    # shellcheck disable=SC2059
    printf "$row" run "$la s" "$lb s" "$la KiB" "$lb KiB"
    for i in $(seq 1 "$runs"); do
        if [ $((i % 2)) = 1 ]; then
            a=$(measure "${cmd_a[@]}"); b=$(measure "${cmd_b[@]}")
        else
            b=$(measure "${cmd_b[@]}"); a=$(measure "${cmd_a[@]}")
        fi
        read -r at am <<<"$a"
        read -r bt bm <<<"$b"
        ats+=("$at"); ams+=("$am"); bts+=("$bt"); bms+=("$bm")
        # shellcheck disable=SC2059
        printf "$row" "$i" "$at" "$bt" "$am" "$bm"
    done
    a_s=$(median "${ats[@]}"); b_s=$(median "${bts[@]}")
    a_kib=$(median "${ams[@]}"); b_kib=$(median "${bms[@]}")
    # shellcheck disable=SC2059
    printf "$row" median "$a_s" "$b_s" "$a_kib" "$b_kib"
}

# Times one `lockstep $2 --env $1` against a shell loop of `lockstep $2 --env $1 --member M`
# over the member names in the file $3 (`NAME URL` lines), side by side $runs times in
# the current directory, with `bin` the binary; prints "the fleet is Nx faster", then
# $4. `measure` fails a command that exits non-zero, and drift exits 1 on drift, so
# each side runs in a shell that ends with `true`. One untimed run of the fleet command
# comes first, so that neither side's first run pays for the replay that fills the
# project's cache. Leaves the two commands in `fleet_cmd` and `loop_cmd`.
fleet_versus_loop() {
    local env="$1" cmd="$2" list="$3" note="${4:-}"
    fleet_cmd=(bash -c "\"$bin\" $cmd --env $env >/dev/null; true")
    loop_cmd=(bash -c "for m in \$(cut -d' ' -f1 $list); do \"$bin\" $cmd --env $env --member \"\$m\" >/dev/null; done; true")
    "${fleet_cmd[@]}" >/dev/null 2>&1
    versus "$runs" fleet loop fleet_cmd loop_cmd
    echo "   the fleet is $(ratio "$b_s" "$a_s")x faster$note"
}
