#!/usr/bin/env bash
# Installs the pinned twilio-taskrouter SDK from npm and bundles it for the worker page's <script> tag.
# Both steps are skipped when their outputs are newer than their inputs, so a repeated `make install` is instant.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/ensure_node.sh"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  # ensure_node.sh has already said what is missing; outside CI the rest of the project still installs.
  echo "Skipped the worker page's SDK bundle: node and npm are missing." >&2
  exit 0
fi
cd "$root/tutorial_helpers/worker_page"
bundle=static/twilio-taskrouter.js
# npm ci deletes node_modules first, so a stamp inside it disappears with any half-finished install.
stamp=node_modules/.installed-from-lock
did=()
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  touch "$stamp"
  did+=("installed twilio-taskrouter from package-lock.json")
fi
if [ ! -f "$bundle" ] || [ package-lock.json -nt "$bundle" ] || [ sdk_entry.js -nt "$bundle" ] \
  || [ package.json -nt "$bundle" ]; then
  mkdir -p static
  # Built beside the bundle and renamed over it, so a page being served never gets half a file.
  tmp="$(mktemp static/.twilio-taskrouter.js.XXXXXX)"
  trap 'rm -f "$tmp"' EXIT
  SDK_BUNDLE_OUT="$tmp" npm run --silent build
  chmod 644 "$tmp"
  mv -f "$tmp" "$bundle"
  did+=("bundled twilio-taskrouter into tutorial_helpers/worker_page/$bundle")
fi
if [ ${#did[@]} -eq 2 ]; then
  echo "Worker page SDK: ${did[0]}; ${did[1]}."
elif [ ${#did[@]} -eq 1 ]; then
  echo "Worker page SDK: ${did[0]}."
fi
