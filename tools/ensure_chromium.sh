#!/usr/bin/env bash
# The browser tests (tests/browser) drive Debian's Chromium with Playwright.
# Install it where it is missing and we may (root, apt-get); otherwise say how.
set -euo pipefail
if [ -n "${RLTNET_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    exit 0
fi
echo "Chromium is missing: install it (Debian/Ubuntu: sudo apt-get install chromium)" \
    "or set RLTNET_CHROMIUM to a Chromium binary; the browser tests need it" >&2
exit 1
