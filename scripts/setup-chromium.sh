#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing (needs root and the Debian package registry).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "chromium missing: run as root: apt-get install -y chromium" >&2; exit 1; fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
