import PierAPI
import PierOCI
import PierStore

/// The error type of the engine: a Docker-compatible HTTP status and a message a user can act on.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable {
        case notModified       // 304 (start of a running container, stop of a stopped one)
        case invalidArgument   // 400
        case forbidden         // 403 (writing into a read-only rootfs; removing a pre-defined network, or one in use)
        case notFound          // 404
        case conflict          // 409
        case internalError     // 500
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    public var httpStatus: Int {
        switch code {
        case .notModified: 304
        case .invalidArgument: 400
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .internalError: 500
        }
    }

    public var apiError: APIError { APIError(status: httpStatus, message) }

    static func noSuchImage(_ name: String) -> EngineError {
        EngineError(.notFound, "No such image: \(name)")
    }

    static func from(_ error: StoreError) -> EngineError {
        switch error.code {
        case .notFound: EngineError(.notFound, error.description)
        case .digestMismatch, .sizeMismatch, .invalidContent: EngineError(.invalidArgument, error.description)
        case .conflict: EngineError(.conflict, error.description)
        case .io: EngineError(.internalError, error.description)
        }
    }

    static func from(_ error: OCIError) -> EngineError {
        EngineError(.invalidArgument, error.message)
    }
}
