/// The error type of PierClient.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// Nothing listens on the socket (absent, or refused).
        case daemonUnavailable
        /// The daemon answered with an error status; `status` holds it.
        case api
        /// The bytes on the wire were not HTTP as expected.
        case protocolError
        /// A local read or write failed.
        case io
    }

    public let code: Code
    public let status: Int
    public let message: String

    public init(_ code: Code, _ message: String, status: Int = 0) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { message }
}
