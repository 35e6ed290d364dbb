#!/usr/bin/env bash
# Debian's python3 needs the python3-venv package to create virtual environments.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then sudo=(); elif sudo -n true 2>/dev/null; then sudo=(sudo -n); else
  echo "error: python3 cannot create a virtual environment here." >&2
  echo "  hint: ask an administrator to run: apt-get install python3-venv" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq python3-venv >/dev/null
