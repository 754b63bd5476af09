#!/usr/bin/env bash
# Browser tests need Debian's Chromium. Install it where it is missing and we may (root or
# passwordless sudo); otherwise say exactly what is missing. Never downloads a browser build.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then as_root=(sudo -n); else
    echo "ensure_chromium: Chromium is missing and this user cannot install it; run: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
echo "ensure_chromium: installing Debian package chromium"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
