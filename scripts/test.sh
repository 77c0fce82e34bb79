#!/usr/bin/env bash
# Sets up, checks that the committed frontend bundle matches a fresh build,
# then runs every test: frontend unit tests (Vitest) and the Python suite
# (unit, routes, real TensorBoard servers under both loaders, real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "== frontend: rebuild and compare with the committed bundle"
tmp="$(mktemp -d)"
(cd frontend && npx vite build --logLevel warn --emptyOutDir --outDir "$tmp/static")
if ! diff -r "$tmp/static" tensorboard_plugin_channelexplorer/static; then
  echo "The committed bundle in tensorboard_plugin_channelexplorer/static is stale: run 'cd frontend && npm run build' and commit." >&2
  exit 1
fi
rm -rf "$tmp"

echo "== frontend: unit tests"
(cd frontend && npx vitest run)

echo "== python: all tests"
set +e
python3 -m pytest tests -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" = "5" ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit "$rc"
