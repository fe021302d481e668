#!/usr/bin/env bash
# Side-by-side benchmark of jwtgate against the tutorial app and its peers,
# with the shared harness in ../shared/bench (wrk on loopback, every server
# pinned to one core and wrk to the other, each stopped by its PID).
#
# It builds the static binary, then runs the harness with jwtgate as the
# candidate in its default configuration (EdDSA, revocation check on, log
# at INFO to the harness's log file, no access log, no metrics), twice:
#   jwtgate         GET /user with a Bearer token, POST /login, and
#                   POST /token/refresh (rotating; each a durable write)
#   jwtgate-verify  GET /auth/verify (forward auth) with a Bearer token
# The harness prints its summary table (requests/s, p50, p99, peak RSS and the
# ratio to go-hello, the bare net/http ceiling) into OUT/*/summary.md. Then
# bench/hot.sh (the hot paths against go-hello in alternating runs) and
# bench/login.sh (logins against the bare hash); everything is collected in
# OUT/summary.md.
#
# Usage: bench/run.sh [RUNS [DURATION]]     (defaults 2 and 10 seconds)
# Environment: PEERS (default: the harness's full list), OUT.
# Needs: apt-get install wrk python3-fastapi python3-uvicorn python3-jwt python3-dotenv; node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-2}
DURATION=${2:-10}
HARNESS=${HARNESS:-$ROOT/../shared/bench/run.sh}
[ -x "$HARNESS" ] || [ -f "$HARNESS" ] || { echo "bench: no harness at $HARNESS" >&2; exit 2; }
OUT=${OUT:-$ROOT/bench/out/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"

BIN=$OUT/jwtgate
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN" ./cmd/jwtgate
echo "bench: binary $(du -h "$BIN" | cut -f1) ($BIN)" >&2

# Each start gets a fresh database; the demo account is the harness's login.
CMD="rm -f $OUT/bench.db*; exec $BIN serve --demo --addr 127.0.0.1:{PORT} --db sqlite:$OUT/bench.db"

PEERS_ARG=()
[ -n "${PEERS:-}" ] && PEERS_ARG=(--peers "$PEERS")

CANDIDATE_EXTRA_NAME=refresh CANDIDATE_EXTRA_PATH=/token/refresh \
CANDIDATE_EXTRA_BODY='{"refresh_token":"{seed}"}' CANDIDATE_EXTRA_FIELD=refresh_token \
bash "$HARNESS" --runs "$RUNS" --duration "$DURATION" "${PEERS_ARG[@]}" \
  --candidate-cmd "$CMD" --candidate-port 18100 --candidate-name jwtgate \
  --candidate-ready-path /healthz --out "$OUT/user"

bash "$HARNESS" --runs "$RUNS" --duration "$DURATION" --peers "go-hello go-hs256" \
  --candidate-cmd "$CMD" --candidate-port 18101 --candidate-name jwtgate-verify \
  --candidate-ready-path /healthz --candidate-user-path /auth/verify --out "$OUT/verify" || true

# The hot paths against go-hello in alternating runs (median of per-pair
# ratios), and logins against the bare hash: see bench/hot.sh, bench/login.sh.
bash bench/hot.sh "${HOT_RUNS:-7}" 3 > "$OUT/hot.md" || echo "(hot.sh failed)" > "$OUT/hot.md"
bash bench/login.sh "$DURATION" > "$OUT/login.md" || echo "(login.sh failed)" > "$OUT/login.md"

{
	echo "== GET /user, POST /login, POST /token/refresh (shared harness)"
	cat "$OUT/user/summary.md"
	echo
	echo "== GET /auth/verify (forward auth; shared harness)"
	cat "$OUT/verify/summary.md" 2>/dev/null || echo "(not measured)"
	echo
	echo "== Hot paths against go-hello, alternating (bench/hot.sh)"
	cat "$OUT/hot.md"
	echo
	echo "== Logins against the bare argon2id hash, one core (bench/login.sh)"
	cat "$OUT/login.md"
} | tee "$OUT/summary.md"
