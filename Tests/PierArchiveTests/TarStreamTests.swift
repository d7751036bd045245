import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

@Suite("Tar streams")
struct TarStreamTests {
    static let longPath = (1...30).map { "segment\($0)" }.joined(separator: "/") + "/file.txt"
    static let longTarget = "/" + String(repeating: "target/", count: 40) + "end"

    /// One entry of every kind, with the values that stretch ustar: long names, big ids,
    /// times before 1970 and after 2242, binary extended attributes.
    static let entries: [(TarEntry, [UInt8])] = [
        (TarEntry(path: "dir", kind: .directory, mode: 0o1755, uid: 0, gid: 0, modificationTime: 1_700_000_000), []),
        (TarEntry(path: "dir/file", kind: .file, size: 2_500_000, mode: 0o4755, uid: 1000, gid: 1000,
                  uname: "builder", gname: "staff", modificationTime: 1_700_000_001,
                  xattrs: ["user.binary": [0, 255, 10, 13], "security.capability": FixtureTree.netBindCapability]),
         patternBytes(2_500_000)),
        (TarEntry(path: "dir/empty", kind: .file, mode: 0o600, modificationTime: -1_000), []),
        (TarEntry(path: longPath, kind: .file, size: 5, mode: 0o644, uid: 3_000_000, gid: 4_000_000, modificationTime: 9_000_000_000),
         Array("hello".utf8)),
        (TarEntry(path: "dir/symlink", kind: .symlink, mode: 0o777, linkTarget: longTarget), []),
        (TarEntry(path: "dir/hardlink", kind: .hardlink, mode: 0o4755, uid: 1000, gid: 1000, linkTarget: "dir/file"), []),
        (TarEntry(path: "dev/tty", kind: .characterDevice, mode: 0o620, gid: 5, devMajor: 5, devMinor: 0), []),
        (TarEntry(path: "dev/sda", kind: .blockDevice, mode: 0o660, gid: 6, devMajor: 8, devMinor: 300), []),
        (TarEntry(path: "run/fifo", kind: .fifo, mode: 0o622), []),
        (TarEntry(path: "ünïcødé/名前.txt", kind: .file, size: 1, mode: 0o644), [7]),
    ]

    static func expectedEntries() -> [TarEntry] {
        entries.map { entry, _ in
            var entry = entry
            if entry.kind == .directory { entry.path += "/" }  // tar's convention, added by the writer
            return entry
        }
    }

    @Test("every kind of entry survives TarWriter then TarReader", arguments: Compression.allCases)
    func roundTrip(compression: Compression) throws {
        let bytes = try makeArchive(compression) { writer in
            for (entry, data) in Self.entries {
                try writer.write(entry: entry)
                try writer.writeData(data)
            }
        }
        #expect(Compression.detect(magic: bytes) == compression)

        let reader = try TarReader(pullSource(bytes, chunk: 777))
        #expect(reader.compression == compression)
        let read = try readAll(pullSource(bytes, chunk: 777))
        #expect(read.map(\.entry) == Self.expectedEntries())
        #expect(read.map(\.data) == Self.entries.map(\.1))
    }

    @Test("a reader opens a path, a descriptor or a callback alike")
    func sources() throws {
        let tmp = try TemporaryDirectory()
        let path = tmp.path + "/a.tar.gz"
        let bytes = try makeArchive(.gzip) { try $0.writeBytes(Array("data".utf8), as: "x") }
        try writeFile(path, bytes)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        for source in [ArchiveSource.path(path), .fileDescriptor(fd), pullSource(bytes, chunk: 1)] {
            let read = try readAll(source)
            #expect(read.map(\.entry.path) == ["x"])
            #expect(read.map(\.data) == [Array("data".utf8)])
        }
    }

    @Test("readData in small pieces, skipData, and next() skipping unread data")
    func partialReads() throws {
        let bytes = try makeArchive { writer in
            try writer.writeBytes(patternBytes(10_000, seed: 1), as: "a")
            try writer.writeBytes(patternBytes(10_000, seed: 2), as: "b")
            try writer.writeBytes(patternBytes(10_000, seed: 3), as: "c")
        }
        let reader = try TarReader(pullSource(bytes))
        #expect(try reader.next()?.path == "a")
        var data: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: 333)
        while case let count = try piece.withUnsafeMutableBytes({ try reader.readData(into: $0) }), count > 0 {
            data += piece[..<count]
        }
        #expect(data == patternBytes(10_000, seed: 1))
        #expect(try reader.next()?.path == "b")
        try reader.skipData()
        #expect(try reader.next()?.path == "c")  // c's data is never read
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
    }

    @Test("Python's tarfile archives (GNU long names, pax records, ustar prefixes) read correctly")
    func pythonArchives() throws {
        let tmp = try TemporaryDirectory()
        try python("""
            import io, sys, tarfile
            long = '/'.join('part%d' % i for i in range(40)) + '/leaf'
            for fmt, name in [(tarfile.GNU_FORMAT, 'gnu.tar'), (tarfile.PAX_FORMAT, 'pax.tar'), (tarfile.USTAR_FORMAT, 'ustar.tar')]:
                with tarfile.open(sys.argv[1] + '/' + name, 'w', format=fmt) as t:
                    info = tarfile.TarInfo(long if fmt != tarfile.USTAR_FORMAT else 'a' * 90 + '/' + 'b' * 90)
                    info.size = 3; info.mode = 0o2750; info.uid = 1234; info.gid = 5678; info.mtime = 1234567890
                    if fmt == tarfile.PAX_FORMAT: info.pax_headers = {'SCHILY.xattr.user.origin': 'python'}
                    t.addfile(info, io.BytesIO(b'abc'))
            """, [tmp.path])
        let long = (0..<40).map { "part\($0)" }.joined(separator: "/") + "/leaf"
        for (name, path) in [("gnu.tar", long), ("pax.tar", long), ("ustar.tar", String(repeating: "a", count: 90) + "/" + String(repeating: "b", count: 90))] {
            let read = try readAll(.path(tmp.path + "/" + name))
            #expect(read.count == 1)
            let entry = try #require(read.first?.entry)
            #expect(entry.path == path, "\(name)")
            #expect(entry.mode == 0o2750 && entry.uid == 1234 && entry.gid == 5678 && entry.modificationTime == 1_234_567_890, "\(name)")
            #expect(read.first?.data == Array("abc".utf8))
            if name == "pax.tar" { #expect(entry.xattrs == ["user.origin": Array("python".utf8)]) }
        }
    }

    @Test("writeFile streams a host file, symlink or fifo with its metadata")
    func writeHostFiles() throws {
        let tmp = try TemporaryDirectory()
        try writeFile(tmp.path + "/file", patternBytes(1_500_000), mode: 0o2711)
        try check(chown(tmp.path + "/file", 42, 43), "chown")
        try check(chmod(tmp.path + "/file", 0o2711), "chmod")
        try setXattr(tmp.path + "/file", "user.note", Array("n".utf8))
        try setTime(tmp.path + "/file", 1_111_111_111)
        try check(symlink("file", tmp.path + "/link"), "symlink")
        try check(mkfifo(tmp.path + "/fifo", 0o600), "mkfifo")

        let bytes = try makeArchive(.zstd) { writer in
            try writer.writeFile(atPath: tmp.path + "/file", as: "copy/file")
            try writer.writeFile(atPath: tmp.path + "/link", as: "copy/link")
            try writer.writeFile(atPath: tmp.path + "/fifo", as: "copy/fifo")
            try writer.writeBytes(Array("{}".utf8), as: "manifest.json")
        }
        let read = try readAll(pullSource(bytes))
        #expect(read.map(\.entry.path) == ["copy/file", "copy/link", "copy/fifo", "manifest.json"])
        #expect(read[0].entry == TarEntry(path: "copy/file", kind: .file, size: 1_500_000, mode: 0o2711, uid: 42, gid: 43,
                                          modificationTime: 1_111_111_111, xattrs: ["user.note": Array("n".utf8)]))
        #expect(read[0].data == patternBytes(1_500_000))
        #expect(read[1].entry.kind == .symlink && read[1].entry.linkTarget == "file")
        #expect(read[2].entry.kind == .fifo)
        #expect(read[3].entry == TarEntry(path: "manifest.json", kind: .file, size: 2, mode: 0o644))
    }

    @Test("the writer's digests are those of the bytes it produced")
    func writerDigests() throws {
        let tmp = try TemporaryDirectory()
        let path = tmp.path + "/out.tar"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let writer = try TarWriter(to: .fileDescriptor(fd))
        try writer.writeBytes(patternBytes(100_000), as: "data")
        let digests = try writer.finish()
        close(fd)
        #expect(digests.diffID == (try sha256sum(path)))
        #expect(digests.uncompressedSize == (try fileSize(path)))
        // Unpadded: headers, data rounded to 512, and the two-block end marker.
        #expect(digests.uncompressedSize == 512 + 100_352 + 1_024)
    }

    @Test("misuse is reported, not silently padded or truncated")
    func misuse() throws {
        let tooMuch = #expect(throws: ArchiveError.self) {
            _ = try makeArchive { writer in
                try writer.write(entry: TarEntry(path: "f", kind: .file, size: 2))
                try writer.writeData([1, 2, 3])
            }
        }
        #expect(tooMuch?.code == .misuse)
        #expect(tooMuch?.message.contains("\"f\"") == true)

        let tooLittle = #expect(throws: ArchiveError.self) {
            _ = try makeArchive { writer in
                try writer.write(entry: TarEntry(path: "short", kind: .file, size: 10))
                try writer.writeData([1])
            }
        }
        #expect(tooLittle?.code == .misuse)
        #expect(tooLittle?.message.contains("\"short\" was declared as 10 bytes but only 1 were written") == true)

        let writer = try TarWriter(to: .push { _ in })
        try writer.finish()
        #expect(throws: ArchiveError.self) { try writer.writeBytes([], as: "late") }

        let reader = try TarReader(pullSource(try makeArchive { try $0.writeBytes([1], as: "x") }))
        let early = #expect(throws: ArchiveError.self) {
            var buffer = [UInt8](repeating: 0, count: 8)
            _ = try buffer.withUnsafeMutableBytes { try reader.readData(into: $0) }
        }
        #expect(early?.code == .misuse)
    }

    struct CallbackFailure: Error, Equatable {}

    @Test("errors thrown by the caller's callbacks come back as the cause of an .io error")
    func callbackErrors() throws {
        let pushError = #expect(throws: ArchiveError.self) {
            let writer = try TarWriter(to: .push { _ in throw CallbackFailure() }, compression: .gzip)
            try writer.writeBytes(patternBytes(3_000_000), as: "big")
            try writer.finish()
        }
        #expect(pushError?.code == .io)
        #expect(pushError?.underlying as? CallbackFailure == CallbackFailure())

        let pullError = #expect(throws: ArchiveError.self) {
            _ = try readAll(.pull { _ in throw CallbackFailure() })
        }
        #expect(pullError?.code == .io)
        #expect(pullError?.underlying as? CallbackFailure == CallbackFailure())

        let overrun = #expect(throws: ArchiveError.self) {
            _ = try readAll(.pull { buffer in buffer.count + 1 })
        }
        #expect(overrun?.code == .misuse)

        let tmp = try TemporaryDirectory()
        let missing = #expect(throws: ArchiveError.self) { try TarReader(.path(tmp.path + "/missing.tar")) }
        #expect(missing?.code == .io)
        #expect(missing?.message.contains("missing.tar") == true)
    }

    @Test("compression is recognised from the first bytes", arguments: [
        ([0x1F, 0x8B, 0x08, 0x00], Compression.gzip),
        ([0x28, 0xB5, 0x2F, 0xFD, 0x04], .zstd),
        (Array("ustar".utf8), .none),
        ([0x1F], .none),
        ([], .none),
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], .none),
    ] as [([UInt8], Compression)])
    func detect(magic: [UInt8], compression: Compression) {
        #expect(Compression.detect(magic: magic) == compression)
    }
}
