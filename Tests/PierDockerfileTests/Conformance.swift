import Foundation

/// The shared conformance data (`../shared/conformance` next to the repository root).
enum Conformance {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // PierDockerfileTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("../shared/conformance")
        .standardizedFileURL

    static func url(_ path: String) -> URL {
        root.appendingPathComponent(path)
    }

    static func text(_ path: String) throws -> String {
        try String(decoding: Data(contentsOf: url(path)), as: UTF8.self)
    }

    /// The sub-directories of a corpus folder, sorted.
    static func caseNames(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url(path).path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }
}
