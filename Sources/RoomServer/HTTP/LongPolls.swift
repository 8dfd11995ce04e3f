import NIOCore
@_spi(Node) package import RoomRuntime
import Foundation
import Synchronization

/// Long polling: `GET /rooms/{kind}/{id}/messages?after=SEQ&wait=SECONDS` (docs/PROTOCOL.md, "Long
/// polling").
///
/// The room answers as for any history read; when that page is empty, the request waits (up to
/// `wait` seconds) for the room to store something past `after`, then reads again. The wait is a
/// ``SequenceWaiter``, which the room's commit wakes: it holds neither the room in memory nor a
/// connection of the room. Waiting polls are bounded per node (`server.maxWaitingPolls`).
package final class LongPolls: Sendable {
    let runtime: RoomRuntime
    /// The most polls waiting at once.
    let limit: Int
    private let waiting = Atomic(0)

    /// The longest wait a poll may ask for, in seconds.
    static let maxWaitSeconds = 30

    init(runtime: RoomRuntime, limit: Int) {
        self.runtime = runtime
        self.limit = limit
    }

    /// The number of polls waiting now.
    var count: Int { waiting.load(ordering: .relaxed) }

    /// The wait `query` asks for, in seconds; nil when it asks for none.
    ///
    /// - Throws: ``RoomError`` `invalid_query` unless `wait` is a whole number from 1 to 30.
    package static func wait(in query: [String: String]) throws(RoomError) -> Int? {
        guard let text = query["wait"] else { return nil }
        guard text.utf8.count <= 2, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let seconds = Int(text), (1...maxWaitSeconds).contains(seconds)
        else {
            throw .badRequest(.invalidQuery, "'wait' must be a whole number of seconds from 1 to \(maxWaitSeconds)")
        }
        return seconds
    }

    /// The room's answer to `request` (a history read, without `wait`), waiting up to `seconds`
    /// for something past `after` when it has nothing yet.
    ///
    /// - Throws: ``RoomError`` `too_many_waiters` (503) when `server.maxWaitingPolls` polls wait
    ///   already, `room_deleted` (404) when the room is deleted while the poll waits,
    ///   `shutting_down` (503) when the node stops meanwhile; what the room throws.
    func answer(_ request: RoomRequest, at address: RoomAddress, after: Int64, seconds: Int) async throws -> RoomResponse {
        guard waiting.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            waiting.subtract(1, ordering: .relaxed)
            throw RoomError.unavailable(.tooManyWaiters, "\(limit) long polls are waiting on this node; retry later")
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            // Registered before the read: a commit between the read and the wait still wakes it.
            let waiter = runtime.sequenceWatchers.register(address, after: after)
            defer { runtime.sequenceWatchers.remove(waiter) }
            var asked = request
            // Forwarded to the room's node, the poll waits there, where the room commits.
            asked.longPoll = RoomRequest.LongPoll(after: after, seconds: max(1, Int((deadline - ContinuousClock.now).components.seconds)))
            let response = try await runtime.request(asked, to: address)
            if response.wasForwarded { return response }
            let remaining = deadline - ContinuousClock.now
            guard response.status == 200, Self.isEmptyPage(response.body), remaining > .zero else { return response }
            switch await waiter.wait(timeout: remaining) {
            case .advanced:
                continue
            case .expired:
                return response
            case .deleted:
                throw RoomError.notFound(.roomDeleted, "the room was deleted while the poll waited")
            case .stopping:
                throw RoomError.unavailable(.shuttingDown, "the server is shutting down")
            }
        }
    }

    /// Whether `body` is a page with no messages (`{"messages": []}`).
    static func isEmptyPage(_ body: ByteBuffer) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let messages = object["messages"] as? [Any]
        else { return false }
        return messages.isEmpty
    }
}
