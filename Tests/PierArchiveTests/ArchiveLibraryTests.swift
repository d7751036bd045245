import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

/// libarchive is unloaded only when no archive is open, and comes back on the next use.
/// Serialized, and alone in its suite: other suites in this process open archives too.
@Suite("libarchive unloading", .serialized)
struct ArchiveLibraryTests {
    static func isLoaded() -> Bool {
        // /proc files report size 0: read them with stdio, line by line.
        guard let file = fopen("/proc/self/maps", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), file) != nil {
            if String(cString: line).contains("libarchive.so") { return true }
        }
        return false
    }

    @Test("kept while a reader is open; unloaded after; loaded again on use")
    func unloadsOnlyWhenUnused() throws {
        let bytes = try makeArchive { try $0.writeBytes(Array("hello".utf8), as: "greeting") }
        do {
            let reader = try TarReader(pullSource(bytes))
            #expect(ArchiveLibrary.unloadIfUnused() == false)
            #expect(Self.isLoaded())
            #expect(try reader.next()?.path == "greeting")
        }
        // Other tests in this process may hold archives for a moment: wait for them.
        var unloaded = false
        for _ in 0..<3000 where !unloaded {
            unloaded = ArchiveLibrary.unloadIfUnused()
            if !unloaded { usleep(10_000) }
        }
        #expect(unloaded)
        let again = try TarReader(pullSource(try makeArchive { try $0.writeBytes([1, 2, 3], as: "x") }))
        #expect(try again.next()?.path == "x")
        #expect(Self.isLoaded())
    }
}
