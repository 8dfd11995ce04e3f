/// Where the answer to a request goes: an HTTP handler waiting, or a room waiting in a call.
/// Called exactly once, after the answering turn committed (or failed).
struct ResponseHandler: Sendable {
    let deliver: @Sendable (Result<RoomResponse, RoomError>) -> Void

    func succeed(_ response: RoomResponse) { deliver(.success(response)) }
    func fail(_ error: RoomError) { deliver(.failure(error)) }
}
