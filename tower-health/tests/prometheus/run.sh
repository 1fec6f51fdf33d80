#!/usr/bin/env bash
# Runs examples/metrics.rs against independent readers of its /health/metrics endpoint: Python's
# prometheus_client parsers (text format and OpenMetrics, in a virtual environment) and a real
# Prometheus server (Debian's package, installed if missing) that scrapes it every second with a
# throwaway configuration and storage; check_metrics.py flips the example's `database` check and
# waits for Prometheus's query API to show its status series change. Everything listens on
# 127.0.0.1 and is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../../.."

venv="target/prometheus-venv"
work="$(mktemp -d)"
example_log="$work/example.log"
prometheus_log="$work/prometheus.log"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

if ! command -v prometheus >/dev/null; then
    apt-get update && apt-get install -y --no-install-recommends prometheus
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update && apt-get install -y python3 python3-venv
fi
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check prometheus_client

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded) until 127.0.0.1:$1 accepts connections while pid $2 lives.
wait_listening() {
    for _ in $(seq 150); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; then
            return 0
        fi
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

cargo build -p tower-health --all-features --example metrics
app_port="$(free_port)"
PORT="$app_port" "${CARGO_TARGET_DIR:-target}/debug/examples/metrics" >"$example_log" 2>&1 &
pids+=($!)
wait_listening "$app_port" "${pids[-1]}" || { cat "$example_log"; echo "the example did not listen" >&2; exit 1; }

prometheus_port="$(free_port)"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: health
    metrics_path: /health/metrics
    static_configs:
      - targets: ["127.0.0.1:$app_port"]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address="127.0.0.1:$prometheus_port" >"$prometheus_log" 2>&1 &
pids+=($!)
wait_listening "$prometheus_port" "${pids[-1]}" || { cat "$prometheus_log"; echo "prometheus did not listen" >&2; exit 1; }

status=0
"$venv/bin/python" tower-health/tests/prometheus/check_metrics.py "http://127.0.0.1:$app_port" \
    "http://127.0.0.1:$prometheus_port" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- example log" && cat "$example_log"
    echo "--- prometheus log" && tail -n 30 "$prometheus_log"
fi
exit "$status"
