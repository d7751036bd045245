import Foundation
import PierOCI
import PierStore
@testable import PierRegistry
import Testing

/// The distribution API as a client sees it on the wire: every case of spec.md's push, pull,
/// list, delete and referrers sections, plus the bad inputs.
@Suite struct RegistryServerTests {
    /// Pushes a blob in one `POST ?digest=`.
    static func putBlob(_ http: RawHTTP, _ repository: String, _ bytes: [UInt8]) async throws -> Digest {
        let digest = Digest.sha256(of: bytes)
        let response = try await http.request("POST", "/v2/\(repository)/blobs/uploads/?digest=\(digest)", body: bytes)
        guard response.status == 201 else { throw TestFailure("blob push: \(response.status) \(response.text)") }
        return digest
    }

    /// Pushes a config and one layer, then a manifest naming them; returns the manifest and its digest.
    static func putImage(_ http: RawHTTP, _ repository: String, tag: String, layer: [UInt8] = randomBytes(1000),
                         subject: Descriptor? = nil, artifactType: String? = nil) async throws -> ([UInt8], Digest) {
        let config = Array(#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#.utf8)
        let configDigest = try await putBlob(http, repository, config)
        let layerDigest = try await putBlob(http, repository, layer)
        var manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(config.count)),
                                     layers: [Descriptor(mediaType: MediaType.ociLayerGzip, digest: layerDigest, size: Int64(layer.count))])
        manifest.subject = subject
        manifest.artifactType = artifactType
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = [UInt8](try encoder.encode(manifest))
        let response = try await http.request("PUT", "/v2/\(repository)/manifests/\(tag)",
                                        headers: [("Content-Type", MediaType.ociManifest)], body: bytes)
        guard response.status == 201 else { throw TestFailure("manifest push: \(response.status) \(response.text)") }
        return (bytes, Digest.sha256(of: bytes))
    }

    @Test func baseAnswersWithTheAPIVersion() async throws {
        try await withRegistry { registry in
            let response = try await RawHTTP(port: registry.port).request("GET", "/v2/")
            #expect(response.status == 200)
            #expect(response.header("Docker-Distribution-API-Version") == "registry/2.0")
            #expect(response.text == "{}")
        }
    }

    @Test func monolithicPushThenPullWithRanges() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let bytes = randomBytes(3 << 20)
            let digest = try await RegistryServerTests.putBlob(http, "team/app", bytes)
            let head = try await http.request("HEAD", "/v2/team/app/blobs/\(digest)")
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == String(bytes.count))
            #expect(head.header("Docker-Content-Digest") == digest.description)
            let get = try await http.request("GET", "/v2/team/app/blobs/\(digest)")
            #expect(get.body == bytes)
            let partial = try await http.request("GET", "/v2/team/app/blobs/\(digest)", headers: [("Range", "bytes=100-199")])
            #expect(partial.status == 206)
            #expect(partial.header("Content-Range") == "bytes 100-199/\(bytes.count)")
            #expect(partial.body == Array(bytes[100..<200]))
            let beyond = try await http.request("GET", "/v2/team/app/blobs/\(digest)", headers: [("Range", "bytes=\(bytes.count)-")])
            #expect(beyond.status == 416)
            // Linked in team/app only: another repository does not serve it.
            #expect(try await http.request("HEAD", "/v2/other/blobs/\(digest)").status == 404)
            let unknown = try await http.request("GET", "/v2/team/app/blobs/sha256:" + String(repeating: "0", count: 64))
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "BLOB_UNKNOWN")
        }
    }

    /// A client that asks the server to close after the response (skopeo does) still gets the
    /// whole blob: the close waits for everything queued to reach the socket.
    @Test func largeBlobWithConnectionClose() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let bytes = randomBytes(48 << 20)
            let digest = try await RegistryServerTests.putBlob(http, "big", bytes)
            let get = try await http.request("GET", "/v2/big/blobs/\(digest)")
            #expect(get.status == 200)
            #expect(get.body.count == bytes.count)
            #expect(get.body == bytes)
        }
    }

    @Test func chunkedPushChecksContentRange() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let bytes = randomBytes(30)
            let start = try await http.request("POST", "/v2/chunks/blobs/uploads/")
            #expect(start.status == 202)
            #expect(start.header("Range") == "0-0")
            let location = try #require(start.header("Location"))
            #expect(start.header("Docker-Upload-UUID") != nil)
            let first = try await http.request("PATCH", location, headers: [("Content-Range", "0-9")], body: Array(bytes[0..<10]))
            #expect(first.status == 202)
            #expect(first.header("Range") == "0-9")
            // A chunk that does not start where the upload ends: 416 with where it stands.
            let gap = try await http.request("PATCH", location, headers: [("Content-Range", "15-19")], body: Array(bytes[15..<20]))
            #expect(gap.status == 416)
            #expect(gap.header("Range") == "0-9")
            let overlap = try await http.request("PATCH", location, headers: [("Content-Range", "5-14")], body: Array(bytes[5..<15]))
            #expect(overlap.status == 416)
            let lying = try await http.request("PATCH", location, headers: [("Content-Range", "10-19")], body: Array(bytes[10..<15]))
            #expect(lying.status == 416)
            let second = try await http.request("PATCH", location, headers: [("Content-Range", "10-19")], body: Array(bytes[10..<20]))
            #expect(second.status == 202)
            let status = try await http.request("GET", location)
            #expect(status.status == 204)
            #expect(status.header("Range") == "0-19")
            let digest = Digest.sha256(of: bytes)
            // The last chunk comes with the closing PUT.
            let done = try await http.request("PUT", location + "?digest=\(digest)", headers: [("Content-Range", "20-29")],
                                        body: Array(bytes[20..<30]))
            #expect(done.status == 201)
            #expect(done.header("Location") == "/v2/chunks/blobs/\(digest)")
            #expect(done.header("Docker-Content-Digest") == digest.description)
            #expect(try await http.request("GET", "/v2/chunks/blobs/\(digest)").body == bytes)
            // The upload is gone once finished.
            #expect(try await http.request("GET", location).status == 404)
            #expect(registry.ingestFiles().isEmpty)
        }
    }

    @Test func aBlobThatDoesNotMatchItsDigestIsNeverVisible() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let claimed = Digest.sha256(of: Array("what the client says".utf8))
            let bad = try await http.request("POST", "/v2/x/blobs/uploads/?digest=\(claimed)", body: Array("something else".utf8))
            #expect(bad.status == 400)
            #expect(bad.errorCode == "DIGEST_INVALID")
            #expect(try await http.request("HEAD", "/v2/x/blobs/\(claimed)").status == 404)
            #expect(registry.blobFiles().isEmpty)
            #expect(registry.ingestFiles().isEmpty)
            let malformed = try await http.request("PUT", "/v2/x/blobs/uploads/whatever?digest=sha256:xyz")
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "DIGEST_INVALID")
        }
    }

    @Test func aClientCutMidUploadLeavesNoBlobAndCanResume() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let bytes = randomBytes(2 << 20)
            let location = try #require(try await http.request("POST", "/v2/cut/blobs/uploads/").header("Location"))
            // Declares the whole blob, sends half, and hangs up.
            _ = try await http.request("PATCH", location, headers: [("Content-Length", String(bytes.count))], body: bytes,
                                 sendBodyBytes: 1 << 20)
            var offset = 0
            for _ in 0..<50 {
                let status = try await http.request("GET", location)
                offset = status.header("Range").flatMap { $0.split(separator: "-").last }.flatMap { Int($0) }.map { $0 + 1 } ?? 0
                if offset == 1 << 20 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(offset == 1 << 20)
            #expect(registry.blobFiles().isEmpty)
            let digest = Digest.sha256(of: bytes)
            let rest = try await http.request("PUT", location + "?digest=\(digest)",
                                        headers: [("Content-Range", "\(offset)-\(bytes.count - 1)")], body: Array(bytes[offset...]))
            #expect(rest.status == 201)
            #expect(try await http.request("GET", "/v2/cut/blobs/\(digest)").body == bytes)
        }
    }

    @Test func concurrentPushesOfTheSameBlob() async throws {
        try await withRegistry { registry in
            let bytes = randomBytes(4 << 20)
            let port = registry.port
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let http = RawHTTP(port: port)
                        let digest = Digest.sha256(of: bytes)
                        return try await http.request("POST", "/v2/same\(index % 2)/blobs/uploads/?digest=\(digest)", body: bytes).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 201, count: 6))
            #expect(registry.blobFiles().count == 1)
            #expect(registry.ingestFiles().isEmpty)
            let http = RawHTTP(port: registry.port)
            #expect(try await http.request("GET", "/v2/same1/blobs/\(Digest.sha256(of: bytes))").body == bytes)
        }
    }

    @Test func manifestsNeedTheirBlobs() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let missing = Descriptor(mediaType: MediaType.ociLayerGzip,
                                     digest: Digest.sha256(of: Array("never pushed".utf8)), size: 12)
            let config = try await RegistryServerTests.putBlob(http, "m", Array("{}".utf8))
            let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: config, size: 2),
                                         layers: [missing])
            let bytes = [UInt8](try JSONEncoder().encode(manifest))
            let response = try await http.request("PUT", "/v2/m/manifests/latest", headers: [("Content-Type", MediaType.ociManifest)],
                                            body: bytes)
            #expect(response.status == 400)
            #expect(response.errorCode == "MANIFEST_BLOB_UNKNOWN")
            #expect(try await http.request("GET", "/v2/m/manifests/latest").status == 404)
            let junk = try await http.request("PUT", "/v2/m/manifests/latest", headers: [("Content-Type", MediaType.ociManifest)],
                                        body: Array("not json".utf8))
            #expect(junk.errorCode == "MANIFEST_INVALID")
            let wrongDigest = try await http.request("PUT", "/v2/m/manifests/sha256:" + String(repeating: "1", count: 64),
                                               headers: [("Content-Type", MediaType.ociManifest)], body: bytes)
            #expect(wrongDigest.errorCode == "DIGEST_INVALID")
        }
    }

    @Test func pushPullAndDeleteManifests() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let (bytes, digest) = try await RegistryServerTests.putImage(http, "team/app", tag: "v1")
            for reference in ["v1", digest.description] {
                let get = try await http.request("GET", "/v2/team/app/manifests/\(reference)")
                #expect(get.status == 200)
                #expect(get.body == bytes)
                #expect(get.header("Content-Type") == MediaType.ociManifest)
                #expect(get.header("Docker-Content-Digest") == digest.description)
                let head = try await http.request("HEAD", "/v2/team/app/manifests/\(reference)")
                #expect(head.status == 200)
                #expect(head.header("Content-Length") == String(bytes.count))
            }
            #expect(try await http.request("PUT", "/v2/team/app/manifests/v2", headers: [("Content-Type", MediaType.ociManifest)],
                                     body: bytes).status == 201)
            // Delete by tag removes only the tag.
            #expect(try await http.request("DELETE", "/v2/team/app/manifests/v2").status == 202)
            #expect(try await http.request("GET", "/v2/team/app/manifests/v2").status == 404)
            #expect(try await http.request("GET", "/v2/team/app/manifests/v1").status == 200)
            // Delete by digest removes the manifest and every tag on it.
            #expect(try await http.request("DELETE", "/v2/team/app/manifests/\(digest)").status == 202)
            let gone = try await http.request("GET", "/v2/team/app/manifests/v1")
            #expect(gone.status == 404)
            #expect(gone.errorCode == "MANIFEST_UNKNOWN")
            #expect(try await http.request("DELETE", "/v2/team/app/manifests/\(digest)").status == 404)
        }
    }

    @Test func tagsAndCatalogPaginate() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let (bytes, _) = try await RegistryServerTests.putImage(http, "pages", tag: "a")
            for tag in ["b", "c", "d", "e"] {
                _ = try await http.request("PUT", "/v2/pages/manifests/\(tag)", headers: [("Content-Type", MediaType.ociManifest)],
                                     body: bytes)
            }
            let all = try await http.request("GET", "/v2/pages/tags/list")
            #expect(all.text == #"{"name":"pages","tags":["a","b","c","d","e"]}"#)
            let first = try await http.request("GET", "/v2/pages/tags/list?n=2")
            #expect(first.text == #"{"name":"pages","tags":["a","b"]}"#)
            #expect(first.header("Link") == #"</v2/pages/tags/list?last=b&n=2>; rel="next""#)
            let second = try await http.request("GET", "/v2/pages/tags/list?n=2&last=b")
            #expect(second.text == #"{"name":"pages","tags":["c","d"]}"#)
            let last = try await http.request("GET", "/v2/pages/tags/list?n=2&last=d")
            #expect(last.text == #"{"name":"pages","tags":["e"]}"#)
            #expect(last.header("Link") == nil)
            #expect(try await http.request("GET", "/v2/nothing/tags/list").errorCode == "NAME_UNKNOWN")

            _ = try await RegistryServerTests.putBlob(http, "a/b", [1])
            _ = try await RegistryServerTests.putBlob(http, "z", [2])
            #expect(try await http.request("GET", "/v2/_catalog").text == #"{"repositories":["a/b","pages","z"]}"#)
            let page = try await http.request("GET", "/v2/_catalog?n=1&last=a/b")
            #expect(page.text == #"{"repositories":["pages"]}"#)
        }
    }

    @Test func crossRepositoryMount() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let digest = try await RegistryServerTests.putBlob(http, "source", randomBytes(100))
            let mounted = try await http.request("POST", "/v2/target/blobs/uploads/?mount=\(digest)&from=source")
            #expect(mounted.status == 201)
            #expect(mounted.header("Location") == "/v2/target/blobs/\(digest)")
            #expect(try await http.request("HEAD", "/v2/target/blobs/\(digest)").status == 200)
            // Not in the source: an ordinary upload starts instead.
            let fallback = try await http.request("POST", "/v2/target2/blobs/uploads/?mount=\(digest)&from=elsewhere")
            #expect(fallback.status == 202)
            #expect(fallback.header("Location")?.hasPrefix("/v2/target2/blobs/uploads/") == true)
            // Deleting the blob from one repository leaves the other's.
            #expect(try await http.request("DELETE", "/v2/target/blobs/\(digest)").status == 202)
            #expect(try await http.request("HEAD", "/v2/target/blobs/\(digest)").status == 404)
            #expect(try await http.request("HEAD", "/v2/source/blobs/\(digest)").status == 200)
        }
    }

    @Test func referrers() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let (subjectBytes, subjectDigest) = try await RegistryServerTests.putImage(http, "ref", tag: "v1")
            let subject = Descriptor(mediaType: MediaType.ociManifest, digest: subjectDigest, size: Int64(subjectBytes.count))
            let empty = try await http.request("GET", "/v2/ref/referrers/\(subjectDigest)")
            #expect(empty.status == 200)
            #expect(empty.header("Content-Type") == MediaType.ociIndex)
            let (_, sbomDigest) = try await RegistryServerTests.putImage(http, "ref", tag: "sbom", subject: subject,
                                                                   artifactType: "application/spdx+json")
            let (_, sigDigest) = try await RegistryServerTests.putImage(http, "ref", tag: "sig", subject: subject,
                                                                  artifactType: "application/vnd.dev.cosign")
            let all = try JSONDecoder().decode(ImageIndex.self, from: Data(try await http.request("GET", "/v2/ref/referrers/\(subjectDigest)").body))
            #expect(Set(all.manifests.map(\.digest)) == [sbomDigest, sigDigest])
            #expect(Set(all.manifests.compactMap(\.artifactType)) == ["application/spdx+json", "application/vnd.dev.cosign"])
            let filtered = try await http.request("GET", "/v2/ref/referrers/\(subjectDigest)?artifactType=application/spdx%2Bjson")
            #expect(filtered.header("OCI-Filters-Applied") == "artifactType")
            let index = try JSONDecoder().decode(ImageIndex.self, from: Data(filtered.body))
            #expect(index.manifests.map(\.digest) == [sbomDigest])
            #expect(try await http.request("DELETE", "/v2/ref/manifests/\(sbomDigest)").status == 202)
            let after = try JSONDecoder().decode(ImageIndex.self, from: Data(try await http.request("GET", "/v2/ref/referrers/\(subjectDigest)").body))
            #expect(after.manifests.map(\.digest) == [sigDigest])
        }
    }

    @Test func badNames() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let upper = try await http.request("GET", "/v2/Team/app/tags/list")
            #expect(upper.status == 400)
            #expect(upper.errorCode == "NAME_INVALID")
            let dots = try await http.request("GET", "/v2/team/../../etc/manifests/latest")
            #expect(dots.status == 400)
            #expect(dots.errorCode == "NAME_INVALID")
            let encoded = try await http.request("POST", "/v2/a/%2E%2E/b/blobs/uploads/")
            #expect(encoded.errorCode == "NAME_INVALID")
            #expect(!FileManager.default.fileExists(atPath: registry.storage + "/b"))
        }
    }

    @Test func garbageCollection() async throws {
        try await withRegistry { registry in
            let http = RawHTTP(port: registry.port)
            let (_, manifestDigest) = try await RegistryServerTests.putImage(http, "gc", tag: "v1")
            let orphan = try await RegistryServerTests.putBlob(http, "gc", randomBytes(500))
            let collector = GarbageCollector(storage: registry.server.storage, logger: .init(label: "test"))
            // Within the grace period nothing goes.
            #expect(collector.collect(grace: .seconds(3600), dryRun: false).removedBlobs.isEmpty)
            let report = collector.collect(grace: .zero, dryRun: false)
            #expect(report.removedBlobs == [orphan])
            #expect(try await http.request("HEAD", "/v2/gc/blobs/\(orphan)").status == 404)
            #expect(try await http.request("GET", "/v2/gc/manifests/v1").status == 200)
            // Untagged manifests go with --delete-untagged, and then their blobs.
            #expect(try await http.request("DELETE", "/v2/gc/manifests/v1").status == 202)
            #expect(collector.collect(grace: .zero, dryRun: false).removedBlobs.isEmpty)
            let dry = collector.collect(grace: .zero, dryRun: true, untagged: true)
            #expect(dry.removedManifests == ["gc@\(manifestDigest)"])
            #expect(registry.blobFiles().count == 3)
            let untagged = collector.collect(grace: .zero, dryRun: false, untagged: true)
            #expect(untagged.removedBlobs.count == 3)   // manifest, config and layer
            #expect(untagged.removedBlobs.contains(manifestDigest))
            #expect(registry.blobFiles().isEmpty)
        }
    }
}

@Suite struct RegistryAuthTests {
    static func basic(_ user: String, _ password: String) -> (String, String) {
        ("Authorization", "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
    }

    @Test func basicAuth() async throws {
        let passwords = try HTPasswd(contents: HTPasswdTests.file)
        try await withRegistry(access: AccessControl(mode: .basic(passwords), policy: AccessPolicy())) { registry in
            let http = RawHTTP(port: registry.port)
            let anonymous = try await http.request("GET", "/v2/")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("WWW-Authenticate") == #"Basic realm="Pier Registry""#)
            #expect(anonymous.errorCode == "UNAUTHORIZED")
            #expect(try await http.request("GET", "/v2/", headers: [RegistryAuthTests.basic("bob", "nope")]).status == 401)
            #expect(try await http.request("GET", "/v2/", headers: [RegistryAuthTests.basic("bob", "hunter2")]).status == 200)
            let digest = Digest.sha256(of: [1, 2, 3])
            let push = try await http.request("POST", "/v2/x/blobs/uploads/?digest=\(digest)",
                                        headers: [RegistryAuthTests.basic("carol", "pw")], body: [1, 2, 3])
            #expect(push.status == 201)
            #expect(try await http.request("HEAD", "/v2/x/blobs/\(digest)").status == 401)
        }
    }

    @Test func anonymousReadAndPolicy() async throws {
        let passwords = try HTPasswd(contents: HTPasswdTests.file)
        let policy = try AccessPolicy(contents: "bob team/* pull,push\ncarol * pull", anonymousRead: true)
        try await withRegistry(access: AccessControl(mode: .basic(passwords), policy: policy)) { registry in
            let http = RawHTTP(port: registry.port)
            let bytes: [UInt8] = [9, 9, 9]
            let digest = Digest.sha256(of: bytes)
            #expect(try await http.request("GET", "/v2/").status == 200)
            let carol = try await http.request("POST", "/v2/team/a/blobs/uploads/?digest=\(digest)",
                                         headers: [RegistryAuthTests.basic("carol", "pw")], body: bytes)
            #expect(carol.status == 403)
            #expect(carol.errorCode == "DENIED")
            #expect(try await http.request("POST", "/v2/team/a/blobs/uploads/?digest=\(digest)",
                                     headers: [RegistryAuthTests.basic("bob", "hunter2")], body: bytes).status == 201)
            #expect(try await http.request("POST", "/v2/other/blobs/uploads/", headers: [RegistryAuthTests.basic("bob", "hunter2")])
                .status == 403)
            #expect(try await http.request("GET", "/v2/team/a/blobs/\(digest)").body == bytes)
            #expect(try await http.request("POST", "/v2/team/a/blobs/uploads/").status == 401)
        }
    }

    @Test func tokenService() async throws {
        let passwords = try HTPasswd(contents: HTPasswdTests.file)
        let authority = TokenAuthority(issuer: "pier-test", service: "pier-registry")
        let policy = try AccessPolicy(contents: "bob team/* pull,push")
        try await withRegistry(access: AccessControl(mode: .token(authority, htpasswd: passwords, realm: nil), policy: policy)) { registry in
            let http = RawHTTP(port: registry.port)
            let ping = try await http.request("GET", "/v2/")
            #expect(ping.status == 401)
            let challenge = try #require(AuthChallenge.parse(ping.header("WWW-Authenticate") ?? "").first)
            #expect(challenge.isBearer)
            #expect(challenge.realm == "http://127.0.0.1:\(registry.port)/token")
            #expect(challenge.service == "pier-registry")

            let denied = try await http.request("GET", "/token?service=pier-registry&scope=repository:team/a:pull,push",
                                          headers: [RegistryAuthTests.basic("bob", "wrong")])
            #expect(denied.status == 401)
            let answer = try await http.request("GET", "/token?service=pier-registry&scope=repository:team/a:pull,push,delete&scope=repository:secret:pull",
                                          headers: [RegistryAuthTests.basic("bob", "hunter2")])
            #expect(answer.status == 200)
            struct Token: Decodable { var token: String; var expires_in: Int }
            let token = try JSONDecoder().decode(Token.self, from: Data(answer.body)).token
            let claims = try authority.verify(token)
            #expect(claims.access == [AccessScope(name: "team/a", actions: ["pull", "push"])])
            let bearer = ("Authorization", "Bearer \(token)")
            let bytes: [UInt8] = [4, 5, 6]
            #expect(try await http.request("POST", "/v2/team/a/blobs/uploads/?digest=\(Digest.sha256(of: bytes))", headers: [bearer],
                                     body: bytes).status == 201)
            let elsewhere = try await http.request("GET", "/v2/secret/tags/list", headers: [bearer])
            #expect(elsewhere.status == 401)
            #expect(elsewhere.header("WWW-Authenticate")?.contains(#"error="insufficient_scope""#) == true)
            #expect(elsewhere.header("WWW-Authenticate")?.contains(#"scope="repository:secret:pull""#) == true)
            // The OAuth2 password grant that containerd and buildkit use.
            let form = "grant_type=password&username=bob&password=hunter2&service=pier-registry&scope=repository%3Ateam%2Fa%3Apull&client_id=x"
            let post = try await http.request("POST", "/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                        body: Array(form.utf8))
            #expect(post.status == 200)
        }
    }
}
