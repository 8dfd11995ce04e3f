import NIOCore
@_spi(Node) import RoomRuntime
@testable import RoomServer
import TestSupport
import Testing

/// The link's `failure` frame says "the room moved" by a flag, which a reworded message in a later
/// release cannot break, and still understands a peer that says it in the message alone.
@Suite("Link frames between nodes", .watched)
struct LinkFrameTests {
    /// `error` written as a failure frame and read back, as the asking node reads it.
    static func roundTrip(_ error: LinkFrame.WireError) throws -> LinkFrame.WireError {
        var buffer = ByteBuffer()
        LinkFrame.failure(7, error).write(to: &buffer)
        var reader = LinkFrame.Reader()
        let frames = try reader.read(buffer)
        guard frames.count == 1, case .failure(let id, let read) = frames[0], id == 7 else {
            throw TestFailure("not one failure frame of call 7: \(frames)")
        }
        return read
    }

    @Test("a moved room is flagged; the flag is read whatever the message says, and a peer's message alone still counts")
    func moved() throws {
        let moved = try Self.roundTrip(.init(.unavailable(.roomUnavailable, RoomError.movedMessage)))
        #expect(moved.moved == true)
        #expect(moved.saysMoved)
        #expect(moved.error.code == .roomUnavailable)

        var reworded = LinkFrame.WireError(.unavailable(.roomUnavailable, RoomError.movedMessage))
        reworded.message = "this node no longer serves the room"
        #expect(try Self.roundTrip(reworded).saysMoved)

        // A peer of an earlier release: no flag, the message only.
        var earlier = LinkFrame.WireError(.unavailable(.roomUnavailable, RoomError.movedMessage))
        earlier.moved = nil
        #expect(try Self.roundTrip(earlier).saysMoved)

        // Other refusals, with the same code or the same words elsewhere, are not moves.
        let busy = try Self.roundTrip(.init(.unavailable(.roomUnavailable, "the room is moving between nodes; retry shortly")))
        #expect(busy.moved == nil)
        #expect(!busy.saysMoved)
        let other = try Self.roundTrip(.init(.notFound(.roomNotFound, RoomError.movedMessage)))
        #expect(!other.saysMoved)
        #expect(other.error.code == .roomNotFound)
    }

    @Test("a failure frame whose moved flag is not a boolean is malformed (the link is closed with 1008)")
    func garbageFlag() throws {
        var buffer = ByteBuffer()
        LinkFrame.failure(7, .init(.unavailable(.roomUnavailable, RoomError.movedMessage))).write(to: &buffer)
        var bytes = Array(buffer.readableBytesView)
        let flag = Array(#""moved":true"#.utf8)
        let at = try #require((0...(bytes.count - flag.count)).first { bytes[$0..<$0 + flag.count].elementsEqual(flag) })
        bytes.replaceSubrange(at + 8..<at + 12, with: Array("1234".utf8))  // same length: the frame's lengths hold
        var reader = LinkFrame.Reader()
        #expect(throws: LinkFrame.Malformed.self) { try reader.read(ByteBuffer(bytes: bytes)) }
    }
}
