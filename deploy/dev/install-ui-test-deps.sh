#!/usr/bin/env bash
# Installs what the web page's browser test (internal/ui/e2e) needs, once:
# Debian's chromium (driven by playwright-core at /usr/bin/chromium, so no
# browser download from a CDN) and the test's node_modules (npm ci, from
# the committed package-lock.json). Idempotent: a second run only checks.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-ui-test-deps: installing ${need[*]} with apt-get" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

e2e="$repo/internal/ui/e2e"
if [ ! -d "$e2e/node_modules/playwright-core" ]; then
  echo "install-ui-test-deps: npm ci in internal/ui/e2e" >&2
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
