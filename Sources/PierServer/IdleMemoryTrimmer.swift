import Dispatch
import PierArchive
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Gives the kernel back the memory that a burst of requests freed, once pierd is idle.
///
/// glibc's malloc keeps freed memory in its arenas for reuse; after a `save`, a `load` or a
/// long `images` list that is several megabytes pierd no longer uses but still holds (measured:
/// 8 MB anonymous after `bench/images.sh`'s runs). One second after the last request finishes,
/// with none finished since, `malloc_trim(0)` releases the free pages of every arena. A request
/// that streams for a long time (`events`, `logs -f`) does not hold this up: only finishing ones
/// count, and they push the trim back. libarchive (and its eleven libraries) is unloaded at the
/// same moment if no archive is open, which is another ~1.6 MB after a `save` or a `load`.
final class IdleMemoryTrimmer: Sendable {
    private let generation = Atomic<UInt64>(0)
    private let delay: DispatchTimeInterval

    init(delay: DispatchTimeInterval = .seconds(1)) {
        self.delay = delay
    }

    func requestFinished() {
        let mine = generation.add(1, ordering: .relaxed).newValue
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + delay) { [self] in
            guard generation.load(ordering: .relaxed) == mine else { return }
            ArchiveLibrary.unloadIfUnused()
            _ = Self.mallocTrim?(0)
        }
    }

    /// glibc's `malloc_trim`, which Swift's Glibc module does not import (it is in <malloc.h>);
    /// nil on a C library without it.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()
}
