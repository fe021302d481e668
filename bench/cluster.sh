#!/usr/bin/env bash
# Verified GET /user throughput: one jwtgate instance, then two behind nginx,
# both on one PostgreSQL schema (loopback only; every process stopped by PID).
# Each instance runs in the default configuration (log at INFO to a file, no
# access log, no metrics) plus what the cluster needs (--trusted-proxies).
# Usage: bench/cluster.sh [DURATION_SECONDS]   (default 5)
# Needs: wrk, nginx, psql and a PostgreSQL at $JGTEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-5}
PG=${JGTEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
WORK=$(mktemp -d)
SCHEMA=jg_bench_$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$PG" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
psql -q "$PG" -c "CREATE SCHEMA $SCHEMA" >/dev/null
DB="${PG}&search_path=$SCHEMA"
[[ $PG == *\?* ]] || DB="${PG}?search_path=$SCHEMA"
CGO_ENABLED=0 go build -o "$WORK/jwtgate" ./cmd/jwtgate

start() { # port
  "$WORK/jwtgate" serve --demo --addr "127.0.0.1:$1" --db "$DB" --issuer http://jwtgate.bench \
    --trusted-proxies 127.0.0.1 2>>"$WORK/jwtgate.log" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.05; done
  echo "instance on $1 did not start" >&2; exit 1
}
start 18201
start 18202
TOKEN=$(curl -sf http://127.0.0.1:18201/login -d '{"name":"admin","password":"1234"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')

cat > "$WORK/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/b; proxy_temp_path $WORK/p; fastcgi_temp_path $WORK/f; uwsgi_temp_path $WORK/u; scgi_temp_path $WORK/s;
  upstream jwtgate { server 127.0.0.1:18201; server 127.0.0.1:18202; keepalive 64; }
  server { listen 127.0.0.1:18200; location / { proxy_pass http://jwtgate; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
nginx -p "$WORK" -c "$WORK/nginx.conf" &
PIDS+=($!)
sleep 0.5

run() { # label url
  out=$(wrk -t2 -c32 -d"${DUR}s" -H "Authorization: Bearer $TOKEN" "$2" 2>&1)
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '/Latency/ {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  printf '| %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "${non2xx:-0}"
}
echo "| setup | GET /user req/s | avg latency | non-2xx |"
echo "|---|---:|---:|---:|"
run "one instance, direct" http://127.0.0.1:18201/user
run "two instances behind nginx" http://127.0.0.1:18200/user
run "nginx forward auth path (/auth/verify), two instances" http://127.0.0.1:18200/auth/verify
