// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "elastickv",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Encryption", targets: ["Encryption"]),
        .library(name: "Raft", targets: ["Raft"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "KV", targets: ["KV"]),
        .executable(name: "elastickv", targets: ["elastickv"]),
        .executable(name: "encryption-bench", targets: ["EncryptionBenchmark"]),
        .executable(name: "raft-bench", targets: ["RaftBenchmark"]),
        .executable(name: "storage-bench", targets: ["StorageBenchmark"]),
        .executable(name: "elastickv-admin", targets: ["ElastickvAdmin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CLua",
            pkgConfig: "lua5.1",
            providers: [.apt(["liblua5.1-0-dev", "lua-cjson-dev", "lua-bitop-dev"])]
        ),
        // The C side of the script runtime: the sandbox, its limits and the host functions (see its header).
        .target(name: "LuaRuntime", dependencies: ["CLua"]),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // zstd for compress-then-encrypt of stored values (DESIGN §3.2).
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .target(name: "DurableIO", swiftSettings: strict),
        .target(name: "RESP", swiftSettings: strict),
        .target(
            name: "ElastickvAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // What the node serves and the admin CLI speaks: the control-plane model (cluster and encryption
        // status, changes, errors), its wire conversions and renderings, exit statuses and build info. The
        // admin CLI links this and ElastickvAPI, never Server.
        .target(
            name: "ControlPlane",
            dependencies: [
                "ElastickvAPI", "Encryption",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RedisCommands", dependencies: ["RESP", "KV", "Storage", "DurableIO", "CLua", "LuaRuntime", "CLibCrypto"],
            swiftSettings: strict
        ),
        .target(name: "Storage", dependencies: ["CSQLite", "CZstd", "DurableIO"], swiftSettings: strict),
        .target(
            name: "Server",
            dependencies: [
                "Raft", "Storage", "KV", "Encryption", "RESP", "RedisCommands", "ElastickvAPI", "DurableIO",
                "ControlPlane", "KEKProviders",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(name: "KV", dependencies: ["DurableIO", "Storage", "Encryption", "Raft", "RESP"], swiftSettings: strict),
        .target(
            name: "Encryption",
            dependencies: ["CLibCrypto", "DurableIO"],
            swiftSettings: strict
        ),
        .target(name: "Raft", dependencies: ["DurableIO"], swiftSettings: strict),
        // The PKCS#11 header only (Debian libp11-kit-dev): modules are loaded with dlopen, nothing is linked.
        .systemLibrary(name: "CPKCS11", providers: [.apt(["libp11-kit-dev"])]),
        // The Kubernetes KMS v2 plugin API (Protos/kmsv2, generated by scripts/generate-protos.sh).
        .target(
            name: "KMSPluginAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // KEK providers that call a service, an HSM or a command (DESIGN §3.4); file and env live in Encryption.
        .target(
            name: "KEKProviders",
            dependencies: [
                "Encryption", "DurableIO", "CPKCS11", "KMSPluginAPI", "CLibCrypto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(name: "TestSupport", dependencies: ["DurableIO", "Raft", "Storage", "KV", "Encryption"], swiftSettings: strict),
        .executableTarget(
            name: "ElastickvAdmin",
            dependencies: [
                "ElastickvAPI", "Encryption", "ControlPlane", "KV",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ],
            path: "Sources/elastickv-admin",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "EncryptionBenchmark",
            dependencies: ["Encryption"],
            path: "Benchmarks/EncryptionBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "elastickv",
            dependencies: [
                "Server", "ControlPlane", "Storage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "StorageBenchmark",
            dependencies: ["Storage", "KV", "TestSupport"],
            path: "Benchmarks/StorageBenchmark",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "RaftBenchmark",
            dependencies: ["Raft", "TestSupport", "DurableIO"],
            path: "Benchmarks/RaftBenchmark",
            swiftSettings: strict
        ),
        .testTarget(name: "DurableIOTests", dependencies: ["DurableIO", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "EncryptionTests",
            dependencies: ["Encryption", "TestSupport", "DurableIO"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KEKProvidersTests",
            dependencies: [
                "KEKProviders", "Encryption", "CPKCS11", "KMSPluginAPI", "TestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "TestSupport", "DurableIO"], swiftSettings: strict),
        .testTarget(name: "RESPTests", dependencies: ["RESP"], swiftSettings: strict),
        .testTarget(
            name: "RedisCommandsTests", dependencies: ["RedisCommands", "RESP", "KV", "Storage", "TestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "ControlPlane", "RESP", "RedisCommands", "KV", "Storage", "TestSupport", "ElastickvAPI",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            exclude: ["Python"],
            swiftSettings: strict
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "CSQLite", "CZstd", "DurableIO", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "KVTests", dependencies: ["KV", "Storage", "Encryption", "TestSupport", "CSQLite"], swiftSettings: strict),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
