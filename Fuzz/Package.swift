// swift-tools-version:6.1
import PackageDescription

// The libFuzzer build of the fuzz targets (issue 16): one executable that hands every input to
// the entry of `RoomFuzzing` that `FUZZ_TARGET` names. A package of its own, because it links
// only with `-sanitize=fuzzer` (libFuzzer's driver), which the root package's `swift build` does
// not pass; and a scratch path of its own (Fuzz/.build), so the instrumented objects never mix
// with the root's .build.
// `Fuzz/run` builds and runs it; docs/RELIABILITY.md, "Fuzzing", says what it covers.
let package = Package(
    name: "RoomsFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "DurableRooms", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "rooms-fuzz",
            dependencies: ["CLibFuzzer", .product(name: "RoomFuzzing", package: "DurableRooms")]
        ),
        .target(name: "CLibFuzzer"),
    ]
)
