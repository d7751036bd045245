import Foundation
import PierOCI
@testable import PierRegistry
import Testing

@Suite struct RepositoryNameTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let valid: Bool
        var testDescription: String { "\(name) → \(valid ? "valid" : "invalid")" }
    }

    static let cases: [Case] = [
        Case(name: "busybox", valid: true),
        Case(name: "library/busybox", valid: true),
        Case(name: "a/b/c/d", valid: true),
        Case(name: "my-app", valid: true),
        Case(name: "my--app", valid: true),
        Case(name: "my_app", valid: true),
        Case(name: "my__app", valid: true),
        Case(name: "my.app", valid: true),
        Case(name: "a0/b1", valid: true),
        Case(name: "", valid: false),
        Case(name: "Busybox", valid: false),
        Case(name: "team/App", valid: false),
        Case(name: "..", valid: false),
        Case(name: "a/../b", valid: false),
        Case(name: "./a", valid: false),
        Case(name: "/a", valid: false),
        Case(name: "a/", valid: false),
        Case(name: "a//b", valid: false),
        Case(name: "_layers", valid: false),
        Case(name: "a/_manifests", valid: false),
        Case(name: "my___app", valid: false),
        Case(name: "my._app", valid: false),
        Case(name: "-app", valid: false),
        Case(name: "app-", valid: false),
        Case(name: "a b", valid: false),
        Case(name: String(repeating: "a", count: 256), valid: false),
    ]

    @Test(arguments: cases) func validation(_ test: Case) {
        #expect(((try? RepositoryName(test.name)) != nil) == test.valid)
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: RegistryError.self) { try RepositoryName("Team/app") }
        do {
            _ = try RepositoryName("Team/app")
        } catch {
            #expect(error.code == .nameInvalid)
            #expect(error.message.contains("lower case"))
        }
    }

    @Test(arguments: [("latest", true), ("v1.2.3", true), ("A_b-c.D", true), ("_x", true),
                      (".x", false), ("-x", false), ("a:b", false), (String(repeating: "t", count: 129), false)])
    func tags(_ tag: String, _ valid: Bool) {
        #expect(TagName.isValid(tag) == valid)
    }
}

@Suite struct RouteTests {
    @Test func routesByTheEndOfThePath() throws {
        let name = try RepositoryName("a/manifests/b")
        #expect(try RegistryAPI.route("/v2/") == .base)
        #expect(try RegistryAPI.route("/v2/_catalog") == .catalog)
        #expect(try RegistryAPI.route("/v2/a/manifests/b/manifests/latest") == .manifest(name, "latest"))
        #expect(try RegistryAPI.route("/v2/a/manifests/b/tags/list") == .tags(name))
        #expect(try RegistryAPI.route("/v2/x/blobs/uploads/") == .uploads(try RepositoryName("x")))
        #expect(try RegistryAPI.route("/v2/x/blobs/uploads/abc") == .upload(try RepositoryName("x"), "abc"))
        #expect(try RegistryAPI.route("/v2/x/blobs/sha256:00") == .blob(try RepositoryName("x"), "sha256:00"))
        #expect(try RegistryAPI.route("/v2/x/referrers/sha256:00") == .referrers(try RepositoryName("x"), "sha256:00"))
        #expect(try RegistryAPI.route("/v3/x") == nil)
        #expect(throws: RegistryError.self) { try RegistryAPI.route("/v2/../etc/manifests/latest") }
        #expect(throws: RegistryError.self) { try RegistryAPI.route("/v2/Upper/manifests/latest") }
    }

    @Test(arguments: [("bytes=0-9", 100, 0, 9), ("bytes=10-", 100, 10, 99), ("bytes=90-200", 100, 90, 99)])
    func ranges(_ header: String, _ size: Int64, _ from: Int64, _ to: Int64) {
        let range = RegistryAPI.byteRange(header, size: size)
        #expect(range?.0 == from && range?.1 == to)
    }

    @Test(arguments: ["bytes=100-", "bytes=5-2", "items=0-1", "bytes=-5"])
    func badRanges(_ header: String) {
        #expect(RegistryAPI.byteRange(header, size: 100) == nil)
    }
}

@Suite struct ChallengeTests {
    @Test func dockerHubBearer() {
        let header = #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#
        let challenges = AuthChallenge.parse(header)
        #expect(challenges.count == 1)
        #expect(challenges[0].isBearer)
        #expect(challenges[0].realm == "https://auth.docker.io/token")
        #expect(challenges[0].service == "registry.docker.io")
        #expect(challenges[0].scope == "repository:library/busybox:pull")
    }

    @Test func basicAndQuoting() {
        let challenges = AuthChallenge.parse(#"Basic realm="Registry \"Realm\"", Bearer realm=https://x/token,error=insufficient_scope"#)
        #expect(challenges.map(\.scheme) == ["Basic", "Bearer"])
        #expect(challenges[0].realm == #"Registry "Realm""#)
        #expect(challenges[1].realm == "https://x/token")
        #expect(challenges[1].error == "insufficient_scope")
    }

    @Test func roundTrip() {
        let challenge = AuthChallenge(scheme: "Bearer", parameters: ["realm": "http://h/token", "service": "s",
                                                                   "scope": "repository:a:pull,push"])
        #expect(AuthChallenge.parse(challenge.headerValue) == [challenge])
    }

    @Test func scopes() {
        let scope = AccessScope(parsing: "repository:localhost:5000/team/app:pull,push")
        #expect(scope?.type == "repository")
        #expect(scope?.name == "localhost:5000/team/app")
        #expect(scope?.actions == ["pull", "push"])
        #expect(AccessScope(parsing: "registry:catalog:*")?.actions == ["*"])
        #expect(AccessScope(parsing: "nonsense") == nil)
    }
}

@Suite struct AuthConfigTests {
    @Test func decodesDockerCLIHeader() throws {
        let json = #"{"username":"alice","password":"s3cr3t+/?","serveraddress":"localhost:5000"}"#
        // The docker CLI uses base64url with padding.
        let header = Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
        let config = try RegistryAuthConfig.decodeHeader(header)
        #expect(config?.credentials == RegistryCredentials(username: "alice", password: "s3cr3t+/?"))
        #expect(config?.serveraddress == "localhost:5000")
    }

    @Test func authFieldAndAnonymous() throws {
        let json = #"{"auth":"\#(Data("bob:pw".utf8).base64EncodedString())"}"#
        let config = try RegistryAuthConfig.decodeHeader(Base64URL.encode(Array(json.utf8)))
        #expect(config?.credentials?.username == "bob")
        #expect(config?.credentials?.password == "pw")
        #expect(try RegistryAuthConfig.decodeHeader(nil) == nil)
        #expect(try RegistryAuthConfig.decodeHeader(Base64URL.encode(Array("{}".utf8)))?.credentials == nil)
        #expect(throws: RegistryError.self) { try RegistryAuthConfig.decodeHeader("%%%") }
    }

    @Test(arguments: [("https://index.docker.io/v1/", "docker.io"), ("registry-1.docker.io", "docker.io"),
                      ("localhost:5000", "localhost:5000"), ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
                      ("ghcr.io", "ghcr.io")])
    func serverAddresses(_ address: String, _ host: String) {
        #expect(RegistryHosts.host(fromServerAddress: address) == host)
    }

    @Test func insecureByDefaultOnlyOnLoopback() {
        let hosts = RegistryHosts(insecureRegistries: ["reg.lan:5000", "10.0.0.0/8"])
        #expect(hosts.isInsecure("localhost:5000"))
        #expect(hosts.isInsecure("127.0.0.1:41234"))
        #expect(hosts.isInsecure("[::1]:5000"))
        #expect(hosts.isInsecure("reg.lan:5000"))
        #expect(hosts.isInsecure("10.1.2.3:5000"))
        #expect(!hosts.isInsecure("ghcr.io"))
        #expect(!hosts.isInsecure("11.0.0.1:5000"))
        #expect(hosts.endpoints(for: "127.0.0.1:5000").first?.baseURLs == ["https://127.0.0.1:5000", "http://127.0.0.1:5000"])
        #expect(hosts.endpoints(for: "ghcr.io").first?.baseURLs == ["https://ghcr.io"])
        let mirrored = RegistryHosts(mirrors: ["https://mirror.example/"])
        #expect(mirrored.endpoints(for: "docker.io").map(\.baseURLs) == [["https://mirror.example"], ["https://registry-1.docker.io"]])
    }

    @Test func pagination() {
        #expect(RepositorySession.nextLink(#"</v2/a/tags/list?last=b&n=2>; rel="next""#) == "/v2/a/tags/list?last=b&n=2")
        #expect(RepositorySession.nextLink(#"</x>; rel="prev""#) == nil)
        #expect(RepositorySession.appendDigest("http://h/v2/a/blobs/uploads/1?_state=x",
                                               try! Digest(parsing: "sha256:" + String(repeating: "a", count: 64)))
                == "http://h/v2/a/blobs/uploads/1?_state=x&digest=sha256%3A" + String(repeating: "a", count: 64))
        #expect(RepositorySession.resolve("/v2/x", against: "http://h:1/v2/") == "http://h:1/v2/x")
    }
}

@Suite struct ServeOptionsTests {
    @Test(arguments: [("127.0.0.1:5000", "127.0.0.1", 5000), (":5000", "0.0.0.0", 5000), ("[::1]:0", "::1", 0)])
    func addresses(_ text: String, _ host: String, _ port: Int) throws {
        let parsed = try ServeOptions.parseAddress(text)
        #expect(parsed.0 == host && parsed.1 == port)
    }

    @Test(arguments: ["5000", "host:port", "h:70000"])
    func badAddresses(_ text: String) {
        #expect(throws: RegistryError.self) { try ServeOptions.parseAddress(text) }
    }

    @Test(arguments: [("90s", 90), ("30m", 1800), ("1h30m", 5400), ("0", 0), ("2d", 172_800)])
    func durations(_ text: String, _ seconds: Int64) throws {
        #expect(try ServeOptions.parseDuration(text) == .seconds(seconds))
    }

    @Test func modes() throws {
        var options = ServeOptions()
        options.address = "127.0.0.1:0"
        if case .open = try options.configuration().access.mode {} else { Issue.record("expected open") }
        options.tokenIssuer = "me"
        #expect(throws: RegistryError.self) { try options.configuration() }
        options.tlsCertificate = "/nonexistent"
        options.tokenIssuer = nil
        #expect(throws: RegistryError.self) { try options.configuration() }
    }
}
