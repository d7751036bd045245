/// One `RUN --mount=type=...,target=...` (BuildKit's `parseMount`).
public struct RunMount: Sendable, Equatable {
    public enum MountType: String, Sendable, CaseIterable {
        case bind, cache, tmpfs, secret, ssh
    }

    public enum Sharing: String, Sendable, CaseIterable {
        case shared, `private`, locked
    }

    public var type: MountType = .bind
    /// `from=`: the stage or image a bind or cache mount takes its files from.
    public var from: String?
    public var source: String?
    public var target: String?
    public var readOnly: Bool
    /// `size=` of a tmpfs, in bytes.
    public var sizeLimit: Int64?
    /// `id=` of a cache, secret or ssh mount.
    public var id: String?
    public var sharing: Sharing?
    /// `required` secret or ssh mount: the build fails when it is not provided.
    public var required = false
    /// `env=` for a secret exposed as an environment variable.
    public var environmentVariable: String?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?

    /// Parses a `--mount` value (CSV of `key=value` fields and bare `ro`/`rw`/`required`),
    /// passing each value through `expand`.
    public init(
        parsing specification: String,
        expandingWith expand: (String) throws(DockerfileError) -> String = RunMount.asWritten
    ) throws(DockerfileError) {
        func failure(_ message: String) -> DockerfileError {
            DockerfileError(.invalidFlag, "--mount=\(specification): \(message)")
        }
        var readOnlyGiven: Bool?
        readOnly = false
        for field in try CSVFields.split(specification, onError: failure) {
            let (rawKey, rawValue) = Self.splitField(field)
            let key = rawKey.lowercased()
            guard let rawValue else {
                switch key {
                case "readonly", "ro": readOnlyGiven = true
                case "readwrite", "rw": readOnlyGiven = false
                case "required":
                    guard type == .secret || type == .ssh else {
                        throw failure("unexpected key '\(key)' for mount type '\(type.rawValue)'")
                    }
                    required = true
                default: throw failure("invalid field '\(field)' must be a key=value pair")
                }
                continue
            }
            let value = try expand(rawValue)
            switch key {
            case "type":
                guard let mountType = MountType(rawValue: value.lowercased()) else {
                    throw failure("unsupported mount type \(goQuote(value)) (use one of "
                                  + MountType.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                }
                type = mountType
            case "from": from = value
            case "source", "src": source = value
            case "target", "dst", "destination": target = value
            case "readonly", "ro":
                guard let flag = Self.parseBool(value) else { throw failure("invalid value for \(key): \(value)") }
                readOnlyGiven = flag
            case "readwrite", "rw":
                guard let flag = Self.parseBool(value) else { throw failure("invalid value for \(key): \(value)") }
                readOnlyGiven = !flag
            case "required":
                guard type == .secret || type == .ssh else {
                    throw failure("unexpected key '\(key)' for mount type '\(type.rawValue)'")
                }
                guard let flag = Self.parseBool(value) else { throw failure("invalid value for \(key): \(value)") }
                required = flag
            case "size":
                guard type == .tmpfs else {
                    throw failure("unexpected key '\(key)' for mount type '\(type.rawValue)'")
                }
                guard let size = ByteSize.parse(value) else { throw failure("invalid value for \(key): \(value)") }
                sizeLimit = size
            case "id": id = value
            case "sharing":
                guard let mode = Sharing(rawValue: value.lowercased()) else {
                    throw failure("unsupported sharing value \(goQuote(value)) (use shared, private or locked)")
                }
                sharing = mode
            case "mode":
                guard let parsed = UInt32(value, radix: 8) else { throw failure("invalid value \(value) for mode") }
                mode = parsed
            case "uid":
                guard let parsed = UInt32(value) else { throw failure("invalid value \(value) for uid") }
                uid = parsed
            case "gid":
                guard let parsed = UInt32(value) else { throw failure("invalid value \(value) for gid") }
                gid = parsed
            case "env":
                environmentVariable = value
            default:
                throw failure("unexpected key '\(key)' in '\(field)'")
            }
        }
        try validate(readOnlyGiven: readOnlyGiven, failure: failure)
    }

    /// The identity expansion: values as written.
    public static func asWritten(_ value: String) throws(DockerfileError) -> String { value }

    /// The checks that can be made before variables are expanded: a mount without variables
    /// must parse, and `from=` may not use a variable at all.
    static func validateBeforeExpansion(_ specification: String) throws(DockerfileError) {
        guard specification.contains("$") else {
            _ = try RunMount(parsing: specification)
            return
        }
        let fields = try CSVFields.split(specification) { message in
            DockerfileError(.invalidFlag, "--mount=\(specification): \(message)")
        }
        for field in fields {
            let (key, value) = splitField(field)
            if key.lowercased() == "from", let value, let dollar = value.firstIndex(of: "$"),
               value.index(after: dollar) != value.endIndex {
                throw DockerfileError(.invalidFlag, "--mount=\(specification): 'from' doesn't support variable "
                                      + "expansion, define alias stage instead")
            }
        }
    }

    private mutating func validate(readOnlyGiven: Bool?,
                                   failure: (String) -> DockerfileError) throws(DockerfileError) {
        if type != .secret && type != .ssh && type != .cache {
            if mode != nil { throw failure("mode not allowed for \(goQuote(type.rawValue)) type mounts") }
            if uid != nil { throw failure("uid not allowed for \(goQuote(type.rawValue)) type mounts") }
            if gid != nil { throw failure("gid not allowed for \(goQuote(type.rawValue)) type mounts") }
        }
        // Bind, secret and ssh mounts are read-only unless asked otherwise; cache and tmpfs
        // are writable.
        readOnly = readOnlyGiven ?? !(type == .cache || type == .tmpfs)
        if type == .secret {
            if from != nil { throw failure("secret mount should not have a from") }
            if sharing != nil { throw failure("secret mount should not define sharing") }
            if source == nil && target == nil && id == nil {
                throw failure("invalid secret mount. one of source, target required")
            }
            if source != nil && id != nil { throw failure("both source and id can't be set") }
        }
        if sharing != nil && type != .cache {
            throw failure("invalid cache sharing set for \(type.rawValue) mount")
        }
    }

    private static func splitField(_ field: String) -> (String, String?) {
        guard let equals = field.firstIndex(of: "=") else { return (field, nil) }
        return (String(field[..<equals]), String(field[field.index(after: equals)...]))
    }

    /// Go's `strconv.ParseBool`.
    static func parseBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }
}
