import Foundation
import PierOCI
@testable import PierRegistry
import Testing

@Suite struct HTPasswdTests {
    // Made with `htpasswd -Bbn bob hunter2` and `htpasswd -Bbn -C 4 carol pw`.
    static let file = """
        # users
        bob:$2y$05$UJJ3NKvdBJE/zRjNg9qQpuSVhe.zMwAP3mjVYjdQYXJ5K2m0wwyLG
        carol:$2y$04$L5lCeEwbTINbTYJivZ1nmeBTJRZfjcuz2..lmXy4a31bL2PzPKvAW
        """

    @Test func bcryptFromApacheHtpasswd() throws {
        let passwords = try HTPasswd(contents: HTPasswdTests.file)
        #expect(passwords.users == ["bob", "carol"])
        #expect(passwords.verify(user: "bob", password: "hunter2"))
        #expect(passwords.verify(user: "bob", password: "hunter2"))   // remembered
        #expect(!passwords.verify(user: "bob", password: "hunter3"))
        #expect(!passwords.verify(user: "bob", password: ""))
        #expect(passwords.verify(user: "carol", password: "pw"))
        #expect(!passwords.verify(user: "dave", password: "pw"))
    }

    @Test func refusesWeakHashes() {
        #expect(throws: RegistryError.self) { try HTPasswd(contents: "eve:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=") }
        #expect(throws: RegistryError.self) { try HTPasswd(contents: "eve:$apr1$abc$def") }
        #expect(throws: RegistryError.self) { try HTPasswd(contents: "no-colon") }
    }

    @Test func hashesItsOwn() throws {
        let hash = try #require(Bcrypt.hash(password: "pier", cost: 4))
        #expect(hash.hasPrefix("$2y$04$"))
        #expect(Bcrypt.matches(password: "pier", hash: hash))
        #expect(!Bcrypt.matches(password: "Pier", hash: hash))
    }
}

@Suite struct TokenTests {
    @Test func issuesAndVerifies() throws {
        let authority = TokenAuthority(issuer: "pier", service: "reg")
        let issued = try authority.issue(subject: "alice", access: [.repository("team/app", "pull", "push")])
        let claims = try authority.verify(issued.token)
        #expect(claims.sub == "alice")
        #expect(claims.aud == "reg")
        #expect(claims.access == [AccessScope(name: "team/app", actions: ["pull", "push"])])
    }

    @Test func rejectsForgeries() throws {
        let authority = TokenAuthority(issuer: "pier", service: "reg")
        let other = TokenAuthority(issuer: "pier", service: "reg")
        let forged = try other.issue(subject: "mallory", access: [.repository("x", "push")]).token
        #expect(throws: RegistryError.self) { try authority.verify(forged) }
        // Changing the claims breaks the signature.
        let real = try authority.issue(subject: "alice", access: [.repository("x", "pull")]).token
        let parts = real.split(separator: ".").map(String.init)
        let claims = String(decoding: Base64URL.decode(parts[1]) ?? [], as: UTF8.self).replacingOccurrences(of: "pull", with: "push")
        let tampered = parts[0] + "." + Base64URL.encode(Array(claims.utf8)) + "." + parts[2]
        #expect(throws: RegistryError.self) { try authority.verify(tampered) }
        // Expired, and for another service.
        let old = try authority.issue(subject: "alice", access: [], now: Date(timeIntervalSinceNow: -3600)).token
        #expect(throws: RegistryError.self) { try authority.verify(old) }
        let elsewhere = TokenAuthority(issuer: "pier", service: "other", signingKey: .init())
        #expect(throws: RegistryError.self) { try authority.verify(try elsewhere.issue(subject: "a", access: []).token) }
        #expect(throws: RegistryError.self) { try authority.verify("not.a.token") }
    }

    @Test func verifiesWithAPublicKeyOnly() throws {
        let signer = TokenAuthority(issuer: "idp", service: "reg")
        let directory = NSTemporaryDirectory() + "pier-key-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try signer.verifyingKey.pemRepresentation.write(toFile: directory + "/pub.pem", atomically: true, encoding: .utf8)
        let verifier = try TokenAuthority.load(issuer: "idp", service: "reg", keyFile: directory + "/pub.pem")
        #expect(!verifier.canIssue)
        let token = try signer.issue(subject: "alice", access: [.repository("a", "pull")]).token
        #expect(try verifier.verify(token).sub == "alice")
    }
}

@Suite struct AccessPolicyTests {
    static let policy = """
        # WHO      REPOSITORIES   ACTIONS
        alice      *              *
        bob        team/*         pull,push
        *          public/*       pull
        anonymous  open/*         pull
        """

    struct Case: Sendable, CustomTestStringConvertible {
        let user: String?
        let repository: String
        let actions: Set<String>
        var testDescription: String { "\(user ?? "anonymous") on \(repository)" }
    }

    static let cases: [Case] = [
        Case(user: "alice", repository: "anything/at/all", actions: ["pull", "push", "delete"]),
        Case(user: "bob", repository: "team/app", actions: ["pull", "push"]),
        Case(user: "bob", repository: "team/sub/app", actions: ["pull", "push"]),
        Case(user: "bob", repository: "teams/app", actions: []),
        Case(user: "bob", repository: "public/x", actions: ["pull"]),
        Case(user: "carol", repository: "public/x", actions: ["pull"]),
        Case(user: nil, repository: "public/x", actions: []),
        Case(user: nil, repository: "open/x", actions: ["pull"]),
    ]

    @Test(arguments: cases) func rules(_ test: Case) throws {
        let policy = try AccessPolicy(contents: AccessPolicyTests.policy)
        #expect(policy.actions(user: test.user, repository: test.repository) == test.actions)
    }

    @Test func grantsOnlyWhatIsAllowed() throws {
        let policy = try AccessPolicy(contents: AccessPolicyTests.policy)
        let granted = policy.grant(user: "bob", requested: [.repository("team/app", "pull", "push", "delete"),
                                                             .repository("secret", "pull")])
        #expect(granted == [AccessScope(name: "team/app", actions: ["pull", "push"])])
        #expect(AccessPolicy(anonymousRead: true).actions(user: nil, repository: "x") == ["pull"])
        #expect(AccessPolicy().actions(user: nil, repository: "x").isEmpty)
    }

    @Test func badPolicyLines() {
        #expect(throws: RegistryError.self) { try AccessPolicy(contents: "alice *") }
        #expect(throws: RegistryError.self) { try AccessPolicy(contents: "alice * pull,fly") }
    }

    @Test(arguments: [("*", "a/b", true), ("team/*", "team/x/y", true), ("team/*", "teamx", false),
                      ("a*c", "abbbc", true), ("a*c", "abd", false), ("exact", "exact", true)])
    func globs(_ pattern: String, _ text: String, _ matches: Bool) {
        #expect(AccessPolicy.glob(pattern, matches: text) == matches)
    }
}
