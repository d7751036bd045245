import Foundation

/// The numeric identity a `--user` string resolves to, as runc would compute it.
public struct ResolvedUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    /// Docker's list: the primary gid first, then the groups of /etc/group that list the user,
    /// then `--group-add`.
    public var additionalGids: [UInt32]
    /// The passwd entry's home directory ("/" without one): the process's `HOME` default.
    public var home: String

    public init(uid: UInt32, gid: UInt32, additionalGids: [UInt32], home: String) {
        self.uid = uid
        self.gid = gid
        self.additionalGids = additionalGids
        self.home = home
    }
}

/// Reads files of a container's root filesystem before it is mounted, straight from the overlay
/// layer directories: the topmost layer that has the path wins, and overlayfs whiteouts (a 0/0
/// character device) and opaque directories (`trusted.overlay.opaque=y`) hide lower layers, as
/// they would in the mounted overlay.
public struct LayeredRootfs: Sendable, Hashable {
    /// Layer directories, top first (the container's upper dir, then the image's layers).
    public var layers: [String]

    public init(layers: [String]) { self.layers = layers }

    /// The file at an absolute container path, following symlinks inside the rootfs;
    /// nil when the path does not exist (or is whited out, or is not a regular file). Blocks.
    public func read(_ path: String) throws(RuntimeError) -> [UInt8]? {
        try read(path, depth: 0)
    }

    private func read(_ path: String, depth: Int) throws(RuntimeError) -> [UInt8]? {
        guard depth < 16 else {
            throw RuntimeError(.system, "too many levels of symbolic links resolving \(path) in the image")
        }
        let components = cleanPath("/" + path).split(separator: "/").map(String.init)
        guard !components.isEmpty else { return nil }
        for layer in layers {
            switch try lookup(components, in: layer) {
            case .absent: continue
            case .hidden: return nil
            case .file(let hostPath):
                return try PosixFile.read(hostPath)
            case .symlink(let target, let parent):
                let next = target.hasPrefix("/") ? target : "/" + parent.joined(separator: "/") + "/" + target
                return try read(next, depth: depth + 1)
            }
        }
        return nil
    }

    private enum Found {
        case absent, hidden
        case file(String)
        case symlink(target: String, parent: [String])
    }

    /// What one layer says about the path: nothing (look lower), hidden, or an answer.
    private func lookup(_ components: [String], in layer: String) throws(RuntimeError) -> Found {
        var hostPath = layer
        var opaqueAncestor = false
        for (index, component) in components.enumerated() {
            hostPath += "/" + component
            var info = stat()
            if lstat(hostPath, &info) != 0 {
                let code = errno
                guard code == ENOENT || code == ENOTDIR else {
                    throw RuntimeError(.system, "cannot read \(hostPath)", cause: SystemError("lstat", errno: code))
                }
                return opaqueAncestor ? .hidden : .absent
            }
            let type = info.st_mode & S_IFMT
            if type == S_IFCHR && info.st_rdev == 0 { return .hidden }
            let isLast = index == components.count - 1
            if isLast {
                if type == S_IFREG { return .file(hostPath) }
                if type == S_IFLNK, let target = Self.readLink(hostPath) {
                    return .symlink(target: target, parent: Array(components.dropLast()))
                }
                return .hidden
            }
            if type == S_IFLNK, let target = Self.readLink(hostPath) {
                // A symlinked directory (/etc → /private/etc): continue from its target.
                let rest = components[(index + 1)...].joined(separator: "/")
                let base = target.hasPrefix("/") ? target : "/" + components[..<index].joined(separator: "/") + "/" + target
                return .symlink(target: base + "/" + rest, parent: [])
            }
            guard type == S_IFDIR else { return .hidden }
            if Self.isOpaque(hostPath) { opaqueAncestor = true }
        }
        return .absent
    }

    private static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func isOpaque(_ path: String) -> Bool {
        guard let getxattr = lgetxattrCall else { return false }
        for name in ["trusted.overlay.opaque", "user.overlay.opaque"] {
            var value = [UInt8](repeating: 0, count: 4)
            let n = value.withUnsafeMutableBytes { getxattr(path, name, $0.baseAddress, $0.count) }
            if n == 1 && value[0] == UInt8(ascii: "y") { return true }
        }
        return false
    }

    /// glibc's `lgetxattr`, looked up once: Swift's Glibc module does not include <sys/xattr.h>
    /// and this target has no C shim (PierArchive does the same).
    private typealias GetXattr = @convention(c) (UnsafePointer<CChar>, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
    private struct XattrCall: @unchecked Sendable {  // a C function pointer, immutable after load
        let call: GetXattr
    }
    private static let lgetxattrSymbol: XattrCall? = dlsym(nil, "lgetxattr").map { XattrCall(call: unsafeBitCast($0, to: GetXattr.self)) }
    private static var lgetxattrCall: GetXattr? { lgetxattrSymbol?.call }
}

/// `--user` resolution with the rules and error messages of moby/sys/user `GetExecUser` and
/// Docker's `getUser` (daemon/oci_linux.go).
public enum UserLookup {
    static let maxID = 2_147_483_647

    struct PasswdEntry { var name: String; var uid: Int; var gid: Int; var home: String }
    struct GroupEntry { var name: String; var gid: Int; var members: [String] }

    /// Resolves `spec` (`""`, `name`, `uid`, `name:group`, `uid:gid` ...) against the image's
    /// /etc/passwd and /etc/group. Blocks (reads the layer directories).
    public static func resolve(_ spec: String, groupAdd: [String] = [],
                               in rootfs: LayeredRootfs) throws(RuntimeError) -> ResolvedUser {
        let passwd = try rootfs.read("/etc/passwd")
        let group = try rootfs.read("/etc/group")
        return try resolve(spec, groupAdd: groupAdd, passwd: passwd, group: group)
    }

    /// Resolves against file contents; nil contents mean the file does not exist.
    public static func resolve(_ spec: String, groupAdd: [String] = [],
                               passwd: [UInt8]?, group: [UInt8]?) throws(RuntimeError) -> ResolvedUser {
        let fields = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let userArg = fields.first ?? ""
        let groupArg = fields.count > 1 ? fields[1] : ""
        let (uidArg, isUID) = try parseNumeric(userArg)
        let (gidArg, isGID) = try parseNumeric(groupArg)

        let users = parsePasswd(passwd).filter { entry in
            if userArg.isEmpty { return entry.uid == 0 }
            if isUID { return entry.uid == uidArg }
            return entry.name == userArg
        }
        var uid = 0, gid = 0, home = "/"
        var matchedName = ""
        if let first = users.first {
            matchedName = first.name
            uid = first.uid
            gid = first.gid
            home = first.home
        } else if !userArg.isEmpty {
            guard isUID else {
                throw RuntimeError(.notFound, "unable to find user \(userArg): no matching entries in passwd file")
            }
            uid = uidArg
        }

        var supplementary = [Int]()
        if !groupArg.isEmpty || !matchedName.isEmpty {
            let groups = parseGroup(group).filter { entry in
                if groupArg.isEmpty { return entry.members.contains(matchedName) }
                if isGID { return entry.gid == gidArg }
                return entry.name == groupArg
            }
            if !groupArg.isEmpty {
                if let first = groups.first {
                    gid = first.gid
                } else {
                    guard isGID else {
                        throw RuntimeError(.notFound, "unable to find group \(groupArg): no matching entries in group file")
                    }
                    gid = gidArg
                }
            } else {
                supplementary = groups.map(\.gid)
            }
        }

        var added = [Int]()
        if !groupAdd.isEmpty {
            let entries = parseGroup(group)
            for name in groupAdd {
                let (number, numeric) = try parseNumeric(name)
                if let match = entries.first(where: { numeric ? $0.gid == number : $0.name == name }) {
                    guard (0...maxID).contains(match.gid) else { throw rangeError() }
                    added.append(match.gid)
                } else {
                    guard numeric else {
                        throw RuntimeError(.notFound, "unable to find group \(name): no matching entries in group file")
                    }
                    added.append(number)
                }
            }
            var seen = Set<Int>()
            added = added.filter { seen.insert($0).inserted }
        }
        let all = [gid] + supplementary + added
        return ResolvedUser(uid: UInt32(truncatingIfNeeded: uid), gid: UInt32(truncatingIfNeeded: gid),
                            additionalGids: all.map { UInt32(truncatingIfNeeded: $0) }, home: home)
    }

    static func rangeError() -> RuntimeError {
        RuntimeError(.invalidArgument, "uids and gids must be in range 0-\(maxID)")
    }

    /// Go's `strconv.Atoi` as moby uses it: not a number is fine (a name), out of range is not.
    static func parseNumeric(_ text: String) throws(RuntimeError) -> (Int, Bool) {
        guard !text.isEmpty else { return (0, false) }
        var digits = Substring(text)
        var negative = false
        if digits.first == "+" || digits.first == "-" {
            negative = digits.first == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return (0, false) }
        guard let magnitude = Int(digits) else { throw rangeError() }
        let value = negative ? -magnitude : magnitude
        guard (0...maxID).contains(value) else { throw rangeError() }
        return (value, true)
    }

    /// Go's Atoi with errors ignored, as moby's `parseLine` does for the files' numbers.
    static func lenientInt(_ text: Substring) -> Int { Int(text) ?? 0 }

    static func lines(_ bytes: [UInt8]?) -> [Substring] {
        guard let bytes else { return [] }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces)[...] }
            .filter { !$0.isEmpty }
    }

    static func parsePasswd(_ bytes: [UInt8]?) -> [PasswdEntry] {
        lines(bytes).map { line in
            let parts = line.split(separator: ":", omittingEmptySubsequences: false)
            func part(_ i: Int) -> Substring { i < parts.count ? parts[i] : "" }
            return PasswdEntry(name: String(part(0)), uid: lenientInt(part(2)), gid: lenientInt(part(3)),
                               home: String(part(5)))
        }
    }

    static func parseGroup(_ bytes: [UInt8]?) -> [GroupEntry] {
        lines(bytes).filter { !$0.hasPrefix("#") }.map { line in
            let parts = line.split(separator: ":", omittingEmptySubsequences: false)
            func part(_ i: Int) -> Substring { i < parts.count ? parts[i] : "" }
            let members = part(3).isEmpty ? [] : part(3).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return GroupEntry(name: String(part(0)), gid: lenientInt(part(2)), members: members)
        }
    }
}
