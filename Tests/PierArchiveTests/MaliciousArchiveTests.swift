import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

/// One hostile layer and what extraction must make of it. In entry names and targets,
/// `$OUT` stands for the absolute path of a directory next to the root, holding a file
/// `sentinel`, and `$OUTNAME` for that directory's name: nothing in it may change.
struct HostileLayer: Sendable, CustomTestStringConvertible {
    enum Item: Sendable {
        case file(String, String)
        case directory(String)
        case symlink(String, to: String)
        case hardlink(String, to: String)
    }

    enum Outcome: Sendable {
        /// Extraction throws this code, with the entry's path in the message.
        case refused(ArchiveError.Code, naming: String)
        /// Extraction succeeds; these paths in the root hold these contents
        /// ("<dir>" for a directory).
        case contained([String: String])
    }

    let name: String
    var mode: WhiteoutMode = .apply
    let items: [Item]
    let outcome: Outcome

    var testDescription: String { name }
}

@Suite("Hostile layers")
struct MaliciousArchiveTests {
    static let cases: [HostileLayer] = [
        HostileLayer(name: "../ climbs out", items: [.file("../escape", "x")],
                     outcome: .refused(.unsafeEntry, naming: "../escape")),
        HostileLayer(name: "../ after a directory climbs out", items: [.file("a/../../escape", "x")],
                     outcome: .refused(.unsafeEntry, naming: "a/../../escape")),
        HostileLayer(name: "../ that stays inside is cleaned", items: [.file("a/../inside", "ok")],
                     outcome: .contained(["inside": "ok"])),
        HostileLayer(name: "absolute /etc path lands in the root", items: [.file("/etc/abs", "abs")],
                     outcome: .contained(["etc/abs": "abs"])),
        HostileLayer(name: "absolute path at the outside directory lands in the root", items: [.file("$OUT/abs", "abs")],
                     outcome: .contained(["$OUT/abs": "abs"])),
        HostileLayer(name: "write through a symlink to outside", items: [.symlink("link", to: "$OUT"), .file("link/file", "x")],
                     outcome: .refused(.unsafeEntry, naming: "link/file")),
        HostileLayer(name: "write through a relative symlink to outside", items: [.symlink("link", to: "../$OUTNAME"), .file("link/sentinel", "x")],
                     outcome: .refused(.unsafeEntry, naming: "link/sentinel")),
        HostileLayer(name: "directory through a symlink to outside", items: [.symlink("link", to: "$OUT"), .directory("link/sub/")],
                     outcome: .refused(.unsafeEntry, naming: "link/sub/")),
        HostileLayer(name: "symlink to .. then through it", items: [.symlink("up", to: ".."), .file("up/escape", "x")],
                     outcome: .refused(.unsafeEntry, naming: "up/escape")),
        HostileLayer(name: "chain of symlinks climbing out",
                     items: [.directory("d/"), .symlink("d/self", to: "."), .symlink("d/up", to: "self/../.."),
                             .symlink("d/upup", to: "up/.."), .file("d/upup/$OUTNAME/sentinel", "x")],
                     outcome: .refused(.unsafeEntry, naming: "d/upup/$OUTNAME/sentinel")),
        HostileLayer(name: "a symlink entry may point anywhere: it is only data", items: [.symlink("sh", to: "/bin/sh"), .symlink("out", to: "$OUT/sentinel")],
                     outcome: .contained(["sh": "-> /bin/sh", "out": "-> $OUT/sentinel"])),
        HostileLayer(name: "a file over a symlink replaces the symlink", items: [.symlink("link", to: "$OUT/sentinel"), .file("link", "evil")],
                     outcome: .contained(["link": "evil"])),
        HostileLayer(name: "a directory over a symlink replaces the symlink", items: [.symlink("link", to: "$OUT"), .directory("link/"), .file("link/sentinel", "mine")],
                     outcome: .contained(["link": "<dir>", "link/sentinel": "mine"])),
        HostileLayer(name: "hardlink to the host's /etc/passwd", items: [.hardlink("passwd", to: "/etc/passwd")],
                     outcome: .refused(.invalidEntry, naming: "passwd")),
        HostileLayer(name: "hardlink climbing out", items: [.hardlink("h", to: "../$OUTNAME/sentinel")],
                     outcome: .refused(.unsafeEntry, naming: "h")),
        HostileLayer(name: "hardlink through a symlink to outside", items: [.symlink("link", to: "$OUT"), .hardlink("h", to: "link/sentinel")],
                     outcome: .refused(.unsafeEntry, naming: "h")),
        HostileLayer(name: "hardlink to a symlink links the symlink, not its target", items: [.symlink("link", to: "$OUT/sentinel"), .hardlink("h", to: "link"), .file("h", "evil")],
                     outcome: .contained(["link": "-> $OUT/sentinel", "h": "evil"])),
        HostileLayer(name: "rewriting a hardlinked name does not write through the link", items: [.file("victim", "original"), .hardlink("h", to: "victim"), .file("h", "evil")],
                     outcome: .contained(["victim": "original", "h": "evil"])),
        HostileLayer(name: "whiteout through a symlink to outside", items: [.symlink("link", to: "$OUT"), .file("link/.wh.sentinel", "")],
                     outcome: .refused(.unsafeEntry, naming: "link/.wh.sentinel")),
        HostileLayer(name: "overlay whiteout through a symlink to outside", mode: .overlay, items: [.symlink("link", to: "$OUT"), .file("link/.wh.sentinel", "")],
                     outcome: .refused(.unsafeEntry, naming: "link/.wh.sentinel")),
        HostileLayer(name: "opaque directory through a symlink to outside", items: [.symlink("link", to: "$OUT"), .file("link/.wh..wh..opq", "")],
                     outcome: .refused(.unsafeEntry, naming: "link/.wh..wh..opq")),
        HostileLayer(name: "whiteout of ..", items: [.directory("sub/"), .file("sub/.wh...", "")],
                     outcome: .refused(.unsafeEntry, naming: "sub/.wh...")),
    ]

    @Test("nothing outside the root changes", arguments: cases)
    func hostile(_ layer: HostileLayer) throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("root")
        let outside = tmp.sub("outside")
        try writeFile(outside + "/sentinel", Array("precious".utf8))
        let outsideBefore = try snapshot(outside)
        let passwdBefore = try snapshotOf("/etc/passwd")
        let etcAbsExisted = exists("/etc/abs")

        func substitute(_ text: String) -> String {
            text.replacingOccurrences(of: "$OUTNAME", with: "outside").replacingOccurrences(of: "$OUT", with: outside)
        }
        let archive = try makeArchive { writer in
            for item in layer.items {
                switch item {
                case .file(let path, let content):
                    try writer.writeBytes(Array(content.utf8), as: substitute(path))
                case .directory(let path):
                    try writer.write(entry: TarEntry(path: substitute(path), kind: .directory, mode: 0o755))
                case .symlink(let path, let target):
                    try writer.write(entry: TarEntry(path: substitute(path), kind: .symlink, mode: 0o777, linkTarget: substitute(target)))
                case .hardlink(let path, let target):
                    try writer.write(entry: TarEntry(path: substitute(path), kind: .hardlink, linkTarget: substitute(target)))
                }
            }
        }

        let result = Result { () throws(ArchiveError) in try LayerExtractor.extract(from: pullSource(archive), into: root, mode: layer.mode) }
        switch (layer.outcome, result) {
        case (.refused(let code, let naming), .failure(let error)):
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains("\"\(substitute(naming))\""), "\(error)")
        case (.refused, .success):
            Issue.record("extraction of a hostile layer succeeded")
        case (.contained(let expected), .success):
            for (relative, content) in expected {
                let path = root + "/" + substitute(relative).drop { $0 == "/" }
                if content == "<dir>" {
                    #expect(try snapshotOf(path).kind == "dir", "\(relative)")
                } else if content.hasPrefix("-> ") {
                    #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path) == substitute(String(content.dropFirst(3))))
                } else {
                    #expect(try snapshotOf(path).kind == "file", "\(relative)")
                    #expect(try readFile(path) == Array(content.utf8), "\(relative)")
                }
            }
        case (.contained, .failure(let error)):
            Issue.record("extraction failed: \(error)")
        }

        #expect(try snapshot(outside) == outsideBefore)
        #expect(try readFile(outside + "/sentinel") == Array("precious".utf8))
        #expect(try snapshotOf("/etc/passwd") == passwdBefore)
        if !etcAbsExisted {
            #expect(!exists("/etc/abs"))
            unlink("/etc/abs")  // only reached if the check above failed
        }
    }

    @Test("a symlink already in the tree (from a lower layer) is not followed either")
    func lowerLayerSymlink() throws {
        let tmp = try TemporaryDirectory()
        let root = tmp.sub("root")
        let outside = tmp.sub("outside")
        try check(symlink(outside, root + "/lib"), "symlink")
        let archive = try makeArchive { try $0.writeBytes(Array("x".utf8), as: "lib/injected.so") }
        let error = #expect(throws: ArchiveError.self) {
            try LayerExtractor.extract(from: pullSource(archive), into: root, mode: .apply)
        }
        #expect(error?.code == .unsafeEntry)
        #expect(error?.path == "lib/injected.so")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test("hostile tars written by Python's tarfile are refused the same way")
    func pythonBuilt() throws {
        let tmp = try TemporaryDirectory()
        let outside = tmp.sub("outside")
        try python("""
            import io, sys, tarfile
            out, dest = sys.argv[1], sys.argv[2]
            def tar(name, members):
                with tarfile.open(dest + '/' + name, 'w', format=tarfile.GNU_FORMAT) as t:
                    for info, data in members:
                        if data is not None: info.size = len(data)
                        t.addfile(info, io.BytesIO(data) if data is not None else None)
            def f(name): return tarfile.TarInfo(name)
            def sym(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; return i
            def hard(name, target):
                i = tarfile.TarInfo(name); i.type = tarfile.LNKTYPE; i.linkname = target; return i
            tar('dotdot.tar', [(f('../../escape'), b'x')])
            tar('symlink.tar', [(sym('ln', out), None), (f('ln/evil'), b'x')])
            tar('hardlink.tar', [(hard('pw', '/etc/passwd'), None)])
            tar('abs.tar', [(f(out + '/abs'), b'abs')])
            """, [outside, tmp.path])
        for (name, entry) in [("dotdot.tar", "../../escape"), ("symlink.tar", "ln/evil"), ("hardlink.tar", "pw")] {
            let root = tmp.sub("root-" + name)
            do {
                try LayerExtractor.extract(from: .path(tmp.path + "/" + name), into: root, mode: .apply)
                Issue.record("\(name) was extracted")
            } catch {
                #expect(error.message.contains("\"\(entry)\""), "\(error)")
            }
        }
        let root = tmp.sub("root-abs")
        try LayerExtractor.extract(from: .path(tmp.path + "/abs.tar"), into: root, mode: .apply)
        #expect(try readFile(root + outside + "/abs") == Array("abs".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test("archive paths are cleaned like Docker cleans them", arguments: [
        ("a/b", ["a", "b"]), ("/a//b/", ["a", "b"]), ("./a/./b", ["a", "b"]), ("a/../b", ["b"]),
        ("/", []), ("./", []), ("..", nil), ("a/../..", nil), ("/../a", nil),
    ] as [(String, [String]?)])
    func cleaning(path: String, components: [String]?) {
        #expect(ExtractionTarget.components(of: path) == components)
    }
}

/// The metadata of one path, for before/after comparisons.
func snapshotOf(_ path: String) throws -> NodeInfo {
    var st = stat()
    guard lstat(path, &st) == 0 else { throw TestFailure("lstat \(path): \(errno)") }
    let kind = st.st_mode & S_IFMT == S_IFDIR ? "dir" : st.st_mode & S_IFMT == S_IFREG ? "file" : "other"
    var info = NodeInfo(kind: kind, mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid, mtime: Int64(st.st_mtim.tv_sec),
                        size: Int64(st.st_size), device: 0, xattrs: [:])
    info.links = UInt64(st.st_nlink)
    return info
}
