/// The error type of PierRegistry: a code from the OCI distribution spec's error table
/// (spec.md "Error Codes") a caller can switch on, the HTTP status that goes with it, a
/// message a user can act on, and the underlying cause when there is one.
///
/// The server writes these as `{"errors":[{"code":…,"message":…,"detail":…}]}`; the client
/// turns a registry's error body back into one, so `pier pull` says what the registry said.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    /// Distribution error codes, plus client-side failures that have no wire code.
    public enum Code: String, Sendable {
        case blobUnknown = "BLOB_UNKNOWN"
        case blobUploadInvalid = "BLOB_UPLOAD_INVALID"
        case blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
        case digestInvalid = "DIGEST_INVALID"
        case manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
        case manifestInvalid = "MANIFEST_INVALID"
        case manifestUnknown = "MANIFEST_UNKNOWN"
        case nameInvalid = "NAME_INVALID"
        case nameUnknown = "NAME_UNKNOWN"
        case sizeInvalid = "SIZE_INVALID"
        case unauthorized = "UNAUTHORIZED"
        case denied = "DENIED"
        case unsupported = "UNSUPPORTED"
        case tooManyRequests = "TOOMANYREQUESTS"
        case rangeInvalid = "RANGE_INVALID"
        /// Client side: the registry could not be reached or the connection broke.
        case unreachable = "UNREACHABLE"
        /// Client side: the registry answered something the protocol does not allow.
        case protocolError = "PROTOCOL_ERROR"
        /// Client side: the image is not one Pier can use (no manifest for this platform, …).
        case unusableImage = "UNUSABLE_IMAGE"
        /// Local storage failed (server storage, or the client's content store).
        case storage = "STORAGE"
        /// A bad command-line or configuration value.
        case invalidConfiguration = "INVALID_CONFIGURATION"
        case internalError = "INTERNAL_ERROR"
    }

    public let code: Code
    public let message: String
    /// The HTTP status the server answers with (or the client received).
    public let status: Int
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, status: Int? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.status = status ?? code.defaultStatus
        self.cause = cause
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}

extension RegistryError.Code {
    /// The status the distribution spec (and CNCF distribution) pairs with each code.
    public var defaultStatus: Int {
        switch self {
        case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: 404
        case .blobUploadInvalid, .digestInvalid, .manifestInvalid, .nameInvalid, .sizeInvalid,
             .manifestBlobUnknown, .invalidConfiguration: 400
        case .unauthorized: 401
        case .denied: 403
        case .unsupported: 405
        case .rangeInvalid: 416
        case .tooManyRequests: 429
        case .unreachable: 502
        case .protocolError: 502
        case .unusableImage: 400
        case .storage, .internalError: 500
        }
    }
}

/// The error body of the distribution spec.
public struct DistributionErrors: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var code: String
        public var message: String?
        public var detail: DetailValue?

        public init(code: String, message: String?, detail: String? = nil) {
            self.code = code
            self.message = message
            self.detail = detail.map(DetailValue.text)
        }
    }

    /// `detail` is free-form JSON; Pier writes a string and keeps whatever it reads as text.
    public enum DetailValue: Codable, Sendable {
        case text(String)
        case other

        public init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self = .text(text)
            } else {
                self = .other
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .text(let text): try container.encode(text)
            case .other: try container.encodeNil()
            }
        }
    }

    public var errors: [Entry]

    public init(errors: [Entry]) { self.errors = errors }
}
