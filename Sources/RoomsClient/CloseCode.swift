/// What the client does after a connection closed with a code.
enum CloseCode {
    /// Close codes after which reconnecting cannot help: the room refused (1008), a frame was too
    /// large (1009), the user may no longer be in the room (4403), the room was deleted (4404).
    static let terminal: Set<Int> = [1008, 1009, 4403, 4404]
    /// The token expired or was refused: a new one may help.
    static let unauthorized = 4401
    /// A connection the client gave up on itself (dead link, connect timeout, failed sync).
    static let clientGaveUp = 4000
    /// The link was lost without a close frame.
    static let abnormal = 1006

    /// The close code a refused upgrade stands for, from the HTTP status the room answers; nil
    /// when the status says nothing final.
    static func forRefusal(status: Int) -> Int? {
        switch status {
        case 401: 4401
        case 400: 1008
        case 403: 4403
        case 404: 4404
        default: nil
        }
    }
}
