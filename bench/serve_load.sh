#!/usr/bin/env bash
# Loads `lockstep serve` with many concurrent viewers and counts the database work it
# does meanwhile. See bench/README.md.
#
#   bench/serve_load.sh [--envs N] [--requests N] [--concurrency N] [--keep]
#
# A project of N (20) PostgreSQL databases is deployed, one left behind and one drifted;
# `lockstep serve` (release) answers R (1,000) requests from C (50) concurrent clients on
# loopback. Printed: latency median and p99, and the transactions the 20 databases ran
# during the load (pg_stat_database), next to what one background read costs and what
# one `lockstep status` per viewer would cost instead.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

envs=20
requests=1000
concurrency=50
keep=0
parse_options "envs requests concurrency" "keep" "$@"

cd "$root"
admin="$pg_admin"
prefix=lockstep_bench_serve_

need psql python3 cargo

release_bin

work="$(mktemp -d)"
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    if [ "$keep" = 0 ]; then
        for i in $(seq -w 1 "$envs"); do
            psql -q "$admin" -c "DROP DATABASE IF EXISTS ${prefix}$i WITH (FORCE)" >/dev/null 2>&1 || true
        done
        rm -rf "$work"
    else
        echo "kept the project in $work and the databases ${prefix}*"
    fi
}
trap cleanup EXIT

echo "== a project of $envs PostgreSQL databases in $work"
mkdir -p "$work/migrations"
cat > "$work/migrations/20260101090000_customers_and_orders.up.sql" <<'SQL'
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), total_cents integer NOT NULL CHECK (total_cents >= 0), placed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer ON orders (customer_id);
SQL
cat > "$work/migrations/20260115090000_point_of_sale.up.sql" <<'SQL'
CREATE TABLE stores (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text NOT NULL UNIQUE, city text NOT NULL);
CREATE TABLE terminals (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, store_id bigint NOT NULL REFERENCES stores(id), serial text NOT NULL UNIQUE);
ALTER TABLE orders ADD COLUMN terminal_id bigint REFERENCES terminals(id);
SQL
cat > "$work/migrations/20260201090000_order_items.up.sql" <<'SQL'
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE, sku text NOT NULL, quantity integer NOT NULL CHECK (quantity > 0), price_cents integer NOT NULL, PRIMARY KEY (order_id, sku));
SQL
echo 'migrations = "migrations"' > "$work/lockstep.toml"
dbs=""
for i in $(seq -w 1 "$envs"); do
    db="${prefix}$i"
    PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$admin" \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
    printf '[env.store%s]\nurl = "%s"\n' "$i" "$(pg_url "$db")" >> "$work/lockstep.toml"
    dbs="$dbs'$db',"
done
dbs="${dbs%,}"
behind=$(printf '%02d' $(( envs > 7 ? 7 : 1 )))
drifted=$(printf '%02d' $(( envs > 13 ? 13 : envs )))
for i in $(seq -w 1 "$envs"); do
    if [ "$i" = "$behind" ]; then
        (cd "$work" && "$bin" -q deploy --env "store$i" --to 20260115090000 >/dev/null)
    else
        (cd "$work" && "$bin" -q deploy --env "store$i" >/dev/null)
    fi
done
psql -q "$(pg_url "${prefix}${drifted}")" -c "ALTER TABLE orders ADD COLUMN bi_segment text" >/dev/null
echo "   store$behind is one migration behind; store$drifted has a column added by hand"

# Transactions (commits and rollbacks) the benchmark databases have run. Backends report
# their counts when they end, and lockstep closes every connection it opens, so a pause
# of a few seconds lets the numbers settle.
xacts() {
    sleep 3
    psql -At "$admin" -c "SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database WHERE datname IN ($dbs)"
}

x0=$(xacts)
echo "== lockstep serve (refresh 1h: one background read during the run)"
(cd "$work" && exec "$bin" serve --listen 127.0.0.1:0 --refresh 1h > "$work/serve.out" 2> "$work/serve.err") &
server_pid=$!
for _ in $(seq 1 100); do grep -q http "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
addr="$(grep -o 'http://[^/]*' "$work/serve.out" | sed 's#http://##')"
[ -n "$addr" ] || { cat "$work/serve.err" >&2; exit 2; }
read_start=$(date +%s.%N)
python3 - "$addr" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
while True:
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = s.recv(64)
    s.close()
    if b" 200 " in head:
        break
    time.sleep(0.05)
PY
read_s=$(python3 -c "import time; print(f'{time.time() - $read_start:.1f}')")
x1=$(xacts)
echo "   first read done in ${read_s} s: $((x1 - x0)) transactions on the $envs databases"

echo "== $requests requests from $concurrency concurrent clients"
python3 - "$addr" "$requests" "$concurrency" "$envs" > "$work/load.txt" <<'PY'
import asyncio, math, statistics, sys, time
addr, total, conc, envs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
host, port = addr.rsplit(":", 1)
paths = ["/", "/api/status", "/api/parity"] + [f"/api/drift?env=store{i:02d}" for i in range(1, envs + 1)]
lat, bad, sizes = [], 0, 0
todo = iter(range(total))

async def one(path):
    global bad, sizes
    t = time.perf_counter()
    r, w = await asyncio.open_connection(host, int(port))
    w.write(f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n".encode())
    await w.drain()
    data = await r.read()
    w.close()
    lat.append((time.perf_counter() - t) * 1000)
    sizes += len(data)
    if not data.startswith(b"HTTP/1.1 200"):
        bad += 1

async def worker():
    for n in todo:
        await one(paths[n % len(paths)])

async def main():
    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conc)))
    return time.perf_counter() - t

wall = asyncio.run(main())
lat.sort()
p99 = lat[math.ceil(0.99 * len(lat)) - 1]
print(f"requests {len(lat)} non_200 {bad} wall_s {wall:.2f} rps {len(lat) / wall:.0f} "
      f"median_ms {statistics.median(lat):.2f} p99_ms {p99:.2f} max_ms {lat[-1]:.2f} "
      f"mean_body_kb {sizes / len(lat) / 1024:.1f}")
PY
x2=$(xacts)
cat "$work/load.txt"
load_x=$((x2 - x1))
echo "   transactions on the $envs databases during the load: $load_x"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

echo "== without serve: each viewer runs lockstep status --format json (5 runs)"
times=""
x3=$(xacts)
for _ in 1 2 3 4 5; do
    t=$(date +%s.%N)
    (cd "$work" && "$bin" -q status --format json > /dev/null)
    times="$times $(python3 -c "import time; print(f'{(time.time() - $t) * 1000:.0f}')")"
done
x4=$(xacts)
# shellcheck disable=SC2086
cli_median=$(median $times)
echo "   wall ms:$times (median $cli_median); transactions per run: $(( (x4 - x3) / 5 ))"

median=$(sed -E 's/.*median_ms ([0-9.]+).*/\1/' "$work/load.txt")
p99=$(sed -E 's/.*p99_ms ([0-9.]+).*/\1/' "$work/load.txt")
echo
echo "== summary ($envs environments, $requests requests, $concurrency concurrent)"
printf '%-44s %s\n' "serve latency median / p99 (ms)" "$median / $p99"
printf '%-44s %s\n' "transactions during the load" "$load_x"
printf '%-44s %s\n' "transactions per background read" "$((x1 - x0))"
printf '%-44s %s\n' "lockstep status per viewer, median (ms)" "$cli_median"
printf '%-44s %s\n' "  ratio status CLI / serve median" "$(python3 -c "print(f'{$cli_median / $median:.0f}x')")"
printf '%-44s %s\n' "  transactions for $requests looks that way" "$(( (x4 - x3) / 5 * requests ))"
