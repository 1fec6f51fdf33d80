#!/usr/bin/env bash
# Instructions per request (callgrind), stable where wall-clock figures are not: on a busy machine.
#
#   bash bench/instructions.sh                  # the bench servers and the in-process answers
#   REQUESTS=5000 bash bench/instructions.sh    # quicker
#   SERVERS=0 / IN_PROCESS=0                    # leave out one half
#   SERVER_ROWS="hyper-layer:/ grpc-tower-health:grpc" bash bench/instructions.sh   # these only
#
# Servers: each runs under `valgrind --tool=callgrind`, gets 2,000 requests to warm up, then its
# counters are zeroed, REQUESTS requests are sent (h2load --h1, 8 connections) and the counters are
# dumped: user-space instructions of the whole server (hyper, the layer, the allocator) divided by
# REQUESTS. Kernel time (the TCP loopback, epoll) is not counted, so these ratios overstate what a
# difference costs in requests per second. Also written as MODE<tab>PATH<tab>COUNT lines to
# target/bench/callgrind/servers.tsv, which bench/load.sh puts into its table.
# In-process: a divan benchmark run with 200 and with 1,200 iterations; the difference over 1,000
# is one iteration, without divan's own start-up.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REQUESTS=${REQUESTS:-20000}
PORT=${PORT:-18690}
OUT_DIR="$ROOT/target/bench/callgrind"
mkdir -p "$OUT_DIR"

if ! command -v valgrind >/dev/null || ! command -v h2load >/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq valgrind nghttp2-client >/dev/null
fi

FEATURES=""
GRPC=0
if grep -qE '^[[:space:]]*grpc[[:space:]]*=' "$ROOT/tower-health/Cargo.toml"; then
    FEATURES="--features grpc,tower-health-grpc,tower-health/grpc"
    GRPC=1
fi
(cd "$ROOT/bench/servers" && cargo build --release --quiet --target-dir "$ROOT/target" $FEATURES)
SERVER="$ROOT/target/release/bench-server"

# A gRPC Check request for service "": a 5-byte frame holding an empty message.
GRPC_BODY="$OUT_DIR/grpc-check.bin"
printf '\x00\x00\x00\x00\x00' >"$GRPC_BODY"

# load N PATH: N requests to PATH (GET over HTTP/1.1, or `grpc`: gRPC Check over HTTP/2).
load() {
    if [ "$2" = grpc ]; then
        h2load -n "$1" -c 8 -m 16 -d "$GRPC_BODY" -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$PORT/grpc.health.v1.Health/Check"
    else
        h2load --h1 -n "$1" -c 8 "http://127.0.0.1:$PORT$2"
    fi
}

# server MODE PATH: instructions per request of MODE answering PATH.
server() {
    local out="$OUT_DIR/$1${2//\//_}.out" pid
    valgrind --tool=callgrind --callgrind-out-file="$out" "$SERVER" "$1" "$PORT" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.2
    done
    load 2000 "$2" >/dev/null 2>&1
    callgrind_control --zero "$pid" >/dev/null 2>&1
    load "$REQUESTS" "$2" >"$OUT_DIR/h2load.txt" 2>&1
    callgrind_control --dump "$pid" >/dev/null 2>&1
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    grep -q "succeeded, 0 failed, 0 errored" "$OUT_DIR/h2load.txt" || { echo "requests failed: $1 $2" >&2; exit 1; }
    local total
    total=$(awk '/^summary:/ { print $2 }' "$out.1")
    printf '| `%s` | `%s` | %d |\n' "$1" "$2" $((total / REQUESTS))
    printf '%s\t%s\t%d\n' "$1" "$2" $((total / REQUESTS)) >>"$OUT_DIR/servers.tsv"
}

# MODE:PATH, the path `grpc` for a gRPC Check.
DEFAULT_ROWS="hyper-bare:/ hyper-tower-http:/ hyper-layer:/
    hyper-handwritten:/health/live hyper-layer:/health/live
    hyper-handwritten:/health/ready hyper-layer:/health/ready
    hyper-layer-twenty:/health hyper-layer-nocache:/health/ready
    axum-bare:/ axum-tower-http:/ axum-layer:/
    axum-handwritten:/health/live axum-layer:/health/live
    axum-handwritten:/health/ready axum-layer:/health/ready axum-layer-nocache:/health/ready"
[ "$GRPC" = 1 ] && DEFAULT_ROWS="$DEFAULT_ROWS grpc-tonic-health:grpc grpc-tower-health:grpc grpc-hyper-layer:grpc"
if [ "${SERVERS:-1}" = 1 ]; then
    : >"$OUT_DIR/servers.tsv"
    echo "| server | request | instructions per request |"
    echo "|---|---|---:|"
    for row in ${SERVER_ROWS:-$DEFAULT_ROWS}; do
        server "${row%%:*}" "${row#*:}"
    done
fi
[ "${IN_PROCESS:-1}" = 1 ] || exit 0

(cd "$ROOT" && cargo bench -p tower-health --quiet --bench layer --no-run)
BENCH=$(cd "$ROOT" && cargo bench -p tower-health --bench layer --no-run 2>&1 | awk -F'[()]' '/Executable/ { print $2 }')

# in_process NAME: instructions of one iteration of benchmark NAME.
in_process() {
    local runs=() iterations
    for iterations in 200 1200; do
        valgrind --tool=callgrind --callgrind-out-file="$OUT_DIR/in-process.out" "$ROOT/$BENCH" \
            --bench --exact "layer::$1" --sample-count 1 --sample-size "$iterations" >/dev/null 2>&1
        runs+=("$(awk '/^summary:/ { print $2 }' "$OUT_DIR/in-process.out")")
    done
    printf '| `%s` | %d |\n' "$1" $(((runs[1] - runs[0]) / 1000))
}

echo
echo "| in-process benchmark | instructions per iteration |"
echo "|---|---:|"
for name in pass_through::bare pass_through::layered answer::liveness \
    answer::readiness_five_checks::Default answer::readiness_five_checks::Off \
    answer::detailed_checks_instant::100; do
    in_process "$name"
done
