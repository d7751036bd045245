import Foundation
import Testing
@testable import PierRuntime

@Suite("json-file logs")
struct LogTests {
    static let id = String(repeating: "0123abcd", count: 8)

    static func line(_ text: String, _ stream: String = "stdout", _ time: String) -> String {
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "{\"log\":\"\(escaped)\",\"stream\":\"\(stream)\",\"time\":\"\(time)\"}\n"
    }

    /// Three files: .2 (oldest) with lines 1–2, .1 with 3–4, the current file with 5–6.
    static func rotatedLog() -> TemporaryDirectory {
        let dir = TemporaryDirectory("pier-logs")
        dir.file("\(id)-json.log.2", line("one\n", "stdout", "2024-05-01T12:00:01.000000001Z")
                 + line("two\n", "stderr", "2024-05-01T12:00:02Z"))
        dir.file("\(id)-json.log.1", line("three\n", "stdout", "2024-05-01T12:00:03.5Z")
                 + line("four \"quoted\" é\n", "stdout", "2024-05-01T12:00:04Z"))
        dir.file("\(id)-json.log", line("five\n", "stderr", "2024-05-01T12:00:05Z")
                 + line("six\n", "stdout", "2024-05-01T12:00:06.123456789Z") + "{\"log\":\"partial")
        return dir
    }

    static func texts(_ entries: [LogEntry]) -> [String] { entries.map { String(decoding: $0.bytes, as: UTF8.self) } }

    @Test(arguments: [
        ("2024-05-01T12:00:00.123456789Z", LogTime(seconds: 1_714_564_800, nanoseconds: 123_456_789)),
        ("2024-05-01T12:00:00Z", LogTime(seconds: 1_714_564_800)),
        ("2024-05-01T14:00:00.5+02:00", LogTime(seconds: 1_714_564_800, nanoseconds: 500_000_000)),
    ])
    func parseTimes(_ text: String, _ time: LogTime) {
        #expect(LogTime(rfc3339: text) == time)
    }

    @Test(arguments: [("1714564800", LogTime(seconds: 1_714_564_800)),
                      ("1714564800.25", LogTime(seconds: 1_714_564_800, nanoseconds: 250_000_000)),
                      ("2024-05-01T12:00:00Z", LogTime(seconds: 1_714_564_800))])
    func apiTimes(_ text: String, _ time: LogTime) {
        #expect(LogTime(apiValue: text) == time)
    }

    @Test func fixedNanosecondFormat() {
        #expect(LogTime(seconds: 1_714_564_800, nanoseconds: 1).description == "2024-05-01T12:00:00.000000001Z")
        #expect(LogTime(seconds: 1_714_564_800).description == "2024-05-01T12:00:00.000000000Z")
    }

    struct ReadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var options: LogReadOptions
        var expected: [String]
        var testDescription: String { name }
    }

    static let readCases: [ReadCase] = [
        .init(name: "all files, oldest first", options: LogReadOptions(),
              expected: ["one\n", "two\n", "three\n", "four \"quoted\" é\n", "five\n", "six\n"]),
        .init(name: "--tail 3 reaches into the rotated file", options: LogReadOptions(tail: 3),
              expected: ["four \"quoted\" é\n", "five\n", "six\n"]),
        .init(name: "--tail 0", options: LogReadOptions(tail: 0), expected: []),
        .init(name: "stdout only", options: LogReadOptions(stderr: false),
              expected: ["one\n", "three\n", "four \"quoted\" é\n", "six\n"]),
        .init(name: "--tail counts both streams before filtering", options: LogReadOptions(stderr: false, tail: 2),
              expected: ["six\n"]),
        .init(name: "--since", options: LogReadOptions(since: LogTime(rfc3339: "2024-05-01T12:00:03.5Z")),
              expected: ["three\n", "four \"quoted\" é\n", "five\n", "six\n"]),
        .init(name: "--until", options: LogReadOptions(until: LogTime(rfc3339: "2024-05-01T12:00:02Z")),
              expected: ["one\n", "two\n"]),
    ]

    @Test(arguments: readCases)
    func read(_ c: ReadCase) throws {
        let dir = Self.rotatedLog()
        let log = JSONFileLog(directory: dir.path, id: Self.id)
        #expect(Self.texts(try log.entries(c.options)) == c.expected)
    }

    @Test("stdcopy frames with timestamps, raw for a terminal")
    func rendering() throws {
        let dir = Self.rotatedLog()
        let log = JSONFileLog(directory: dir.path, id: Self.id)
        var chunks = [[UInt8]]()
        try log.read(LogReadOptions(tail: 2, timestamps: true)) { chunks.append($0) }
        let (frames, rest) = StdCopy.parse(chunks.flatMap { $0 })
        #expect(rest.isEmpty)
        #expect(frames.map(\.0) == [.stderr, .stdout])
        #expect(frames.map { String(decoding: $0.1, as: UTF8.self) } == [
            "2024-05-01T12:00:05.000000000Z five\n", "2024-05-01T12:00:06.123456789Z six\n"])
        #expect(chunks[0].prefix(8) == [2, 0, 0, 0, 0, 0, 0, 36])

        var raw = [UInt8]()
        try log.read(LogReadOptions(tail: 2, framing: .raw)) { raw += $0 }
        #expect(String(decoding: raw, as: UTF8.self) == "five\nsix\n")
    }

    @Test("follow: new lines, a rotation, then stop once drained")
    func follow() throws {
        let dir = Self.rotatedLog()
        let path = dir.path + "/\(Self.id)-json.log"
        let log = JSONFileLog(directory: dir.path, id: Self.id, pollInterval: .milliseconds(5))
        let stop = Locked(false)
        let seen = Locked([String]())
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? log.read(LogReadOptions(tail: 1, follow: true, framing: .raw), shouldStop: { stop.withLock { $0 } }) { chunk in
                seen.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
            }
            done.signal()
        }
        func append(_ text: String) {
            let handle = FileHandle(forWritingAtPath: path)
            handle?.seekToEndOfFile()
            handle?.write(Data(text.utf8))
            try? handle?.close()
        }
        func waitFor(_ count: Int) {
            for _ in 0..<400 where seen.withLock({ $0.count }) < count { usleep(5000) }
        }
        waitFor(1)
        // Finish the partial line, add another.
        append("\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:07Z\"}\n" + Self.line("eight\n", "stdout", "2024-05-01T12:00:08Z"))
        waitFor(3)
        // Rotate the way the shim does: rename, then a new file.
        append(Self.line("nine\n", "stdout", "2024-05-01T12:00:09Z"))
        rename(path, path + ".1")
        dir.file("\(Self.id)-json.log", Self.line("ten\n", "stderr", "2024-05-01T12:00:10Z"))
        waitFor(5)
        stop.withLock { $0 = true }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(seen.withLock { $0 } == ["six\n", "partial", "eight\n", "nine\n", "ten\n"])
    }

    @Test("the async stream ends with the log; cancelling stops a follow")
    func stream() async throws {
        let dir = Self.rotatedLog()
        let log = JSONFileLog(directory: dir.path, id: Self.id, pollInterval: .milliseconds(5))
        var all = [UInt8]()
        for try await chunk in log.stream(LogReadOptions(framing: .raw)) { all += chunk }
        #expect(String(decoding: all, as: UTF8.self) == "one\ntwo\nthree\nfour \"quoted\" é\nfive\nsix\n")

        let following = Task {
            var count = 0
            for try await _ in log.stream(LogReadOptions(tail: 1, follow: true)) { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(50))
        following.cancel()
        #expect(try await following.value == 1)
    }
}
