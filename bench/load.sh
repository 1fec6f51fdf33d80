#!/usr/bin/env bash
# What a user pays for tower-health: server CPU per request, kernel included, against what they
# would run instead, under load.
#
#   bash bench/load.sh                      # the full run (about 12 minutes on 2 cores, IN_PROCESS=0)
#   ROUNDS=3 bash bench/load.sh             # a quick one
#
# Installs wrk, h2load, curl and valgrind when missing, builds the servers of bench/servers in
# release mode, pins each server to one core and the load tool to the other. Before any
# measurement it checks that every contender answers what its row claims (the body, the headers,
# whether checks came from the cache, gRPC SERVING from the intended server), then counts each
# row's instructions per request (bench/instructions.sh) and loads every row for WARMUP seconds.
# Each round measures every contender right after or before its base (the order of the pairs and
# within each pair rotates per round): requests per second and the server threads' CPU time
# (/proc/PID/task/*/schedstat, user and kernel) per completed request. Short runs and many rounds:
# the two of a pair then run under the same conditions of a shared machine. It prints one table of medians and ratios, measures resident
# memory after 10,000 and after MEMORY_REQUESTS mixed requests, and runs the in-process
# benchmarks (cargo bench --bench layer). Everything binds to 127.0.0.1 and stops at the end. The
# table is also written to target/bench/load.md, every measurement to target/bench/load.tsv.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-1}                # seconds of load per contender and round
WARMUP=${WARMUP:-2}                    # seconds of load on every row before the first round
ROUNDS=${ROUNDS:-40}
CONNECTIONS=${CONNECTIONS:-64}         # HTTP/1.1 keep-alive connections
GRPC_CONNECTIONS=${GRPC_CONNECTIONS:-8}
GRPC_STREAMS=${GRPC_STREAMS:-16}       # concurrent streams per HTTP/2 connection
MEMORY_REQUESTS=${MEMORY_REQUESTS:-1000000}
INSTRUCTIONS=${INSTRUCTIONS:-1}        # 0 leaves out the instruction counts
INSTRUCTION_REQUESTS=${INSTRUCTION_REQUESTS:-20000}
IN_PROCESS=${IN_PROCESS:-1}            # 0 leaves out the in-process benchmarks
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
BASE_PORT=${BASE_PORT:-18600}
OUT_DIR="$ROOT/target/bench"
mkdir -p "$OUT_DIR"
OUT="$OUT_DIR/load.md"
RAW="$OUT_DIR/load.tsv"
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && COMMIT="$COMMIT (with uncommitted changes)"

log() { echo "load.sh: $*" >&2; }

# --- tools ---------------------------------------------------------------------------------------
missing=""
command -v wrk >/dev/null || missing="$missing wrk"
command -v h2load >/dev/null || missing="$missing nghttp2-client"
command -v curl >/dev/null || missing="$missing curl"
if [ "$INSTRUCTIONS" = 1 ] && ! command -v valgrind >/dev/null; then missing="$missing valgrind"; fi
if [ -n "$missing" ]; then
    log "installing$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq $missing >/dev/null
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

# --- contenders ----------------------------------------------------------------------------------
# id | what | server mode | path | base (id) | target ratio against it | what the answer must be
# (see `verify`). A base row precedes the row measured against it; each base has one contender.
ROWS=(
    "tower_http|hyper + tower-http SetResponseHeader, pass-through|hyper-tower-http|/|||tower_http"
    "hyper_pass|hyper + HealthLayer, pass-through|hyper-layer|/|tower_http|0.99|fixed"
    "hand_live|hyper, hand-written liveness, the layer's bytes|hyper-handwritten|/health/live|||like:hyper_live"
    "hyper_live|hyper + HealthLayer, liveness|hyper-layer|/health/live|hand_live|0.97|live"
    "hand_ready|hyper, hand-written readiness, the layer's bytes|hyper-handwritten|/health/ready|||like:hyper_ready"
    "hyper_ready|hyper + HealthLayer, readiness, 5 checks cached|hyper-layer|/health/ready|hand_ready|0.97|cached"
    "axum_tower_http|axum + tower-http SetResponseHeader, pass-through|axum-tower-http|/|||tower_http"
    "axum_pass|axum + HealthLayer, pass-through|axum-layer|/|axum_tower_http|0.99|fixed"
)
if [ "$GRPC" = 1 ]; then
    ROWS+=(
        "grpc_tonic|tonic + tonic-health, gRPC Check|grpc-tonic-health|grpc|||serving"
        "grpc_tower|tonic + HealthLayer::grpc(), gRPC Check, 5 checks cached|grpc-tower-health|grpc|grpc_tonic|1.00|serving"
    )
fi
declare -A MODE_OF PATH_OF AGAINST PORT PID_OF
for row in "${ROWS[@]}"; do
    IFS='|' read -r id _ mode path against _ _ <<<"$row"
    MODE_OF[$id]=$mode
    PATH_OF[$id]=$path
    AGAINST[$id]=$against
done

port=$BASE_PORT
for row in "${ROWS[@]}"; do
    IFS='|' read -r _ _ mode _ _ _ _ <<<"$row"
    [ -n "${PORT[$mode]:-}" ] && continue
    start "$mode" "$port"
    PORT[$mode]=$port
    PID_OF[$mode]=$LAST_PID
    port=$((port + 1))
done

# A gRPC Check request for service "": a 5-byte frame holding an empty message.
GRPC_BODY="$OUT_DIR/grpc-check.bin"
printf '\x00\x00\x00\x00\x00' >"$GRPC_BODY"

# cpu_ns PID: nanoseconds on a CPU (user and kernel) of all the process's threads.
cpu_ns() {
    local total=0 ns f
    for f in /proc/"$1"/task/*/schedstat; do
        read -r ns _ <"$f"
        total=$((total + ns))
    done
    echo "$total"
}

# ticks PID: "user kernel" clock ticks of the process (all threads), for the kernel's share.
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12, $13 }'; }

# load PORT PATH SECONDS: prints "requests/s completed-requests"; fails on any non-2xx answer.
load() {
    local out
    if [ "$2" = grpc ]; then
        out=$(taskset -c "$CLIENT_CPU" h2load -D "$3" -c "$GRPC_CONNECTIONS" -m "$GRPC_STREAMS" \
            -d "$GRPC_BODY" -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$1/grpc.health.v1.Health/Check" 2>&1)
        # A gRPC answer is "HTTP 200" even when unimplemented; a Check answer has a message.
        if ! grep -q '0 failed, 0 errored' <<<"$out" || grep -qE 'total, .* 0B \(0\) data' <<<"$out"; then
            log "gRPC check on port $1 was not answered:"; echo "$out" >&2; exit 1
        fi
        awk '/^finished in/ { gsub(",", "", $4); rps = $4 } /^requests:/ { n = $2 } END { print rps, n }' <<<"$out"
    else
        out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${3}s" "http://127.0.0.1:$1$2" 2>&1)
        if grep -q 'Non-2xx' <<<"$out"; then
            log "non-2xx answers from 127.0.0.1:$1$2:"; echo "$out" >&2; exit 1
        fi
        awk '/requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 } END { print rps, n }' <<<"$out"
    fi
}

# measure ID: one measured run of row ID; sets RPS_NOW, US_NOW (µs of server CPU a request) and
# KERNEL_NOW (the kernel's share of that CPU).
measure() {
    local mode=${MODE_OF[$1]} path=${PATH_OF[$1]} before after ticks_before ticks_after out n
    local port=${PORT[$mode]} pid=${PID_OF[$mode]}
    # The server is done with closed connections before and after, not during, a reading.
    sleep 0.1
    before=$(cpu_ns "$pid")
    ticks_before=$(ticks "$pid")
    out=$(load "$port" "$path" "$DURATION")
    sleep 0.1
    after=$(cpu_ns "$pid")
    ticks_after=$(ticks "$pid")
    read -r RPS_NOW n <<<"$out"
    [ "${n:-0}" -gt 0 ] || { log "$1: no request completed"; exit 1; }
    US_NOW=$(awk -v ns=$((after - before)) -v n="$n" 'BEGIN { printf "%.4f", ns / n / 1000 }')
    KERNEL_NOW=$(awk -v b="$ticks_before" -v a="$ticks_after" 'BEGIN {
        split(b, x, " "); split(a, y, " "); u = y[1] - x[1]; k = y[2] - x[2]
        printf "%.2f", (u + k) ? k / (u + k) : 0 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$ROUND" "$1" "$RPS_NOW" "$n" $((after - before)) "$KERNEL_NOW" >>"$RAW"
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
# answer PORT PATH: status line, headers but `date`, and body of one GET, check times masked.
answer() {
    curl -s -i "http://127.0.0.1:$1$2" | tr -d '\r' | grep -vi '^date:' | sed 's/"time":"[^"]*"/"time":"T"/g'
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
    local id=$1 kind=$2 port=$3 path=$4 b first second mine theirs headers
    case $kind in
    fixed)
        b=$(body "$port" "$path")
        [ "$b" = '{"status":"ok"}' ] || fail_verify "$id" "body $b (not the application's)" ;;
    tower_http)
        b=$(body "$port" "$path")
        [ "$b" = '{"status":"ok"}' ] || fail_verify "$id" "body $b (not the application's)"
        curl -s -D - -o /dev/null "http://127.0.0.1:$port$path" | tr -d '\r' | grep -qx 'x-bench-layer: tower-http' \
            || fail_verify "$id" "no header set by tower-http" ;;
    live)
        b=$(body "$port" "$path")
        [ "$b" = '{"status":"pass"}' ] || fail_verify "$id" "body $b"
        headers=$(curl -s -D - -o /dev/null "http://127.0.0.1:$port$path" | tr -d '\r' | grep -iE '^(content-type|cache-control):' | tr 'A-Z' 'a-z' | sort | tr '\n' ' ')
        [ "$headers" = 'cache-control: no-store content-type: application/health+json ' ] \
            || fail_verify "$id" "headers $headers" ;;
    like:*)
        # The same status line, headers and body as the other row's server, check times aside.
        local other=${kind#like:}
        mine=$(answer "$port" "$path")
        theirs=$(answer "${PORT[${MODE_OF[$other]}]}" "${PATH_OF[$other]}")
        [ -n "$mine" ] && [ "$mine" = "$theirs" ] || fail_verify "$id" "$mine differs from $other's $theirs" ;;
    cached)
        b=$(body "$port" "$path")
        grep -q '^{"status":"pass"' <<<"$b" || fail_verify "$id" "body $b"
        has_checks "$id" "$b"
        # Two answers in a row show the same run (twice, in case a TTL ended between).
        for _ in 1 2; do
            first=$(times "$port" "$path")
            second=$(times "$port" "$path")
            [ "$first" = "$second" ] && return 0
        done
        fail_verify "$id" "check times $first then $second (cached expected)" ;;
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

# --- instructions --------------------------------------------------------------------------------
declare -A INSTR
if [ "$INSTRUCTIONS" = 1 ]; then
    log "instructions per request (callgrind, $INSTRUCTION_REQUESTS requests a row)"
    rows=""
    for row in "${ROWS[@]}"; do
        IFS='|' read -r _ _ mode path _ _ _ <<<"$row"
        rows="$rows $mode:$path"
    done
    SERVER_ROWS="$rows" SERVERS=1 IN_PROCESS=0 REQUESTS=$INSTRUCTION_REQUESTS PORT=$port \
        bash "$ROOT/bench/instructions.sh" >"$OUT_DIR/instructions.md"
    while IFS=$'\t' read -r mode path count; do INSTR["$mode $path"]=$count; done \
        <"$OUT_DIR/callgrind/servers.tsv"
    port=$((port + 1))
fi

# --- load ----------------------------------------------------------------------------------------
declare -A RPS CPU KERNEL PAIR_RATIO LAST_US
CONTENDERS=()
for row in "${ROWS[@]}"; do
    IFS='|' read -r id _ _ _ against _ _ <<<"$row"
    [ -n "$against" ] && CONTENDERS+=("$id")
done
printf 'round\trow\trequests/s\trequests\tserver CPU ns\tkernel share\n' >"$RAW"
if [ "$WARMUP" != 0 ]; then
    log "warming up every row for $WARMUP s"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r _ _ mode path _ _ _ <<<"$row"
        load "${PORT[$mode]}" "$path" "$WARMUP" >/dev/null
    done
fi
n=${#CONTENDERS[@]}
for ROUND in $(seq "$ROUNDS"); do
    for i in $(seq 0 $((n - 1))); do
        contender=${CONTENDERS[$(((i + ROUND - 1) % n))]}
        base=${AGAINST[$contender]}
        order="$base $contender"
        [ $(((i + ROUND) % 2)) = 0 ] && order="$contender $base"
        for id in $order; do
            measure "$id"
            RPS[$id]="${RPS[$id]:-} $RPS_NOW"
            CPU[$id]="${CPU[$id]:-} $US_NOW"
            KERNEL[$id]="${KERNEL[$id]:-} $KERNEL_NOW"
            LAST_US[$id]=$US_NOW
            log "round $ROUND/$ROUNDS: $id: $RPS_NOW req/s, $US_NOW µs of server CPU a request"
        done
        PAIR_RATIO[$contender]="${PAIR_RATIO[$contender]:-} $(awk -v b="${LAST_US[$base]}" -v c="${LAST_US[$contender]}" 'BEGIN { printf "%.3f", b / c }')"
    done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# spread VALUES: lowest, first quartile, third quartile, highest (nearest rank).
spread() {
    tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END {
        q1 = int((NR + 3) / 4); q3 = NR + 1 - q1
        printf "%.3f, %.3f–%.3f, %.3f (%d rounds)", v[1], v[q1], v[q3], v[NR], NR }'
}

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
LOAD_AFTER=$(cut -d" " -f1-3 /proc/loadavg)
{
    echo "Command: \`DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS CONNECTIONS=$CONNECTIONS INSTRUCTIONS=$INSTRUCTIONS IN_PROCESS=$IN_PROCESS bash bench/load.sh\` at commit $COMMIT"
    echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); load average $LOAD_BEFORE before the run, $LOAD_AFTER after the load and memory parts"
    echo "Server on core $SERVER_CPU (single-threaded tokio runtime), load tool on core $CLIENT_CPU; wrk -t1 -c$CONNECTIONS, h2load -c$GRPC_CONNECTIONS -m$GRPC_STREAMS for gRPC; $DURATION s a measurement, every row warmed up for $WARMUP s first."
    echo
    echo "| row | request | req/s | server CPU µs/request | base | ratio (CPU) | instructions/request | ratio (instructions) | target | verdict |"
    echo "|---|---|---:|---:|---|---:|---:|---:|---|---|"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r id what mode path against target _ <<<"$row"
        shown=$path
        [ "$path" = grpc ] && shown="gRPC Check"
        rps=$(printf '%.0f' "$(median "${RPS[$id]}")")
        cpu=$(printf '%.2f' "$(median "${CPU[$id]}")")
        instr=${INSTR["$mode $path"]:-}
        if [ -z "$against" ]; then
            echo "| $what | \`$shown\` | $rps | $cpu | | | $instr | | | |"
            continue
        fi
        r=$(printf '%.3f' "$(median "${PAIR_RATIO[$id]}")")
        base_instr=${INSTR["${MODE_OF[$against]} ${PATH_OF[$against]}"]:-}
        ir=""
        [ -n "$instr" ] && [ -n "$base_instr" ] && ir=$(awk -v b="$base_instr" -v c="$instr" 'BEGIN { printf "%.3f", b / c }')
        verdict=$(awk -v r="$r" -v t="$target" 'BEGIN { print (r >= t) ? "met" : "**MISSED**" }')
        # Judged on CPU; where the instruction ratio says otherwise, that is said too.
        if [ -n "$ir" ]; then
            verdict="$verdict$(awk -v r="$r" -v i="$ir" -v t="$target" 'BEGIN {
                if ((r >= t) != (i >= t)) print (i >= t) ? " (by instructions: met)" : " (by instructions: MISSED)" }')"
        fi
        echo "| $what | \`$shown\` | $rps | $cpu | $against | $r | $instr | $ir | ≥ $target | $verdict |"
    done
    [ "$GRPC" = 1 ] || echo "| gRPC rows | left out: the root crate has no \`grpc\` feature | | | | | | | | |"
    echo
    echo "Ratio (CPU): the median over the rounds of the base's CPU per request over the row's, the two measured one after the other; above 1 the row is cheaper. The spread of a round's ratio (lowest, quartiles, highest):"
    for id in "${CONTENDERS[@]}"; do
        echo "- $id against ${AGAINST[$id]}: $(spread "${PAIR_RATIO[$id]}")"
    done
    echo
    echo "The kernel's share of the server's CPU (median of the rounds, from utime and stime):"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r id _ _ _ _ _ _ <<<"$row"
        printf ' %s %s' "$id" "$(median "${KERNEL[$id]}")"
    done
    echo
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
