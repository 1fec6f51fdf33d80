#!/usr/bin/env bash
# Load benchmark of tower-health against a bare hyper server and what users would write instead.
#
#   bash bench/load.sh                      # the full run (about 12 minutes on 2 cores)
#   DURATION=3 ROUNDS=1 bash bench/load.sh  # a quick one
#
# Installs wrk and h2load when missing, builds the servers of bench/servers in release mode, pins
# each server to one core and the load tool to another, runs every contender in turn for ROUNDS
# rounds (the order rotates each round), and prints one table of medians and ratios. Before any
# measurement it checks that every contender answers what its row claims (the body, the checks it
# reports, whether they ran or came from the cache, gRPC SERVING from the intended server). Then it
# measures resident memory after 10,000 and after MEMORY_REQUESTS mixed requests, and runs the
# in-process benchmarks (cargo bench --bench layer). Everything binds to 127.0.0.1 and stops at
# the end. The table is also written to target/bench/load.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}               # seconds of load per contender and round
WARMUP=${WARMUP:-1}                    # seconds of load before each measurement, not counted
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}         # HTTP/1.1 keep-alive connections
GRPC_CONNECTIONS=${GRPC_CONNECTIONS:-8}
GRPC_STREAMS=${GRPC_STREAMS:-16}       # concurrent streams per HTTP/2 connection
MEMORY_REQUESTS=${MEMORY_REQUESTS:-1000000}
IN_PROCESS=${IN_PROCESS:-1}            # 0 leaves out the in-process benchmarks
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18600}
OUT_DIR="$ROOT/target/bench"
mkdir -p "$OUT_DIR"
OUT="$OUT_DIR/load.md"
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)

log() { echo "load.sh: $*" >&2; }

# --- tools ---------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null || ! command -v h2load >/dev/null || ! command -v curl >/dev/null; then
    log "installing wrk, h2load and curl"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq wrk nghttp2-client curl >/dev/null
fi
command -v taskset >/dev/null || { log "taskset (util-linux) is needed"; exit 1; }
if [ "$(nproc)" -lt 2 ]; then
    log "fewer than 2 cores: server and client share them"
    CLIENT_CPU=$SERVER_CPU
fi

# --- servers -------------------------------------------------------------------------------------
# tower-health's gRPC answer exists only where the root crate has a `grpc` feature.
FEATURES=""
GRPC=0
if grep -qE '^[[:space:]]*grpc[[:space:]]*=' "$ROOT/tower-health/Cargo.toml"; then
    FEATURES="--features grpc,tower-health-grpc,tower-health/grpc"
    GRPC=1
else
    log "the root crate has no grpc feature: the gRPC rows are left out"
fi
log "building the servers (release)"
(cd "$ROOT/bench/servers" && cargo build --release --quiet --target-dir "$ROOT/target" $FEATURES)
SERVER="$ROOT/target/release/bench-server"

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

# start MODE PORT: the server pinned to SERVER_CPU; waits until it accepts connections.
start() {
    taskset -c "$SERVER_CPU" "$SERVER" "$1" "$2" &
    PIDS+=($!)
    LAST_PID=$!
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    log "server $1 did not start on port $2"
    exit 1
}

declare -A PORT
port=$BASE_PORT
MODES="hyper-bare hyper-layer hyper-layer-nocache hyper-layer-twenty axum-bare axum-layer axum-layer-nocache axum-handwritten"
[ "$GRPC" = 1 ] && MODES="$MODES grpc-tonic-health grpc-tower-health grpc-hyper-layer"
for mode in $MODES; do
    start "$mode" "$port"
    PORT[$mode]=$port
    port=$((port + 1))
done

# --- contenders ----------------------------------------------------------------------------------
# id | what | server mode | path | compared with (id) | target ratio against it | what the answer
# must be (see `verify`)
ROWS=(
    "bare|bare hyper, fixed 15-byte body|hyper-bare|/|||fixed"
    "hyper_pass|hyper + layer, pass-through|hyper-layer|/|bare|0.98|fixed"
    "hyper_live|hyper + layer, liveness|hyper-layer|/health/live|bare|0.97|live"
    "hyper_ready|hyper + layer, readiness, 5 checks, cached (default TTL)|hyper-layer|/health/ready|bare|0.95|cached"
    "hyper_twenty|hyper + layer, /health, 20 checks cached, details shown|hyper-layer-twenty|/health|bare|0.90|twenty"
    "hyper_ready_nc|hyper + layer, readiness, 5 checks, cache off|hyper-layer-nocache|/health/ready|bare||uncached"
    "axum|axum app, no layer|axum-bare|/|bare||fixed"
    "axum_pass|axum + layer, pass-through|axum-layer|/|axum|0.98|fixed"
    "hand_live|axum hand-written liveness route, the same bytes|axum-handwritten|/health/live|bare||hand_live"
    "axum_live|axum + layer, liveness|axum-layer|/health/live|hand_live|1.00|live"
    "hand_ready|axum hand-written readiness, 5 checks run per request|axum-handwritten|/health/ready|bare||hand_ready"
    "axum_ready_nc|axum + layer, readiness, 5 checks, cache off|axum-layer-nocache|/health/ready|hand_ready|1.00|uncached"
    "axum_ready|axum + layer, readiness, 5 checks, cached (default TTL)|axum-layer|/health/ready|hand_ready||cached"
)
if [ "$GRPC" = 1 ]; then
    ROWS+=(
        "grpc_tonic|tonic + tonic-health, gRPC Check|grpc-tonic-health|grpc|||serving"
        "grpc_tower|tonic + layer.grpc(), gRPC Check, 5 checks cached|grpc-tower-health|grpc|grpc_tonic|1.10|serving"
        "grpc_hyper|hyper HTTP/2 + layer.grpc(), gRPC Check, 5 checks cached|grpc-hyper-layer|grpc|grpc_tonic||serving"
    )
fi

# A gRPC Check request for service "": a 5-byte frame holding an empty message.
GRPC_BODY="$OUT_DIR/grpc-check.bin"
printf '\x00\x00\x00\x00\x00' >"$GRPC_BODY"

# measure PORT PATH SECONDS: prints requests per second; fails on any non-2xx answer.
measure() {
    local out
    if [ "$2" = grpc ]; then
        out=$(taskset -c "$CLIENT_CPU" h2load -D "$3" -c "$GRPC_CONNECTIONS" -m "$GRPC_STREAMS" \
            -d "$GRPC_BODY" -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$1/grpc.health.v1.Health/Check" 2>&1)
        # A gRPC answer is "HTTP 200" even when unimplemented; a Check answer has a message.
        if ! grep -q '0 failed, 0 errored' <<<"$out" || grep -qE 'total, .* 0B \(0\) data' <<<"$out"; then
            log "gRPC check on port $1 was not answered:"; echo "$out" >&2; exit 1
        fi
        awk '/^finished in/ { gsub(",", "", $4); print $4 }' <<<"$out"
    else
        out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${3}s" "http://127.0.0.1:$1$2" 2>&1)
        if grep -q 'Non-2xx' <<<"$out"; then
            log "non-2xx answers from 127.0.0.1:$1$2:"; echo "$out" >&2; exit 1
        fi
        awk '/^Requests\/sec/ { print $2 }' <<<"$out"
    fi
}

# --- honesty -------------------------------------------------------------------------------------
CHECK_NAMES="postgres redis kafka s3 auth"
fail_verify() { log "$1 does not answer what its row claims: $2"; exit 1; }
# body PORT PATH: the body of one GET, after checking that the status is 200.
body() {
    local out
    out=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$1$2") || fail_verify "127.0.0.1:$1$2" "no answer"
    [ "$(tail -n1 <<<"$out")" = 200 ] || fail_verify "127.0.0.1:$1$2" "status $(tail -n1 <<<"$out")"
    sed '$d' <<<"$out"
}
# times PORT PATH: the `time` of every check in a health+json answer, on one line.
times() { body "$1" "$2" | grep -o '"time":"[^"]*"' | tr '\n' ' '; }
has_checks() {
    for name in $CHECK_NAMES; do
        grep -q "\"$name\"" <<<"$2" || fail_verify "$1" "check $name missing from $2"
    done
}
# verify ID KIND PORT PATH
verify() {
    local id=$1 kind=$2 port=$3 path=$4 b first second
    case $kind in
    fixed)
        b=$(body "$port" "$path")
        [ "$b" = '{"status":"ok"}' ] || fail_verify "$id" "body $b (not the application's)" ;;
    live | hand_live)
        b=$(body "$port" "$path")
        [ "$b" = '{"status":"pass"}' ] || fail_verify "$id" "body $b"
        headers=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port$path" | tr -d '\r' | grep -iE '^(content-type|cache-control):' | tr 'A-Z' 'a-z' | sort | tr '\n' ' ')
        [ "$headers" = 'cache-control: no-store content-type: application/health+json ' ] \
            || fail_verify "$id" "headers $headers" ;;
    twenty)
        b=$(body "$port" "$path")
        grep -q '^{"status":"warn"' <<<"$b" || fail_verify "$id" "body $b"
        [ "$(grep -o '"status":"[a-z]*","time"' <<<"$b" | wc -l)" = 20 ] || fail_verify "$id" "not 20 checks: $b"
        grep -q '"output":"' <<<"$b" || fail_verify "$id" "no details shown: $b" ;;
    hand_ready)
        b=$(body "$port" "$path")
        grep -q '^{"checks":{.*},"status":"pass"}$' <<<"$b" || fail_verify "$id" "body $b"
        has_checks "$id" "$b" ;;
    cached | uncached)
        b=$(body "$port" "$path")
        grep -q '^{"status":"pass"' <<<"$b" || fail_verify "$id" "body $b"
        has_checks "$id" "$b"
        # Cached: two answers in a row show the same run (twice, in case a TTL ended between).
        # Uncached: answers 20 ms apart show different runs.
        for _ in 1 2; do
            first=$(times "$port" "$path")
            [ "$kind" = uncached ] && sleep 0.02
            second=$(times "$port" "$path")
            if [ "$kind" = cached ] && [ "$first" = "$second" ]; then return 0; fi
            if [ "$kind" = uncached ] && [ "$first" != "$second" ]; then return 0; fi
        done
        fail_verify "$id" "check times $first then $second ($kind expected)" ;;
    serving)
        b=$("$SERVER" grpc-probe "$port") || fail_verify "$id" "gRPC Check of \"\" answered $b" ;;
    *) fail_verify "$id" "unknown kind $kind" ;;
    esac
}
for row in "${ROWS[@]}"; do
    IFS='|' read -r id _ mode path _ _ kind <<<"$row"
    verify "$id" "$kind" "${PORT[$mode]}" "$path"
done
log "every contender answers what its row claims"

declare -A RESULTS
n=${#ROWS[@]}
for round in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        row=${ROWS[$(((i + round - 1) % n))]}
        IFS='|' read -r id what mode path _ _ _ <<<"$row"
        [ "$WARMUP" != 0 ] && measure "${PORT[$mode]}" "$path" "$WARMUP" >/dev/null
        rps=$(measure "${PORT[$mode]}" "$path" "$DURATION")
        RESULTS[$id]="${RESULTS[$id]:-} $rps"
        log "round $round/$ROUNDS: $what: $rps req/s"
    done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

declare -A MEDIAN
for row in "${ROWS[@]}"; do
    IFS='|' read -r id _ _ _ _ _ _ <<<"$row"
    MEDIAN[$id]=$(median "${RESULTS[$id]}")
done

# --- memory --------------------------------------------------------------------------------------
# A fresh axum + layer server with caching off (every readiness request runs the five checks: the
# most work per request); mixed requests round-robin over pass-through, liveness, readiness.
start axum-layer-nocache "$port"
MEM_PID=$LAST_PID
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$MEM_PID/status"; }
mixed() {
    taskset -c "$CLIENT_CPU" h2load --h1 -n "$1" -c 16 "http://127.0.0.1:$port/" \
        "http://127.0.0.1:$port/health/live" "http://127.0.0.1:$port/health/ready" >"$OUT_DIR/memory-$1.txt" 2>&1
    grep -q "succeeded, 0 failed" "$OUT_DIR/memory-$1.txt" || { log "mixed load failed"; cat "$OUT_DIR/memory-$1.txt" >&2; exit 1; }
}
rss_start=$(rss)
mixed 10000
rss_10k=$(rss)
mixed $((MEMORY_REQUESTS - 10000))
rss_all=$(rss)

# --- table ---------------------------------------------------------------------------------------
{
    echo "Command: \`DURATION=$DURATION ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS MEMORY_REQUESTS=$MEMORY_REQUESTS bash bench/load.sh\`"
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load average before the run $LOAD_BEFORE"
    echo "Server on core $SERVER_CPU (single-threaded tokio runtime), load tool on core $CLIENT_CPU; wrk -t1 -c$CONNECTIONS, h2load -c$GRPC_CONNECTIONS -m$GRPC_STREAMS for gRPC."
    echo
    echo "| contender | request | req/s (median of $ROUNDS) | vs bare hyper | vs | ratio | target |"
    echo "|---|---|---:|---:|---|---:|---|"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r id what mode path against target _ <<<"$row"
        [ "$path" = grpc ] && path="gRPC Check"
        med=${MEDIAN[$id]}
        vs_bare=$(ratio "$med" "${MEDIAN[bare]}")
        if [ -n "$against" ]; then
            r=$(ratio "$med" "${MEDIAN[$against]}")
            verdict=""
            if [ -n "$target" ]; then
                verdict=$(awk -v r="$r" -v t="$target" 'BEGIN { print (r >= t) ? "≥ " t ": met" : "≥ " t ": MISSED" }')
            fi
            echo "| $what | \`$path\` | $(printf '%.0f' "$med") | $vs_bare | $against | $r | $verdict |"
        else
            echo "| $what | \`$path\` | $(printf '%.0f' "$med") | $vs_bare | | | |"
        fi
    done
    [ "$GRPC" = 1 ] || echo "| gRPC rows | left out: the root crate has no \`grpc\` feature | | | | | |"
    echo
    echo "Memory (axum + layer, cache off, VmRSS): $rss_start KiB at start, $rss_10k KiB after 10,000 mixed requests, $rss_all KiB after $MEMORY_REQUESTS (difference $(((rss_all - rss_10k))) KiB)."
} >"$OUT"
cat "$OUT"

# --- in-process ----------------------------------------------------------------------------------
if [ "$IN_PROCESS" = 1 ]; then
    cleanup
    PIDS=()
    log "in-process benchmarks (cargo bench --bench layer)"
    (cd "$ROOT" && cargo bench -p tower-health --quiet --bench layer --no-run)
    # Built first, so only the run is pinned.
    (cd "$ROOT" && taskset -c "$SERVER_CPU" cargo bench -p tower-health --quiet --bench layer) >"$OUT_DIR/in-process.txt" 2>&1
    {
        echo
        echo "In-process (\`cargo bench --bench layer\`, divan; full output with allocation counts in target/bench/in-process.txt):"
        echo
        echo '```text'
        grep -E '─ |^layer ' "$OUT_DIR/in-process.txt"
        echo '```'
    } | tee -a "$OUT"
fi
echo "Load average at the end of the run: $(cut -d" " -f1-3 /proc/loadavg)" | tee -a "$OUT"
