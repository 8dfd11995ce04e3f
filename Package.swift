// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "DurableRooms",
    platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18)],
    products: [
        .executable(name: "rooms", targets: ["rooms"]),
        .library(name: "RoomRuntime", targets: ["RoomRuntime"]),
        .library(name: "RoomServer", targets: ["RoomServer"]),
        .library(name: "ChatRooms", targets: ["ChatRooms"]),
        .library(name: "ExampleRooms", targets: ["ExampleRooms"]),
        .library(name: "AIRooms", targets: ["AIRooms"]),
        .library(name: "RoomTesting", targets: ["RoomTesting"]),
        .library(name: "RoomsClient", targets: ["RoomsClient"]),
        // The fuzz targets' entries, for the libFuzzer build in Fuzz/ (a package of its own).
        .library(name: "RoomFuzzing", targets: ["RoomFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        // The tests' WebSocket client (HummingbirdWSClient) and its message types (WSCore). The
        // server runs its sockets as NIO channel handlers of its own (WebSocketHandler).
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        // 4.x is what jwt-kit takes; RoomRuntime's own use (SHA-256) reads the same in 3.x.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // The SQLite calls Swift cannot make (variadic ones); compiled against the system's
        // sqlite3.h, the same library GRDBSQLite links.
        .target(
            name: "SQLiteShim",
            dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        .target(
            name: "RoomRuntime",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "SQLiteShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The web app (clients/web) and the JavaScript client it runs on (clients/js/rooms.js),
        // as resources for RoomServer to serve; clients/WebApp.swift says why it lives there.
        .target(
            name: "WebApp",
            path: "clients",
            exclude: ["js/test", "js/rooms.d.ts", "web/test"],
            sources: ["WebApp.swift"],
            resources: [.process("web"), .process("js/rooms.js")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoomServer",
            dependencies: [
                "RoomRuntime",
                "WebApp",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // The links between the nodes of a cluster (NodeLink) are WebSocket clients.
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "WSCore", package: "swift-websocket"),
                "RoomCluster",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChatRooms",
            dependencies: [
                "RoomRuntime",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ExampleRooms",
            dependencies: [
                "RoomRuntime",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AIRooms",
            dependencies: [
                "RoomRuntime",
                "ChatRooms",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoomTesting",
            dependencies: [
                "RoomRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "RoomBench",
            dependencies: [
                "RoomRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Swift client library (issue 14): a room kept connected over WebSocket, on swift-nio,
        // Hummingbird's WebSocket client and AsyncHTTPClient; docs/CLIENTS.md describes it.
        .target(
            name: "RoomsClient",
            dependencies: [
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every test target shares (not a product): the watchdog (every suite is `.watched`:
        // a hung test ends the test process with its name, not CI's timeout with nothing said) and
        // a wait for a process's exit that cannot miss it.
        .target(
            name: "TestSupport",
            swiftSettings: swiftSettings
        ),
        // A throwaway PostgreSQL server for the tests that need one (not a product).
        .target(
            name: "PostgresTesting",
            dependencies: ["TestSupport"],
            swiftSettings: swiftSettings
        ),
        // The room classes `rooms` serves, in one list for the command, its tests and the fuzzers.
        .target(
            name: "BuiltInRooms",
            dependencies: ["RoomRuntime", "ChatRooms", "ExampleRooms", "AIRooms"],
            swiftSettings: swiftSettings
        ),
        // The cluster's control plane (issue 17): nodes, leases and room ownership in PostgreSQL.
        .target(
            name: "RoomCluster",
            dependencies: [
                "RoomRuntime",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // TLS settings of the PostgreSQL connection (postgres-nio's own dependency).
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // One entry per fuzz target (issue 16): the parsers that face the network, fed arbitrary
        // bytes, with the invariants each must keep. Fuzz/ builds them under libFuzzer; the
        // tests replay the committed corpora through them (FuzzCorpusTests).
        .target(
            name: "RoomFuzzing",
            dependencies: [
                "BuiltInRooms",
                "RoomRuntime",
                "RoomServer",
                "ChatRooms",
                "ExampleRooms",
                "AIRooms",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "rooms",
            dependencies: [
                "BuiltInRooms",
                "RoomRuntime",
                "RoomServer",
                "ChatRooms",
                "ExampleRooms",
                "AIRooms",
                "RoomBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        // The README's Swift client example (`swift run rooms-hello`).
        .executableTarget(
            name: "rooms-hello",
            dependencies: ["RoomsClient"],
            path: "examples/swift/rooms-hello",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoomRuntimeTests",
            dependencies: [
                "TestSupport",
                "RoomRuntime",
                "RoomTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoomClusterTests",
            dependencies: [
                "TestSupport",
                "RoomCluster",
                "PostgresTesting",
                "RoomRuntime",
                "RoomTesting",
                "ChatRooms",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatRoomsTests",
            dependencies: [
                "TestSupport",
                "ChatRooms", "RoomTesting", "RoomRuntime",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AIRoomsTests",
            dependencies: ["TestSupport", "AIRooms", "ChatRooms", "RoomTesting", "RoomRuntime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoomBenchTests",
            dependencies: [
                "TestSupport",
                "RoomBench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExampleRoomsTests",
            dependencies: [
                "TestSupport",
                "ExampleRooms", "RoomTesting", "RoomRuntime",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RoomServerTests",
            dependencies: [
                "TestSupport",
                "rooms",
                "BuiltInRooms",
                "PostgresTesting",
                "RoomRuntime",
                "RoomTesting",
                "RoomServer",
                "ChatRooms",
                "ExampleRooms",
                "AIRooms",
                "RoomsClient",
                "RoomFuzzing",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "WSCore", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
    ]
)
