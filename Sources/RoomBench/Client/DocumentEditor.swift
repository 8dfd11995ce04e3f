/// What a `doc` benchmark connection knows of its document, to make edits the room accepts: the
/// version it has seen and the text's length there (kept from `doc`, `op` and `op.ack` frames
/// by scanning their bytes, not parsing JSON: the harness shares the machine with the server).
///
/// It behaves as an OT client does: one edit in flight, based on the latest version seen. An edit
/// inserts a stamped text at a random place, or, once the text is longer than ``steadyLength``,
/// deletes as many characters at a random place half the time, so that the document stays about
/// that long.
struct DocumentEditor {
    /// Whether the editor knows the document. The scenario's rooms are new (version 0, empty), so
    /// it does from the start; the `doc` frame confirms it. (In one run of several, one of 20
    /// connections never saw its `doc` frame: probably frames that come in the same read as the
    /// upgrade's response, around the harness's swap of the frame decoder; not investigated yet.
    /// So the scenario does not wait for it.)
    var loaded = true
    var version: Int64 = 0
    var length = 0
    /// The length change of the edit in flight, applied when it is acknowledged.
    var inFlight = 0
    /// Whether an edit is in flight (an OT client sends the next only after its acknowledgement;
    /// at a fixed `--rate` an editor still waiting skips its turn).
    var awaiting = false
    /// The document hovers around this many characters.
    static let steadyLength = 20_000

    private static let versionKey = Array(#""version":"#.utf8)
    private static let textKey = Array(#""text":""#.utf8)
    private static let insertKey = Array(#""insert":""#.utf8)
    private static let deleteKey = Array(#""delete":"#.utf8)

    /// The next edit's frame, with `stamp` as the inserted text.
    mutating func edit(id: Int, stamp: String) -> String {
        awaiting = true
        let deleting = length > Self.steadyLength && Bool.random()
        if deleting {
            // As many as an insert adds, so that the text stays about `steadyLength` long.
            let count = stamp.utf8.count
            let at = Int.random(in: 0...(length - count))
            inFlight = -count
            return #"{"type":"op","id":"e\#(id)","base":\#(version),"ops":[\#(Self.retain(at)){"delete":\#(count)}]}"#
        }
        let at = Int.random(in: 0...length)
        inFlight = stamp.utf8.count
        return #"{"type":"op","id":"e\#(id)","base":\#(version),"ops":[\#(Self.retain(at)){"insert":"\#(stamp)"}]}"#
    }

    /// A leading retain and its comma, or nothing at the start (a retain is at least 1).
    private static func retain(_ count: Int) -> String {
        count > 0 ? #"{"retain":\#(count)},"# : ""
    }

    /// The `doc` frame: the version and the text's length (the benchmark's text has no escapes).
    mutating func loaded(_ bytes: UnsafeRawBufferPointer) {
        let version = Self.integer(after: Self.versionKey, in: bytes) ?? 0
        guard version >= self.version else { return }
        self.version = version
        if let start = Stamp.offset(after: Self.textKey, in: bytes) {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
            length = end - start
        }
        loaded = true
    }

    /// This connection's edit was stored.
    mutating func acknowledged(_ bytes: UnsafeRawBufferPointer) {
        version = Self.integer(after: Self.versionKey, in: bytes) ?? version
        length += inFlight
        inFlight = 0
        awaiting = false
    }

    /// This connection's edit was refused: nothing changed.
    mutating func refused() {
        inFlight = 0
        awaiting = false
    }

    /// Someone else's edit: the new version, and the length change of its inserts and deletes.
    mutating func applied(_ bytes: UnsafeRawBufferPointer) {
        version = Self.integer(after: Self.versionKey, in: bytes) ?? version
        var index = 0
        while index < bytes.count {
            if let start = Self.match(Self.insertKey, in: bytes, at: index) {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                length += end - start
                index = end
            } else if let start = Self.match(Self.deleteKey, in: bytes, at: index) {
                length -= Self.integer(in: bytes, from: start) ?? 0
                index = start
            } else {
                index += 1
            }
        }
    }

    private static func match(_ key: [UInt8], in bytes: UnsafeRawBufferPointer, at index: Int) -> Int? {
        guard bytes[index] == key[0], index + key.count <= bytes.count else { return nil }
        for offset in 1..<key.count where bytes[index + offset] != key[offset] { return nil }
        return index + key.count
    }

    private static func integer(after key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int64? {
        Stamp.offset(after: key, in: bytes).flatMap { integer(in: bytes, from: $0) }.map(Int64.init)
    }

    private static func integer(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var value = 0
        var index = start
        while index < bytes.count, (48...57).contains(bytes[index]) {
            value = value * 10 + Int(bytes[index] - 48)
            index += 1
        }
        return index > start ? value : nil
    }
}
