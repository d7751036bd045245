/// The error type of PierRuntime: a code the engine can map to an HTTP status, a message a
/// user can act on (Docker's wording where Docker has one), and the underlying cause.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A flag or API value is out of range or malformed (Docker answers 400).
        case invalidArgument
        /// A user, group, file or process that the request names does not exist.
        case notFound
        /// The host cannot do what was asked (missing controller, capability, kernel feature).
        case unsupported
        /// Reading or writing a cgroup file failed.
        case cgroup
        /// `pier-shim` could not be started or reported a failure.
        case shim
        /// The shim said something the protocol does not allow.
        case protocolViolation
        /// A wait ran past its deadline.
        case timeout
        /// Any other failed system call.
        case system
    }

    public let code: Code
    public let message: String
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}

/// An `errno` value with the C library's text, as the cause of a `RuntimeError`.
public struct SystemError: Error, Sendable, CustomStringConvertible, Equatable {
    public let errno: Int32
    public let call: String

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(Errno.text(errno))" }
}

/// The text of a Foundation error (which is not `Sendable`) kept as a cause.
public struct ErrorText: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ error: any Error) { self.description = "\(error)" }
    public init(_ text: String) { self.description = text }
}
