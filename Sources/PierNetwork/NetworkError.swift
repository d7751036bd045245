/// The error type of PierNetwork: what failed, on which input, and what to do.
public struct NetworkError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        /// The request itself is wrong (a bad subnet, a bad port): the user fixes the input.
        case invalidArgument
        /// The input is fine but collides with something that exists (a subnet, a host port).
        case conflict
        /// The host refused (a tool failed, a syscall failed).
        case host
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
