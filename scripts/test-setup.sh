#!/usr/bin/env bash
# What `npm test` needs from the machine beyond npm packages: Debian's Chromium for the dashboard's
# browser test, promtool for the /metrics format and rules tests, Python's websockets and msgpack for
# the Python quick start (docs/examples/quotes.py) and nats-server for the core/edge tests. Each
# script is a no-op once installed.
set -euo pipefail
dir="$(dirname "$0")"
bash "$dir/ensure-chromium.sh"
bash "$dir/ensure-promtool.sh"
bash "$dir/ensure-python-client.sh"
bash "$dir/ensure-nats.sh"
