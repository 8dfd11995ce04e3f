/// An incremental parser of `text/event-stream` bodies (the WHATWG server-sent events format).
///
/// Feed it the body's bytes in whatever pieces the network delivers: events split across chunks,
/// several events in one chunk, lines ending in `\n`, `\r\n` or `\r` (also split between chunks),
/// comments (`: keep-alive`) and fields other than `data`, `event` and `id` are all handled.
public struct ServerSentEventParser: Sendable {
    /// The longest line accepted, in bytes; a longer one is a `provider_invalid_response`.
    public static let maxLineBytes = 1 << 20

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var event: String?
    private var id: String?
    private var lastWasCR = false

    public init() {}

    /// Parses `bytes`, returning the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ModelError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                if lastWasCR {
                    lastWasCR = false
                    continue
                }
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                lastWasCR = true
                if let event = endLine() { events.append(event) }
            default:
                lastWasCR = false
                guard line.count < Self.maxLineBytes else {
                    throw ModelError(.invalidResponse, "a line of the event stream is over \(Self.maxLineBytes) bytes")
                }
                line.append(byte)
            }
        }
        return events
    }

    /// Ends the stream: an event left without its blank line is dropped, as the format says.
    public mutating func finish() {
        line.removeAll()
        data.removeAll()
        hasData = false
        event = nil
        id = nil
    }

    /// Handles the line just completed; returns an event when it was the blank line ending one.
    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            defer {
                data.removeAll(keepingCapacity: true)
                hasData = false
                event = nil
                id = nil
            }
            guard hasData else { return nil }
            return ServerSentEvent(event: event, data: String(decoding: data, as: UTF8.self), id: id)
        }
        if line[0] == UInt8(ascii: ":") { return nil }  // a comment
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var value = colon.map { line[($0 + 1)...] } ?? []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch name {
        case "data":
            if hasData { data.append(UInt8(ascii: "\n")) }
            data.append(contentsOf: value)
            hasData = true
        case "event":
            event = String(decoding: value, as: UTF8.self)
        case "id":
            id = String(decoding: value, as: UTF8.self)
        default:
            break  // retry and unknown fields do not matter here
        }
        return nil
    }
}
