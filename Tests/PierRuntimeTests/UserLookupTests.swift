import Foundation
import Testing
@testable import PierRuntime

@Suite("--user resolution against the image's /etc/passwd and /etc/group")
struct UserLookupTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var user: String
        var groupAdd: [String] = []
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var groups: [UInt32] = []
        var home = "/"
        var error: String?
        var testDescription: String { "\"\(user)\"" + (groupAdd.isEmpty ? "" : " --group-add \(groupAdd)") }
    }

    static let cases: [Case] = [
        .init(user: "", uid: 0, gid: 0, groups: [0, 0, 1, 2, 10, 27], home: "/root"),
        .init(user: "root", uid: 0, gid: 0, groups: [0, 0, 1, 2, 10, 27], home: "/root"),
        .init(user: "postgres", uid: 70, gid: 70, groups: [70, 18, 27], home: "/var/lib/postgresql"),
        .init(user: "70", uid: 70, gid: 70, groups: [70, 18, 27], home: "/var/lib/postgresql"),
        .init(user: "1000", uid: 1000, gid: 0, groups: [0], home: "/"),
        .init(user: "1000:1000", uid: 1000, gid: 1000, groups: [1000], home: "/"),
        .init(user: "postgres:video", uid: 70, gid: 27, groups: [27], home: "/var/lib/postgresql"),
        .init(user: "www-data:82", uid: 82, gid: 82, groups: [82], home: "/home/www-data"),
        .init(user: "nobody:nogroup", uid: 65534, gid: 65533, groups: [65533], home: "/"),
        .init(user: "0:wheel", uid: 0, gid: 10, groups: [10], home: "/root"),
        .init(user: "postgres", groupAdd: ["audio", "1234", "audio"], uid: 70, gid: 70, groups: [70, 18, 27, 18, 1234],
              home: "/var/lib/postgresql"),
        .init(user: "nosuchuser", error: "unable to find user nosuchuser: no matching entries in passwd file"),
        .init(user: "postgres:nosuchgroup", error: "unable to find group nosuchgroup: no matching entries in group file"),
        .init(user: "99999999999", error: "uids and gids must be in range 0-2147483647"),
        .init(user: "1:-5", error: "uids and gids must be in range 0-2147483647"),
        .init(user: "root", groupAdd: ["nosuch"], error: "unable to find group nosuch: no matching entries in group file"),
    ]

    @Test(arguments: cases)
    func resolve(_ c: Case) throws {
        let container = FakeContainer()
        let rootfs = LayeredRootfs(layers: [container.paths.upperDir] + container.paths.lowerDirs)
        if let message = c.error {
            let error = #expect(throws: RuntimeError.self) {
                try UserLookup.resolve(c.user, groupAdd: c.groupAdd, in: rootfs)
            }
            #expect(error?.message == message)
        } else {
            let user = try UserLookup.resolve(c.user, groupAdd: c.groupAdd, in: rootfs)
            #expect(user == ResolvedUser(uid: c.uid, gid: c.gid, additionalGids: c.groups, home: c.home))
        }
    }

    @Test("the topmost layer that has /etc/passwd wins")
    func upperLayerWins() throws {
        let container = FakeContainer()
        container.root.file("layers/1/etc/passwd", "app:x:500:500:App:/app:/bin/sh\n")
        let rootfs = LayeredRootfs(layers: [container.root.path + "/upper", container.root.path + "/layers/1",
                                            container.root.path + "/layers/0"])
        #expect(try UserLookup.resolve("app", in: rootfs).uid == 500)
        // The group file still comes from the lower layer.
        #expect(try UserLookup.resolve("app:wheel", in: rootfs).gid == 10)
        #expect(throws: RuntimeError.self) { try UserLookup.resolve("postgres", in: rootfs) }
    }

    @Test("a whiteout hides the file of lower layers")
    func whiteoutHidesPasswd() throws {
        let container = FakeContainer()
        guard container.root.whiteout("upper/etc/passwd") else { try Test.cancel("mknod of a 0/0 device needs CAP_MKNOD") }
        let rootfs = LayeredRootfs(layers: [container.root.path + "/upper", container.root.path + "/layers/0"])
        #expect(try rootfs.read("/etc/passwd") == nil)
        let error = #expect(throws: RuntimeError.self) { try UserLookup.resolve("postgres", in: rootfs) }
        #expect(error?.message == "unable to find user postgres: no matching entries in passwd file")
        // Without a passwd file a numeric user still works; root gets gid 0 and no groups file lookup by name.
        #expect(try UserLookup.resolve("1000", in: rootfs) == ResolvedUser(uid: 1000, gid: 0, additionalGids: [0], home: "/"))
        #expect(try UserLookup.resolve("", in: rootfs).uid == 0)
    }

    @Test("a whiteout of /etc hides everything below it")
    func whiteoutHidesDirectory() throws {
        let container = FakeContainer()
        guard container.root.whiteout("upper/etc") else { try Test.cancel("mknod of a 0/0 device needs CAP_MKNOD") }
        let rootfs = LayeredRootfs(layers: [container.root.path + "/upper", container.root.path + "/layers/0"])
        #expect(try rootfs.read("/etc/group") == nil)
    }

    @Test("an opaque /etc hides the lower layers' files")
    func opaqueDirectory() throws {
        let container = FakeContainer()
        let etc = container.root.directory("upper/etc")
        container.root.file("upper/etc/hostname", "x\n")
        typealias SetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
        guard let symbol = dlsym(nil, "lsetxattr") else { try Test.cancel("no lsetxattr in the C library") }
        let set = unsafeBitCast(symbol, to: SetXattr.self)
        guard set(etc, "trusted.overlay.opaque", "y", 1, 0) == 0 else {
            try Test.cancel("this file system does not take trusted.* attributes (errno \(errno))")
        }
        let rootfs = LayeredRootfs(layers: [container.root.path + "/upper", container.root.path + "/layers/0"])
        #expect(try rootfs.read("/etc/passwd") == nil)
        #expect(try rootfs.read("/etc/hostname") == Array("x\n".utf8))
    }

    @Test("symlinks are followed inside the rootfs, across layers")
    func symlinks() throws {
        let container = FakeContainer(passwd: "", group: "")
        container.root.file("layers/0/usr/lib/passwd", "svc:x:123:123::/srv:/bin/sh\n")
        unlink(container.root.path + "/layers/0/etc/passwd")
        _ = container.root.directory("upper/etc")
        symlink("../usr/lib/passwd", container.root.path + "/upper/etc/passwd")
        let rootfs = LayeredRootfs(layers: [container.root.path + "/upper", container.root.path + "/layers/0"])
        #expect(try UserLookup.resolve("svc", in: rootfs).uid == 123)
    }
}
