import Foundation
import NIOPosix

/// Where blocking work runs, so it never stalls the event loops or Swift's cooperative pool.
public enum Offload {
    /// Short blocking work (a read, a write, a rename) on NIO's thread pool.
    public static func pool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }

    /// Long blocking work (unpacking a layer while it downloads, compressing one while it uploads)
    /// on a thread of its own: it may wait on the network for a long time, and must not hold one of
    /// the thread pool's few threads meanwhile.
    public static func thread<T: Sendable>(name: String, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try work())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = name
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
