// swift-tools-version:6.1
//
// DurableRooms micro-benchmarks (ordo-one/benchmark). A package of its own, so that the main
// package, and `swift test` in CI, never build the benchmark dependency.
//
//     cd Benchmarks && swift package benchmark
import PackageDescription

let package = Package(
    name: "DurableRoomsBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "DurableRooms", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "RoomsBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RoomRuntime", package: "DurableRooms"),
                .product(name: "ChatRooms", package: "DurableRooms"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/RoomsBenchmarks",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
