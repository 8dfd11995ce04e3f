import Benchmark
import ChatRooms
import Foundation
@_spi(Node) import RoomRuntime

// DurableRooms micro-benchmarks: `cd Benchmarks && swift package benchmark`.
//
// Every benchmark drives the real code path in process, the way the server does, without sockets:
// `RoomRuntime.connect` with transports that count frames, `ConnectionHandle.receive` for what a
// client sends, `RoomRuntime.request` for HTTP. Storage is real: SQLite files in WAL mode in a
// temporary directory, removed afterwards. See README.md beside Package.swift for what each
// benchmark measures.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.metrics = [.wallClock, .throughput, .mallocCountTotal]
    Benchmark.defaultConfiguration.warmupIterations = 3

    // Small operations run 1,000 times per sample; figures are per operation.
    let micro = Benchmark.Configuration(scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 2_000)
    // Operations that touch storage or many connections: one per sample.
    let macro = Benchmark.Configuration(maxDuration: .seconds(4), maxIterations: 3_000)

    shardBenchmarks(micro: micro)
    activationBenchmarks()
    appendBenchmarks(configuration: macro)
    broadcastBenchmarks(configuration: macro)
    frameBenchmarks(micro: micro)
}

// MARK: - 1. Shard dispatch

func shardBenchmarks(micro: Benchmark.Configuration) {
    // A shard of its own (not a runtime's): the figures are the executor's alone.
    let shard = Box<Shard>()
    let setUp: Benchmark.BenchmarkSetupHook = { shard.value = Shard(index: 0) }
    let tearDown: Benchmark.BenchmarkTeardownHook = {
        shard.value?.shutdown()
        shard.value = nil
    }

    // A new task enqueued on the shard (its `TaskExecutor` side, as the runtime starts an
    // activation), run there, and its result awaited from outside.
    Benchmark("Shard dispatch: task enqueued, run, awaited", configuration: micro) { benchmark in
        let shard = shard.unwrapped
        for _ in benchmark.scaledIterations {
            blackHole(await Task(executorPreference: shard) { 1 }.value)
        }
    } setup: { try await setUp() } teardown: { try await tearDown() }

    // A call into an actor pinned to the shard (its `SerialExecutor` side, as a room's context
    // is): one job onto the shard and one back.
    Benchmark("Shard dispatch: actor call round trip", configuration: micro) { benchmark in
        let pinned = ShardPinned(shard: shard.unwrapped)
        for _ in benchmark.scaledIterations {
            blackHole(await pinned.bump())
        }
    } setup: { try await setUp() } teardown: { try await tearDown() }

    // 1,000 tasks enqueued at once: the shard drains them in batches without sleeping.
    Benchmark("Shard dispatch: burst of 1000 tasks", configuration: micro) { benchmark in
        let shard = shard.unwrapped
        await withTaskGroup(of: Int.self) { group in
            for index in benchmark.scaledIterations {
                group.addTask(executorPreference: shard) { index }
            }
            for await value in group { blackHole(value) }
        }
    } setup: { try await setUp() } teardown: { try await tearDown() }
}

// MARK: - 2, 3. Activation and hibernation

func activationBenchmarks() {
    let historyLength = 60

    // The read alone, for reference: the last 50 messages of a room already in memory.
    let warm = Box<(fixture: RuntimeFixture, room: RoomAddress)>()
    Benchmark(
        "History read: last 50 messages (room in memory)",
        configuration: .init(maxDuration: .seconds(3), maxIterations: 3_000)
    ) { benchmark in
        let (fixture, room) = warm.unwrapped
        let response = try await fixture.runtime.request(lastFiftyMessages, to: room)
        blackHole(response.body.readableBytes)
    } setup: {
        let fixture = try RuntimeFixture()
        let room = try fixture.address("warm")
        try await seed(fixture.runtime, rooms: [room], messages: historyLength)
        try checkHistory(try await fixture.runtime.request(lastFiftyMessages, to: room), count: 50)
        warm.value = (fixture, room)
    } teardown: {
        await warm.value?.fixture.stop()
        warm.value = nil
    }

    // Room activation from a cold file: every sample opens a room that is on disk (60 messages)
    // but was never in this runtime's memory, and reads its last 50 messages (`GET messages`).
    // The files are written by another runtime, which then shut down. Either the OS still caches
    // them (a room that hibernated recently), or their pages were dropped from the page cache
    // first (posix_fadvise DONTNEED), so that SQLite reads them from the disk.
    for dropPageCache in [false, true] {
        let iterations = 250
        let warmup = 3
        let rooms = Box<(fixture: RuntimeFixture, addresses: [RoomAddress])>()
        let next = Counter()
        Benchmark(
            "Activation from cold file + last 50 messages (page cache \(dropPageCache ? "dropped" : "warm"))",
            configuration: .init(warmupIterations: warmup, maxDuration: .seconds(10), maxIterations: iterations)
        ) { benchmark in
            let (fixture, addresses) = rooms.unwrapped
            let index = next.next() - 1
            guard index < addresses.count else {
                benchmark.error("ran out of cold rooms after \(addresses.count) samples")
                return
            }
            let response = try await fixture.runtime.request(lastFiftyMessages, to: addresses[index])
            blackHole(response.body.readableBytes)
        } setup: {
            let writer = try RuntimeFixture()
            let addresses = try (0..<(iterations + warmup + 10)).map { try writer.address("cold-\($0)") }
            let probe = try writer.address("cold-probe")
            try await seed(writer.runtime, rooms: addresses + [probe], messages: historyLength)
            await writer.stop(removingDirectory: false)
            if dropPageCache {
                let layout = StorageLayout(root: writer.directory)
                for address in addresses + [probe] {
                    try dropFromPageCache(layout.file(of: address))
                }
            }
            let reader = try RuntimeFixture(directory: writer.directory)
            guard reader.runtime.activeRoomCount == 0 else {
                throw BenchmarkSetupError("rooms in memory before the first sample")
            }
            try checkHistory(try await reader.runtime.request(lastFiftyMessages, to: probe), count: 50)
            next.reset()
            rooms.value = (reader, addresses)
        } teardown: {
            if let fixture = rooms.value?.fixture {
                await fixture.stop()
                try? FileManager.default.removeItem(at: fixture.directory)
            }
            rooms.value = nil
        }
    }

    // Hibernate → rehydrate: a runtime capped at one room in memory, and two rooms with history.
    // Each sample sends `GET messages?limit=1` to the room that is out of memory: the other room
    // hibernates (hook, commit, file closed) to make room, then this one rehydrates from its file
    // and answers. One sample is one hibernation plus one rehydration.
    let pair = Box<(fixture: RuntimeFixture, rooms: [RoomAddress])>()
    let pairNext = Counter()
    Benchmark(
        "Hibernate + rehydrate (active-room cap 1)",
        configuration: .init(maxDuration: .seconds(4), maxIterations: 3_000)
    ) { benchmark in
        let (fixture, rooms) = pair.unwrapped
        let target = (pairNext.next() - 1) % 2
        let response = try await fixture.runtime.request(oneMessage, to: rooms[target])
        blackHole(response.body.readableBytes)
        benchmark.stopMeasurement()
        // The other room left memory before this one was admitted: check that it did.
        if try fixture.runtime.info(for: rooms[1 - target]).active {
            benchmark.error("\(rooms[1 - target]) is still in memory: no hibernation was measured")
        }
    } setup: {
        let fixture = try RuntimeFixture(maxActiveRooms: 1)
        let rooms = [try fixture.address("pair-a"), try fixture.address("pair-b")]
        for room in rooms {
            try await seed(fixture.runtime, rooms: [room], messages: historyLength)
        }
        // The last seeded room is in memory; the first is not, and is where sample 1 goes.
        guard try fixture.runtime.info(for: rooms[1]).active, try !fixture.runtime.info(for: rooms[0]).active else {
            throw BenchmarkSetupError("expected only \(rooms[1]) in memory after seeding")
        }
        pairNext.reset()
        pair.value = (fixture, rooms)
    } teardown: {
        await pair.value?.fixture.stop()
        pair.value = nil
    }
}

// MARK: - 4. Appending a message

func appendBenchmarks(configuration: Benchmark.Configuration) {
    // A chat `send` from one connection, timed until its `ack` (sent only after the commit) and
    // its `message` broadcast have arrived: decode, validation, duplicate check, insert, commit,
    // encode, output gate. `synchronous` FULL syncs the WAL on every commit.
    for mode in [SynchronousMode.normal, .full] {
        let state = Box<(fixture: RuntimeFixture, counter: DeliveryCounter, handle: ConnectionHandle)>()
        let next = Counter()
        Benchmark("Append message (synchronous \(mode.rawValue.uppercased()))", configuration: configuration) {
            benchmark in
            let (_, counter, handle) = state.unwrapped
            let frame = sendFrame(next.next())
            benchmark.startMeasurement()
            await counter.expect(2) { await handle.receive(.text(frame)) }
        } setup: {
            let fixture = try RuntimeFixture(synchronous: mode)
            try await checkChatSend(fixture)
            let counter = DeliveryCounter()
            let handles = try await connectCounting(
                1, to: fixture.address("append"), runtime: fixture.runtime, counter: counter, presence: true)
            state.value = (fixture, counter, handles[0])
        } teardown: {
            await state.value?.fixture.stop()
            state.value = nil
        }
    }
}

// MARK: - 5. Broadcasting

func broadcastBenchmarks(configuration: Benchmark.Configuration) {
    for connections in [1, 100, 1_000] {
        // A durable chat message: one of `connections` connections sends, all of them (the
        // sender included) receive the `message` frame, and the sender its `ack`. Timed from the
        // send to the last delivery, so the commit is included.
        let chat = Box<(fixture: RuntimeFixture, counter: DeliveryCounter, sender: ConnectionHandle)>()
        let next = Counter()
        Benchmark("Broadcast chat message to \(connections)", configuration: configuration) { benchmark in
            let (_, counter, sender) = chat.unwrapped
            let frame = sendFrame(next.next())
            benchmark.startMeasurement()
            await counter.expect(connections + 1) { await sender.receive(.text(frame)) }
        } setup: {
            let fixture = try RuntimeFixture()
            try await checkChatSend(fixture)
            let counter = DeliveryCounter()
            let handles = try await connectCounting(
                connections, to: fixture.address("fanout-\(connections)"), runtime: fixture.runtime,
                counter: counter, presence: true)
            chat.value = (fixture, counter, handles[0])
        } teardown: {
            await chat.value?.fixture.stop()
            chat.value = nil
        }

        // The same fan-out without storage: a `relay` room (ephemeral) rebroadcasts the frame
        // verbatim to every connection, the sender included.
        let relay = Box<(fixture: RuntimeFixture, counter: DeliveryCounter, sender: ConnectionHandle)>()
        Benchmark("Broadcast relay frame to \(connections)", configuration: configuration) { benchmark in
            let (_, counter, sender) = relay.unwrapped
            await counter.expect(connections) { await sender.receive(.text(relayFrame)) }
        } setup: {
            let fixture = try RuntimeFixture()
            let probe = RecordingTransport()
            let probeHandle = try fixture.runtime.connect(
                to: fixture.address("relay-probe", kind: relayKind), user: "ann", transport: probe)
            await probeHandle.receive(.text(relayFrame))
            _ = try await probe.waitFor(relayFrame)
            let counter = DeliveryCounter()
            let handles = try await connectCounting(
                connections, to: fixture.address("fanout-\(connections)", kind: relayKind), runtime: fixture.runtime,
                counter: counter, presence: false)
            relay.value = (fixture, counter, handles[0])
        } teardown: {
            await relay.value?.fixture.stop()
            relay.value = nil
        }
    }
}

/// What a relay client sends: a cursor position.
let relayFrame = #"{"type":"cursor","x":120,"y":48}"#

// MARK: - 6. Frames

func frameBenchmarks(micro: Benchmark.Configuration) {
    let message = ChatMessage(seq: 12_345, id: "c-12345", user: "ann", text: messageText(12_345), ts: 1_763_740_800_000)

    // The `message` frame as ChatRoom builds it: `MessageFrame(stored).frame`.
    Benchmark("Frame encode: chat message", configuration: micro) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(MessageFrame(message).frame)
        }
    } setup: {
        let text = MessageFrame(message).frame.text
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        guard let object, object["type"] as? String == "message", object["seq"] as? Int == 12_345,
            object["text"] as? String == message.text, object.count == 6
        else {
            throw BenchmarkSetupError("unexpected message frame: \(text)")
        }
    }

    // The client's `send` frame as ChatRoom reads it: `message.decodeJSON(ClientFrame.self)`.
    let send = ClientMessage.text(sendFrame(12_345))
    Benchmark("Frame decode: chat send", configuration: micro) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try send.decodeJSON(ClientFrame.self))
        }
    } setup: {
        let frame = try send.decodeJSON(ClientFrame.self)
        guard frame.type == "send", frame.id == "c-12345", frame.text == messageText(12_345) else {
            throw BenchmarkSetupError("unexpected decoded send frame: \(frame)")
        }
    }
}
