/// What a node gives its rooms beyond storage and the runtime: outside services configured for the
/// node as a whole (the push webhook, say), looked up by type.
///
/// A node's configuration fills it (``RuntimeConfiguration/services``); a room reads it through
/// ``RoomContext/services``:
///
/// ```swift
/// if let push = context.services[PushWebhook.self] { ... }
/// ```
public struct RoomServices: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    /// The service of type `type`, if the node has one.
    public subscript<Service: Sendable>(_ type: Service.Type) -> Service? {
        get { values[ObjectIdentifier(type)] as? Service }
        set { values[ObjectIdentifier(type)] = newValue }
    }
}
