import Foundation
import Histogram

extension SocketScenarios {
    /// `server.maxQueuedFrames` of the server `slow` starts. A listener that stops reading first
    /// fills the socket buffers (on loopback about 5,700 frames of 64 bytes, whose kernel overhead
    /// dwarfs them, or about 670 of 4 KiB), then this queue. Whichever bound comes first closes it:
    /// the queue (1013), or the heartbeat, since it answers no ping (1001, 30 to 60 s after it
    /// stopped). At 100 msg/s of small messages that is the heartbeat; with 4 KiB messages, the
    /// queue.
    static let slowMaxQueuedFrames = 256

    /// One room of `clients` readers (default 1,000) and a sender at `rate` (default 100 msg/s),
    /// measured calm; then again with a listener that stops reading (closed by the server once
    /// `server.maxQueuedFrames` frames wait for it) and a client flooding a room of its own without
    /// reading its answers, for `duration` seconds (`rooms bench` makes it 60 by default: long
    /// enough for the stalled listener to reach a bound). The result is the readers' figures in that window, with the
    /// calm ones and the misbehaving clients' fate in ``MisbehaviourSummary``.
    static func slow(_ options: BenchOptions, target: BenchTarget, client: LoadClient) async throws -> BenchResult {
        let run = UUID().uuidString.prefix(8)
        let base = "/rooms/chat/slow-\(run)"
        _ = try await client.connect(options.clients, mode: .chat) { "\(base)/ws?user=l\($0)" }
        let sender = try await client.connect(path: "\(base)/ws?user=sender", mode: .chat)
        let driver = SendDriver(senders: [sender], rate: options.rate, size: options.size, window: 32)
        try await driver.start()
        let calm = try await Measurement.run(client: client, target: target, options: options)
        let rssCalm = target.sample()?.rssBytes

        let stalled = try StalledListener(host: target.host, port: target.port, path: "\(base)/ws?user=stalled")
        let flooder = Flooder(
            host: target.host, port: target.port, path: "/rooms/chat/flood-\(run)/ws?user=flooder", size: options.size)
        var measured = try await Measurement.window(client: client, target: target) {
            try await Task.sleep(for: .milliseconds(Int64(options.duration * 1000)))
        }
        let flood = flooder.stop()
        let rssAfter = target.sample()?.rssBytes
        driver.stop()
        let outcome = stalled.finish()
        measured.warmup = calm.warmup
        var result = measured.result(
            options, target: target,
            notes: [
                "latency, deliveries and errors are the \(options.clients) readers' while one more listener stops reading "
                    + "and one client floods a room of its own without reading; the calm figures are the same readers just before"
            ])
        let calmP99 = calm.stats.latency.valueAtPercentile(99)
        result.misbehaviour = MisbehaviourSummary(
            calmLatencyMicros: LatencySummary(calm.stats.latency),
            p99Ratio: calmP99 > 0 ? Double(result.latencyMicros.p99) / Double(calmP99) : 0,
            maxQueuedFrames: options.url == nil ? Self.slowMaxQueuedFrames : nil, stalledFramesReceived: outcome.framesReceived,
            stalledCloseCode: outcome.closeCode, stalledEnded: outcome.ended, floodFramesSent: flood.framesSent,
            floodSessionsClosed: flood.sessionsClosed, serverRssCalmBytes: rssCalm, serverRssAfterBytes: rssAfter)
        return result
    }
}
