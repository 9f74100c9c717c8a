#!/usr/bin/env bash
# Installs promtool (Prometheus's own exposition-format parser and linter) for the /metrics test.
# Only the one binary is taken out of Debian's prometheus package: installing the package would
# also register and start a Prometheus server. Needs root and apt-get (CI has both); without
# them it says what to do and exits 0, and the test falls back to its own strict parser
# (outside CI; under CI=true the test requires promtool).
set -euo pipefail

if command -v promtool >/dev/null 2>&1 || [ -x /usr/local/bin/promtool ]; then exit 0; fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-promtool: promtool is missing; install Debian's prometheus package to lint /metrics with it" >&2
  exit 0
fi

echo "ensure-promtool: extracting promtool from Debian's prometheus package (for test/integration/metrics)" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download prometheus >/dev/null 2>&1; then
  apt-get update -qq >&2
  apt-get download prometheus >/dev/null 2>&1
fi
dpkg-deb -x prometheus_*.deb root
install -m 0755 root/usr/bin/promtool /usr/local/bin/promtool
