import Foundation
import Logging
import PierOCI
import PierStore
import Testing

@Suite struct ContentStoreTests {
    func temporaryRoot() throws -> String {
        let path = NSTemporaryDirectory() + "pier-store-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func ingestVerifiesDigestAndSize() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ContentStore(root: root)
        let bytes = Array("hello".utf8)
        let digest = try store.put(bytes)
        #expect(digest.description == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(store.contains(digest))
        #expect(try store.read(digest) == bytes)

        let wrong = Digest(sha256Bytes: [UInt8](repeating: 0, count: 32))
        #expect(throws: StoreError.self) { try store.put(Array("other".utf8), expected: wrong) }
        #expect(!store.contains(wrong))
        let writer = try store.makeWriter()
        writer.write(Array("short".utf8))
        #expect(throws: StoreError.self) { try writer.commit(expectedSize: 99) }
        // Nothing half-written is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").isEmpty)
        #expect(store.allDigests() == [digest])
    }

    @Test func abandonedIngestsAreRemoved() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ContentStore(root: root)
        let writer = try store.makeWriter()
        writer.write(Array("partial".utf8))
        // Simulate a crash: the writer never commits (and never runs its cleanup).
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").count == 1)
        store.removeAbandonedIngests()
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").isEmpty)
        writer.abort()
    }

    @Test func chainIDsFollowTheSpec() throws {
        let a = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        let b = try Digest(parsing: "sha256:" + String(repeating: "b", count: 64))
        let chain = chainIDs(of: [a, b])
        #expect(chain[0] == a)
        #expect(chain[1] == Digest.sha256(of: Array("\(a) \(b)".utf8)))
    }

    @Test func catalogPersistsAndResolves() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let id = Digest(sha256Bytes: [UInt8](repeating: 0x12, count: 32))
        let record = ImageRecord(id: id, manifest: id, manifestMediaType: MediaType.ociManifest, created: 1, size: 2)
        do {
            let catalog = try ImageCatalog(file: root + "/images.json")
            try catalog.put(record)
            try catalog.tag(try ImageReference(parsing: "busybox"), to: id, time: "t")
        }
        let reopened = try ImageCatalog(file: root + "/images.json")
        #expect(reopened.resolve("busybox")?.id == id)
        #expect(reopened.resolve("docker.io/library/busybox:latest")?.id == id)
        #expect(reopened.resolve("121212")?.id == id)
        #expect(reopened.resolve("sha256:" + id.encoded)?.id == id)
        #expect(reopened.resolve("busybox:other") == nil)
        try reopened.remove(id: id)
        #expect(reopened.resolve("busybox") == nil)
    }

    @Test func garbageCollectionKeepsPinnedContent() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try ImageStore(root: root)
        let kept = try store.content.put(Array("pinned".utf8))
        let dropped = try store.content.put(Array("orphan".utf8))
        let token = UUID()
        store.pins.pin([kept], token: token)
        let reclaimed = store.collectGarbage(logger: Logger(label: "test"))
        #expect(reclaimed == 6)
        #expect(store.content.contains(kept))
        #expect(!store.content.contains(dropped))
        store.pins.release(token)
        store.collectGarbage(logger: Logger(label: "test"))
        #expect(!store.content.contains(kept))
    }
}
