#!/usr/bin/env bash
# Regenerates the committed protobuf and gRPC Swift code: Protos/*.proto into Sources/ElastickvAPI, and the
# Kubernetes KMS v2 plugin API (Protos/kmsv2/api.proto) into Sources/KMSPluginAPI. Run after changing a
# .proto file; a normal build never runs protoc. Needs `protoc` (Debian: protobuf-compiler); builds the two
# plugins from the local package mirror into .build-protogen/.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
scratch="$PWD/.build-protogen"
(cd scripts/protogen &&
    swift build -c release --scratch-path "$scratch" --product protoc-gen-swift &&
    swift build -c release --scratch-path "$scratch" --product protoc-gen-grpc-swift-2)
bin="$scratch/release"

# generate OUTPUT_DIR PROTO…: replaces the generated files in OUTPUT_DIR with those of the given files.
generate() {
    local out="$1"
    shift
    mkdir -p "$out"
    rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
    protoc --proto_path=Protos \
        --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
        --swift_opt=Visibility=Public --swift_opt=FileNaming=DropPath --swift_out="$out" \
        --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
        --grpc-swift-2_opt=Visibility=Public --grpc-swift-2_opt=Server=true \
        --grpc-swift-2_opt=Client=true --grpc-swift-2_opt=FileNaming=DropPath \
        --grpc-swift-2_out="$out" "$@"
    echo "generated in $out: $(ls "$out" | tr '\n' ' ')"
}
generate Sources/ElastickvAPI Protos/*.proto
generate Sources/KMSPluginAPI Protos/kmsv2/api.proto
