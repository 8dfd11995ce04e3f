#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The server could not listen on its address: the port is in use, the host is unknown or not an
/// address of this machine, or the process may not bind it.
///
/// Its description names the address: `cannot listen on 127.0.0.1:8080: address already in use`.
public struct ListenError: Error, CustomStringConvertible {
    /// The host the server was to listen on.
    public let host: String
    /// The port the server was to listen on.
    public let port: Int
    /// Why it could not, in lower case (the system's message for a socket error).
    public let reason: String

    public var description: String {
        "cannot listen on \(host.contains(":") ? "[\(host)]" : host):\(port): \(reason)"
    }

    /// The listen failure that `error`, thrown while binding `host:port`, stands for; nil when it
    /// is not a socket or address error.
    static func from(_ error: any Error, host: String, port: Int) -> ListenError? {
        switch error {
        case let error as IOError:
            let message = String(cString: strerror(error.errnoCode))
            return ListenError(host: host, port: port, reason: message.prefix(1).lowercased() + message.dropFirst())
        case let error as SocketAddressError:
            return ListenError(host: host, port: port, reason: "\(error)")
        default:
            return nil
        }
    }
}
