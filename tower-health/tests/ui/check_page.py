"""Drives Chromium against the status page example; see run.sh. Exits non-zero on a failure."""

import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from html.parser import HTMLParser

PASS, FAIL = "#2e7d32", "#c62828"
RING = 20  # the example's history length


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Canary(http.server.BaseHTTPRequestHandler):
    """Records every request: a page that ran the hostile markup would fetch its image here."""

    hits = []

    def do_GET(self):
        Canary.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


class Dom(HTMLParser):
    """The parts of the rendered DOM the assertions read."""

    def __init__(self):
        super().__init__()
        self.title, self.in_title = "", False
        self.tags = []
        self.checks = {}  # name -> {"results": int, "cells": [(status, fill)], "failure": str}
        self.row, self.in_failure = None, False
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "title" and not self.row:
            self.in_title = True
        if tag == "tr" and attrs.get("class") == "check":
            self.row = {"results": int(attrs["data-results"]), "cells": [], "failure": "",
                        "status": attrs["data-status"]}
            self.checks[attrs["data-name"]] = self.row
        if tag == "rect" and self.row is not None:
            self.row["cells"].append((attrs.get("data-status"), attrs.get("fill")))
        if tag == "td" and attrs.get("class") == "failure":
            self.in_failure = True

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if tag == "tr":
            self.row = None
        if tag == "td":
            self.in_failure = False

    def handle_data(self, data):
        self.text.append(data)
        if self.in_title and self.row is None:
            self.title += data
        if self.in_failure and self.row is not None:
            self.row["failure"] += data


def chromium(args):
    profile = tempfile.mkdtemp(prefix="tower-health-ui-")
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", f"--user-data-dir={profile}"] + args
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout


def page(url):
    dom = Dom()
    dom.feed(chromium(["--dump-dom", url]))
    return dom


def check(condition, what):
    if not condition:
        print(f"ui: FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ui: ok: {what}")


def main():
    example, screenshot = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    public, operator, canary = free_port(), free_port(), free_port()
    canary_server = http.server.HTTPServer(("127.0.0.1", canary), Canary)
    threading.Thread(target=canary_server.serve_forever, daemon=True).start()
    env = dict(os.environ, PORT=str(public), OPERATOR_PORT=str(operator), CANARY_PORT=str(canary),
               RUST_LOG="warn")
    app = subprocess.Popen([example], env=env, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{operator}/health/ui", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.5)  # a few background runs into the history
        ops = f"http://127.0.0.1:{operator}/health/ui"
        first = page(ops)
        check(first.title == "Health: warn", f"overall status in the title ({first.title!r})")
        check(set(first.checks) == {"database", "cache", "payments"}, "a row per check")
        for name, row in first.checks.items():
            check(len(row["cells"]) == row["results"] and 0 < row["results"] <= RING,
                  f"{name}: one cell per stored result ({len(row['cells'])})")
        check(all(cell == ("fail", FAIL) for cell in first.checks["payments"]["cells"]),
              "a failing check's cells are red")
        check(first.checks["database"]["cells"][-1] == ("pass", PASS), "a passing one's green")
        hostile = first.checks["payments"]["failure"]
        check(f'<img src="http://127.0.0.1:{canary}/x"' in hostile and "</script>" in hostile,
              "the hostile message shows as text on the operator's page")
        check("img" not in first.tags and "script" not in first.tags,
              "no element is made of a message")

        anonymous = page(f"http://127.0.0.1:{public}/health/ui")
        text = "".join(anonymous.text)
        check(set(anonymous.checks) == {"database", "cache", "payments"}, "names for everyone")
        check("onerror" not in text and "<img" not in text and "refused" not in text,
              "no message for an anonymous visitor")

        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{public}/flip",
                                                      method="POST"), timeout=5)
        flipped = None
        for _ in range(40):
            time.sleep(0.25)
            dom = page(ops)
            if dom.checks["cache"]["cells"][-1] == ("fail", FAIL):
                flipped = dom
                break
        check(flipped is not None, "the cache's latest cell turns red after the flip")
        check(flipped.checks["cache"]["results"] >= first.checks["cache"]["results"],
              "the history grew (up to its length)")
        check("refused the connection" in flipped.checks["cache"]["failure"],
              "its failure message on the operator's page")
        check(flipped.title == "Health: fail", f"overall fails ({flipped.title!r})")

        if screenshot:
            # Back up first, so the picture shows a recovered check.
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{public}/flip",
                                                          method="POST"), timeout=5)
            time.sleep(1)
            chromium(["--window-size=1100,600", f"--screenshot={screenshot}", ops])
            check(os.path.getsize(screenshot) > 0, f"screenshot in {screenshot}")
        time.sleep(0.5)
        check(Canary.hits == [], f"no request reached the hostile URL ({Canary.hits})")
    finally:
        app.terminate()
        app.wait(timeout=10)
        canary_server.shutdown()


if __name__ == "__main__":
    main()
