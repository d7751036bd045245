/// The error type of PierOCI: a code a caller can switch on and a message a user can act on.
public struct OCIError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidDigest
        case invalidReference
        case invalidDocument
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
