import Foundation
import PierDockerfile
import PierOCI
import PierStore
import Testing
@testable import PierEngine

/// The builder's pure parts: EXPOSE specs, paths, heredoc scripts, symlinks inside a tree, the cache.
@Suite struct BuilderTests {
    struct PortCase: Sendable {
        let spec: String
        let ports: [String]?
    }

    @Test(arguments: [
        PortCase(spec: "80", ports: ["80/tcp"]),
        PortCase(spec: "53/udp", ports: ["53/udp"]),
        PortCase(spec: "8000-8002/TCP", ports: ["8000/tcp", "8001/tcp", "8002/tcp"]),
        PortCase(spec: "9/sctp", ports: ["9/sctp"]),
        PortCase(spec: "80/http", ports: nil),
        PortCase(spec: "70000", ports: nil),
        PortCase(spec: "90-80", ports: nil),
        PortCase(spec: "web", ports: nil),
    ])
    func exposedPorts(_ example: PortCase) {
        #expect((try? BuildSession.exposedPorts(example.spec, line: 1)) == example.ports)
    }

    @Test(arguments: [
        ("/a/./b/../c/", "/a/c"), ("/", "/"), ("/../x", "/x"), ("/srv//app", "/srv/app"),
    ])
    func cleanAbsolute(_ example: (String, String)) {
        #expect(BuildSession.cleanAbsolute(example.0) == example.1)
    }

    @Test func heredocScripts() {
        let alone = Heredoc(name: "EOF", content: "echo one\necho two\n")
        #expect(BuildSession.script("<<EOF", heredocs: [alone]) == alone.effectiveContent)
        let fed = Heredoc(name: "EOT", content: "data\n")
        #expect(BuildSession.script("cat <<EOT > /f", heredocs: [fed]) == "cat <<EOT > /f\ndata\nEOT\n")
        #expect(BuildSession.script("echo plain", heredocs: []) == "echo plain")
    }

    @Test func symlinksResolveInsideTheirTree() throws {
        let root = NSTemporaryDirectory() + "pier-builder-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/usr/lib", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/usr/lib/file", contents: Data("x".utf8))
        try FileManager.default.createSymbolicLink(atPath: root + "/lib", withDestinationPath: "usr/lib")
        try FileManager.default.createSymbolicLink(atPath: root + "/abs", withDestinationPath: "/usr/lib/file")
        try FileManager.default.createSymbolicLink(atPath: root + "/out", withDestinationPath: "../../../etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: root + "/loop", withDestinationPath: "loop")
        #expect(BuildSession.resolve("lib/file", inside: root) == root + "/usr/lib/file")
        #expect(BuildSession.resolve("abs", inside: root) == root + "/usr/lib/file")
        #expect(BuildSession.resolve("out", inside: root) == nil)   // /etc/passwd inside the tree: absent
        #expect(BuildSession.resolve("loop", inside: root) == nil)
        #expect(BuildSession.resolve("", inside: root) == root)
        // The same rules over overlay layers, for COPY destinations.
        #expect(LayeredPath.resolve("/lib/new", in: [root]) == "/usr/lib/new")
        #expect(LayeredPath.resolve("/abs", in: [root]) == "/usr/lib/file")
    }

    @Test func cacheHitsOnlyWhenEverythingItNamesExists() throws {
        let root = NSTemporaryDirectory() + "pier-builder-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ImageStore(root: root + "/image")
        let cache = try BuildCache(directory: root + "/cache", store: store)
        let parent = Digest.sha256(of: Array("parent".utf8))
        let key = BuildCache.key(parent: parent, step: "/bin/sh -c echo hi")
        #expect(key != BuildCache.key(parent: parent, step: "/bin/sh -c echo ho"))
        #expect(key != BuildCache.key(parent: Digest.sha256(of: Array("other".utf8)), step: "/bin/sh -c echo hi"))

        var state = BuildState.scratch
        state.config.config?.Env = ["A=1"]
        cache.record(key, state)
        #expect(cache.lookup(key)?.config.config?.Env == ["A=1"])

        // An entry whose layer blob is gone is a miss, never a broken image.
        let blob = try store.content.put(Array("layer".utf8))
        let layer = BuildLayer(descriptor: Descriptor(mediaType: MediaType.ociLayerTar, digest: blob, size: 5),
                               diffID: blob, chainID: blob, unpackedSize: 5)
        state.layers = [layer]
        cache.record(key, state)
        #expect(cache.lookup(key) == nil)   // no snapshot for the chain ID
        // A torn entry (e.g. a crash between create and write) is a miss too.
        FileManager.default.createFile(atPath: cache.path(key), contents: Data("{\"conf".utf8))
        #expect(cache.lookup(key) == nil)
        #expect(cache.prune() == [key.encoded])
    }
}
