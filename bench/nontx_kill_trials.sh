#!/usr/bin/env bash
# SIGKILL trials of issue 3 on issue 16's big no-transaction deploy: DEPLOY_TABLES
# tables of bench/gen_10k.py (default 2,000) as one `-- lockstep:no-transaction`
# migration, each statement sent with its checkpoint. Each trial deploys to a fresh
# database, kills lockstep with SIGKILL at a seeded random moment of the deploy's span,
# and then checks:
#
#   - at most one statement is in doubt (a `started` progress row), none applied twice;
#   - the statements recorded `done` are exactly the file's first j statements, in
#     order (their text is found in the file one after the other, nothing but blanks
#     and comments between them);
#   - the catalog is what those j statements make (`lockstep diff` against a database
#     where psql ran the same j statements: identical), or, with a statement in doubt,
#     what j or j + 1 make;
#   - the next `lockstep deploy` (with `--resolve` where it asks) finishes, and the
#     database is then identical to psql's run of the whole file, with one `applied`
#     history row and no progress left.
#
#   bench/nontx_kill_trials.sh [--trials N] [--tables N] [--seed N] [--no-build]
#
# Server: $LOCKSTEP_TEST_PG (default postgres://postgres@127.0.0.1:5432/postgres); the
# databases lockstep_kill_* are dropped first and at the end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

trials=5
tables=2000
seed=16
no_build=0
parse_options "trials tables seed" "no_build" "$@"

cd "$root"
need psql python3 cargo
release_bin "$((1 - no_build))"

work="$(mktemp -d)"
dbs=(lockstep_kill_trial lockstep_kill_ref lockstep_kill_part)
cleanup() {
    for d in "${dbs[@]}"; do
        psql -q -X "$pg_admin" -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

python3 bench/gen_10k.py --tables "$tables" >"$work/schema.sql"
mkdir -p "$work/p/migrations"
{ echo "-- lockstep:no-transaction"; cat "$work/schema.sql"; } >"$work/p/migrations/1_schema.up.sql"
printf 'migrations = "migrations"\n[env.bench]\nurl = "%s"\n' "$(pg_url lockstep_kill_trial)" >"$work/p/lockstep.toml"

python3 - "$bin" "$pg_admin" "$(pg_url lockstep_kill_trial)" "$(pg_url lockstep_kill_ref)" \
    "$(pg_url lockstep_kill_part)" "$work" "$trials" "$seed" <<'PY'
import os, random, re, signal, subprocess, sys, time

bin_, admin, trial_url, ref_url, part_url, work, trials, seed = sys.argv[1:]
trials, seed = int(trials), int(seed)
project = os.path.join(work, "p")
schema = open(os.path.join(work, "schema.sql")).read()
migration = open(os.path.join(project, "migrations", "1_schema.up.sql")).read()
quiet = {"PGOPTIONS": "-c client_min_messages=warning", **os.environ}

def psql(url, *args, **kw):
    return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, *args],
                          capture_output=True, text=True, env=quiet, check=True, **kw).stdout

def fresh(name):
    psql(admin, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", "-c", f"CREATE DATABASE {name}")

def lockstep(*args):
    return subprocess.run([bin_, *args], cwd=project, capture_output=True, text=True)

def wait_idle(db):
    # The killed client's server process finishes (or aborts) its statement first.
    for _ in range(600):
        n = psql(admin, "-c", f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND pid <> pg_backend_pid()")
        if n.strip() == "0":
            return
        time.sleep(0.1)
    sys.exit(f"sessions still on {db} after 60 s")

def same(a, b):
    r = subprocess.run([bin_, "diff", a, b], capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"lockstep diff failed:\n{r.stdout}{r.stderr}")
    return r.returncode == 0, r.stdout

def skipped_is_blank(text):
    text = re.sub(r"--[^\n]*", "", text)
    return text.replace(";", "").strip() == ""

print(f"== reference: psql runs the {schema.count('CREATE TABLE')} tables' file, statement by statement")
fresh("lockstep_kill_ref")
psql(ref_url, "-f", os.path.join(work, "schema.sql"))

print("== calibration: one uninterrupted deploy")
fresh("lockstep_kill_trial")
t = time.monotonic()
r = lockstep("deploy", "--env", "bench")
span = time.monotonic() - t
if r.returncode != 0:
    sys.exit(f"uninterrupted deploy failed:\n{r.stdout}{r.stderr}")
ok, out = same(trial_url, ref_url)
if not ok:
    sys.exit(f"uninterrupted deploy differs from psql's run:\n{out}")
print(f"   {span:.1f} s; kills uniform in 2%..98% of it, seed {seed}")

rng = random.Random(seed)
failures = 0
rows = []
for trial in range(1, trials + 1):
    delay = rng.uniform(0.02, 0.98) * span
    fresh("lockstep_kill_trial")
    p = subprocess.Popen([bin_, "deploy", "--env", "bench"], cwd=project,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished = p.poll() is not None
    if not finished:
        p.send_signal(signal.SIGKILL)
    p.wait()
    wait_idle("lockstep_kill_trial")
    problems = []
    prog = psql(trial_url, "-F", "\t", "-c",
                "SELECT statement_no, state FROM lockstep.progress ORDER BY statement_no") \
        if psql(trial_url, "-c", "SELECT to_regclass('lockstep.progress') IS NOT NULL").strip() == "t" else ""
    rows_p = [l.split("\t") for l in prog.splitlines() if l]
    done = [int(n) for n, s in rows_p if s == "done"]
    started = [int(n) for n, s in rows_p if s == "started"]
    j = len(done)
    applied = 0
    if psql(trial_url, "-c", "SELECT to_regclass('lockstep.history') IS NOT NULL").strip() == "t":
        applied = int(psql(trial_url, "-c", "SELECT count(*) FROM lockstep.history WHERE outcome = 'applied'"))
    if len(started) > 1:
        problems.append(f"{len(started)} statements in doubt")
    if done != list(range(1, j + 1)):
        problems.append(f"done statements are not 1..{j}")
    if applied == 0:
        # The recorded statements are the file's first j, in order.
        texts = psql(trial_url, "-c",
                     "SELECT string_agg(statement, E'\\x1e' ORDER BY statement_no) FROM lockstep.progress WHERE state = 'done'")
        texts = [t for t in texts.rstrip("\n").split("\x1e") if t] if j else []
        pos = 0
        body = migration
        for k, st in enumerate(texts):
            at = body.find(st, pos)
            if at < 0 or not skipped_is_blank(body[pos:at]):
                problems.append(f"done statement {k + 1} is not the file's statement {k + 1}")
                break
            pos = at + len(st)
        # The catalog is what those statements make (or one more, when in doubt).
        fresh("lockstep_kill_part")
        with open(os.path.join(work, "part.sql"), "w") as f:
            f.write("".join(t + ";\n" for t in texts))
        psql(part_url, "-f", os.path.join(work, "part.sql"))
        ok, out = same(trial_url, part_url)
        if not ok and started:
            # The statement in doubt, as recorded.
            st = psql(trial_url, "-c", "SELECT statement FROM lockstep.progress WHERE state = 'started'").rstrip("\n")
            psql(part_url, "-c", st)
            ok, out = same(trial_url, part_url)
        if not ok:
            problems.append(f"catalog is not the first {j} statements' result:\n{out[:2000]}")
    elif applied != 1:
        problems.append(f"{applied} applied history rows before the resume")
    # Resume.
    r = lockstep("deploy", "--env", "bench")
    how = "-"
    if r.returncode == 1 and "--resolve" in r.stdout + r.stderr and started:
        how = "retry"
        r = lockstep("deploy", "--env", "bench", "--resolve", how)
        if r.returncode == 0:
            r = lockstep("deploy", "--env", "bench")
    if r.returncode != 0:
        problems.append(f"deploy after the kill exited {r.returncode}:\n{r.stdout}{r.stderr}")
    ok, out = same(trial_url, ref_url)
    if not ok:
        problems.append(f"after the resume, differs from psql's run:\n{out[:2000]}")
    if int(psql(trial_url, "-c", "SELECT count(*) FROM lockstep.history WHERE outcome = 'applied' AND direction = 'up'")) != 1:
        problems.append("not exactly one applied history row after the resume")
    if int(psql(trial_url, "-c", "SELECT count(*) FROM lockstep.progress")) != 0:
        problems.append("progress rows left after the resume")
    st = lockstep("status", "--env", "bench")
    if st.returncode != 0:
        problems.append(f"status after the resume exited {st.returncode}")
    where = "finished before the kill" if finished or applied else f"{j} statements done, {len(started)} in doubt"
    verdict = "ok" if not problems else "FAILED"
    failures += bool(problems)
    print(f"trial {trial}: kill at {delay:.1f} s: {where}; resume {'--resolve ' + how if how != '-' else 'plain'}: {verdict}", flush=True)
    for pr in problems:
        print("   " + pr.replace("\n", "\n   "))

print(f"NONTX KILL TRIALS: {trials - failures} of {trials} passed")
sys.exit(1 if failures else 0)
PY
