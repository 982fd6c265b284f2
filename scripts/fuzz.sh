#!/usr/bin/env bash
# Builds and runs one libFuzzer entry point with AddressSanitizer: scripts/fuzz.sh NAME [seconds]
#
# Fuzz/NAME/main.swift is the entry point (a `@_cdecl("LLVMFuzzerTestOneInput")` function). It is linked with
# the sources of Sources/DurableIO and Sources/Encryption (and of Sources/Raft when the entry imports Raft),
# each compiled with swiftc as its own module
# (built with -enable-testing, so an entry may use `@testable import Encryption`), all instrumented with
# -sanitize=fuzzer,address. SwiftPM cannot link such an executable, hence plain swiftc.
#
# Seeds are read from Fuzz/NAME/corpus (committed; keep them few and small). New inputs the fuzzer finds go to
# .build/fuzz/NAME/corpus and crash reproducers to .build/fuzz/NAME/, so the repository is not modified.
# Replay a reproducer with: .build/fuzz/NAME/fuzz-NAME <file>. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

name=${1:?usage: scripts/fuzz.sh NAME [seconds]}
seconds=${2:-60}
entry="Fuzz/$name/main.swift"
[ -f "$entry" ] || { echo "fuzz.sh: no entry point $entry" >&2; exit 2; }

out=".build/fuzz/$name"
mkdir -p "$out/corpus" "Fuzz/$name/corpus"
flags=(-O -sanitize=fuzzer,address -parse-as-library -swift-version 6 -enable-upcoming-feature ExistentialAny
    -enable-testing -I "$out" -I Sources/CLibCrypto)

build_module() {
    local module=$1
    shift
    swiftc "${flags[@]}" -module-name "$module" -wmo -emit-module -emit-module-path "$out/$module.swiftmodule" \
        -c "$@" -o "$out/$module.o"
}

echo "fuzz.sh: building $name" >&2
build_module DurableIO Sources/DurableIO/*.swift
build_module Encryption Sources/Encryption/*.swift
objects=("$out/DurableIO.o" "$out/Encryption.o")
if grep -q '^ *\(@testable \)\{0,1\}import Raft$' "$entry"; then
    mapfile -t raft_sources < <(find Sources/Raft -name '*.swift' | sort)
    build_module Raft "${raft_sources[@]}"
    objects+=("$out/Raft.o")
fi
swiftc "${flags[@]}" "$entry" "${objects[@]}" -lcrypto -o "$out/fuzz-$name" 2> >(
    grep -v "Cannot export local symbol" >&2)

echo "fuzz.sh: running $name for $seconds s" >&2
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} "$out/fuzz-$name" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" "Fuzz/$name/corpus"
