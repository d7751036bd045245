/// Docker's error body: `{"message": "..."}` (swagger: ErrorResponse).
public struct ErrorResponse: Codable, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
}

/// An error as it travels over the API: an HTTP status Docker would use and its message.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    public let message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func badRequest(_ message: String) -> APIError { APIError(status: 400, message) }
    public static func notFound(_ message: String) -> APIError { APIError(status: 404, message) }
    public static func conflict(_ message: String) -> APIError { APIError(status: 409, message) }
    public static func internalError(_ message: String) -> APIError { APIError(status: 500, message) }

    public var description: String { message }
}

/// One line of a JSON progress stream (`/images/create`, `/images/load`, `/build`):
/// swagger's CreateImageInfo / BuildInfo.
public struct ProgressMessage: Codable, Sendable {
    public var id: String?
    public var status: String?
    public var stream: String?
    public var progress: String?
    public var progressDetail: ProgressDetail?
    public var error: String?
    public var errorDetail: ErrorDetail?
    public var aux: AuxID?

    public init(id: String? = nil, status: String? = nil, stream: String? = nil, error: String? = nil) {
        self.id = id
        self.status = status
        self.stream = stream
        self.error = error
        self.errorDetail = error.map { ErrorDetail(message: $0) }
    }

    public struct ProgressDetail: Codable, Sendable {
        public var current: Int64?
        public var total: Int64?
        public init(current: Int64?, total: Int64?) {
            self.current = current
            self.total = total
        }
    }

    public struct ErrorDetail: Codable, Sendable {
        public var code: Int?
        public var message: String?
        public init(message: String) { self.message = message }
    }

    public struct AuxID: Codable, Sendable {
        public var ID: String?
        public init(ID: String) { self.ID = ID }
    }
}
