#!/usr/bin/env bash
# A legitimate login during a login flood, against the same login unloaded.
#
# Issue 12 §6 and issue 17 §5 ask that a flood cannot starve anyone else's
# login: under the flood a legitimate login must complete within 2× its
# unloaded latency plus one hash time. This script measures exactly that, on
# the real binary, in one run (the machine may be shared and noisy: read the
# ratios, which compare figures taken minutes apart on the same machine):
#
#   hash   the bare argon2id hash time on the server's core (jwtgate bench)
#   idle   alice's login latency, sequential, nothing else running
#   A      the same during 256 concurrent WRONG-password logins from 256
#          client addresses (X-Forwarded-For through --trusted-proxies),
#          spread over many user names (issue 12 §6)
#   B      admin's login during 256 concurrent CORRECT logins of bob from ONE
#          client address (issue 17 §5)
#
# and prints, for A and B, the p50/p90/max of the legitimate login, its
# ratio to idle, the bound 2×idle_p50 + hash, and how the flood's answers
# split by status. The first legitimate login is shown apart: it arrives 2 s
# into the flood, while the flood's first requests, each from an address
# never seen before and so with the same claim as the legitimate one, are
# still queued ahead of it (in A, 256 of them: one round of the fair queue,
# about 256 hash times); once each flooding address has been served, a
# legitimate login goes before all of them.
#
# Usage: bench/login-flood.sh [LEGIT_LOGINS [FLOOD_SECONDS]]   (default 30, 15)
# Environment: SERVER_CPU (1), CLIENT_CPU (0), PORT (18120), REF (a git ref
# to build instead of the working tree, e.g. REF=main~3 to measure "before").
# Needs: wrk, taskset, curl. Loopback only; stops the server it started by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30}
FLOOD=${2:-15}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
PORT=${PORT:-18120}
URL=http://127.0.0.1:$PORT
WORK=$(mktemp -d)
SPID=
WPID=
cleanup() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

BIN=$WORK/jwtgate
SRC=.
if [ -n "${REF:-}" ]; then
	mkdir "$WORK/src"
	git archive "$REF" | tar -x -C "$WORK/src"
	SRC=$WORK/src
fi
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN" ./cmd/jwtgate)
DB=sqlite:$WORK/bench.db

# The bare hash on the server's core, nothing else running.
hash_ms=$(taskset -c "$SERVER_CPU" "$BIN" bench --duration 3s |
	sed -n 's/^argon2id hash.*; \([0-9.]*\)\/s on .*/\1/p' | awk '{ printf "%.1f", 1000 / $1 }')

( cd "$WORK" && exec taskset -c "$SERVER_CPU" "$BIN" serve --demo --addr "127.0.0.1:$PORT" \
	--db "$DB" --trusted-proxies 127.0.0.1 ) > "$WORK/server.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do
	curl -fs "$URL/healthz" > /dev/null 2>&1 && break
	sleep 0.1
done
# After the server made --demo's admin (only on an empty store).
for u in alice bob; do
	printf '%s-password\n' "$u" | "$BIN" user add "$u" --password-stdin --db "$DB" > /dev/null
done

# legit NAME PASSWORD NET: N sequential logins, each from its own address
# NET.i, as N people (or one person's devices) logging in once each would:
# fairness is per address, so one address logging in N times in a row is
# a heavy client and rightly waits for its turn after the first. Prints
# each "code seconds".
legit() {
	for i in $(seq "$N"); do
		taskset -c "$CLIENT_CPU" curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
			-H 'Content-Type: application/json' -H "X-Forwarded-For: $3.$i" \
			--data "{\"name\":\"$1\",\"password\":\"$2\"}" "$URL/login" || echo "000 0"
	done
}
# stats FILE: "ok p50 p90 max" of the 200s, in ms.
stats() {
	awk '$1 == 200 { print $2 * 1000 }' "$1" | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "0 - - -"; exit }
			printf "%d %.1f %.1f %.1f\n", NR, v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.999)], v[NR]
		}'
}

# Status counts of the flood, printed by wrk at the end (each thread
# counts in its own Lua state; done() gathers them).
cat > "$WORK/count.lua" <<'EOF'
local threads = {}
function setup(thread) threads[#threads + 1] = thread end
counts = {}
function response(status) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
	local total = {}
	for _, t in ipairs(threads) do
		for s, n in pairs(t:get("counts")) do total[s] = (total[s] or 0) + n end
	end
	local parts = {}
	for s, n in pairs(total) do parts[#parts + 1] = s .. "x" .. n end
	table.sort(parts)
	io.write("STATUS " .. table.concat(parts, " ") .. "\n")
end
EOF
# A: wrong passwords, 256 addresses (one per request in turn), many names.
cat "$WORK/count.lua" - > "$WORK/wrong.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local i = 0
function request()
	i = i + 1
	local a = i % 256
	wrk.headers["X-Forwarded-For"] = "10.77." .. a .. ".1"
	return wrk.format(nil, nil, nil, '{"name":"user' .. (i % 4096) .. '","password":"guess-' .. i .. '"}')
end
EOF
# B: bob's right password, one client address.
cat "$WORK/count.lua" - > "$WORK/bob.lua" <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Forwarded-For"] = "203.0.113.50"
wrk.body = '{"name":"bob","password":"bob-password"}'
EOF

legit alice alice-password 192.0.2 > /dev/null # warm-up
legit alice alice-password 198.18.0 > "$WORK/idle"
read -r idle_ok idle_p50 idle_p90 idle_max < <(stats "$WORK/idle")

# flood SCRIPT NAME PASSWORD FROM: the legitimate logins of NAME during a
# 256-client flood.
flood() {
	taskset -c "$CLIENT_CPU" wrk -t1 -c256 -d"${FLOOD}s" --timeout 10s -s "$WORK/$1" "$URL/login" > "$WORK/wrk.out" 2>&1 &
	WPID=$!
	sleep 2 # let the flood fill the queue
	legit "$2" "$3" "$4" > "$WORK/$1.legit"
	wait "$WPID" || true
	WPID=
	sed -n 's/^STATUS //p' "$WORK/wrk.out" > "$WORK/$1.status"
}
flood wrong.lua alice alice-password 198.18.1
flood bob.lua admin 1234 198.18.2 # --demo's admin

bound=$(awk -v i="$idle_p50" -v h="$hash_ms" 'BEGIN { printf "%.1f", 2 * i + h }')
row() { # LABEL FILE STATUSFILE
	first=$(awk 'NR == 1 { printf "%s %.1f", $1, $2 * 1000 }' "$2")
	tail -n +2 "$2" > "$2.rest"
	read -r ok p50 p90 max < <(stats "$2.rest")
	codes=$(awk '{ print $1 }' "$2" | sort | uniq -c | awk '{ printf "%s×%s ", $2, $1 }')
	ratio=$(awk -v a="$p50" -v b="$idle_p50" 'BEGIN { if (a == "-") print "-"; else printf "%.2f", a / b }')
	within=$(awk -v a="$p50" -v p="$p90" -v m="$max" -v b="$bound" 'BEGIN { if (m == "-") print "no logins"; else printf "p50 %s, p90 %s, max %s", (a <= b ? "yes" : "NO"), (p <= b ? "yes" : "NO"), (m <= b ? "yes" : "NO") }')
	echo "| $1 | $codes| $first | $p50 / $p90 / $max | ${ratio}× | $within | $(cat "$3") |"
}
echo "one hash (bare, server core): $hash_ms ms; idle login p50/p90/max: $idle_p50 / $idle_p90 / $idle_max ms ($idle_ok/$N ok); bound 2×idle p50 + hash = $bound ms"
echo
echo "| flood (256 clients, ${FLOOD}s) | legit answers | first legit login, 2 s into the flood (code ms) | the other legit logins p50 / p90 / max (ms) | p50 ÷ idle p50 | within bound | flood answers by status |"
echo "|---|---|---|---:|---:|---|---|"
row "A: wrong passwords, 256 addresses; alice logs in" "$WORK/wrong.lua.legit" "$WORK/wrong.lua.status"
row "B: bob's right password, 1 address; admin logs in" "$WORK/bob.lua.legit" "$WORK/bob.lua.status"
