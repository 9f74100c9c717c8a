#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test when it is missing. The test drives
# /usr/bin/chromium through playwright-core: a browser build downloaded by a test tool cannot be
# fetched on our machines, Debian's package can. Needs root (CI runs as root); without root or
# apt-get it says what to do and exits 0, and the browser test then fails naming the missing path.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then exit 0; fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing; install Debian's chromium package (apt-get install chromium) to run the browser test" >&2
  exit 0
fi

echo "ensure-chromium: installing Debian's chromium (for test/e2e)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x "$CHROMIUM"
