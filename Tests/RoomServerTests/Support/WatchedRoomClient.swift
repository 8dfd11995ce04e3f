import RoomsClient
import Synchronization

/// A ``RoomClient`` whose events are recorded as the app would see them, for tests to check.
final class WatchedRoomClient: Sendable {
    struct Record {
        var messages: [RoomsClient.Message] = []
        var states: [ConnectionState] = []
        var closed: (code: Int, reason: String)?
        var typing: [String] = []
        var resets = 0
        var welcomes = 0
        var outboxFull = 0
        var frameTypes: [String] = []
        var errors: [RoomsError] = []
        var inbox: [InboxRoom] = []
    }

    private final class Recorder: Sendable {
        let record = Mutex(Record())
    }

    let client: RoomClient
    private let recorder: Recorder
    private let reader: Task<Void, Never>

    init(_ url: String, options: RoomClientOptions = RoomClientOptions()) throws {
        let client = try RoomClient(url: url, options: options)
        let recorder = Recorder()
        self.client = client
        self.recorder = recorder
        reader = Task {
            for await event in client.events {
                recorder.record.withLock { record in
                    switch event {
                    case .message(let message): record.messages.append(message)
                    case .state(let state): record.states.append(state)
                    case .closed(let code, let reason): record.closed = (code, reason)
                    case .typing(let user): record.typing.append(user)
                    case .reset: record.resets += 1
                    case .welcome: record.welcomes += 1
                    case .outbox(_, let full): if full { record.outboxFull += 1 }
                    case .frame(let frame): record.frameTypes.append(frame["type"]?.stringValue ?? "?")
                    case .error(let error): record.errors.append(error)
                    case .inbox(let rooms): record.inbox = rooms
                    default: break
                    }
                }
            }
        }
    }

    /// Options for tests: quick reconnects.
    static func quick(
        after: Int? = nil, token: String? = nil, tokenProvider: (@Sendable () async throws -> String)? = nil
    ) -> RoomClientOptions {
        var options = RoomClientOptions(token: token, tokenProvider: tokenProvider)
        options.after = after
        options.minBackoff = .milliseconds(50)
        options.maxBackoff = .milliseconds(400)
        options.requestTimeout = .seconds(5)
        options.connectTimeout = .seconds(2)
        return options
    }

    var seen: Record { recorder.record.withLock { $0 } }
    var messages: [RoomsClient.Message] { seen.messages }
    var closed: (code: Int, reason: String)? { seen.closed }

    /// Closes the client and waits until its events ended.
    func close() async {
        await client.close()
        await reader.value
    }
}
