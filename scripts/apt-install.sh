#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are missing (apt-get, through sudo when not root).
# scripts/run.sh and scripts/test.sh call it with what the build (and the tests) need.
set -euo pipefail
missing=()
for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "apt-install: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
