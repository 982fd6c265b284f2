#!/usr/bin/env bash
# Regenerates the committed Swift code of the Kubernetes KMS v2 plugin API (Protos/kmsv2/api.proto) into
# Sources/KMSPluginAPI/. Run after changing that .proto; a normal build never runs protoc. Needs `protoc`
# (Debian: protobuf-compiler); builds the two plugins from the local package mirror into .build-protogen/,
# the folder scripts/generate-protos.sh uses too.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
scratch="$PWD/.build-protogen"
(cd scripts/protogen &&
    swift build -c release --scratch-path "$scratch" --product protoc-gen-swift &&
    swift build -c release --scratch-path "$scratch" --product protoc-gen-grpc-swift-2)
bin="$scratch/release"
out=Sources/KMSPluginAPI
mkdir -p "$out"
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc --proto_path=Protos \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath --swift_out="$out" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --grpc-swift-2_opt=Visibility=Public --grpc-swift-2_opt=Server=true \
    --grpc-swift-2_opt=Client=true --grpc-swift-2_opt=FileNaming=DropPath \
    --grpc-swift-2_out="$out" Protos/kmsv2/api.proto
echo "generated: $(ls "$out")"
