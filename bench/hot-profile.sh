#!/usr/bin/env bash
# Where the real server's time goes on one hot path: starts jwtgate (or,
# with PEER=go-hello, the bare net/http ceiling) as bench/hot.sh does, in
# the default configuration, loads it with wrk and samples it with perf for
# SECONDS, then prints the top functions by own time and by time including
# callees. The binary has no pprof endpoint (the default configuration has
# none to measure), so the sampler is perf; the benchmark side of the
# profile is `go test -run '^$' -bench BenchmarkUser -cpuprofile` with
# go tool pprof.
#
# Usage: bench/hot-profile.sh [CASE [SECONDS]]   CASE: bearer (default), cookie, verify
# Environment: SERVER_CPU (1), CLIENT_CPU (0), CONNS (32), PEER (jwtgate),
#   BIN (a prebuilt jwtgate to profile instead of building this tree),
#   TOP (25 lines), JG_ARGS (extra serve flags).
# Needs: perf, wrk, taskset, curl, python3. Stops what it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
CASE=${1:-bearer}
SECS=${2:-5}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
CONNS=${CONNS:-32}
TOP=${TOP:-25}
SHARED=${SHARED:-$PWD/../shared/bench}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] && cp "$WORK/perf.data" "$KEEP"; rm -rf "$WORK"
}
trap cleanup EXIT

# Symbols kept (no -s -w), so perf can name Go functions.
if [ -n "${BIN:-}" ]; then cp "$BIN" "$WORK/jwtgate"; else CGO_ENABLED=0 go build -trimpath -o "$WORK/jwtgate" ./cmd/jwtgate; fi
(cd "$SHARED" && CGO_ENABLED=0 go build -o "$WORK/go-hello" ./peers/go-hello)

PORT=18130
JG=18131
(cd "$WORK" && exec taskset -c "$SERVER_CPU" ./jwtgate serve --demo --addr "127.0.0.1:$JG" \
	--db "sqlite:$WORK/bench.db" ${JG_ARGS:-}) > "$WORK/jwtgate.log" 2>&1 &
PIDS+=($!)
JGPID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$JG/healthz" -o /dev/null 2>&1 && break; sleep 0.1; done
TOKEN=$(curl -fs "http://127.0.0.1:$JG/login" -H 'Content-Type: application/json' -d '{"name":"admin","password":"1234"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
case $CASE in
bearer) URLPATH=/user HDR="Authorization: Bearer $TOKEN" ;;
cookie) URLPATH=/user HDR="Cookie: jwtgate_access=$TOKEN" ;;
verify) URLPATH=/auth/verify HDR="Authorization: Bearer $TOKEN" ;;
*) echo "unknown case $CASE" >&2; exit 2 ;;
esac
TARGET=$JGPID
if [ "${PEER:-jwtgate}" = go-hello ]; then
	(cd "$WORK" && exec taskset -c "$SERVER_CPU" ./go-hello -addr "127.0.0.1:$PORT") > "$WORK/hello.log" 2>&1 &
	PIDS+=($!)
	TARGET=$!
	JG=$PORT URLPATH=/user
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$JG/user" -o /dev/null 2>&1 && break; sleep 0.1; done
fi
# Warm up, then sample while wrk runs.
taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s -H "$HDR" "http://127.0.0.1:$JG$URLPATH" > /dev/null
taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$((SECS + 2))s" -H "$HDR" "http://127.0.0.1:$JG$URLPATH" > "$WORK/wrk.out" &
WRK=$!
PIDS+=($WRK)
sleep 1
perf record -q -F 2999 -g -p "$TARGET" -o "$WORK/perf.data" -- sleep "$SECS" 2> /dev/null
wait "$WRK"
grep -E "Requests/sec|Non-2xx" "$WORK/wrk.out"
# Go code only ([.]); the kernel's share (the socket writes and reads,
# the same for every server) is one line.
echo "## ${PEER:-jwtgate} $CASE: kernel share of samples"
perf report -i "$WORK/perf.data" --no-children --stdio --sort dso -g none 2> /dev/null |
	grep -E '^ +[0-9]' | head -3
echo "## ${PEER:-jwtgate} $CASE: top Go functions by own time (% of all samples)"
perf report -i "$WORK/perf.data" --no-children --stdio --sort symbol -g none --percent-limit 0.3 2> /dev/null |
	grep -E '^ +[0-9].*\[\.\]' | sed 's/ *- *- *$//' | head -"$TOP"
echo "## ${PEER:-jwtgate} $CASE: top Go functions including callees (% of all samples)"
perf report -i "$WORK/perf.data" --children --stdio --sort symbol -g none --percent-limit 1 2> /dev/null |
	grep -E '^ +[0-9].*\[\.\]' | sed 's/ *- *- *$//' | grep -vE 'goexit|gowrap|syscall|Syscall|(\(\*FD\)|netFD|net\.\(\*conn\))\.(Write|Read)' | head -"$TOP"
