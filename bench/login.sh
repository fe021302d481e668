#!/usr/bin/env bash
# Login throughput against the bare password hash, on one core.
#
# The shared harness's POST /login c32 column counts every answer, and with
# 32 clients on one core most of jwtgate's are the 503s of its bounded
# hashing queue. This script measures what the issue asks instead: how many
# logins per second succeed when the hashing queue is kept busy but not
# overflowing, against how many argon2id hashes per second the same core
# computes with nothing else running (`jwtgate bench`, pinned to that core).
# Then 256 concurrent clients: what is shed, and the server's peak RSS.
#
# Usage: bench/login.sh [DURATION]      (default 10 seconds)
# Environment: SERVER_CPU (default 1), CLIENT_CPU (default 0), PORT (18110).
# Needs: wrk, taskset. Loopback only; stops the server it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
PORT=${PORT:-18110}
WORK=$(mktemp -d)
SPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

BIN=$WORK/jwtgate
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN" ./cmd/jwtgate

cat > "$WORK/login.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"name":"admin","password":"1234"}'
wrk.headers["Content-Type"] = "application/json"
EOF

# 1. The bare hash on the server's core, nothing else running.
hashes=$(taskset -c "$SERVER_CPU" "$BIN" bench --duration "${DURATION}s" |
	sed -n 's/^argon2id hash.*; \([0-9.]*\)\/s on .*/\1/p')

# 2. The server on that core, in its default configuration (log at INFO,
# audit events included, to a file); wrk on the other.
( cd "$WORK" && exec taskset -c "$SERVER_CPU" "$BIN" serve --demo --addr "127.0.0.1:$PORT" \
	--db "sqlite:$WORK/bench.db" ) > "$WORK/server.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do
	curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null 2>&1 && break
	sleep 0.1
done

# run_wrk CONNS SECONDS: prints "requests non2xx p50_ms p99_ms"
run_wrk() {
	taskset -c "$CLIENT_CPU" wrk -t1 -c"$1" -d"$2s" --latency -s "$WORK/login.lua" \
		"http://127.0.0.1:$PORT/login" > "$WORK/wrk.out"
	awk '
		function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
		/requests in/ { req = $1 }
		/Non-2xx/ { bad = $NF }
		/^ +50%/ { p50 = ms($2) }
		/^ +99%/ { p99 = ms($2) }
		END { printf "%d %d %.1f %.1f\n", req, bad, p50, p99 }' "$WORK/wrk.out"
}

# Four clients: the hashing queue (GOMAXPROCS running + 4 waiting per core)
# always has work and never overflows.
run_wrk 4 2 > /dev/null # warm-up
read -r req bad p50 p99 < <(run_wrk 4 "$DURATION")
logins=$(awk -v r="$req" -v b="$bad" -v d="$DURATION" 'BEGIN { printf "%.1f", (r - b) / d }')
ratio=$(awk -v l="$logins" -v h="$hashes" 'BEGIN { printf "%.2f", l / h }')

read -r req256 bad256 p50_256 p99_256 < <(run_wrk 256 5)
hwm=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$SPID/status")

echo "| measure | value |"
echo "|---|---:|"
echo "| argon2id hashes/s, bare, on the server's core (jwtgate bench) | $hashes |"
echo "| successful logins/s, 4 clients | $logins |"
echo "| logins ÷ bare hashes | ${ratio}× |"
echo "| login p50 / p99, 4 clients (ms) | $p50 / $p99 |"
echo "| 256 clients for 5 s: answers, of which shed (503/429) | $req256, $bad256 |"
echo "| 256 clients: p99 (ms) | $p99_256 |"
echo "| server peak RSS, VmHWM (MiB) | $hwm |"
[ "$bad" -eq 0 ] || echo "WARNING: $bad of the 4-client logins were not 2xx"
