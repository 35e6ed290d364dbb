#!/usr/bin/env bash
# Install the Debian packages the build needs (TeX Live, biber, latexmk, poppler-utils, chktex, latexdiff), if missing.
# Uses apt-get as root, or through sudo when it needs no password; otherwise says what to install.
set -euo pipefail

# One list, shared with scripts/commands/archive.py (which records the installed versions in the archive).
mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$(dirname "$0")/debian-packages.txt")

# Nothing to do when every listed package is installed (on a system without dpkg: when the tools are there).
if command -v dpkg-query >/dev/null; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
elif command -v latexmk >/dev/null && command -v biber >/dev/null && command -v pdftotext >/dev/null \
   && kpsewhich apa6.bbx >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "error: TeX Live is missing and apt-get cannot be run here." >&2
  echo "  hint: ask an administrator to run: apt-get install --no-install-recommends ${packages[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "error: TeX Live is missing and this is not a Debian/Ubuntu system." >&2
  echo "  hint: install TeX Live with latexmk, biber and biblatex-apa (Debian: ${packages[*]})" >&2
  exit 1
fi
echo "Installing TeX Live from Debian packages (about 90 s) ..."
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
