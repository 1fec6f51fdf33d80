#!/usr/bin/env bash
# Runs check_health.py (Python's grpcio-health-checking client) against examples/tonic.rs:
# builds and starts the example on a free port of 127.0.0.1, installs the client into a virtual
# environment, runs the checks, the last of which sends SIGTERM with a Watch open, and expects the
# example to drain and exit cleanly.
set -euo pipefail
cd "$(dirname "$0")/../../.."

source tower-health/tests/common/python.sh
log="$target/grpc-python-example.log"
# 1.85 is the first with `List`.
python_venv grpc-python-venv grpcio "grpcio-health-checking>=1.85"

cargo build -p tower-health --all-features --example tonic
port="$(free_port)"

PORT="$port" "$target/debug/examples/tonic" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT

# Wait (bounded) until the example listens.
for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$log"
        echo "the example exited before listening" >&2
        exit 1
    fi
    sleep 0.2
done

status=0
# The script's last case sends SIGTERM itself, with a Watch open.
"$venv/bin/python" tower-health/tests/grpc_python/check_health.py "127.0.0.1:$port" "$pid" || status=$?

# SIGTERM drains (5 s) and stops; a bounded wait for the clean exit.
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
done
if kill -0 "$pid" 2>/dev/null; then
    echo "the example did not stop after SIGTERM" >&2
    status=1
else
    wait "$pid" || { echo "the example exited with status $? after SIGTERM" >&2; status=1; }
    grep -q "stopped" "$log" || { echo "the example did not stop cleanly" >&2; status=1; }
fi
trap - EXIT
[ "$status" -eq 0 ] || cat "$log"
exit "$status"
