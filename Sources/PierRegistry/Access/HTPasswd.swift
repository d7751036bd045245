import Crypto
import Foundation
import PierOCI
import Synchronization

/// An Apache htpasswd file of bcrypt entries (`htpasswd -B`), the format CNCF distribution's
/// `htpasswd` auth reads. bcrypt is checked with libcrypt's `crypt_r` (libxcrypt on Debian 12
/// knows `$2y$`, `$2b$` and `$2a$`), not a hand-written implementation.
///
/// bcrypt is slow on purpose, and clients send Basic credentials with every request, so a
/// successful check is remembered for a while under a SHA-256 of the credentials (never the
/// password itself). Failures are never remembered.
public final class HTPasswd: Sendable {
    let entries: [String: String]
    let verified = Mutex<[String: ContinuousClock.Instant]>([:])
    static let rememberFor: Duration = .seconds(300)

    public convenience init(path: String) throws(RegistryError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryError(.invalidConfiguration, "cannot read htpasswd file \(path)")
        }
        try self.init(contents: String(decoding: data, as: UTF8.self), source: path)
    }

    public init(contents: String, source: String = "htpasswd") throws(RegistryError) {
        var entries: [String: String] = [:]
        for (number, raw) in contents.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw RegistryError(.invalidConfiguration, "\(source):\(number + 1): expected USER:HASH")
            }
            let user = String(line[..<colon])
            let hash = String(line[line.index(after: colon)...])
            guard hash.hasPrefix("$2y$") || hash.hasPrefix("$2b$") || hash.hasPrefix("$2a$") else {
                throw RegistryError(.invalidConfiguration,
                                    "\(source):\(number + 1): the entry for \"\(user)\" is not bcrypt; "
                                    + "make it with `htpasswd -B`")
            }
            entries[user] = hash
        }
        self.entries = entries
    }

    public var users: [String] { entries.keys.sorted() }

    /// Whether `password` is `user`'s.
    public func verify(user: String, password: String) -> Bool {
        guard let hash = entries[user] else { return false }
        let key = Digest(sha256Bytes: Array(SHA256.hash(data: Array("\(user)\u{0}\(password)\u{0}\(hash)".utf8)))).encoded
        let now = ContinuousClock.now
        if let until = verified.withLock({ $0[key] }), until > now { return true }
        guard Bcrypt.matches(password: password, hash: hash) else { return false }
        verified.withLock { cache in
            if cache.count > 1000 { cache = cache.filter { $0.value > now } }
            cache[key] = now + HTPasswd.rememberFor
        }
        return true
    }
}

/// libcrypt's reentrant `crypt_r(3)`. Its `struct crypt_data` is opaque here; libxcrypt's is
/// 32 KiB, so a zeroed 64 KiB buffer is always large enough.
enum Bcrypt {
    @_silgen_name("crypt_r")
    static func crypt_r(_ phrase: UnsafePointer<CChar>, _ setting: UnsafePointer<CChar>,
                        _ data: UnsafeMutableRawPointer) -> UnsafeMutablePointer<CChar>?

    static func matches(password: String, hash: String) -> Bool {
        let data = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
        defer { data.deallocate() }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: 65536)
        let result: String? = password.withCString { phrase in
            hash.withCString { setting in
                crypt_r(phrase, setting, data).map { String(cString: $0) }
            }
        }
        guard let result, result.utf8.count == hash.utf8.count else { return false }
        // Constant-time comparison.
        var difference: UInt8 = 0
        for (a, b) in zip(result.utf8, hash.utf8) { difference |= a ^ b }
        return difference == 0
    }

    /// A bcrypt hash of `password` (for tests and for `pier-registry` to write htpasswd lines).
    static func hash(password: String, cost: Int = 10) -> String? {
        var saltBytes = [UInt8](repeating: 0, count: 16)
        for index in saltBytes.indices { saltBytes[index] = UInt8.random(in: 0...255) }
        let setting = "$2y$\(cost < 10 ? "0" : "")\(cost)$" + bcryptBase64(saltBytes).prefix(22)
        let data = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 16)
        defer { data.deallocate() }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: 65536)
        return password.withCString { phrase in
            setting.withCString { settingPointer in
                crypt_r(phrase, settingPointer, data).map { String(cString: $0) }
            }
        }.flatMap { $0.hasPrefix("$2") ? $0 : nil }
    }

    static func bcryptBase64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var output = ""
        var index = 0
        while index < bytes.count {
            let c1 = bytes[index]; index += 1
            output.append(alphabet[Int(c1 >> 2)])
            var c = (c1 & 0x03) << 4
            guard index < bytes.count else { output.append(alphabet[Int(c)]); break }
            let c2 = bytes[index]; index += 1
            c |= c2 >> 4
            output.append(alphabet[Int(c)])
            c = (c2 & 0x0f) << 2
            guard index < bytes.count else { output.append(alphabet[Int(c)]); break }
            let c3 = bytes[index]; index += 1
            c |= c3 >> 6
            output.append(alphabet[Int(c)])
            output.append(alphabet[Int(c3 & 0x3f)])
        }
        return output
    }
}
