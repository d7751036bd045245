import CArchive

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a tar stream, gzip- or zstd-compressed or not, one entry at a time.
///
/// The compression is detected from the stream, not from a media type or file name, so a
/// mislabelled blob still reads. Nothing is buffered beyond one chunk: a 1 GB layer reads
/// in the same memory as a 1 KB one. Truncated or damaged input throws an
/// `ArchiveError(.corruptArchive)` that names the last entry read.
///
/// Not `Sendable`: it wraps libarchive state that must be used from one thread at a time.
/// Calls block on I/O, so use it off the cooperative pool.
public final class TarReader {
    private let input: DecompressingInput
    /// The tar parser; it pulls from `input` through a read callback.
    private let archive: OpaquePointer
    /// The entry whose data `readData` returns; nil before the first and after the last.
    private var current: String?
    private var reachedEnd = false

    /// The compression found at the start of the stream.
    public var compression: Compression { input.compression }

    /// Opens a tar stream. Reads the first chunk to detect the compression, so an input
    /// that is neither tar, gzip nor zstd fails here.
    public convenience init(_ source: ArchiveSource) throws(ArchiveError) {
        try self.init(source: source, measuring: false)
    }

    /// With `measuring`, the reader also hashes the compressed and the uncompressed
    /// stream (see `finishDigests`), which is how a layer's diffID comes out of the same
    /// pass that extracts it.
    init(source: ArchiveSource, measuring: Bool) throws(ArchiveError) {
        let input = try DecompressingInput(source: source, measuring: measuring)
        guard let archive = archive_read_new() else {
            throw ArchiveError(.io, "cannot allocate a libarchive reader (out of memory?)")
        }
        self.input = input
        self.archive = archive
        try ArchiveLocale.run { () throws(ArchiveError) in
            archive_read_support_format_tar(archive)
            // The tar parser reads the decompressed stream through this callback. The
            // chunk it returns stays valid until the next call, as libarchive requires:
            // it is the outer reader's buffer, which only moves on inside that next call.
            let status = archive_read_open(archive, Unmanaged.passUnretained(input).toOpaque(), nil, { _, client, out in
                guard let client, let out else { return -1 }
                return Unmanaged<DecompressingInput>.fromOpaque(client).takeUnretainedValue().handOver(to: out)
            }, nil)
            guard status == ARCHIVE_OK else { throw failure(.start) }
        }
    }

    deinit {
        archive_read_free(archive)
    }

    /// The next header, or nil at the end of the archive. Any data of the previous entry
    /// that was not read is skipped.
    public func next() throws(ArchiveError) -> TarEntry? {
        guard !reachedEnd else { return nil }
        return try ArchiveLocale.run { () throws(ArchiveError) -> TarEntry? in
            var header: OpaquePointer?
            let status = archive_read_next_header(archive, &header)
            if status == ARCHIVE_EOF {
                reachedEnd = true
                current = nil
                return nil
            }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let header else {
                throw failure(.header(after: current))
            }
            let entry = try TarEntry(archiveEntry: header)
            current = entry.path
            return entry
        }
    }

    /// Reads the current entry's data into `buffer`; returns the number of bytes read,
    /// 0 at the end of the entry.
    public func readData(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        guard let current else {
            throw ArchiveError(.misuse, "TarReader.readData called with no current entry (call next() first)")
        }
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        let count = archive_read_data(archive, base, buffer.count)
        guard count >= 0 else { throw failure(.data(of: current)) }
        return count
    }

    /// Skips the rest of the current entry's data.
    public func skipData() throws(ArchiveError) {
        guard let current else { return }
        guard archive_read_data_skip(archive) == ARCHIVE_OK else { throw failure(.data(of: current)) }
    }

    /// The next piece of the current entry's data without copying it, with its offset in
    /// the file (sparse entries skip ahead). Valid until the next call on this reader.
    func nextDataBlock() throws(ArchiveError) -> (bytes: UnsafeRawBufferPointer, offset: Int64)? {
        guard let current else { return nil }
        var block: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        let status = archive_read_data_block(archive, &block, &size, &offset)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw failure(.data(of: current)) }
        return (UnsafeRawBufferPointer(start: block, count: block == nil ? 0 : size), offset)
    }

    /// After the last entry: reads whatever follows the end-of-archive marker (tar
    /// padding, trailing bytes) so the digests cover the whole stream, and returns them.
    /// Only meaningful for a reader opened with `measuring: true`.
    func finishDigests() throws(ArchiveError) -> LayerDigests {
        guard reachedEnd else {
            throw ArchiveError(.misuse, "TarReader.finishDigests called before the end of the archive")
        }
        try input.drain()
        return input.digests()
    }

    // MARK: - Error reporting

    /// Where in the stream a failure happened, for the message.
    enum Position {
        case start
        case stream
        case header(after: String?)
        case data(of: String)

        var phrase: String {
            switch self {
            case .start: "at the start of the archive"
            case .stream: "in the compressed stream"
            case .header(after: nil): "in the first header"
            case .header(after: let path?): "after entry \(quoted(path))"
            case .data(of: let path): "in the data of entry \(quoted(path))"
            }
        }

        var path: String? {
            switch self {
            case .start, .stream, .header(after: nil): nil
            case .header(after: let path?), .data(of: let path): path
            }
        }
    }

    /// Turns the state libarchive and the input left behind into one actionable error.
    /// An error from the source itself (a failed read, a throwing callback) wins over
    /// libarchive's generic message, which would only say that a read failed.
    private func failure(_ position: Position) -> ArchiveError {
        if let sourceFailure = input.failure { return sourceFailure }
        if input.sourceByteCount == 0 {
            return ArchiveError(.corruptArchive, "archive is empty (0 bytes)")
        }
        let detail = input.decompressionFailure ?? archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        if detail.contains("Unrecognized archive format"), let other = UnsupportedCompression(magic: input.leadingBytes) {
            return ArchiveError(.unsupported, "archive is compressed with \(other.rawValue), which is not supported for layers; recompress it with gzip or zstd")
        }
        return .corrupt(detail, position)
    }
}

/// libarchive's reader state must not be shared between threads.
@available(*, unavailable)
extension TarReader: Sendable {}

extension ArchiveError {
    /// A `.corruptArchive` error in plain words; libarchive's own phrase is kept where
    /// there is no plainer one.
    static func corrupt(_ libarchiveMessage: String, _ position: TarReader.Position) -> ArchiveError {
        let what: String
        if libarchiveMessage.lowercased().contains("truncated") || libarchiveMessage.contains("Premature end") {
            what = "unexpected end of data"
        } else if libarchiveMessage.contains("Unrecognized archive format") {
            what = "the data is not a tar archive"
        } else if libarchiveMessage.contains("Damaged tar archive") {
            what = "a tar header is damaged (bad checksum)"
        } else {
            what = libarchiveMessage
        }
        return ArchiveError(.corruptArchive, "archive is truncated or corrupt: \(what) \(position.phrase)", path: position.path)
    }
}

// MARK: - The decompressing stage

/// The first stage of every read: bytes from the source, through libarchive's gzip and
/// zstd filters (under its "raw" format, which passes the decompressed bytes through
/// untouched), out as the plain tar stream.
///
/// Splitting decompression from tar parsing is what lets one pass both extract a layer
/// and hash its uncompressed bytes (the diffID): the tar parser pulls from `handOver`,
/// and every chunk is hashed there on its way through.
final class DecompressingInput {
    private enum Origin {
        case descriptor(Int32, owned: Bool)
        case callback((UnsafeMutableRawBufferPointer) throws -> Int)
    }

    private let origin: Origin
    private let buffer: UnsafeMutableRawBufferPointer
    private var archive: OpaquePointer?
    private var compressedDigest: StreamDigest?
    private var uncompressedDigest: StreamDigest?
    private var sourceEnded = false
    private var streamEnded = false

    /// What went wrong reading the source (reported as is).
    private(set) var failure: ArchiveError?
    /// libarchive's message when decompression failed (reported as corruption).
    private(set) var decompressionFailure: String?
    private(set) var sourceByteCount: Int64 = 0
    /// The first bytes after decompression, to name a compression we do not support.
    private(set) var leadingBytes: [UInt8] = []
    private(set) var compression: Compression = .none

    init(source: ArchiveSource, measuring: Bool) throws(ArchiveError) {
        switch source {
        case .path(let path):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ArchiveError.system("open", "cannot open archive \(quoted(path))", path: path) }
            origin = .descriptor(fd, owned: true)
        case .fileDescriptor(let fd):
            origin = .descriptor(fd, owned: false)
        case .pull(let callback):
            origin = .callback(callback)
        }
        buffer = .allocate(byteCount: streamBufferSize, alignment: 16)
        if measuring {
            compressedDigest = StreamDigest()
            uncompressedDigest = StreamDigest()
        }
        guard let archive = archive_read_new() else {
            throw ArchiveError(.io, "cannot allocate a libarchive reader (out of memory?)")
        }
        self.archive = archive
        // Only gzip and zstd: "all filters" would include ones that libarchive runs as
        // external programs (lrzip, lzop, ...), which a daemon must not spawn on
        // untrusted input.
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_format_raw(archive)
        let opened = archive_read_open(archive, Unmanaged.passUnretained(self).toOpaque(), nil, { _, client, out in
            guard let client, let out else { return -1 }
            return Unmanaged<DecompressingInput>.fromOpaque(client).takeUnretainedValue().fill(out)
        }, nil)
        var header: OpaquePointer?
        guard opened == ARCHIVE_OK, archive_read_next_header(archive, &header) == ARCHIVE_OK else {
            if let failure { throw failure }
            if sourceByteCount == 0 { throw ArchiveError(.corruptArchive, "archive is empty (0 bytes)") }
            let detail = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
            throw ArchiveError.corrupt(detail, .start)
        }
        compression = Compression(filterCode: archive_filter_code(archive, 0))
    }

    deinit {
        if let archive { archive_read_free(archive) }
        if case .descriptor(let fd, owned: true) = origin { close(fd) }
        buffer.deallocate()
    }

    /// The read callback of the outer (decompressing) reader: one chunk from the source.
    private func fill(_ out: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        out.pointee = UnsafeRawPointer(buffer.baseAddress)
        do {
            let count = try readSource()
            compressedDigest?.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            return count
        } catch {
            failure = error
            return -1
        }
    }

    private func readSource() throws(ArchiveError) -> Int {
        guard !sourceEnded else { return 0 }
        let count: Int
        switch origin {
        case .descriptor(let fd, _):
            count = try readFully(fd, into: buffer)
        case .callback(let pull):
            do {
                count = try pull(buffer)
            } catch {
                throw ArchiveError(.io, "reading the archive failed: \(error)", underlying: error)
            }
            guard (0...buffer.count).contains(count) else {
                throw ArchiveError(.misuse, "the archive's pull callback returned \(count) for a buffer of \(buffer.count) bytes")
            }
        }
        if count == 0 { sourceEnded = true }
        sourceByteCount += Int64(count)
        return count
    }

    /// The next chunk of decompressed bytes, or nil at the end.
    func nextChunk() throws(ArchiveError) -> UnsafeRawBufferPointer? {
        guard !streamEnded, let archive else { return nil }
        while true {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            let status = archive_read_data_block(archive, &block, &size, &offset)
            if status == ARCHIVE_EOF {
                streamEnded = true
                return nil
            }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
                if let failure { throw failure }
                let detail = archive_error_string(archive).map { String(cString: $0) } ?? "decompression failed"
                decompressionFailure = detail
                throw ArchiveError.corrupt(detail, .stream)
            }
            guard let block, size > 0 else { continue }
            let chunk = UnsafeRawBufferPointer(start: block, count: size)
            uncompressedDigest?.update(chunk)
            if leadingBytes.count < 8 { leadingBytes += chunk.prefix(8 - leadingBytes.count) }
            return chunk
        }
    }

    /// The read callback of the inner (tar) reader.
    fileprivate func handOver(to out: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        do {
            guard let chunk = try nextChunk() else { return 0 }
            out.pointee = chunk.baseAddress
            return chunk.count
        } catch {
            // nextChunk recorded the cause in `failure` or `decompressionFailure`.
            return -1
        }
    }

    /// Reads the rest of both streams, so the digests cover every byte of the blob, even
    /// padding after the tar end marker or bytes after the compressed stream.
    func drain() throws(ArchiveError) {
        while try nextChunk() != nil {}
        while !sourceEnded {
            let count = try readSource()
            compressedDigest?.update(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    func digests() -> LayerDigests {
        let uncompressed = uncompressedDigest ?? StreamDigest()
        let compressed = compressedDigest ?? StreamDigest()
        return LayerDigests(
            diffID: uncompressed.hex(),
            uncompressedSize: uncompressed.count,
            compressedDigest: compression == .none ? nil : compressed.hex(),
            compressedSize: compression == .none ? nil : compressed.count
        )
    }
}
