#!/usr/bin/env bash
# The README's first command: installs the Debian packages the build needs (scripts/build-packages.txt:
# OpenSSL's libcrypto, SQLite, Lua 5.1 with cjson and bitop for scripts), then starts a node on the embedded
# defaults. Arguments go to elastickv (e.g. `scripts/run.sh --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t packages < scripts/build-packages.txt
scripts/apt-install.sh "${packages[@]}"
exec swift run elastickv "$@"
