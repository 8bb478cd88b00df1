#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing.
# Playwright drives it through executable_path; no browser is ever downloaded.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "chromium is not installed and cannot be installed here (need root and apt-get)." >&2
echo "Install Debian's 'chromium' package; the browser tests fail under CI without it." >&2
[ "${CI:-}" = "true" ] && exit 1 || exit 0
