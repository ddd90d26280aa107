#!/usr/bin/env bash
# Installs what the browser workload and its tests drive: Debian's Chromium and its
# WebDriver (chromium, chromium-driver: /usr/bin/chromium, /usr/bin/chromedriver), and
# nghttp2's clients (nghttp2-client: nghttp, h2load), the outside HTTP/2 clients of the
# wire measurements. Idempotent: installs only what is missing, and says what it did.
# Needs root (apt-get); .ci/run calls it when a tool is missing.
#
#   sudo scripts/install-browser.sh
set -euo pipefail

declare -A tool_of=([chromium]=chromium [chromium-driver]=chromedriver [nghttp2-client]=nghttp)
missing=()
for pkg in chromium chromium-driver nghttp2-client; do
  if ! command -v "${tool_of[$pkg]}" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-browser: nothing to install (chromium, chromedriver and nghttp are present)"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: missing ${missing[*]}; run as root (apt-get install)" >&2
    exit 1
  fi
  echo "install-browser: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-browser: installed ${missing[*]}"
fi
for tool in chromium chromedriver nghttp h2load; do
  if command -v "$tool" >/dev/null 2>&1; then
    printf '  %-13s %s\n' "$tool" "$("$tool" --version 2>/dev/null | head -n 1)"
  else
    echo "install-browser: $tool still missing after the install" >&2
    exit 1
  fi
done
