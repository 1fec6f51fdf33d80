#!/usr/bin/env bash
# Runs a command with throwaway PostgreSQL and Redis servers for the database checks' tests, and
# a dnsmasq DNS server for the DNS check's tests:
#
#   scripts/with-test-services.sh cargo test --all-features
#
# Installs Debian's postgresql, redis-server and dnsmasq-base packages if missing, starts the
# servers on free ports of 127.0.0.1 with data in a temporary directory and a random password,
# exports
#   TOWER_HEALTH_TEST_POSTGRES_URL  postgres://tower_health:PASSWORD@127.0.0.1:PORT/postgres
#   TOWER_HEALTH_TEST_REDIS_URL     redis://default:PASSWORD@127.0.0.1:PORT/
#   TOWER_HEALTH_TEST_DNS           127.0.0.1:PORT, answering test.internal with 10.1.2.3 and
#                                   fd00::1:2:3, missing.internal with NXDOMAIN, and nothing else
#                                   (no upstream servers, no hosts file)
# runs the command, and stops the servers and removes their data whatever happens.
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

postgres_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(postgres_bin)" ] || ! command -v redis-server >/dev/null ||
    ! PATH="$PATH:/usr/sbin" command -v dnsmasq >/dev/null; then
    echo "with-test-services: installing postgresql, redis-server and dnsmasq-base" >&2
    as_root apt-get update -qq
    # dnsmasq-base: the program without the system service the dnsmasq package starts.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server \
        dnsmasq-base >/dev/null
fi
DNSMASQ="$(PATH="$PATH:/usr/sbin" command -v dnsmasq)"
PG_BIN="$(postgres_bin)"

# Runs a PostgreSQL tool as the postgres user: PostgreSQL refuses to run as root.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port of 127.0.0.1 that nothing listens on, below the ephemeral range so that no outgoing
# connection or test listener (port 0) holds it.
EPHEMERAL_LOW="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
free_port() {
    local port
    for _ in $(seq 100); do
        port=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "with-test-services: no free port found" >&2
    return 1
}

random_secret() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

# Waits until process $2 listens on port $1; shows log $3 if it exits or takes too long.
wait_for_port() {
    for _ in $(seq 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        if ! kill -0 "$2" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "with-test-services: nothing listens on port $1; the server's log:" >&2
    cat "$3" >&2 || true
    return 1
}

WORK="$(mktemp -d)"
chmod 755 "$WORK"
PG_DATA="$WORK/postgres"
REDIS_PID=""
DNS_PID=""

stop_services() {
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate stop >/dev/null 2>&1 || true
    fi
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    if [ -n "$DNS_PID" ]; then
        kill "$DNS_PID" 2>/dev/null || true
        wait "$DNS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap stop_services EXIT

# PostgreSQL: superuser over the socket without password; the test user over TCP with one.
PG_PASSWORD="$(random_secret)"
mkdir -p "$PG_DATA"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DATA"; fi
as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 >"$WORK/initdb.log" 2>&1 ||
    { cat "$WORK/initdb.log" >&2; exit 1; }
# A port found free may be taken before the server binds it: try a few.
for attempt in 1 2 3; do
    PG_PORT="$(free_port)"
    if as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/server.log" -w start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DATA" >/dev/null; then
        break
    fi
    if [ "$attempt" -eq 3 ]; then cat "$PG_DATA/server.log" >&2; exit 1; fi
done
as_postgres "$PG_BIN/psql" -q -h "$PG_DATA" -p "$PG_PORT" -U postgres -d postgres \
    -c "CREATE ROLE tower_health LOGIN PASSWORD '$PG_PASSWORD'" >/dev/null

# Redis: the default user needs the password.
REDIS_PASSWORD="$(random_secret)"
mkdir -p "$WORK/redis"
for attempt in 1 2 3; do
    REDIS_PORT="$(free_port)"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --requirepass "$REDIS_PASSWORD" \
        --save "" --appendonly no --dir "$WORK/redis" --logfile "$WORK/redis/server.log" &
    REDIS_PID=$!
    if wait_for_port "$REDIS_PORT" "$REDIS_PID" "$WORK/redis/server.log"; then break; fi
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
    if [ "$attempt" -eq 3 ]; then exit 1; fi
done

# dnsmasq: in the foreground (so $! is its pid), as the current user, no configuration file, no
# upstream servers and no hosts file; it listens on TCP as well as UDP, which wait_for_port sees.
mkdir -p "$WORK/dns"
for attempt in 1 2 3; do
    DNS_PORT="$(free_port)"
    "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --user="$(id -un)" \
        --pid-file="$WORK/dns/dnsmasq.pid" --log-facility="$WORK/dns/server.log" \
        --listen-address=127.0.0.1 --bind-interfaces --port="$DNS_PORT" --no-resolv --no-hosts \
        --address=/test.internal/10.1.2.3 --address=/test.internal/fd00::1:2:3 \
        --address=/missing.internal/ &
    DNS_PID=$!
    if wait_for_port "$DNS_PORT" "$DNS_PID" "$WORK/dns/server.log"; then break; fi
    kill "$DNS_PID" 2>/dev/null || true
    wait "$DNS_PID" 2>/dev/null || true
    DNS_PID=""
    if [ "$attempt" -eq 3 ]; then exit 1; fi
done

export TOWER_HEALTH_TEST_POSTGRES_URL="postgres://tower_health:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"
export TOWER_HEALTH_TEST_REDIS_URL="redis://default:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/"
export TOWER_HEALTH_TEST_DNS="127.0.0.1:$DNS_PORT"
echo "with-test-services: PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT," \
    "dnsmasq on 127.0.0.1:$DNS_PORT" >&2

# Not exec: the trap must stop the servers after the command.
status=0
"$@" || status=$?
exit "$status"
