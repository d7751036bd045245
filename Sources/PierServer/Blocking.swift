import Dispatch
import NIOCore
import NIOPosix
import PierAPI
import PierArchive
import PierEngine

/// Engine calls block (file I/O, tar streams); they run on NIO's thread pool, never on the
/// cooperative pool or an event loop. These helpers also bridge byte streams between a
/// blocking engine call and the async HTTP connection, with back-pressure in both directions.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await NIOThreadPool.singleton.runIfActive(work)
        } catch let error as EngineError {
            throw error.apiError
        }
    }

    /// Runs `work` with a sink that writes to the response. Small pieces (libarchive writes 10 KiB
    /// records) are gathered into 256 KiB writes; each write is waited for, so a slow client
    /// slows the producer instead of filling memory.
    static func streamResponse(_ writer: ResponseWriter,
                               _ work: @escaping @Sendable (ArchiveSink) throws -> Void) async throws {
        try await run {
            let failure = ErrorBox()
            let pending = PendingBytes()
            func flush() throws {
                guard pending.buffer.readableBytes > 0 else { return }
                var buffer = pending.buffer
                pending.buffer = ByteBuffer()
                let done = DispatchSemaphore(value: 0)
                Task { [buffer] in
                    do { try await writer.writeBody(buffer) } catch { failure.error = error }
                    done.signal()
                }
                done.wait()
                if let error = failure.error { throw error }
                // The same storage again once written (a fresh 256 KiB each time cost page faults
                // and zeroing on every chunk); if the channel still holds it, clear() copies.
                buffer.clear()
                pending.buffer = buffer
            }
            try work(.push { bytes in
                pending.buffer.writeBytes(bytes)
                if pending.buffer.readableBytes >= PendingBytes.chunk { try flush() }
            })
            try flush()
        }
    }

    /// Runs `work` with a source that pulls the request body, waiting for each piece.
    static func withBodySource<T: Sendable>(_ body: RequestBody,
                                            _ work: @escaping @Sendable (ArchiveSource) throws -> T) async throws -> T {
        let box = BodyBox(body)
        return try await run {
            try work(.pull { destination in try box.read(into: destination) })
        }
    }
}

/// An error carried out of a task into the blocking thread that waits for it.
final class ErrorBox: @unchecked Sendable {
    // Written by the task before it signals, read by the waiter after: ordered by the semaphore.
    var error: (any Error)?
}

/// Lets one blocking thread read the request body. Reads are strictly sequential (each waits
/// for the previous), so the non-Sendable body is never touched by two threads at once.
final class BodyBox: @unchecked Sendable {
    let body: RequestBody
    var pending = ByteBuffer()
    var ended = false

    init(_ body: RequestBody) { self.body = body }

    func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        while pending.readableBytes == 0 {
            if ended { return 0 }
            let done = DispatchSemaphore(value: 0)
            let failure = ErrorBox()
            Task {
                do {
                    if let next = try await self.body.next() { self.pending = next } else { self.ended = true }
                } catch {
                    failure.error = error
                }
                done.signal()
            }
            done.wait()
            if let error = failure.error { throw error }
        }
        let count = min(destination.count, pending.readableBytes)
        pending.withUnsafeReadableBytes { source in
            destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: count)
        }
        pending.moveReaderIndex(forwardBy: count)
        return count
    }
}

/// Output gathered on the blocking thread between network writes.
final class PendingBytes: @unchecked Sendable {
    // Used only by the one blocking thread that produces the stream.
    static let chunk = 256 * 1024
    var buffer: ByteBuffer = {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(chunk)
        return buffer
    }()
}
