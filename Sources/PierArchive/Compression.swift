import CArchive

/// The compressions an OCI layer may use (image-spec `media-types.md`: `tar`, `tar+gzip`,
/// `tar+zstd`). Readers detect it from the stream itself, so a mislabelled blob still reads.
public enum Compression: String, Sendable, Hashable, CaseIterable {
    case none
    case gzip
    case zstd

    /// Recognises the compression from the first bytes of a stream (four are enough).
    /// Anything that is neither gzip nor zstd is taken to be uncompressed.
    public static func detect<Bytes: Sequence>(magic: Bytes) -> Compression where Bytes.Element == UInt8 {
        let head = Array(magic.prefix(4))
        if head.starts(with: [0x1F, 0x8B]) { return .gzip }
        if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return .zstd }
        return .none
    }

    /// The default level: gzip 6 is what Docker and containerd write; zstd 3 is zstd's own default.
    var defaultLevel: Int {
        switch self {
        case .none: 0
        case .gzip: 6
        case .zstd: 3
        }
    }

    init(filterCode: Int32) {
        switch filterCode {
        case ARCHIVE_FILTER_GZIP: self = .gzip
        case ARCHIVE_FILTER_ZSTD: self = .zstd
        default: self = .none
        }
    }
}

/// Compressions we recognise only to refuse them with a useful message: Docker's legacy
/// `docker import` accepts them, OCI layers never use them.
enum UnsupportedCompression: String {
    case xz, bzip2, lz4

    init?(magic: [UInt8]) {
        if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { self = .xz }
        else if magic.starts(with: [0x42, 0x5A, 0x68]) { self = .bzip2 }
        else if magic.starts(with: [0x04, 0x22, 0x4D, 0x18]) { self = .lz4 }
        else { return nil }
    }
}
