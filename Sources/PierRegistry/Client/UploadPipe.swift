import Dispatch
import NIOCore
import Synchronization

/// Carries bytes a blocking thread produces (a layer being compressed) to an upload's request
/// body, as an async sequence of buffers. The producer blocks while `limit` bytes are queued, so
/// a slow registry never lets the queue grow; the upload reads as the bytes come.
public final class UploadPipe: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    struct State {
        var chunks: [ByteBuffer] = []
        var queued = 0
        var ended = false
        var failure: (any Error)?
        var closed = false
        var consumer: CheckedContinuation<Void, Never>?
        var producerWaiting = false
    }

    let limit: Int
    let state = Mutex(State())
    let wakeProducer = DispatchSemaphore(value: 0)

    public init(limit: Int = 8 << 20) {
        self.limit = limit
    }

    /// Blocking: queues a copy of `bytes`; waits while the queue is full. Once the upload has
    /// given up (`isClosed`), bytes are dropped.
    public func push(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        let buffer = ByteBuffer(bytes: bytes)
        while true {
            enum Step { case queued(CheckedContinuation<Void, Never>?), dropped, wait }
            let step = state.withLock { state -> Step in
                if state.closed { return .dropped }
                if state.queued < limit {
                    state.chunks.append(buffer)
                    state.queued += buffer.readableBytes
                    defer { state.consumer = nil }
                    return .queued(state.consumer)
                }
                state.producerWaiting = true
                return .wait
            }
            switch step {
            case .queued(let consumer):
                consumer?.resume()
                return
            case .dropped:
                return
            case .wait:
                wakeProducer.wait()
            }
        }
    }

    /// The producer is done; the upload reads the rest, then the end.
    public func finish() {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.ended = true
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    /// The producer failed: the upload's next read throws.
    public func fail(_ error: any Error) {
        let consumer = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.failure = error
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume()
    }

    /// The upload is over (or failed): the producer's pushes are dropped from now on.
    public func close() {
        let wake = state.withLock { state -> Bool in
            state.closed = true
            state.chunks.removeAll()
            state.queued = 0
            defer { state.producerWaiting = false }
            return state.producerWaiting
        }
        if wake { wakeProducer.signal() }
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    func next() async throws -> ByteBuffer? {
        while true {
            enum Step { case chunk(ByteBuffer, Bool), end, failed(any Error), wait }
            let step = state.withLock { state -> Step in
                if let failure = state.failure { return .failed(failure) }
                if !state.chunks.isEmpty {
                    let chunk = state.chunks.removeFirst()
                    state.queued -= chunk.readableBytes
                    let wake = state.producerWaiting && state.queued < limit
                    if wake { state.producerWaiting = false }
                    return .chunk(chunk, wake)
                }
                if state.ended { return .end }
                return .wait
            }
            switch step {
            case .chunk(let chunk, let wake):
                if wake { wakeProducer.signal() }
                return chunk
            case .end:
                return nil
            case .failed(let error):
                throw error
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.chunks.isEmpty || state.ended || state.failure != nil { return true }
                        state.consumer = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    public struct Iterator: AsyncIteratorProtocol {
        let pipe: UploadPipe
        public mutating func next() async throws -> ByteBuffer? { try await pipe.next() }
    }

    public func makeAsyncIterator() -> Iterator { Iterator(pipe: self) }
}
