import Foundation
import PierOCI
@testable import PierRegistry
import Synchronization
import Testing

/// The registry client against Pier's server in this process: uploads (whole, chunked, mounted,
/// skipped), downloads, resuming after a cut connection, logins, and TLS.
@Suite struct RegistryClientTests {
    static func file(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "pier-blob-" + UUID().uuidString
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw TestFailure("cannot write \(path)") }
        return path
    }

    /// Downloads a whole blob through `streamBlob`.
    static func download(_ session: RepositorySession, _ digest: Digest, size: Int64) async throws -> [UInt8] {
        let received = Mutex<[UInt8]>([])
        try await session.streamBlob(digest, size: size) { piece in
            received.withLock { $0.append(contentsOf: piece.readableBytesView) }
        }
        return received.withLock { $0 }
    }

    @Test func uploadsSkipsMountsAndDownloads() async throws {
        try await withRegistry { registry in
            let client = RegistryClient()
            let bytes = randomBytes(3 << 20)
            let digest = Digest.sha256(of: bytes)
            let path = try RegistryClientTests.file(bytes)
            defer { unlink(path) }
            let session = client.repository(host: registry.host, path: "team/app", credentials: nil, actions: ["pull", "push"])
            let progress = Mutex<Int64>(0)
            #expect(try await session.pushBlob(digest, size: Int64(bytes.count), file: path) { sent in
                progress.withLock { $0 = sent }
            } == .uploaded)
            #expect(progress.withLock { $0 } == Int64(bytes.count))
            #expect(try await session.pushBlob(digest, size: Int64(bytes.count), file: path) == .exists)
            let other = client.repository(host: registry.host, path: "team/other", credentials: nil, actions: ["pull", "push"])
            #expect(try await other.pushBlob(digest, size: Int64(bytes.count), file: path, mountSources: ["team/app"])
                    == .mounted(from: "team/app"))
            // Chunked: 1 MiB PATCHes with Content-Range, then the closing PUT.
            let chunked = client.repository(host: registry.host, path: "team/chunked", credentials: nil, actions: ["pull", "push"])
            #expect(try await chunked.pushBlob(digest, size: Int64(bytes.count), file: path, chunkSize: 1 << 20) == .uploaded)
            #expect(try await RegistryClientTests.download(chunked, digest, size: Int64(bytes.count)) == bytes)
            #expect(try await chunked.blobSize(digest) == Int64(bytes.count))
            #expect(try await chunked.blobSize(Digest.sha256(of: [0])) == nil)
            await client.shutdown()
        }
    }

    @Test func manifestsAndTags() async throws {
        try await withRegistry { registry in
            let client = RegistryClient()
            let http = RawHTTP(port: registry.port)
            let (bytes, digest) = try await RegistryServerTests.putImage(http, "lib/app", tag: "1.0")
            let session = client.repository(host: registry.host, path: "lib/app", credentials: nil, actions: ["pull", "push"])
            let fetched = try await session.manifest("1.0")
            #expect(fetched.bytes == bytes)
            #expect(fetched.digest == digest)
            #expect(fetched.mediaType == MediaType.ociManifest)
            #expect(try await session.manifest(digest.description).bytes == bytes)
            try await session.putManifest(bytes, mediaType: MediaType.ociManifest, reference: "2.0")
            #expect(try await session.tags() == ["1.0", "2.0"])
            await #expect(throws: RegistryError.self) { try await session.manifest("nope") }
            await client.shutdown()
        }
    }

    @Test func downloadResumesAfterACutConnection() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let bytes = randomBytes(4 << 20)
            let digest = try await RegistryServerTests.putBlob(http, "resume", bytes)
            let proxy = try FlakyProxy(target: registry.port, cutAfter: 1 << 20)
            defer { proxy.stop() }
            let client = RegistryClient()
            let session = client.repository(host: "127.0.0.1:\(proxy.port)", path: "resume", credentials: nil, actions: ["pull"])
            #expect(try await RegistryClientTests.download(session, digest, size: Int64(bytes.count)) == bytes)
            #expect(proxy.cutCount == 1)
            await client.shutdown()
        }
    }

    @Test func uploadResumesAfterACutConnection() async throws {
        try await withRegistry { registry in
            let bytes = randomBytes(6 << 20)
            let digest = Digest.sha256(of: bytes)
            let path = try RegistryClientTests.file(bytes)
            defer { unlink(path) }
            let proxy = try FlakyProxy(target: registry.port, cutRequestAfter: 2 << 20)
            defer { proxy.stop() }
            let client = RegistryClient()
            let session = client.repository(host: "127.0.0.1:\(proxy.port)", path: "up", credentials: nil, actions: ["pull", "push"])
            #expect(try await session.pushBlob(digest, size: Int64(bytes.count), file: path) == .uploaded)
            #expect(proxy.cutCount == 1)
            let direct = client.repository(host: registry.host, path: "up", credentials: nil, actions: ["pull"])
            #expect(try await RegistryClientTests.download(direct, digest, size: Int64(bytes.count)) == bytes)
            #expect(registry.ingestFiles().isEmpty)
            await client.shutdown()
        }
    }

    @Test func downloadRefusesMoreThanTheDescriptorSays() async throws {
        try await withRegistry { registry in
            let bytes = randomBytes(1000)
            let digest = try await RegistryServerTests.putBlob(RawHTTP(port: registry.port), "size", bytes)
            let client = RegistryClient()
            let session = client.repository(host: registry.host, path: "size", credentials: nil, actions: ["pull"])
            await #expect(throws: RegistryError.self) { _ = try await RegistryClientTests.download(session, digest, size: 10) }
            await client.shutdown()
        }
    }

    @Test func loginWithBasicAndTokens() async throws {
        let passwords = try HTPasswd(contents: HTPasswdTests.file)
        let client = RegistryClient()
        try await withRegistry(access: AccessControl(mode: .basic(passwords), policy: AccessPolicy())) { registry in
            let token = try await client.login(serverAddress: registry.host,
                                               credentials: RegistryCredentials(username: "bob", password: "hunter2"))
            #expect(token == nil)
            await #expect(throws: RegistryError.self) {
                try await client.login(serverAddress: registry.host, credentials: RegistryCredentials(username: "bob", password: "x"))
            }
        }
        let authority = TokenAuthority(issuer: "t", service: "s")
        try await withRegistry(access: AccessControl(mode: .token(authority, htpasswd: passwords, realm: nil),
                                                     policy: AccessPolicy())) { registry in
            _ = try await client.login(serverAddress: "http://\(registry.host)/",
                                       credentials: RegistryCredentials(username: "carol", password: "pw"))
            do {
                _ = try await client.login(serverAddress: registry.host, credentials: RegistryCredentials(username: "carol", password: "no"))
                Issue.record("a wrong password logged in")
            } catch let error as RegistryError {
                #expect(error.code == .unauthorized)
                #expect(error.message.contains("incorrect username or password"))
            }
            // With credentials, pushes get a token for pull,push and work.
            let bytes = randomBytes(100)
            let path = try RegistryClientTests.file(bytes)
            defer { unlink(path) }
            let session = client.repository(host: registry.host, path: "team/x",
                                            credentials: RegistryCredentials(username: "carol", password: "pw"), actions: ["pull", "push"])
            #expect(try await session.pushBlob(Digest.sha256(of: bytes), size: 100, file: path) == .uploaded)
            let anonymous = client.repository(host: registry.host, path: "team/x", credentials: nil, actions: ["pull"])
            await #expect(throws: RegistryError.self) { try await anonymous.blobSize(Digest.sha256(of: bytes)) }
        }
        await client.shutdown()
    }

    @Test func tlsWithACertificateDirectory() async throws {
        let directory = NSTemporaryDirectory() + "pier-tls-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        made.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
                          "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        made.standardError = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        #expect(made.terminationStatus == 0)
        let registry = try await TestRegistry.start(tlsCertificate: directory + "/cert.pem", tlsKey: directory + "/key.pem")
        try FileManager.default.createDirectory(atPath: "\(directory)/certs.d/\(registry.host)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: directory + "/cert.pem", toPath: "\(directory)/certs.d/\(registry.host)/ca.crt")
        let client = RegistryClient(hosts: RegistryHosts(certificateDirectories: [directory + "/certs.d"]))
        let session = client.repository(host: registry.host, path: "tls", credentials: nil, actions: ["pull", "push"])
        let bytes = randomBytes(2000)
        let path = try RegistryClientTests.file(bytes)
        defer { unlink(path) }
        #expect(try await session.pushBlob(Digest.sha256(of: bytes), size: 2000, file: path) == .uploaded)
        #expect(session.base == "https://\(registry.host)")
        #expect(try await RegistryClientTests.download(session, Digest.sha256(of: bytes), size: 2000) == bytes)
        await client.shutdown()
        await registry.stop()
    }
}
