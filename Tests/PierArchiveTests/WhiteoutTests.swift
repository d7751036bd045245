import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

@Suite("Whiteouts")
struct WhiteoutTests {
    static let opaqueValue = Array("y".utf8)

    /// A layer that deletes etc/passwd, makes var opaque and adds var/new.
    static func deletingLayer(opaqueFirst: Bool) throws -> [UInt8] {
        try makeArchive { writer in
            try writer.write(entry: TarEntry(path: "etc/", kind: .directory, mode: 0o755))
            try writer.write(entry: TarEntry(path: "etc/.wh.passwd", kind: .file, mode: 0o600))
            try writer.write(entry: TarEntry(path: "var/", kind: .directory, mode: 0o755))
            if opaqueFirst { try writer.write(entry: TarEntry(path: "var/.wh..wh..opq", kind: .file)) }
            try writer.writeBytes(Array("new".utf8), as: "var/new")
            // A directory the lower layer has too: this layer keeps it, but not what
            // the lower layer had in it.
            try writer.write(entry: TarEntry(path: "var/old/", kind: .directory, mode: 0o755))
            try writer.writeBytes(Array("b".utf8), as: "var/old/b")
            if !opaqueFirst { try writer.write(entry: TarEntry(path: "var/.wh..wh..opq", kind: .file)) }
        }
    }

    @Test("overlay mode: .wh.NAME becomes a 0/0 character device, .wh..wh..opq the opaque attribute")
    func overlay() throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("layer")
        try LayerExtractor.extract(from: pullSource(try Self.deletingLayer(opaqueFirst: true)), into: root, mode: .overlay)
        let tree = try snapshot(root)
        #expect(tree["etc/passwd"]?.kind == "char")
        #expect(tree["etc/passwd"]?.device == 0)
        #expect(tree["var"]?.kind == "dir")
        #expect(try ExtendedAttributes.value("trusted.overlay.opaque", of: .path(root + "/var"), path: "var") == Self.opaqueValue)
        #expect(try ExtendedAttributes.value("trusted.overlay.opaque", of: .path(root + "/etc"), path: "etc") == nil)
        #expect(tree["var/new"]?.kind == "file")
        #expect(tree["var/old/b"]?.kind == "file")
        // No whiteout file itself is left behind.
        #expect(tree.keys.filter { $0.contains(".wh.") }.isEmpty)
    }

    @Test("apply mode: whiteouts delete from the tree below; an opaque directory keeps only this layer's files",
          arguments: [true, false])
    func apply(opaqueFirst: Bool) throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("rootfs")
        for dir in ["etc", "var", "var/old", "var/old/sub"] { try check(mkdir(root + "/" + dir, 0o755), "mkdir") }
        for file in ["etc/passwd", "etc/group", "var/keep", "var/old/a", "var/old/sub/c"] { try writeFile(root + "/" + file, [1]) }

        try LayerExtractor.extract(from: pullSource(try Self.deletingLayer(opaqueFirst: opaqueFirst)), into: root, mode: .apply)
        let tree = try snapshot(root)
        #expect(tree.keys.sorted() == ["etc", "etc/group", "var", "var/new", "var/old", "var/old/b"])
    }

    @Test("a whiteout never hides a file of its own layer")
    func sameLayer() throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("rootfs")
        let layer = try makeArchive { writer in
            try writer.writeBytes(Array("mine".utf8), as: "dir/file")
            try writer.write(entry: TarEntry(path: "dir/.wh.file", kind: .file))
        }
        try LayerExtractor.extract(from: pullSource(layer), into: root, mode: .apply)
        #expect(try readFile(root + "/dir/file") == Array("mine".utf8))
        let overlayRoot = tmp.sub("overlay")
        try LayerExtractor.extract(from: pullSource(layer), into: overlayRoot, mode: .overlay)
        #expect(try readFile(overlayRoot + "/dir/file") == Array("mine".utf8))
    }

    @Test("a whiteout for a missing file is harmless; AUFS .wh..wh. files are ignored")
    func harmless() throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("rootfs")
        let layer = try makeArchive { writer in
            try writer.write(entry: TarEntry(path: "nowhere/.wh.nothing", kind: .file))
            try writer.write(entry: TarEntry(path: ".wh..wh.plnk", kind: .file))
            try writer.write(entry: TarEntry(path: ".wh..wh.aufs", kind: .file))
        }
        try LayerExtractor.extract(from: pullSource(layer), into: root, mode: .apply)
        #expect(try snapshot(root).isEmpty)
    }

    @Test("an overlay upper directory is written back as OCI whiteouts and survives a round trip")
    func fromOverlayUpper() throws {
        let tmp = try TemporaryDirectory()
        let upper = tmp.sub("upper")
        try check(mknod(upper + "/gone", S_IFCHR, 0), "mknod whiteout")
        // overlayfs may give many whiteouts one shared inode: each must stay a whiteout.
        try check(link(upper + "/gone", upper + "/gone-too"), "link whiteout")
        try check(mkdir(upper + "/opaque", 0o751), "mkdir")
        try setXattr(upper + "/opaque", "trusted.overlay.opaque", Self.opaqueValue)
        try setXattr(upper + "/opaque", "trusted.overlay.origin", [1, 2, 3])
        try setXattr(upper + "/opaque", "user.kept", [4])
        try writeFile(upper + "/opaque/inside", Array("in".utf8))
        try check(mknod(upper + "/real-device", S_IFCHR | 0o600, deviceNumber(major: 1, minor: 5)), "mknod")

        var bytes: [UInt8] = []
        try LayerWriter.write(directory: upper, to: .push { bytes += $0 }, compression: .gzip, whiteoutsFromOverlay: true)
        let entries = try readAll(pullSource(bytes)).map(\.entry)
        #expect(entries.map(\.path) == [".wh.gone", ".wh.gone-too", "opaque/", "opaque/.wh..wh..opq", "opaque/inside", "real-device"])
        #expect(entries[0].kind == .file && entries[0].size == 0)
        #expect(entries[2].xattrs == ["user.kept": [4]])
        #expect(entries[3].mode == 0o751)
        #expect(entries[5].kind == .characterDevice && entries[5].devMinor == 5)

        // Without conversion the same directory is written as it is, minus overlay's own attributes.
        var plain: [UInt8] = []
        try LayerWriter.write(directory: upper, to: .push { plain += $0 }, compression: .none)
        let plainEntries = try readAll(pullSource(plain)).map(\.entry)
        #expect(plainEntries.map(\.path) == ["gone", "gone-too", "opaque/", "opaque/inside", "real-device"])
        #expect(plainEntries[1].kind == .hardlink)
        #expect(plainEntries[2].xattrs == ["user.kept": [4]])

        let lower = tmp.sub("lower")
        try LayerExtractor.extract(from: pullSource(bytes), into: lower, mode: .overlay)
        let restored = try snapshot(lower)
        #expect(restored["gone"]?.kind == "char" && restored["gone"]?.device == 0)
        #expect(restored["gone-too"]?.kind == "char")
        #expect(restored["real-device"]?.device == UInt64(deviceNumber(major: 1, minor: 5)))
        #expect(restored["opaque/inside"]?.kind == "file")
        #expect(try ExtendedAttributes.value("trusted.overlay.opaque", of: .path(lower + "/opaque"), path: "opaque") == Self.opaqueValue)
        #expect(try ExtendedAttributes.value("trusted.overlay.origin", of: .path(lower + "/opaque"), path: "opaque") == nil)
    }

    @Test("a layer cannot smuggle in overlayfs's private attributes")
    func overlayAttributesDropped() throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("layer")
        let layer = try makeArchive { writer in
            try writer.write(entry: TarEntry(path: "d/", kind: .directory, xattrs: [
                "trusted.overlay.redirect": Array("/etc".utf8), "trusted.overlay.opaque": Self.opaqueValue, "user.ok": [1],
            ]))
        }
        try LayerExtractor.extract(from: pullSource(layer), into: root, mode: .overlay)
        #expect(try xattrs(root + "/d") == ["user.ok": [1]])
        #expect(try ExtendedAttributes.value("trusted.overlay.redirect", of: .path(root + "/d"), path: "d") == nil)
        #expect(try ExtendedAttributes.value("trusted.overlay.opaque", of: .path(root + "/d"), path: "d") == nil)
    }
}
