#!/usr/bin/env bash
# Load test of the graceful drain: wrk keeps HTTP/1.1 keep-alive connections busy on `/` of
# examples/axum.rs while the server gets SIGTERM and drains for DRAIN_DELAY seconds.
#
#   bash bench/drain.sh          # CONNECTIONS=64 DURATION=6 DRAIN_DELAY=2 SIGTERM_AFTER=2
#
# wrk counts a request written on a connection the server then closed without answering as a read
# error; once the server has stopped listening, each reconnection attempt fails as a write error
# (nothing can answer there; a balancer would have sent those requests elsewhere). wrk does not
# move: it reconnects to the same address, so connections it opens in the last instant before the
# server stops are reset too. Prints wrk's summary and one line `read=N write=N timeout=N`.
# Binds to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-6}
DRAIN_DELAY=${DRAIN_DELAY:-2}
SIGTERM_AFTER=${SIGTERM_AFTER:-2}
source tests/common/python.sh
log="$target/drain-example.log"

if ! command -v wrk >/dev/null; then
    apt-get update && apt-get install -y wrk
fi
cargo build --release --example axum
port="$(free_port)"

PORT="$port" DRAIN_DELAY="$DRAIN_DELAY" "$target/release/examples/axum" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.1
done

(sleep "$SIGTERM_AFTER"; kill -TERM "$pid") &
out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$port/")"
echo "$out"
wait "$pid" || true
grep -q stopped "$log" || { echo "the example did not stop cleanly" >&2; cat "$log" >&2; exit 1; }

errors="$(echo "$out" | sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p')"
read -r connect read write timeout <<<"${errors:-0 0 0 0}"
non2xx="$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p')"
echo "read=$read write=$write timeout=$timeout connect=$connect non2xx=${non2xx:-0}"
