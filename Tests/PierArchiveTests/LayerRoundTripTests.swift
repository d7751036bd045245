import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

/// A tree with one of everything a layer has to carry across.
enum FixtureTree {
    /// 20-byte VFS_CAP_REVISION_2 value granting cap_net_bind_service, effective.
    static let netBindCapability: [UInt8] = [0x01, 0, 0, 0x02, 0x00, 0x04, 0, 0] + [UInt8](repeating: 0, count: 12)
    static let longName = String(repeating: "long-name-", count: 15) + "end.txt"

    static func build(at root: String) throws {
        func path(_ relative: String) -> String { root + "/" + relative }
        for (dir, mode) in [("bin", 0o755), ("etc", 0o755), ("private", 0o700), ("tmp", 0o1777), ("dev", 0o755),
                            ("deep", 0o755), ("deep/er", 0o750), ("deep/er/and", 0o755), ("empty", 0o555)] as [(String, mode_t)] {
            try check(mkdir(path(dir), 0o700), "mkdir \(dir)")
            try check(chmod(path(dir), mode), "chmod \(dir)")
        }
        try writeFile(path("bin/tool"), patternBytes(3 * 1024 * 1024 + 17))
        try check(chown(path("bin/tool"), 0, 0), "chown")
        try check(chmod(path("bin/tool"), 0o4755), "chmod setuid")
        try check(link(path("bin/tool"), path("bin/tool-hardlink")), "link")
        try check(symlink("/bin/busybox", path("bin/sh")), "symlink")
        try check(symlink("../bin/tool", path("etc/relative-link")), "symlink")
        try check(lchown(path("bin/sh"), 1002, 1003), "lchown symlink")

        try writeFile(path("etc/config"), Array("key = value\n".utf8), mode: 0o640)
        try check(chown(path("etc/config"), 1000, 1001), "chown")
        try writeFile(path("etc/empty"), [])
        try writeFile(path("etc/héllo wörld.txt"), Array("unicode name\n".utf8))
        try writeFile(path("etc/capable"), Array("#!/bin/sh\n".utf8), mode: 0o755)
        try setXattr(path("etc/capable"), "security.capability", netBindCapability)
        try setXattr(path("etc/config"), "user.comment", Array("made by a test".utf8))
        try setXattr(path("etc/config"), "trusted.pier", [0, 1, 2, 255])
        try setXattr(path("etc"), "user.directory", Array("yes".utf8))
        try check(mkfifo(path("etc/fifo"), 0o640), "mkfifo")
        try check(chmod(path("etc/fifo"), 0o640), "chmod fifo")
        try check(mknod(path("dev/null"), S_IFCHR | 0o666, deviceNumber(major: 1, minor: 3)), "mknod char")
        try check(chmod(path("dev/null"), 0o666), "chmod null")
        try check(mknod(path("dev/loop0"), S_IFBLK | 0o660, deviceNumber(major: 7, minor: 0)), "mknod block")
        try check(chown(path("dev/loop0"), 0, 6), "chown block")
        try writeFile(path("deep/er/and/\(longName)"), Array("far away\n".utf8), mode: 0o600)
        try writeFile(path("private/secret"), Array("s3cret".utf8), mode: 0o400)
        try check(chown(path("private"), 1000, 1000), "chown dir")
        try check(chown(path("private/secret"), 1000, 1000), "chown")

        // Distinct times everywhere; directories last, deepest first, because creating
        // anything inside a directory moves its time again.
        var time: Int64 = 1_600_000_000
        for file in ["bin/tool", "bin/sh", "etc/relative-link", "etc/config", "etc/empty", "etc/héllo wörld.txt",
                     "etc/capable", "etc/fifo", "dev/null", "dev/loop0", "deep/er/and/\(longName)", "private/secret"] {
            time += 3_600
            try setTime(path(file), time)
        }
        for dir in ["deep/er/and", "deep/er", "deep", "empty", "dev", "tmp", "private", "etc", "bin"] {
            time += 86_400
            try setTime(path(dir), time)
        }
    }
}

@Suite("Layer round trip")
struct LayerRoundTripTests {
    @Test("a tree survives LayerWriter then LayerExtractor, and the digests are the real ones", arguments: Compression.allCases)
    func roundTrip(compression: Compression) throws {
        let tmp = try TemporaryDirectory()
        let source = tmp.sub("source")
        try FixtureTree.build(at: source)
        let expected = try snapshot(source)

        let layerPath = tmp.path + "/layer"
        let written = try writeLayer(source, to: layerPath, compression: compression)

        // The digests agree with coreutils on the bytes actually written.
        let tarPath = tmp.path + "/layer.tar"
        switch compression {
        case .none:
            try run("/bin/cp", [layerPath, tarPath])
        case .gzip:
            try run("/bin/sh", ["-c", "gzip -dc < '\(layerPath)' > '\(tarPath)'"])
        case .zstd:
            try run("/bin/sh", ["-c", "zstd -q -dc < '\(layerPath)' > '\(tarPath)'"])
        }
        #expect(written.diffID == (try sha256sum(tarPath)))
        #expect(written.uncompressedSize == (try fileSize(tarPath)))
        if compression == .none {
            #expect(written.compressedDigest == nil)
            #expect(written.compressedSize == nil)
        } else {
            #expect(written.compressedDigest == (try sha256sum(layerPath)))
            #expect(written.compressedSize == (try fileSize(layerPath)))
        }

        let target = tmp.sub("target")
        let extracted = try LayerExtractor.extract(from: .path(layerPath), into: target, mode: .apply)
        #expect(extracted == written)

        let actual = try snapshot(target)
        #expect(actual.keys.sorted() == expected.keys.sorted())
        for (path, info) in expected {
            #expect(actual[path] == info, "\(path)")
        }
        // The details most likely to be lost, spelled out.
        #expect(actual["bin/tool"]?.mode == 0o4755)
        #expect(actual["bin/tool"]?.hardlinkGroup == "bin/tool")
        #expect(actual["bin/tool-hardlink"]?.hardlinkGroup == "bin/tool")
        #expect(actual["bin/sh"]?.linkTarget == "/bin/busybox")
        #expect(actual["bin/sh"]?.uid == 1002)
        #expect(actual["etc/capable"]?.xattrs["security.capability"] == FixtureTree.netBindCapability)
        #expect(actual["dev/null"]?.device == UInt64(deviceNumber(major: 1, minor: 3)))
        #expect(actual["tmp"]?.mode == 0o1777)
    }

    @Test("the layer is a plain pax tar that Python's tarfile reads, in sorted order, directories with a slash")
    func readableByPython() throws {
        let tmp = try TemporaryDirectory()
        let source = tmp.sub("source")
        try FixtureTree.build(at: source)
        let layerPath = tmp.path + "/layer.tar.gz"
        try writeLayer(source, to: layerPath, compression: .gzip)

        let listing = try python("""
            import sys, tarfile
            for m in tarfile.open(sys.argv[1]).getmembers():
                print(m.type.decode(), m.name + ('/' if m.isdir() else ''), m.linkname, ','.join(sorted(k for k in m.pax_headers if 'xattr' in k)), sep='|')
            """, [layerPath])
        let lines = listing.split(separator: "\n").map(String.init)
        let names = lines.map { String($0.split(separator: "|", omittingEmptySubsequences: false)[1]) }
        #expect(names.first == "bin/")
        #expect(names.contains("deep/er/and/\(FixtureTree.longName)"))
        #expect(names.contains("etc/héllo wörld.txt"))
        #expect(lines.contains("1|bin/tool-hardlink|bin/tool|"))
        #expect(lines.contains("2|bin/sh|/bin/busybox|"))
        #expect(lines.contains("0|etc/config||SCHILY.xattr.trusted.pier,SCHILY.xattr.user.comment"))
        // Depth first, byte order within each directory.
        let ours = try readAll(.path(layerPath)).map(\.entry.path)
        #expect(ours == names)
        #expect(ours == ["bin/", "bin/sh", "bin/tool", "bin/tool-hardlink", "deep/", "deep/er/", "deep/er/and/",
                         "deep/er/and/\(FixtureTree.longName)", "dev/", "dev/loop0", "dev/null", "empty/", "etc/",
                         "etc/capable", "etc/config", "etc/empty", "etc/fifo", "etc/héllo wörld.txt", "etc/relative-link",
                         "private/", "private/secret", "tmp/"])
    }

    @Test("the same tree gives the same bytes, whenever and however often it is written", arguments: Compression.allCases)
    func reproducible(compression: Compression) throws {
        let tmp = try TemporaryDirectory()
        let source = tmp.sub("source")
        try FixtureTree.build(at: source)
        let first = try writeLayer(source, to: tmp.path + "/first", compression: compression)
        // Reading the tree changed access times; copying it elsewhere changes inode numbers.
        let copy = tmp.path + "/copy"
        try run("/bin/cp", ["-a", source, copy])
        let second = try writeLayer(copy, to: tmp.path + "/second", compression: compression)
        #expect(first == second)
        #expect(try sha256sum(tmp.path + "/first") == (try sha256sum(tmp.path + "/second")))
    }

    @Test("gzip output carries no time stamp (bytes 4-7 of the header are zero)")
    func gzipHeaderHasNoTimestamp() throws {
        let bytes = try makeArchive(.gzip) { try $0.writeBytes(Array("x".utf8), as: "x") }
        #expect(Array(bytes.prefix(10)) == [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03])
    }

    @Test("sourceDateEpoch clamps later modification times and keeps earlier ones")
    func sourceDateEpoch() throws {
        let tmp = try TemporaryDirectory()
        let source = tmp.sub("source")
        try writeFile(source + "/old", [1])
        try writeFile(source + "/new", [2])
        try setTime(source + "/old", 1_000)
        try setTime(source + "/new", 2_000_000_000)
        var bytes: [UInt8] = []
        try LayerWriter.write(directory: source, to: .push { bytes += $0 }, compression: .none, sourceDateEpoch: 1_700_000_000)
        let times = Dictionary(uniqueKeysWithValues: try readAll(pullSource(bytes)).map { ($0.entry.path, $0.entry.modificationTime) })
        #expect(times == ["new": 1_700_000_000, "old": 1_000])
    }

    @Test("a layer can be written to a push callback and extracted from a pull callback")
    func callbacks() throws {
        let tmp = try TemporaryDirectory()
        let source = tmp.sub("source")
        try writeFile(source + "/a", patternBytes(2_500_000))
        try check(mkdir(source + "/d", 0o755), "mkdir")
        try writeFile(source + "/d/b", Array("bee".utf8))
        var bytes: [UInt8] = []
        let written = try LayerWriter.write(directory: source, to: .push { bytes += $0 }, compression: .zstd)
        #expect(written.compressedSize == Int64(bytes.count))

        let target = tmp.sub("target")
        let extracted = try LayerExtractor.extract(from: pullSource(bytes, chunk: 4_099), into: target, mode: .overlay)
        #expect(extracted == written)
        #expect(try readFile(target + "/a") == patternBytes(2_500_000))
        #expect(try readFile(target + "/d/b") == Array("bee".utf8))
        #expect(try LayerDigests.measure(pullSource(bytes)) == written)
    }
}

/// Writes `directory` as a layer into a new file at `path`.
@discardableResult
func writeLayer(_ directory: String, to path: String, compression: Compression, overlay: Bool = false) throws -> LayerDigests {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TestFailure("open \(path): \(errno)") }
    defer { close(fd) }
    return try LayerWriter.write(directory: directory, to: .fileDescriptor(fd), compression: compression, whiteoutsFromOverlay: overlay)
}
