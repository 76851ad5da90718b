#!/usr/bin/env bash
# Installs playwright-core (the driver only: it uses /usr/bin/chromium, downloads no browser) from
# npm into $FIDELITY_NODE (default ~/.cache/amp-fidelity/node). Idempotent; one line on failure.
set -euo pipefail
NODE=${FIDELITY_NODE:-$HOME/.cache/amp-fidelity/node}
VERSION=1.65.1
command -v node >/dev/null || { echo "chromium flow: node is missing (apt-get install nodejs npm)"; exit 1; }
command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null || { echo "chromium flow: ${CHROMIUM:-/usr/bin/chromium} is missing (apt-get install chromium)"; exit 1; }
if [ "$(node -p "try{require('$NODE/node_modules/playwright-core/package.json').version}catch(e){''}")" != "$VERSION" ]; then
  mkdir -p "$NODE"
  [ -f "$NODE/package.json" ] || echo '{"private":true}' >"$NODE/package.json"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$NODE" --no-audit --no-fund --silent "playwright-core@$VERSION" >/dev/null 2>&1 \
    || { echo "chromium flow: npm install playwright-core@$VERSION into $NODE failed"; exit 1; }
fi
