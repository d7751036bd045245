import Crypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where archive bytes come from. Everything is pulled in chunks of about
/// `streamBufferSize`, so a layer of any size reads in constant memory.
public enum ArchiveSource {
    /// A file, opened read-only and closed when reading ends.
    case path(String)
    /// A descriptor the caller owns (a file, a pipe, a socket); never closed here.
    case fileDescriptor(Int32)
    /// A callback that fills the buffer it is given and returns how many bytes it wrote,
    /// 0 at the end of the stream. Whatever it throws is reported as the `underlying`
    /// cause of an `.io` ArchiveError.
    case pull((UnsafeMutableRawBufferPointer) throws -> Int)
}

/// Where archive bytes go.
public enum ArchiveSink {
    /// A descriptor the caller owns; never closed here.
    case fileDescriptor(Int32)
    /// A callback handed each chunk of output in order. It must consume the bytes before
    /// returning: the buffer is reused.
    case push((UnsafeRawBufferPointer) throws -> Void)
}

/// The digests that identify a layer, computed while it streams through.
///
/// The OCI image config lists layers by `diffID`, the digest of the *uncompressed* tar;
/// the manifest lists the blob, i.e. the *compressed* bytes. Both come out of one pass.
public struct LayerDigests: Sendable, Hashable, CustomStringConvertible {
    /// Lowercase hex SHA-256 of the uncompressed tar stream (prefix it with `sha256:`
    /// for an OCI digest).
    public var diffID: String
    public var uncompressedSize: Int64
    /// Lowercase hex SHA-256 of the compressed bytes; nil when the stream was not
    /// compressed (the blob digest is then the diffID).
    public var compressedDigest: String?
    public var compressedSize: Int64?

    public init(diffID: String, uncompressedSize: Int64, compressedDigest: String? = nil, compressedSize: Int64? = nil) {
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.compressedDigest = compressedDigest
        self.compressedSize = compressedSize
    }

    public var description: String {
        var text = "diffID sha256:\(diffID) (\(uncompressedSize) bytes)"
        if let compressedDigest, let compressedSize {
            text += ", blob sha256:\(compressedDigest) (\(compressedSize) bytes)"
        }
        return text
    }

    /// Reads a (possibly compressed) layer blob to its end and returns its digests,
    /// checking that it decompresses but not parsing the tar inside.
    public static func measure(_ source: ArchiveSource) throws -> LayerDigests {
        let input = try DecompressingInput(source: source, measuring: true)
        try input.drain()
        return input.digests()
    }
}

/// The chunk size for every read and write: large enough that syscalls and callbacks
/// cost nothing next to hashing and compression, small enough to keep memory flat.
let streamBufferSize = 1 << 20

/// An incremental SHA-256 with a byte count.
struct StreamDigest {
    private var hasher = SHA256()
    private(set) var count: Int64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        hasher.update(bufferPointer: bytes)
        count += Int64(bytes.count)
    }

    func hex() -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in hasher.finalize() {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// libarchive converts names between the pax headers' UTF-8 and the *current thread's*
/// locale. Under the default "C" locale every non-ASCII name would be stored as
/// `hdrcharset=BINARY` and every read would warn, and the bytes of a layer would depend
/// on how the daemon set its locale. So every libarchive call runs under a C.UTF-8
/// LC_CTYPE installed for the calling thread only (`uselocale`), which leaves the rest of
/// the process alone.
enum ArchiveLocale {
    nonisolated(unsafe) private static let utf8 = newlocale(Int32(1 << LC_CTYPE), "C.UTF-8", nil)

    static func run<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        guard let utf8 else { return try body() }
        let previous = uselocale(utf8)
        defer { uselocale(previous) }
        return try body()
    }
}

/// Reads until the buffer is full or the source ends. A pipe or socket hands out a few
/// KiB per `read(2)`; filling whole chunks keeps the number of libarchive callbacks and
/// hash updates per megabyte small.
func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
    guard let base = buffer.baseAddress else { return 0 }
    var filled = 0
    while filled < buffer.count {
        let n = read(fd, base + filled, buffer.count - filled)
        if n > 0 { filled += n; continue }
        if n == 0 { break }
        if errno == EINTR { continue }
        throw ArchiveError.system("read", "cannot read the archive", path: nil)
    }
    return filled
}

/// Writes all of `bytes`, retrying short writes.
func writeFully(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, what: @autoclosure () -> String, path: String?) throws(ArchiveError) {
    guard let base = bytes.baseAddress else { return }
    var done = 0
    while done < bytes.count {
        let n = write(fd, base + done, bytes.count - done)
        if n >= 0 { done += n; continue }
        if errno == EINTR { continue }
        throw ArchiveError.system("write", what(), path: path)
    }
}
