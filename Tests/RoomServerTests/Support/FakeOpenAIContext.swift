import Hummingbird
import NIOCore

/// The request context of ``FakeOpenAIServer``: Hummingbird's basic context plus the connection
/// the request came on, so that the fake can act on the connection itself (reset it).
struct FakeOpenAIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The connection (the child socket channel) that carried the request.
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
