#!/usr/bin/env bash
# What `npm test` needs from the machine beyond npm packages: Debian's Chromium for the dashboard's
# browser test and promtool for the /metrics format test. Each script is a no-op once installed.
set -euo pipefail
dir="$(dirname "$0")"
bash "$dir/ensure-chromium.sh"
bash "$dir/ensure-promtool.sh"
