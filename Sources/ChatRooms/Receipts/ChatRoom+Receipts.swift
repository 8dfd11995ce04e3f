public import RoomRuntime

/// Read receipts: `{"type": "read", "seq"}` moves the sender's cursor forward (never back), and
/// the room tells everyone with a `receipt` frame, per user at most once per the kind's
/// `receiptIntervalMilliseconds` (a read within it goes out at its end, the latest only).
extension ChatRoom {
    static let receiptTimer = "chat.receipts"

    /// A `read` frame.
    ///
    /// - Throws: ``RoomError`` `invalid_field` for a missing `seq`, or one below 0 or beyond the
    ///   room's last.
    func read(_ frame: ClientFrame, from connection: RoomConnection, context: isolated RoomContext) throws {
        let last = context.lastSequence
        guard let seq = frame.seq, seq >= 0, seq <= last else {
            throw RoomError.badRequest(
                .invalidField, "'seq' must be the seq of a message read: an integer from 0 to \(last)", frameID: frame.id)
        }
        guard try ReadCursors.advance(connection.user, to: seq, context: context) else { return }
        if try context.role(of: connection.user) != nil {
            try owe(inboxesOf: [connection.user], context: context)
        }
        if receipts.read(connection.user, seq: seq, now: context.now()) {
            context.broadcast(try .json(ReceiptFrame(user: connection.user, seq: seq)))
        } else {
            armReceiptTimer(context: context)
        }
    }

    /// The receipts whose interval ended.
    func receiptTimerFired(context: isolated RoomContext) throws {
        for (user, seq) in receipts.due(now: context.now()) {
            context.broadcast(try .json(ReceiptFrame(user: user, seq: seq)))
        }
        armReceiptTimer(context: context)
    }

    private func armReceiptTimer(context: isolated RoomContext) {
        guard let due = receipts.nextDue else { return }
        context.setTimer(Self.receiptTimer, after: .milliseconds(max(0, due - context.now())))
    }

    /// `GET /receipts`: every member (in a room with members) and every user with a cursor.
    func receiptList(context: isolated RoomContext) throws -> [Receipt] {
        let cursors = try ReadCursors.all(context: context)
        let users = Set(cursors.keys).union(try context.members().map(\.user)).sorted()
        return try users.map { user in
            let readSeq = cursors[user] ?? 0
            return Receipt(
                user: user, readSeq: readSeq, unread: try ReadCursors.unread(for: user, after: readSeq, context: context))
        }
    }
}
