import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

@Suite("Large layers")
struct LargeLayerTests {
    static let size: Int64 = 200 << 20

    @Test("a 200 MB file goes through writer and extractor in constant memory")
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
        let target = tmp.sub("target")
        let extracted = try LayerExtractor.extract(from: .path(layer), into: target, mode: .apply)
        let growth = peakResidentBytes() - before

        #expect(written.uncompressedSize > Self.size)
        #expect(extracted == written)
        #expect(try fileSize(target + "/big.img") == Self.size)
        let end = try FileHandle(forReadingFrom: URL(fileURLWithPath: target + "/big.img"))
        try end.seek(toOffset: UInt64(Self.size) - UInt64(tail.count))
        #expect(try end.readToEnd().map([UInt8].init) == tail)
        try end.close()
        // Whole-file buffering would add at least 200 MB; streaming adds a few buffers.
        #expect(growth < 64 << 20, "peak memory grew by \(growth >> 20) MiB")
    }
}
