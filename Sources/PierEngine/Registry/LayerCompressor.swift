import CDeflate
import Dispatch
import Foundation
import PierOCI
import PierStore

/// Compresses an uncompressed layer blob for a push, pigz-style: the layer is cut into 4 MiB
/// pieces, each piece becomes one gzip member, pieces compress on all cores at once, and the
/// members are written in order to the content store through a `BlobWriter` (hashed on the way),
/// so the result can be uploaded — and uploaded again by later pushes — without compressing twice.
///
/// Concatenated members are one gzip stream (RFC 1952 §2.2); Go's `compress/gzip` (docker,
/// containerd), podman's and skopeo's readers and libarchive all read them (the registry tests
/// pull such layers with podman). The pieces are fixed, so the output — and the digest — is the
/// same however many cores did the work. A piece whose samples do not shrink (already compressed
/// files, random data) is stored (deflate level 0): a copy instead of a futile search for matches.
enum LayerCompressor {
    static let pieceSize = 4 << 20

    struct Result {
        let digest: Digest
        let size: Int64
        /// How many pieces were stored rather than compressed.
        let storedPieces: Int
    }

    /// - Parameters:
    ///   - output: each member as it is written (to upload while compressing).
    ///   - progress: uncompressed bytes consumed so far.
    static func gzip(path: String, size: Int64, level: Int, into store: ContentStore,
                     output: (UnsafeRawBufferPointer) -> Void = { _ in },
                     progress: (Int64) -> Void) throws -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw EngineError(.internalError, "cannot open layer \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let writer = try store.makeWriter()
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let pieces = max(1, Int((size + Int64(pieceSize) - 1) / Int64(pieceSize)))
        var index = 0
        var stored = 0
        do {
            // Each round compresses `workers` pieces at once, then writes them in order.
            while index < pieces {
                let round = min(workers, pieces - index)
                let outputs = Outputs(count: round)
                let first = index
                DispatchQueue.concurrentPerform(iterations: round) { slot in
                    let offset = Int64(first + slot) * Int64(pieceSize)
                    let length = Int(max(0, min(Int64(pieceSize), size - offset)))
                    outputs.store(slot) { try compressPiece(fd: fd, offset: offset, length: length, level: level) }
                }
                for slot in 0..<round {
                    let (bytes, wasStored) = try outputs.take(slot)
                    if wasStored { stored += 1 }
                    writer.write(bytes)
                    bytes.withUnsafeBytes { output($0) }
                }
                index += round
                progress(min(size, Int64(index) * Int64(pieceSize)))
            }
            let digest = try writer.commit()
            return Result(digest: digest, size: store.size(of: digest) ?? 0, storedPieces: stored)
        } catch {
            writer.abort()
            throw error
        }
    }

    /// What each worker produced. Each slot is written by one worker and read after
    /// `concurrentPerform` returns, which orders the accesses.
    final class Outputs: @unchecked Sendable {
        var slots: [Swift.Result<([UInt8], Bool), any Error>?]
        init(count: Int) { slots = Array(repeating: nil, count: count) }

        func store(_ slot: Int, _ body: () throws -> ([UInt8], Bool)) {
            slots[slot] = Swift.Result { try body() }
        }

        func take(_ slot: Int) throws -> ([UInt8], Bool) {
            guard let value = slots[slot] else { throw EngineError(.internalError, "compression produced nothing") }
            return try value.get()
        }
    }

    /// One gzip member of `length` bytes of the file from `offset`, and whether it was stored.
    static func compressPiece(fd: Int32, offset: Int64, length: Int, level: Int) throws -> ([UInt8], Bool) {
        var input = [UInt8](repeating: 0, count: length)
        var filled = 0
        try input.withUnsafeMutableBytes { raw in
            while filled < length {
                let n = pread(fd, raw.baseAddress! + filled, length - filled, off_t(offset) + off_t(filled))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw EngineError(.internalError, "layer file ended early while compressing") }
                filled += n
            }
        }
        return try input.withUnsafeBytes { raw in
            let store = try !shrinks(raw, level: level)
            return (try gzipMember(raw, level: store ? 0 : level), store)
        }
    }

    /// Whether three 32 KiB samples of a piece (at a quarter, half and three quarters) shrink by at least 3%.
    static func shrinks(_ bytes: UnsafeRawBufferPointer, level: Int) throws -> Bool {
        let sample = 32 << 10
        guard bytes.count > 4 * sample else { return true }
        var input = 0
        var output = 0
        for start in [bytes.count / 4, bytes.count / 2, bytes.count / 4 * 3] {
            input += sample
            output += try gzipMember(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + sample)]), level: level).count
        }
        return output * 100 < input * 97
    }

    /// `bytes` as one gzip member, in memory, through libdeflate (the whole piece at once: no
    /// streaming state, and about three times zlib's speed at level 1). The header carries no
    /// time stamp, so the same layer always gives the same digest.
    static func gzipMember(_ bytes: UnsafeRawBufferPointer, level: Int) throws -> [UInt8] {
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else {
            throw EngineError(.internalError, "cannot allocate a gzip compressor at level \(level)")
        }
        defer { libdeflate_free_compressor(compressor) }
        let bound = libdeflate_gzip_compress_bound(compressor, bytes.count)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { out in
            libdeflate_gzip_compress(compressor, bytes.baseAddress, bytes.count, out.baseAddress, bound)
        }
        guard written > 0 else { throw EngineError(.internalError, "gzip compression of a layer piece failed") }
        output.removeLast(bound - written)
        return output
    }
}
