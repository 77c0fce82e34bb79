#!/usr/bin/env bash
# Installs everything the demo and the tests need on a fresh Debian machine:
# Chromium (browser tests), the Python packages (torch pinned to the CPU wheel)
# and this plugin in editable mode, and the frontend's npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q chromium
fi

python3 -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
python3 -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .

if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
fi
