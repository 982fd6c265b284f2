#!/usr/bin/env bash
# The project's test command (README, and what CI's .ci/run calls): installs what the tests need on a fresh
# machine of this kind, then runs `swift test` with any arguments given (e.g. `--filter RaftTests`).
#
# Debian packages are installed with apt-get (through sudo when not root) only when missing (scripts/apt-install.sh). The Python
# packages the multi-process tests use live in a venv under .build/test-venv, created once; its bin/ goes
# first on PATH so the tests' `python3` is the venv's.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t packages < scripts/build-packages.txt   # what the build needs (scripts/run.sh installs the same)
packages+=(
    openssl             # certificates and interop checks in tests
    python3-venv        # the venv below (Debian's python3; a pyenv python has venv built in)
    prometheus          # promtool: DeployConfigTests check deploy/prometheus (no server is started or needed)
    iptables            # the fault suite's partitions (fault_test.py; skipped when not root)
    redis-server        # the differential tests' reference server
    tcpdump             # tls_capture_test.py: no canary on the wire with TLS on (skipped when not root)
    softhsm2            # the pkcs11: KEK provider's tests (a PKCS#11 token made per test run)
    opensc              # pkcs11-tool: the AES key of the pkcs11: cluster test's token
)
scripts/apt-install.sh "${packages[@]}"

venv=".build/test-venv"
python_packages=(cryptography redis "moto[server]" zstandard)   # pip names (moto_server: the aws-kms: KEK tests;
                                                               # zstandard: compressed rows in formats_reader.py)
modules="cryptography,redis,moto.server,zstandard"
if ! "$venv/bin/python3" -c "import $modules" 2>/dev/null; then
    echo "test.sh: creating the Python venv $venv (${python_packages[*]})" >&2
    mkdir -p .build
    python3 -m venv "$venv"
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check "${python_packages[@]}"
fi
export PATH="$PWD/$venv/bin:$PATH"

exec swift test "$@"
