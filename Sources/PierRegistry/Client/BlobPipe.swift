import Dispatch
import NIOCore
import Synchronization

/// Carries a blob from the network (async, on the event loops) to the thread that stores
/// and unpacks it (blocking, libarchive). The producer waits while `limit` bytes are queued, so
/// a fast network never fills memory; the consumer blocks until bytes, the end, or an error come.
public final class BlobPipe: Sendable {
    struct State {
        var chunks: [ByteBuffer] = []
        var queued = 0
        var ended = false
        var failure: (any Error)?
        var closed = false
        var consumerWaiting = false
        var producerWaiter: CheckedContinuation<Void, Never>?
    }

    struct Closed: Error {}

    let limit: Int
    let state = Mutex(State())
    let wakeConsumer = DispatchSemaphore(value: 0)

    public init(limit: Int = 8 << 20) {
        self.limit = limit
    }

    /// Queues a piece; waits while the queue is full. Throws once the consumer has gone.
    func send(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        let (wake, full) = try state.withLock { state throws -> (Bool, Bool) in
            if state.closed { throw Closed() }
            state.chunks.append(buffer)
            state.queued += buffer.readableBytes
            let wake = state.consumerWaiting
            state.consumerWaiting = false
            return (wake, state.queued >= limit)
        }
        if wake { wakeConsumer.signal() }
        if full {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.queued < limit || state.closed { return true }
                    state.producerWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            if state.withLock({ $0.closed }) { throw Closed() }
        }
    }

    /// The producer is done: the consumer reads the rest, then the end.
    func finish() {
        let wake = state.withLock { state -> Bool in
            state.ended = true
            defer { state.consumerWaiting = false }
            return state.consumerWaiting
        }
        if wake { wakeConsumer.signal() }
    }

    /// The producer failed: the consumer's next read throws `error`.
    func fail(_ error: any Error) {
        let wake = state.withLock { state -> Bool in
            state.failure = error
            defer { state.consumerWaiting = false }
            return state.consumerWaiting
        }
        if wake { wakeConsumer.signal() }
    }

    /// The consumer is done (or failed): the producer's sends throw from now on.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            state.chunks.removeAll()
            state.queued = 0
            defer { state.producerWaiter = nil }
            return state.producerWaiter
        }
        waiter?.resume()
    }

    /// Blocking: fills `destination` from the queue; 0 at the end.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            enum Step { case data(Int, CheckedContinuation<Void, Never>?), end, failed(any Error), wait }
            let step = state.withLock { state -> Step in
                if let failure = state.failure { return .failed(failure) }
                if !state.chunks.isEmpty {
                    var filled = 0
                    while filled < destination.count, !state.chunks.isEmpty {
                        let count = min(destination.count - filled, state.chunks[0].readableBytes)
                        state.chunks[0].withUnsafeReadableBytes { source in
                            (destination.baseAddress! + filled).copyMemory(from: source.baseAddress!, byteCount: count)
                        }
                        state.chunks[0].moveReaderIndex(forwardBy: count)
                        if state.chunks[0].readableBytes == 0 { state.chunks.removeFirst() }
                        filled += count
                    }
                    state.queued -= filled
                    var waiter: CheckedContinuation<Void, Never>?
                    if state.queued < limit {
                        waiter = state.producerWaiter
                        state.producerWaiter = nil
                    }
                    return .data(filled, waiter)
                }
                if state.ended { return .end }
                state.consumerWaiting = true
                return .wait
            }
            switch step {
            case .data(let count, let waiter):
                waiter?.resume()
                return count
            case .end:
                return 0
            case .failed(let error):
                throw error
            case .wait:
                wakeConsumer.wait()
            }
        }
    }
}
