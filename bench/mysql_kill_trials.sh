#!/usr/bin/env bash
# SIGKILL trials of a MySQL deploy (issue 12): the Roundcube MySQL history from the
# corpus is deployed to a fresh MariaDB database and the lockstep process is killed at a
# seeded random moment within the deploy's span; after each kill, `status` must name the
# statement in doubt (or none), the GET_LOCK lock must be free, and the next deploy
# (with --resolve where it asks) must end identical, by `lockstep diff`, to the same
# files run by the `mariadb` client. CI runs 10 trials (tests/it/mysql_deploy.rs); this
# runs TRIALS (default 50) and prints the counts.
#
#   bash bench/mysql_kill_trials.sh [TRIALS]
#
# Needs MariaDB (LOCKSTEP_TEST_MYSQL, default mysql://root@127.0.0.1:3306/test), the
# `mariadb` client and the corpus (LOCKSTEP_CORPUS, default /tmp/corpus).
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-50}"
export LOCKSTEP_REQUIRE_SERVICES=1
start=$(date +%s)
LOCKSTEP_MYSQL_KILL_TRIALS="$trials" cargo test -q --test it -- \
  mysql_deploy::killed_deploys_leave_one_named_statement_and_resume_to_the_reference \
  --exact --nocapture 2>&1 | tee /tmp/mysql_kill_trials.$$.log | grep -E '^(trial|MYSQL KILL TRIALS|test result)'
echo "wall time: $(( $(date +%s) - start )) s; full log: /tmp/mysql_kill_trials.$$.log"
