import PierOCI
import Testing

@Suite struct ImageReferenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let input: String
        let normalized: String
        let familiar: String
        var testDescription: String { input }
    }

    static let valid: [Case] = [
        Case(input: "busybox", normalized: "docker.io/library/busybox:latest", familiar: "busybox:latest"),
        Case(input: "busybox:1.36", normalized: "docker.io/library/busybox:1.36", familiar: "busybox:1.36"),
        Case(input: "library/busybox", normalized: "docker.io/library/busybox:latest", familiar: "busybox:latest"),
        Case(input: "docker.io/busybox", normalized: "docker.io/library/busybox:latest", familiar: "busybox:latest"),
        Case(input: "index.docker.io/me/app:v1", normalized: "docker.io/me/app:v1", familiar: "me/app:v1"),
        Case(input: "me/app", normalized: "docker.io/me/app:latest", familiar: "me/app:latest"),
        Case(input: "localhost/app", normalized: "localhost/app:latest", familiar: "localhost/app:latest"),
        Case(input: "localhost:5000/team/app:1.0", normalized: "localhost:5000/team/app:1.0",
             familiar: "localhost:5000/team/app:1.0"),
        Case(input: "ghcr.io/org/model-server:2024.1", normalized: "ghcr.io/org/model-server:2024.1",
             familiar: "ghcr.io/org/model-server:2024.1"),
        Case(input: "a__b/c.d-e:T_1",
             normalized: "docker.io/a__b/c.d-e:T_1", familiar: "a__b/c.d-e:T_1"),
        Case(input: "busybox@sha256:" + String(repeating: "a", count: 64),
             normalized: "docker.io/library/busybox@sha256:" + String(repeating: "a", count: 64),
             familiar: "busybox@sha256:" + String(repeating: "a", count: 64)),
        Case(input: "[::1]:5000/app:x", normalized: "[::1]:5000/app:x", familiar: "[::1]:5000/app:x"),
    ]

    @Test(arguments: valid) func normalises(_ example: Case) throws {
        let reference = try ImageReference(parsing: example.input)
        #expect(reference.description == example.normalized)
        #expect(reference.familiarDescription == example.familiar)
    }

    static let invalid: [(String, String)] = [
        ("", "empty"),
        ("Busybox", "must be lowercase"),
        ("me/App", "must be lowercase"),
        ("busybox:bad tag", "invalid tag"),
        ("busybox:-x", "invalid tag"),
        ("a..b", "not a valid image name"),
        ("app/", "not a valid image name"),
        ("-app", "not a valid image name"),
        ("busybox@sha256:abc", "64 lower-case hex"),
        (String(repeating: "a", count: 64), "64-byte hexadecimal"),
        ("host:port/app", "invalid registry"),
    ]

    @Test(arguments: invalid) func rejects(_ input: String, _ message: String) {
        do {
            let reference = try ImageReference(parsing: input)
            Issue.record("\(input) parsed as \(reference)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func withTagDropsDigest() throws {
        let reference = try ImageReference(parsing: "me/app@sha256:" + String(repeating: "b", count: 64))
        #expect(reference.withTag("v2").description == "docker.io/me/app:v2")
    }
}

@Suite struct DigestTests {
    @Test func parsesAndPrints() throws {
        let digest = try Digest(parsing: "sha256:" + String(repeating: "0", count: 64))
        #expect(digest.algorithm == "sha256")
        #expect(digest.shortID == "000000000000")
    }

    @Test(arguments: ["sha256", "sha256:", "sha256:XYZ", "SHA256:" + String(repeating: "0", count: 64),
                      "sha256:" + String(repeating: "0", count: 63), "sha-:00"])
    func rejects(_ text: String) {
        #expect(throws: OCIError.self) { try Digest(parsing: text) }
    }

    @Test func fromHashBytes() {
        let digest = Digest(sha256Bytes: [UInt8](repeating: 0xab, count: 32))
        #expect(digest.encoded == String(repeating: "ab", count: 32))
    }

    @Test func timestamps() {
        #expect(Timestamp.parse("2024-05-01T12:00:00Z") == 1_714_564_800)
        #expect(Timestamp.parse("2024-05-01T12:00:00.123456789Z") == 1_714_564_800)
        #expect(Timestamp.parse("2024-05-01T14:00:00+02:00") == 1_714_564_800)
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(Timestamp.format(seconds: 1_714_564_800, nanoseconds: 500_000_000) == "2024-05-01T12:00:00.5Z")
        // Nanoseconds order what seconds cannot (`ps` sorts by them).
        #expect(Timestamp.nanoseconds("2024-05-01T12:00:00Z") == 1_714_564_800_000_000_000)
        #expect(Timestamp.nanoseconds("2024-05-01T12:00:00.5Z") == 1_714_564_800_500_000_000)
        #expect(Timestamp.nanoseconds("2024-05-01T12:00:00.123456789123Z") == 1_714_564_800_123_456_789)
        #expect(Timestamp.nanoseconds("2024-05-01T14:00:00.000000001+02:00") == 1_714_564_800_000_000_001)
        #expect(Timestamp.nanoseconds("2024-05-01T12:00:00.000000002Z")! > Timestamp.nanoseconds("2024-05-01T12:00:00.000000001Z")!)
        #expect(Timestamp.nanoseconds("yesterday") == nil)
    }
}
