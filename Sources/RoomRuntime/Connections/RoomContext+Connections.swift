import Foundation

extension RoomContext {
    /// The open connections, in the order they joined.
    public var connections: [RoomConnection] { slot.connections }

    /// Sends `frame` to `connection` once the turn commits.
    public func send(_ frame: OutboundFrame, to connection: RoomConnection) {
        gate.emit(.one(connection, frame))
    }

    /// Sends `frame` to every open connection (but `except`) once the turn commits. The frame is
    /// encoded once and its buffer shared by every recipient.
    public func broadcast(_ frame: OutboundFrame, except: RoomConnection? = nil) {
        gate.emit(.many(slot.connections, except: except, frame))
    }

    /// The open connections carrying `tag`.
    public func connections(tagged tag: String) -> [RoomConnection] {
        slot.connections.filter { $0.tags.contains(tag) }
    }

    /// Sends `frame` to every open connection carrying `tag`, once the turn commits.
    public func send(_ frame: OutboundFrame, toTagged tag: String) {
        gate.emit(.many(connections(tagged: tag), except: nil, frame))
    }

    /// Closes `connection` with `code` once the turn commits (after the frames sent before).
    public func close(_ connection: RoomConnection, code: CloseCode = .normal, reason: String = "") {
        gate.emit(.close(connection, code, reason))
    }

    /// Replaces the tags of `connection` (at most ``RoomConnection/maxTags``, each 1 to 128 bytes).
    /// Tags live as long as the connection, across hibernation.
    ///
    /// - Throws: ``RoomError`` `invalid_tags`.
    public func setTags(_ tags: Set<String>, for connection: RoomConnection) throws(RoomError) {
        guard tags.count <= RoomConnection.maxTags,
            tags.allSatisfy({ !$0.isEmpty && $0.utf8.count <= RoomConnection.maxTagBytes })
        else {
            throw .badRequest(
                .invalidTags,
                "at most \(RoomConnection.maxTags) tags of 1 to \(RoomConnection.maxTagBytes) bytes")
        }
        connection.setTags(tags)
    }

    /// Stores a small value on `connection` (at most ``RoomConnection/maxAttachmentBytes`` of
    /// JSON), or removes it when `value` is nil. It lives as long as the connection, across
    /// hibernation: keep there what the room needs to know about a socket when it wakes.
    ///
    /// - Throws: ``RoomError`` `attachment_too_large`, or `internal_error` if it cannot be encoded.
    public func setAttachment(_ value: (some Encodable)?, for connection: RoomConnection) throws(RoomError) {
        guard let value else {
            connection.setAttachment(nil)
            return
        }
        let data: Data
        do {
            data = try JSONEncoder().encode(value)
        } catch {
            throw .internal("cannot encode the attachment: \(error)")
        }
        guard data.count <= RoomConnection.maxAttachmentBytes else {
            throw .tooLarge(
                .attachmentTooLarge,
                "an attachment is at most \(RoomConnection.maxAttachmentBytes) bytes of JSON; this is \(data.count)")
        }
        connection.setAttachment(data)
    }
}
