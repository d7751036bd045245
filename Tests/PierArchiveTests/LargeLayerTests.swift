import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

@Suite("Large layers")
struct LargeLayerTests {
    static let size: Int64 = 200 << 20

    @Test("a 200 MB file goes through writer and extractor as a stream, in constant memory")
    func streaming() throws {
        let tmp = try TemporaryDirectory()
        let source = tmp.sub("source")
        // Sparse: no disk space or time spent on the source; the archive still carries
        // every one of the 200 MB.
        let fd = open(source + "/big.img", O_WRONLY | O_CREAT, 0o644)
        try check(ftruncate(fd, off_t(Self.size)), "ftruncate")
        let tail = Array("the end".utf8)
        _ = tail.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(Self.size) - off_t(tail.count)) }
        close(fd)

        let before = peakResidentBytes()
        let layer = tmp.path + "/layer.tar.gz"
        let written = try writeLayer(source, to: layer, compression: .gzip)

        // Feed the extractor in small pieces and look at the target while it still has
        // input left: a streaming extractor has already written much of the file.
        let input = open(layer, O_RDONLY)
        defer { close(input) }
        let total = try fileSize(layer)
        var served: Int64 = 0
        var sizeSeenMidway: Int64 = -1
        let target = tmp.sub("target")
        let extracted = try LayerExtractor.extract(from: .pull { buffer in
            let count = read(input, buffer.baseAddress, min(buffer.count, 4_096))
            served += Int64(max(count, 0))
            if sizeSeenMidway < 0, served > total * 3 / 4 { sizeSeenMidway = (try? fileSize(target + "/big.img")) ?? 0 }
            return count
        }, into: target, mode: .apply)
        let growth = peakResidentBytes() - before

        #expect(written.uncompressedSize > Self.size)
        #expect(extracted == written)
        #expect(sizeSeenMidway > 0 && sizeSeenMidway < Self.size, "file size when 3/4 of the input was read: \(sizeSeenMidway)")
        #expect(try fileSize(target + "/big.img") == Self.size)
        let end = try FileHandle(forReadingFrom: URL(fileURLWithPath: target + "/big.img"))
        try end.seek(toOffset: UInt64(Self.size) - UInt64(tail.count))
        #expect(try end.readToEnd().map([UInt8].init) == tail)
        try end.close()
        // Holding the file would add at least 200 MB; streaming adds a few 1 MiB buffers.
        // (The peak is process-wide, so leave room for tests running alongside.)
        #expect(growth < 128 << 20, "peak memory grew by \(growth >> 20) MiB")
    }
}
