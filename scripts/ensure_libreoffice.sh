#!/usr/bin/env bash
# The deck tests render the .pptx to images with LibreOffice Impress (Debian's libreoffice-impress)
# and measure text with the Liberation fonts (metric twins of Arial, which the deck names).
# Install them where they are missing and we may (root or passwordless sudo); never downloads
# anything but Debian packages.
set -euo pipefail
have() { command -v soffice >/dev/null 2>&1 && [ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] \
  && command -v pdftoppm >/dev/null 2>&1; }
if have; then exit 0; fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then as_root=(sudo -n); else
    echo "ensure_libreoffice: LibreOffice is missing and this user cannot install it; run: sudo apt-get install libreoffice-impress fonts-liberation poppler-utils" >&2
    exit 1
  fi
fi
echo "ensure_libreoffice: installing Debian packages libreoffice-impress fonts-liberation poppler-utils"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
  libreoffice-impress fonts-liberation poppler-utils >/dev/null
have
