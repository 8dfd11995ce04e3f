/// The output gate: what turns send waits here until the commit that stores their writes.
///
/// A turn's output (frames, closes, an HTTP response) is collected while it runs and kept with the
/// turn when it ends. Several turns form a group that shares one commit; once the commit
/// succeeds, ``release(in:)`` sends every turn's output in order; if it fails,
/// ``fail(with:in:)`` drops the output and tells each turn's sender. A client therefore never
/// hears of something that was not stored.
///
/// A call to another room cuts a turn in two (``suspendTurn(wrote:)``, ``resumeTurn(_:)``):
/// the first half's output joins the group and is released by the commit before the request
/// leaves; the turns the room serves while it waits have output of their own; the second half
/// starts empty. No turn's output is ever held by another, so nothing is sent twice.
struct OutputGate {
    /// The running turn's state, set aside while the room waits in a call.
    struct SuspendedTurn {
        let origin: FinishedTurn.Origin
        let frameID: String?
    }

    /// The finished turns waiting for the commit.
    private(set) var group: [FinishedTurn] = []
    /// What the running turn sent so far.
    private var output: [Delivery] = []
    /// Who the running turn answers.
    private var origin = FinishedTurn.Origin.runtime
    /// The id of the client frame the running turn handles.
    var frameID: String?

    /// Whether no turn waits for a commit.
    var isEmpty: Bool { group.isEmpty }

    /// The number of turns waiting for a commit.
    var count: Int { group.count }

    /// The failure of the last finished turn, if it failed.
    var lastFailure: RoomError? { group.last?.failure }

    /// Whether a turn of the group counts as use of the room.
    var usesRoom: Bool { group.contains(where: \.usesRoom) }

    /// Whether a turn of the group creates the room (see ``FinishedTurn/createsRoom``).
    var createsRoom: Bool { group.contains(where: \.createsRoom) }

    /// Starts a turn answering `origin`.
    mutating func beginTurn(_ origin: FinishedTurn.Origin) {
        self.origin = origin
        frameID = nil
        output.removeAll(keepingCapacity: true)
    }

    /// Holds `delivery` for the running turn's commit.
    mutating func emit(_ delivery: Delivery) {
        output.append(delivery)
    }

    /// Ends the running turn: it joins the group with its output, or with `failure` and none.
    mutating func endTurn(wrote: Bool, failure: RoomError?) {
        group.append(
            FinishedTurn(
                origin: origin, output: failure == nil ? output : [], failure: failure, frameID: frameID,
                wrote: wrote && failure == nil))
        output = []
    }

    /// Sets the response of the last finished turn, a request that succeeded.
    mutating func answerLastTurn(with response: RoomResponse?) {
        guard let last = group.indices.last, group[last].failure == nil,
            case .request(let reply, _) = group[last].origin
        else { return }
        group[last].origin = .request(reply, response)
    }

    /// Cuts the running turn at a call: what it sent so far joins the group as a turn of its own
    /// (released by the next commit), and its identity is set aside for ``resumeTurn(_:)``.
    mutating func suspendTurn(wrote: Bool) -> SuspendedTurn {
        let suspended = SuspendedTurn(origin: origin, frameID: frameID)
        group.append(FinishedTurn(origin: origin.firstHalf, output: output, failure: nil, frameID: frameID, wrote: wrote))
        output = []
        return suspended
    }

    /// Starts the second half of a turn cut by a call, with nothing sent yet.
    mutating func resumeTurn(_ turn: SuspendedTurn) {
        origin = turn.origin
        frameID = turn.frameID
        output = []
    }

    /// Sends the output of every turn of the group, in order (the commit succeeded).
    mutating func release(in slot: RoomSlot) {
        for turn in group { turn.complete(in: slot) }
        group.removeAll(keepingCapacity: true)
    }

    /// Drops the group's output and reports `error` to every turn's sender (the commit failed).
    mutating func fail(with error: RoomError, in slot: RoomSlot) {
        for turn in group { turn.complete(failingWith: error, in: slot) }
        group.removeAll(keepingCapacity: true)
    }
}
