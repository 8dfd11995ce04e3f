/// What a room tells a member's inbox (the body of its call to `POST update` on the inbox): the
/// room as that member now sees it, or that they are no longer in it. The room is the caller:
/// an update can only concern the room that sends it.
package struct InboxUpdate: Codable, Sendable {
    /// The room, for a member.
    var room: InboxEntry?
    /// True when the user is no longer a member.
    var removed: Bool?
}
