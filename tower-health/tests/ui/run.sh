#!/usr/bin/env bash
# The status page in a real browser: Debian's Chromium (installed if missing) loads
# examples/status_page.rs's page on 127.0.0.1 and check_page.py asserts on the rendered DOM:
# statuses, one history cell per stored result, the failure message only on the operator's
# port, the history growing and changing colour as a check flips, and a hostile message that
# runs nothing (the title stays, no element is made of it, no request reaches the URL it names).
#
#   bash tower-health/tests/ui/run.sh [SCREENSHOT.png]
set -euo pipefail
cd "$(dirname "$0")/../../.."

if ! command -v chromium >/dev/null; then
    echo "ui: installing chromium" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cargo build -p tower-health --features ui --example status_page
target="${CARGO_TARGET_DIR:-target}"
python3 tower-health/tests/ui/check_page.py "$target/debug/examples/status_page" "${1:-}"
