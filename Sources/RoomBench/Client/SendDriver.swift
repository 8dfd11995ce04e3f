import NIOCore

/// Drives the senders: at a fixed total rate (a tick per millisecond on each loop sends what is
/// due), or as fast as acknowledgements come back (each sender keeps `window` messages in flight).
final class SendDriver: @unchecked Sendable {
    private let senders: [LoadSocket]
    private let rate: Rate
    private let size: Int
    private let window: Int
    private var ticks: [RepeatedTask] = []
    /// Set to stop sending, read on every sender's loop.
    private let stopped = StopFlag()

    init(senders: [LoadSocket], rate: Rate, size: Int, window: Int) {
        self.senders = senders
        self.rate = rate
        self.size = size
        self.window = window
    }

    /// Starts sending on every sender's loop.
    func start() async throws {
        let byLoop = Dictionary(grouping: senders) { ObjectIdentifier($0.channel!.eventLoop) }
        for group in byLoop.values {
            let loop = group[0].channel!.eventLoop
            switch rate {
            case .max:
                try await loop.submit {
                    for sender in group {
                        sender.onAcknowledged = { [unowned sender, self] in
                            if !self.stopped.isSet { sender.sendMessage(size: self.size) }
                        }
                        for _ in 0..<self.window { sender.sendMessage(size: self.size) }
                    }
                }.get()
            case .perSecond(let total):
                // Each sender's own frames (raw mode) and acks count as acknowledged even though
                // they trigger nothing: the rate search checks that the rate asked for was achieved.
                try await loop.submit {
                    for sender in group { sender.onAcknowledged = {} }
                }.get()
                let perLoop = total * Double(group.count) / Double(senders.count)
                let started = NIODeadline.now()
                var sent = 0
                var next = 0
                let task = loop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(1)) {
                    [self] _ in
                    guard !self.stopped.isSet else { return }
                    let elapsed = Double((NIODeadline.now() - started).nanoseconds) / 1e9
                    let due = Int(perLoop * elapsed) - sent
                    for _ in 0..<max(0, due) {
                        group[next % group.count].sendMessage(size: self.size)
                        next += 1
                    }
                    sent += max(0, due)
                }
                ticks.append(task)
            }
        }
    }

    /// Stops sending (messages in flight still arrive).
    func stop() {
        stopped.set()
        for task in ticks { task.cancel() }
    }
}
