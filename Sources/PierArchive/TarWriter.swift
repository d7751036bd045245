import CArchive

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes a tar stream, optionally gzip- or zstd-compressed, entry by entry.
///
/// The format is restricted pax: a plain ustar header for every entry that fits one, and a
/// pax extended header only where ustar cannot say it (names over 100 bytes, extended
/// attributes, large ids or sizes). That is what Docker's and containerd's Go writers
/// produce, and what every tar reader understands. Extended attributes are written as
/// `SCHILY.xattr.*` records, the form those readers look for.
///
/// The output is a pure function of the entries: no padding to 10 KiB records, no time
/// stamp in the gzip header, so the same entries always give the same digests.
///
/// Not `Sendable`; calls block on I/O.
public final class TarWriter {
    private let output: CompressingOutput
    private let archive: OpaquePointer
    /// The entry whose data is being written and how much of it is still owed.
    private var current: (path: String, declared: Int64, remaining: Int64)?
    private var finished = false
    private var copyBuffer: UnsafeMutableRawBufferPointer?

    /// - Parameters:
    ///   - compression: `.none` writes a plain tar.
    ///   - level: gzip 1...9 (default 6) or zstd 1...19 (default 3).
    ///   - digesting: hash what is written (the digests `finish()` returns). An archive that only
    ///     travels (`save`, `cp`) needs none, and hashing was a sixth of `save`'s time.
    public init(to sink: ArchiveSink, compression: Compression = .none, level: Int? = nil,
                digesting: Bool = true) throws(ArchiveError) {
        let output = try CompressingOutput(sink: sink, compression: compression, level: level, digesting: digesting)
        guard let archive = archive_write_new() else {
            throw ArchiveError(.io, "cannot allocate a libarchive writer (out of memory?)")
        }
        self.output = output
        self.archive = archive
        try ArchiveLocale.run { () throws(ArchiveError) in
            archive_write_set_format_pax_restricted(archive)
            archive_write_set_format_option(archive, "pax", "xattrheader", "SCHILY")
            // Hand the bytes on in 1 MiB pieces and never pad the last one: padding to
            // a block would add zeros that belong to no entry.
            archive_write_set_bytes_per_block(archive, Int32(streamBufferSize))
            archive_write_set_bytes_in_last_block(archive, 1)
            let status = archive_write_open(archive, Unmanaged.passUnretained(output).toOpaque(), nil, { _, client, bytes, count in
                guard let client else { return -1 }
                let output = Unmanaged<CompressingOutput>.fromOpaque(client).takeUnretainedValue()
                return output.acceptTar(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count))
            }, nil)
            guard status == ARCHIVE_OK else { throw failure("cannot start the tar stream") }
        }
    }

    deinit {
        // A writer dropped without finish() was abandoned (usually on an error): marked failed,
        // the free does not close it, so no end-of-archive marker reaches the sink.
        if !finished {
            output.discardOutput()
            archive_write_fail(archive)
        }
        archive_write_free(archive)
        copyBuffer?.deallocate()
    }

    /// Writes a header. A file's data must follow with `writeData` — exactly `size` bytes —
    /// before the next header or `finish()`.
    public func write(entry: TarEntry) throws(ArchiveError) {
        try requireOpen()
        try completeCurrentEntry()
        guard !entry.path.isEmpty else {
            throw ArchiveError(.misuse, "cannot write an archive entry with an empty path")
        }
        if entry.kind == .symlink || entry.kind == .hardlink, entry.linkTarget == nil {
            throw ArchiveError(.misuse, "archive entry \(quoted(entry.path)) is a \(entry.kind.rawValue) without a link target", path: entry.path)
        }
        guard entry.size >= 0 else {
            throw ArchiveError(.misuse, "archive entry \(quoted(entry.path)) has a negative size", path: entry.path)
        }
        try ArchiveLocale.run { () throws(ArchiveError) in
            guard let header = archive_entry_new() else {
                throw ArchiveError(.io, "cannot allocate a libarchive entry (out of memory?)")
            }
            defer { archive_entry_free(header) }
            entry.fill(header)
            let status = archive_write_header(archive, header)
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
                throw failure("cannot write the header of archive entry \(quoted(entry.path))", path: entry.path)
            }
        }
        let size = entry.kind == .file ? entry.size : 0
        current = (entry.path, size, size)
    }

    /// Appends data to the current file entry.
    public func writeData(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        try requireOpen()
        guard let entry = current else {
            throw ArchiveError(.misuse, "TarWriter.writeData called before write(entry:)")
        }
        guard Int64(bytes.count) <= entry.remaining else {
            throw ArchiveError(.misuse, "archive entry \(quoted(entry.path)) was declared as \(entry.declared) bytes; \(bytes.count) more would exceed that by \(Int64(bytes.count) - entry.remaining)", path: entry.path)
        }
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let count = archive_write_data(archive, base + done, bytes.count - done)
            guard count > 0 else {
                throw failure("cannot write the data of archive entry \(quoted(entry.path))", path: entry.path)
            }
            done += count
        }
        current?.remaining -= Int64(bytes.count)
    }

    /// Appends data to the current file entry.
    public func writeData(_ bytes: [UInt8]) throws(ArchiveError) {
        // Array.withUnsafeBytes only rethrows untyped errors; carry ours out by hand.
        var thrown: ArchiveError?
        bytes.withUnsafeBytes { buffer in
            do throws(ArchiveError) { try writeData(buffer) } catch { thrown = error }
        }
        if let thrown { throw thrown }
    }

    /// Writes a small generated file (manifest.json, a config blob): mode 0644 unless
    /// given, owned by root, dated `modificationTime` (0 keeps output reproducible).
    public func writeBytes(_ data: [UInt8], as path: String, mode: UInt32 = 0o644, modificationTime: Int64 = 0) throws(ArchiveError) {
        try write(entry: TarEntry(path: path, kind: .file, size: Int64(data.count), mode: mode, modificationTime: modificationTime))
        try writeData(data)
    }

    /// Writes one host file, directory (not its contents), symlink, device or fifo under
    /// the name `entryPath`, with its owner, mode, time and extended attributes, streaming
    /// a file's contents.
    public func writeFile(atPath path: String, as entryPath: String) throws(ArchiveError) {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw ArchiveError.system("lstat", "cannot read \(quoted(path))", path: path)
        }
        guard var entry = TarEntry(path: entryPath, status: st) else {
            throw ArchiveError(.unsupported, "cannot archive \(quoted(path)): sockets cannot be stored in a tar archive", path: path)
        }
        switch entry.kind {
        case .file:
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ArchiveError.system("open", "cannot read \(quoted(path))", path: path) }
            let file = Descriptor(fd)
            entry.xattrs = try ExtendedAttributes.read(.descriptor(file.fd), path: path)
            try write(entry: entry)
            try copyData(from: file.fd, hostPath: path)
        case .symlink:
            entry.linkTarget = try readLink(path, in: AT_FDCWD, path: path)
            entry.xattrs = try ExtendedAttributes.read(.path(path), path: path)
            try write(entry: entry)
        case .directory, .characterDevice, .blockDevice, .fifo, .hardlink:
            entry.xattrs = try ExtendedAttributes.read(.path(path), path: path)
            try write(entry: entry)
        }
    }

    /// Ends the archive (the end-of-archive marker, the compressor's trailer) and returns
    /// the digests of what was written. The sink is not closed.
    @discardableResult
    public func finish() throws(ArchiveError) -> LayerDigests {
        try requireOpen()
        try completeCurrentEntry()
        finished = true
        guard archive_write_close(archive) == ARCHIVE_OK else {
            throw failure("cannot finish the tar stream")
        }
        return try output.finish()
    }

    /// Streams the current file entry's data from a descriptor: exactly the declared size,
    /// failing if the file has shrunk since its size was taken.
    func copyData(from fd: Int32, hostPath: String) throws(ArchiveError) {
        let buffer = copyBuffer ?? .allocate(byteCount: streamBufferSize, alignment: 16)
        copyBuffer = buffer
        while let entry = current, entry.remaining > 0 {
            let want = Int(min(Int64(buffer.count), entry.remaining))
            let count = try readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]))
            guard count > 0 else {
                throw ArchiveError(.io, "\(quoted(hostPath)) changed while it was being archived: it has \(entry.declared - entry.remaining) bytes, not \(entry.declared)", path: hostPath)
            }
            try writeData(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
    }

    private func requireOpen() throws(ArchiveError) {
        guard !finished else {
            throw ArchiveError(.misuse, "TarWriter used after finish()")
        }
    }

    /// A file entry whose data fell short would be padded with zeros by libarchive,
    /// silently corrupting it; refuse instead.
    private func completeCurrentEntry() throws(ArchiveError) {
        guard let entry = current else { return }
        guard entry.remaining == 0 else {
            throw ArchiveError(.misuse, "archive entry \(quoted(entry.path)) was declared as \(entry.declared) bytes but only \(entry.declared - entry.remaining) were written", path: entry.path)
        }
        current = nil
    }

    /// The error of the sink (a failed write, a throwing callback) if there was one, as it
    /// says more than libarchive's own message.
    private func failure(_ what: String, path: String? = nil) -> ArchiveError {
        if let sinkFailure = output.failure { return sinkFailure }
        let detail = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        return ArchiveError(.io, "\(what): \(detail)", path: path)
    }
}

/// libarchive's writer state must not be shared between threads.
@available(*, unavailable)
extension TarWriter: Sendable {}

// MARK: - The compressing stage

/// The last stage of every write: takes the uncompressed tar stream, hashes it (the
/// diffID), compresses it with a second libarchive writer in "raw" format (which writes
/// its single entry's bytes through the filters untouched), hashes the result and hands
/// it to the sink. libarchive has no hook between its tar writer and its compressor, so
/// this is how both digests come out of one pass.
final class CompressingOutput {
    private let sink: ArchiveSink
    private let compression: Compression
    /// The compressor; nil for `.none`.
    private var compressor: OpaquePointer?
    private var uncompressedDigest = StreamDigest()
    private var compressedDigest = StreamDigest()
    private let digesting: Bool
    private var discarding = false
    private(set) var failure: ArchiveError?

    init(sink: ArchiveSink, compression: Compression, level: Int?, digesting: Bool) throws(ArchiveError) {
        self.sink = sink
        self.compression = compression
        self.digesting = digesting
        guard compression != .none else { return }
        let level = level ?? compression.defaultLevel
        let levels = compression == .gzip ? 1...9 : 1...19
        guard levels.contains(level) else {
            throw ArchiveError(.misuse, "compression level \(level) is out of range for \(compression.rawValue) (\(levels.lowerBound)...\(levels.upperBound))")
        }
        guard let compressor = archive_write_new() else {
            throw ArchiveError(.io, "cannot allocate a libarchive writer (out of memory?)")
        }
        self.compressor = compressor
        archive_write_set_format_raw(compressor)
        let added = compression == .gzip ? archive_write_add_filter_gzip(compressor) : archive_write_add_filter_zstd(compressor)
        // ARCHIVE_WARN would mean libarchive fell back to running an external program.
        guard added == ARCHIVE_OK,
              archive_write_set_filter_option(compressor, nil, "compression-level", String(level)) == ARCHIVE_OK
        else {
            throw ArchiveError(.unsupported, "this libarchive cannot compress with \(compression.rawValue) in-process")
        }
        if compression == .gzip {
            // Without this libarchive stamps the current time into the gzip header, and
            // the same layer would get a different digest every second.
            archive_write_set_filter_option(compressor, "gzip", "timestamp", nil)
        }
        archive_write_set_bytes_per_block(compressor, Int32(streamBufferSize))
        archive_write_set_bytes_in_last_block(compressor, 1)
        let opened = archive_write_open(compressor, Unmanaged.passUnretained(self).toOpaque(), nil, { _, client, bytes, count in
            guard let client else { return -1 }
            let output = Unmanaged<CompressingOutput>.fromOpaque(client).takeUnretainedValue()
            return output.deliver(UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : count))
        }, nil)
        guard opened == ARCHIVE_OK, let header = archive_entry_new() else {
            throw failure ?? ArchiveError(.io, "cannot start the \(compression.rawValue) stream")
        }
        defer { archive_entry_free(header) }
        archive_entry_set_filetype(header, FileType.regular)  // the raw format takes one regular file
        archive_entry_copy_pathname(header, "layer.tar")
        guard archive_write_header(compressor, header) == ARCHIVE_OK else {
            throw failure ?? ArchiveError(.io, "cannot start the \(compression.rawValue) stream")
        }
    }

    deinit {
        // finish() has closed the compressor in the normal case; otherwise the stream is
        // abandoned. Either way nothing more may be compressed: marked failed, the free does not
        // close it. (A close after a failed write made zlib read the input of that write again,
        // a buffer long gone: a crash seen when a push callback threw.)
        discarding = true
        if let compressor {
            archive_write_fail(compressor)
            archive_write_free(compressor)
        }
    }

    /// From now on bytes are dropped instead of reaching the sink.
    func discardOutput() {
        discarding = true
    }

    /// The tar writer's write callback: uncompressed bytes.
    fileprivate func acceptTar(_ bytes: UnsafeRawBufferPointer) -> Int {
        if discarding || bytes.isEmpty { return bytes.count }
        if digesting { uncompressedDigest.update(bytes) }
        guard let compressor, let base = bytes.baseAddress else {
            return deliver(bytes)
        }
        var done = 0
        while done < bytes.count {
            let count = archive_write_data(compressor, base + done, bytes.count - done)
            guard count > 0 else {
                if failure == nil {
                    let detail = archive_error_string(compressor).map { String(cString: $0) } ?? "unknown error"
                    failure = ArchiveError(.io, "cannot compress the archive with \(compression.rawValue): \(detail)")
                }
                return -1
            }
            done += count
        }
        return bytes.count
    }

    /// Bytes for the sink: compressed ones, or the tar itself for `.none`.
    private func deliver(_ bytes: UnsafeRawBufferPointer) -> Int {
        if discarding || bytes.isEmpty { return bytes.count }
        if digesting, compressor != nil { compressedDigest.update(bytes) }
        do throws(ArchiveError) {
            switch sink {
            case .fileDescriptor(let fd):
                try writeFully(fd, bytes, what: "cannot write the archive", path: nil)
            case .push(let push):
                do {
                    try push(bytes)
                } catch {
                    throw ArchiveError(.io, "writing the archive failed: \(error)", underlying: error)
                }
            }
            return bytes.count
        } catch {
            failure = error
            return -1
        }
    }

    /// Flushes the compressor and returns the digests.
    func finish() throws(ArchiveError) -> LayerDigests {
        if let compressor {
            guard archive_write_close(compressor) == ARCHIVE_OK else {
                throw failure ?? ArchiveError(.io, "cannot finish the \(compression.rawValue) stream")
            }
        }
        if let failure { throw failure }
        return LayerDigests(
            diffID: uncompressedDigest.hex(),
            uncompressedSize: uncompressedDigest.count,
            compressedDigest: compressor == nil ? nil : compressedDigest.hex(),
            compressedSize: compressor == nil ? nil : compressedDigest.count
        )
    }
}
