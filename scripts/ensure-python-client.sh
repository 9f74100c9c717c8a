#!/usr/bin/env bash
# Installs Debian's python3-websockets and python3-msgpack for the Python quick-start test
# (docs/examples/quotes.py, run against the real server by test/integration/protocol-exact).
# A no-op when a python3 already imports both. Needs root and apt-get (CI has both); without
# them it says what to do and exits 0, and the test skips the Python client (outside CI; under
# CI=true the test requires it).
set -euo pipefail

have() { "$1" -c 'import websockets, msgpack' >/dev/null 2>&1; }
for py in python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && have "$py"; then exit 0; fi
done

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-python-client: install python3-websockets and python3-msgpack (Debian) to run the Python quick-start test" >&2
  exit 0
fi

echo "ensure-python-client: installing python3-websockets python3-msgpack (for test/integration/protocol-exact)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends python3 python3-websockets python3-msgpack >/dev/null 2>&1; then
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends python3 python3-websockets python3-msgpack >/dev/null
fi
