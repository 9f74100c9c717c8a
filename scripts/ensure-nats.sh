#!/usr/bin/env bash
# Installs Debian's nats-server for the core/edge tests (test/integration/cluster*.test.ts) when it
# is missing: the tests start a real nats-server on a free port. Needs root (CI runs as root);
# without root or apt-get it says what to do and exits 0, and the cluster tests then fail naming
# the missing binary.
set -euo pipefail

if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ]; then exit 0; fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-nats: nats-server is missing; install Debian's nats-server package (apt-get install nats-server) to run the cluster tests" >&2
  exit 0
fi

echo "ensure-nats: installing Debian's nats-server (for the core/edge tests)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends nats-server >/dev/null
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || [ -x /usr/bin/nats-server ]
