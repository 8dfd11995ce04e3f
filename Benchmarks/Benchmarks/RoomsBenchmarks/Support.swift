import ChatRooms
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
@_spi(Node) import RoomRuntime
import Synchronization

// What the benchmarks share: runtimes on temporary directories, transports that count what they
// are sent, and the chat frames built the way clients send them. Nothing here opens a socket: the
// benchmarks drive `RoomRuntime` the way the server does (connect, receive, request).

struct BenchmarkSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Holds what a benchmark's setup made, for its closure and its teardown.
final class Box<Value>: @unchecked Sendable {
    // @unchecked Sendable: the runner calls setup, the closure and teardown one after another.
    var value: Value?
    init() {}

    var unwrapped: Value {
        guard let value else { fatalError("benchmark state used before its setup ran") }
        return value
    }
}

/// A counter the closure of one benchmark bumps, iteration after iteration.
final class Counter: @unchecked Sendable {
    // @unchecked Sendable: only the benchmark closure uses it, one iteration at a time.
    private var value = 0
    init() {}

    func next() -> Int {
        value += 1
        return value
    }

    func reset() {
        value = 0
    }
}

// MARK: - Counting deliveries

/// Counts the frames delivered to a set of transports, and wakes one waiter when a total is reached.
final class DeliveryCounter: Sendable {
    private struct State {
        var delivered = 0
        var target = Int.max
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    init() {}

    /// Frames delivered so far.
    var delivered: Int { state.withLock { $0.delivered } }

    /// One frame reached one transport (called on a shard thread).
    func record() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.delivered += 1
            guard state.delivered >= state.target, let waiter = state.waiter else { return nil }
            state.waiter = nil
            state.target = .max
            return waiter
        }
        waiter?.resume()
    }

    /// Runs `start`, and returns once `count` more frames than before it have been delivered.
    func expect(_ count: Int, after start: () async -> Void) async {
        let target = state.withLock { state in
            state.target = state.delivered + count
            return state.target
        }
        await start()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                guard state.delivered < target else {
                    state.target = .max
                    return true
                }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }
}

/// A connection's transport that only counts: what a socket would cost is left out, so the
/// figures are the runtime's (routing, the turn, the commit, the fan-out), not a network's.
struct CountingTransport: ConnectionTransport {
    let counter: DeliveryCounter

    func send(_ frame: OutboundFrame) {
        counter.record()
    }

    func close(code: CloseCode, reason: String) {}
}

/// A transport that keeps the text of every frame, for the checks a setup makes before measuring.
final class RecordingTransport: ConnectionTransport {
    private let frames = Mutex<[String]>([])

    init() {}

    func send(_ frame: OutboundFrame) {
        let text = frame.text
        frames.withLock { $0.append(text) }
    }

    func close(code: CloseCode, reason: String) {}

    var texts: [String] { frames.withLock { $0 } }

    /// Waits (polling) until a frame containing `fragment` arrived; fails after `timeout`.
    func waitFor(_ fragment: String, timeout: Duration = .seconds(10)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let frame = texts.first(where: { $0.contains(fragment) }) { return frame }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw BenchmarkSetupError("timed out waiting for a frame with \(fragment); have \(texts)")
    }
}

// MARK: - Runtimes

/// A runtime that logs nothing, so that the benchmark output stays readable.
let quietLogger = Logger(label: "rooms.benchmarks") { _ in SwiftLogNoOpLogHandler() }

let chatKind = "chat"
let relayKind = "relay"

/// A runtime on its own data directory. Its housekeeping (`run()`) is not started: no room
/// hibernates for idleness in the middle of a measurement; only the active-room cap and
/// `shutdown()` hibernate rooms.
final class RuntimeFixture: @unchecked Sendable {
    // @unchecked Sendable: immutable after init.
    let directory: URL
    let runtime: RoomRuntime
    private let ownsDirectory: Bool

    init(
        directory: URL? = nil, synchronous: SynchronousMode = .normal, maxActiveRooms: Int = 10_000
    ) throws {
        if let directory {
            self.directory = directory
            ownsDirectory = false
        } else {
            self.directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("rooms-benchmarks-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
            ownsDirectory = true
        }
        var configuration = RuntimeConfiguration(
            dataDirectory: self.directory,
            kinds: [
                try RoomKind(name: chatKind, roomClass: RoomClass(ChatRoom.self)),
                try RoomKind(name: relayKind, roomClass: RoomClass(RelayRoom.self)),
            ])
        configuration.synchronous = synchronous
        configuration.maxActiveRooms = maxActiveRooms
        configuration.idleTimeout = .seconds(3_600)
        runtime = try RoomRuntime(configuration: configuration, logger: quietLogger)
    }

    func address(_ id: String, kind: String = chatKind) throws -> RoomAddress {
        try runtime.address(kind: kind, id: id)
    }

    /// Stops the runtime (every room hibernates, every file closes); removes the directory if
    /// this fixture made it.
    func stop(removingDirectory: Bool = true) async {
        await runtime.shutdown()
        if ownsDirectory && removingDirectory {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}

/// Writes a room file's pages to disk and drops them from the OS page cache (Linux; elsewhere a
/// no-op), so that the next open reads the disk. Also the file's `-wal` and `-shm`, if any.
func dropFromPageCache(_ file: URL) throws {
    #if os(Linux)
    for suffix in ["", "-wal", "-shm"] {
        let path = file.path + suffix
        guard FileManager.default.fileExists(atPath: path) else { continue }
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BenchmarkSetupError("cannot open \(path): errno \(errno)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw BenchmarkSetupError("cannot sync \(path): errno \(errno)") }
        let status = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        guard status == 0 else { throw BenchmarkSetupError("posix_fadvise failed on \(path): \(status)") }
    }
    #endif
}

// MARK: - Chat traffic

/// A message text of a typical length (about 60 bytes).
func messageText(_ number: Int) -> String {
    "message \(number): the quick brown fox jumps over the lazy dog"
}

/// `POST messages`: stores one message, answered once committed.
func postMessage(_ runtime: RoomRuntime, to address: RoomAddress, number: Int) async throws {
    let body = ByteBuffer(string: #"{"user":"ann","text":"\#(messageText(number))","id":"seed-\#(number)"}"#)
    let response = try await runtime.request(
        RoomRequest(method: "POST", path: ["messages"], body: body), to: address)
    guard response.status == 201 || response.status == 200 else {
        throw BenchmarkSetupError("POST messages answered \(response.status): \(String(buffer: response.body))")
    }
}

/// Gives each room `count` messages, several rooms at a time; a room's messages are posted
/// concurrently, so that they share a few commits.
func seed(_ runtime: RoomRuntime, rooms: [RoomAddress], messages count: Int) async throws {
    let chunk = 16
    for start in stride(from: 0, to: rooms.count, by: chunk) {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for address in rooms[start..<min(start + chunk, rooms.count)] {
                for number in 1...count {
                    group.addTask { try await postMessage(runtime, to: address, number: number) }
                }
            }
            try await group.waitForAll()
        }
    }
}

/// `GET messages?before=MAX&limit=50`: the newest 50 messages, what a client reads on opening a room.
let lastFiftyMessages = RoomRequest(
    method: "GET", path: ["messages"], query: ["before": String(Int64.max), "limit": "50"])

/// `GET messages?limit=1`: the cheapest read of a chat room.
let oneMessage = RoomRequest(method: "GET", path: ["messages"], query: ["limit": "1"])

/// Reads a history response and checks that it holds `count` messages.
func checkHistory(_ response: RoomResponse, count: Int) throws {
    guard response.status == 200 else {
        throw BenchmarkSetupError("GET messages answered \(response.status): \(String(buffer: response.body))")
    }
    struct Page: Decodable { let messages: [ChatMessage] }
    let page = try JSONDecoder().decode(Page.self, from: Data(response.body.readableBytesView))
    guard page.messages.count == count else {
        throw BenchmarkSetupError("expected \(count) messages, got \(page.messages.count)")
    }
}

/// The `send` frame a chat client sends over its WebSocket.
func sendFrame(_ number: Int) -> String {
    #"{"type":"send","text":"\#(messageText(number))","id":"c-\#(number)"}"#
}

/// Checks, in a room of its own, that a `send` is answered with an `ack` and a `message`: the
/// counting benchmarks only count frames, so they rely on this having been seen once.
func checkChatSend(_ fixture: RuntimeFixture) async throws {
    let transport = RecordingTransport()
    let handle = try fixture.runtime.connect(to: fixture.address("check-\(UUID().uuidString)"), user: "ann", transport: transport)
    await handle.receive(.text(sendFrame(1)))
    let ack = try await transport.waitFor(#""type":"ack""#)
    _ = try await transport.waitFor(#""type":"message""#)
    guard ack.contains(#""seq":1"#) else { throw BenchmarkSetupError("unexpected ack: \(ack)") }
    handle.disconnect()
}

/// `count` connections of `user-N` to `address`, counted by `counter`. Returns once every frame
/// their connecting caused has arrived: the `welcome` frames, and in a chat room the `presence`
/// broadcasts (1 + 2 + ... + count of them).
func connectCounting(
    _ count: Int, to address: RoomAddress, runtime: RoomRuntime, counter: DeliveryCounter, presence: Bool
) async throws -> [ConnectionHandle] {
    let expected = count + (presence ? count * (count + 1) / 2 : 0)
    var handles: [ConnectionHandle] = []
    var failure: (any Error)?
    await counter.expect(expected) {
        do {
            for index in 0..<count {
                handles.append(
                    try runtime.connect(
                        to: address, user: "user-\(index)", transport: CountingTransport(counter: counter)))
            }
        } catch {
            failure = error
        }
    }
    if let failure { throw failure }
    return handles
}

// MARK: - Shards

/// An actor whose executor is a shard, as a room's context is.
actor ShardPinned {
    let shard: Shard
    private var count = 0

    init(shard: Shard) {
        self.shard = shard
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        shard.asUnownedSerialExecutor()
    }

    func bump() -> Int {
        count += 1
        return count
    }
}
