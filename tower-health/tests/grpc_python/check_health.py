"""Checks tower-health's grpc.health.v1 service with Python's independent gRPC implementation.

Usage: check_health.py HOST:PORT [PID]   (a running `cargo run --example tonic --features grpc`)

With PID, the last case sends the example SIGTERM while a Watch is open: the Watch must report
NOT_SERVING and then end, so that it does not hold up the graceful shutdown.
"""

import os
import signal
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
TIMEOUT = 10  # seconds: a bound on a hung call, not a timing assertion

results = []


def case(name):
    def run(test):
        try:
            test()
            results.append((name, None))
            print(f"ok    {name}")
        except Exception as error:  # noqa: BLE001 - every failure is reported
            results.append((name, error))
            print(f"FAIL  {name}: {error!r}")
        return test

    return run


def status_name(status):
    return health_pb2.HealthCheckResponse.ServingStatus.Name(status)


def main(address, pid=None):
    channel = grpc.insecure_channel(address)
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    stub = health_pb2_grpc.HealthStub(channel)

    def check(service):
        request = health_pb2.HealthCheckRequest(service=service)
        return stub.Check(request, timeout=TIMEOUT).status

    @case('Check "" is SERVING')
    def _():
        assert check("") == SERVING, status_name(check(""))

    @case('Check "readiness" is SERVING')
    def _():
        assert check("readiness") == SERVING, status_name(check("readiness"))

    @case('Check "greeter" (a check by name) is SERVING')
    def _():
        assert check("greeter") == SERVING, status_name(check("greeter"))

    @case("Check of an unknown name fails with NOT_FOUND")
    def _():
        try:
            check("no-such-check")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.NOT_FOUND, error.code()
        else:
            raise AssertionError("the call succeeded")

    @case("List names the service, every group and every check, all SERVING")
    def _():
        response = stub.List(health_pb2.HealthListRequest(), timeout=TIMEOUT)
        statuses = {name: status_name(r.status) for name, r in response.statuses.items()}
        expected = ["", "greeter", "live", "ready", "startup"]
        assert sorted(statuses) == expected, statuses
        assert set(statuses.values()) == {"SERVING"}, statuses

    @case('Watch "" sends SERVING at once and stays open')
    def _():
        request = health_pb2.HealthCheckRequest(service="")
        stream = stub.Watch(request, timeout=TIMEOUT)
        first = next(stream)
        assert first.status == SERVING, status_name(first.status)
        stream.cancel()

    @case("Watch of an unknown name sends SERVICE_UNKNOWN and stays open")
    def _():
        request = health_pb2.HealthCheckRequest(service="no-such-check")
        stream = stub.Watch(request, timeout=TIMEOUT)
        first = next(stream)
        assert first.status == SERVICE_UNKNOWN, status_name(first.status)
        # The stream is still open: the deadline, not the server, ends it.
        assert stream.is_active(), "the server closed the stream"
        stream.cancel()

    if pid is not None:

        @case("SIGTERM: Watch reports NOT_SERVING, then the server ends it")
        def _():
            request = health_pb2.HealthCheckRequest(service="")
            stream = stub.Watch(request, timeout=TIMEOUT)
            first = next(stream)
            assert first.status == SERVING, status_name(first.status)
            os.kill(pid, signal.SIGTERM)
            draining = next(stream)
            assert draining.status == NOT_SERVING, status_name(draining.status)
            rest = list(stream)  # ends without error when the server closes it
            assert rest == [], rest
            assert stream.code() == grpc.StatusCode.OK, stream.code()

    channel.close()
    failed = sum(1 for _, error in results if error is not None)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else None))
