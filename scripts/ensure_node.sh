#!/usr/bin/env bash
# Installs Debian's nodejs and npm when they are missing: the worker page's twilio-taskrouter SDK
# comes from npm (pinned by package-lock.json) and is bundled by esbuild, which both need node.
set -euo pipefail
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's nodejs and npm for the worker page's JavaScript SDK..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  exit 0
fi
missing=""
command -v node >/dev/null 2>&1 || missing="node"
command -v npm >/dev/null 2>&1 || missing="${missing:+$missing and }npm"
echo "Missing $missing; it cannot be installed here (needs root and apt-get)." >&2
echo "Install Node.js with npm (Debian: 'apt-get install nodejs npm'); the worker page and its tests need them." >&2
[ "${CI:-}" = "true" ] && exit 1 || exit 0
