#!/usr/bin/env bash
# Builds every workspace package with no features and with each of its features alone, as a
# user who turns on one feature gets it (what `cargo hack check --each-feature --no-dev-deps`
# does, without installing cargo-hack): the library and binaries, as `cargo check` takes them; the
# tests and examples are built with all features by the test command.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=$(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    features = sorted(f for f in package["features"] if f != "default")
    print(package["name"], *features)
')
failed=0
while read -r package features; do
    for feature in "" $features; do
        echo "check-features: $package ${feature:-(no features)}" >&2
        if ! cargo check --quiet -p "$package" --no-default-features \
            ${feature:+--features "$feature"}; then
            echo "check-features: FAILED $package ${feature:-(no features)}" >&2
            failed=1
        fi
    done
done <<<"$packages"
exit "$failed"
