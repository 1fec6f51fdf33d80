"""Reads examples/metrics.rs's /health/metrics with independent parsers and through a real
Prometheus server.

Usage: check_metrics.py EXAMPLE_URL PROMETHEUS_URL
"""

import json
import sys
import time
import urllib.parse
import urllib.request

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

# What Prometheus 2.x sends when it scrapes.
SCRAPE_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)

FAMILIES = {
    "tower_health_check_status": "gauge",
    "tower_health_check_runs": "counter",
    "tower_health_check_duration_seconds": "histogram",
    "tower_health_group_status": "gauge",
    "tower_health_service_status": "gauge",
    "tower_health_requests": "counter",
}


def fetch(url, accept=None, data=None):
    request = urllib.request.Request(url, data=data)
    if accept:
        request.add_header("Accept", accept)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


def samples(families):
    found = {}
    for family in families:
        found[family.name] = family.type
        for sample in family.samples:
            yield family, sample
    assert found == FAMILIES, found


def check_parsers(app):
    # A probe, so the endpoint counters and the readiness group have something to show.
    try:
        fetch(app + "/health/ready")
    except urllib.error.HTTPError as error:
        raise AssertionError(f"readiness answered {error.code}")
    content_type, text = fetch(app + "/health/metrics")
    assert content_type == "text/plain; version=0.0.4; charset=utf-8", content_type
    seen = {}
    for _, sample in samples(parse_text(text)):
        seen[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    status = seen[("tower_health_check_status", (("check", "database"), ("group", "ready")))]
    assert status == 0, status
    queue = seen[("tower_health_check_status", (("check", "queue"), ("group", "ready")))]
    assert queue == 1, f"a warning check: {queue}"
    runs = seen[("tower_health_check_runs_total", (("check", "database"), ("outcome", "pass")))]
    assert runs >= 1, runs
    warned = seen[("tower_health_check_runs_total", (("check", "queue"), ("outcome", "warn")))]
    assert warned >= 1, warned
    count = seen[("tower_health_check_duration_seconds_count", (("check", "database"),))]
    infinite = seen[
        ("tower_health_check_duration_seconds_bucket", (("check", "database"), ("le", "+Inf")))
    ]
    assert count == infinite >= runs, (count, infinite, runs)
    ready = seen[("tower_health_group_status", (("group", "ready"),))]
    assert ready == 1, f"ready warns with the queue warning: {ready}"
    requests = seen[
        ("tower_health_requests_total", (("code", "200"), ("endpoint", "/health/{group}")))
    ]
    assert requests >= 1, requests

    content_type, text = fetch(app + "/health/metrics", accept=SCRAPE_ACCEPT)
    assert content_type == "application/openmetrics-text; version=1.0.0; charset=utf-8", content_type
    assert text.endswith("# EOF\n")
    # The OpenMetrics parser is strict: it rejects what the format does not allow.
    names = {sample.name for _, sample in samples(parse_openmetrics(text))}
    assert "tower_health_check_runs_total" in names, names
    print("text format and OpenMetrics parse with prometheus_client")


def query(prometheus, expression):
    url = prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    _, body = fetch(url)
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    return [result["value"][1] for result in answer["data"]["result"]]


def wait_for(prometheus, expression, expected, seconds=60):
    """Waits (bounded) until the query's only series has the value `expected`; `None`: until
    the query finds any series."""
    deadline = time.monotonic() + seconds
    values = None
    while time.monotonic() < deadline:
        values = query(prometheus, expression)
        if values == [expected] or (expected is None and values):
            return
        time.sleep(0.5)
    raise AssertionError(f"{expression}: {values}, expected [{expected!r}]")


def check_prometheus(app, prometheus):
    database = 'tower_health_check_status{job="health",check="database",group="ready"}'
    wait_for(prometheus, database, "0")
    _, targets = fetch(prometheus + "/api/v1/targets")
    target = json.loads(targets)["data"]["activeTargets"][0]
    assert target["health"] == "up" and target["lastError"] == "", target
    fetch(app + "/toggle", data=b"")
    wait_for(prometheus, database, "2")
    wait_for(prometheus, 'tower_health_check_runs_total{check="database",outcome="fail"} > 0', None)
    fetch(app + "/toggle", data=b"")
    wait_for(prometheus, database, "0")
    print("Prometheus scraped the example and saw the database check fail and recover")


def main():
    app, prometheus = sys.argv[1], sys.argv[2]
    check_parsers(app)
    check_prometheus(app, prometheus)


if __name__ == "__main__":
    main()
