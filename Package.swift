// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "permid",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PermIDKit", targets: ["PermIDKit"]),
        .library(name: "PermIDStore", targets: ["PermIDStore"]),
        .library(name: "PermIDServer", targets: ["PermIDServer"]),
        .library(name: "PermIDClient", targets: ["PermIDClient"]),
        .executable(name: "permidd", targets: ["permidd"]),
        .executable(name: "permid", targets: ["permid"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // MARK: C libraries, used directly
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CSSL",
            pkgConfig: "libssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(name: "CShims", dependencies: ["CMicroHTTPD", "CSQLite"]),

        // MARK: permid
        .target(name: "PermIDKit", dependencies: ["CCrypto", "CSodium"]),
        .executableTarget(name: "embed-files"),
        .plugin(
            name: "EmbedFiles",
            capability: .buildTool(),
            dependencies: ["embed-files"]
        ),
        .target(
            name: "PermIDStore",
            dependencies: [
                "PermIDKit", "CSQLite", "CShims", "CPostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedFiles"]
        ),
        .target(
            name: "PermIDServer",
            dependencies: [
                "PermIDKit", "PermIDStore", "CMicroHTTPD", "CShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            plugins: ["EmbedFiles"]
        ),
        .executableTarget(
            name: "permidd",
            dependencies: [
                "PermIDKit", "PermIDStore", "PermIDServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PermIDClient",
            dependencies: ["PermIDKit", "CSSL", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .executableTarget(
            name: "permid",
            dependencies: [
                "PermIDKit", "PermIDClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "permid-client-example",
            dependencies: ["PermIDClient", "PermIDKit"],
            path: "Examples/ClientExample"
        ),
        .executableTarget(
            name: "permid-bench",
            dependencies: ["PermIDKit", "PermIDStore", "PermIDClient"],
            path: "bench/tool"
        ),
        .executableTarget(
            name: "permid-bench-verify",
            dependencies: ["PermIDKit"],
            path: "bench/verify"
        ),

        // MARK: tests
        .testTarget(name: "PermIDKitTests", dependencies: ["PermIDKit"]),
        .testTarget(
            name: "PermIDClientTests",
            dependencies: ["PermIDClient", "PermIDKit", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .executableTarget(
            name: "store-crash-writer",
            dependencies: ["PermIDStore", "PermIDKit"],
            path: "Tests/StoreCrashWriter"
        ),
        .testTarget(name: "PermIDStoreTests", dependencies: ["PermIDStore", "PermIDKit", "store-crash-writer"]),
        .testTarget(name: "PermIDServerTests", dependencies: ["PermIDServer", "PermIDStore", "PermIDKit", "PermIDClient"]),
        .testTarget(name: "CLITests", dependencies: ["PermIDKit", "PermIDClient", "permid", "permidd", "permid-client-example"]),
    ],
    swiftLanguageModes: [.v6]
)
