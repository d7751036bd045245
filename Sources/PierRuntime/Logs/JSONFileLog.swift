import Foundation
import PierOCI
import Synchronization

/// A moment with nanosecond precision (Docker's log times have nine digits; `Date` keeps fewer).
public struct LogTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// RFC 3339 with any number of fraction digits and a `Z` or `±hh:mm` offset.
    public init?(rfc3339 text: String) {
        guard let seconds = Timestamp.parse(text) else { return nil }
        var nanos: Int32 = 0
        if let dot = text.firstIndex(of: ".") {
            var digits = 0
            for character in text[text.index(after: dot)...] {
                guard let digit = character.wholeNumberValue, character.isASCII else { break }
                if digits < 9 { nanos = nanos * 10 + Int32(digit) }
                digits += 1
            }
            for _ in min(digits, 9)..<9 { nanos *= 10 }
        }
        self.init(seconds: seconds, nanoseconds: nanos)
    }

    /// The Engine API's `since`/`until`: `1714564800`, `1714564800.5`, or RFC 3339.
    public init?(apiValue text: String) {
        if let time = LogTime(rfc3339: text) { self = time; return }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let seconds = Int64(parts[0]) else { return nil }
        var nanos: Int32 = 0
        if parts.count == 2 {
            let fraction = parts[1].prefix(9)
            guard !fraction.isEmpty, let value = Int32(fraction) else { return nil }
            nanos = value
            for _ in fraction.count..<9 { nanos *= 10 }
        }
        self.init(seconds: seconds, nanoseconds: nanos)
    }

    public static func < (a: LogTime, b: LogTime) -> Bool {
        a.seconds != b.seconds ? a.seconds < b.seconds : a.nanoseconds < b.nanoseconds
    }

    /// Docker's `RFC3339NanoFixed`: always nine fraction digits, UTC.
    public var description: String {
        let base = Timestamp.format(seconds: seconds)
        let fraction = String(nanoseconds)
        return String(base.dropLast()) + "." + String(repeating: "0", count: 9 - fraction.count) + fraction + "Z"
    }
}

/// One line of a json-file log.
public struct LogEntry: Sendable, Hashable {
    public enum Stream: String, Sendable, Hashable {
        case stdout, stderr
    }

    public var stream: Stream
    public var time: LogTime
    /// The bytes the container wrote (usually one line with its newline).
    public var bytes: [UInt8]

    public init(stream: Stream, time: LogTime, bytes: [UInt8]) {
        self.stream = stream
        self.time = time
        self.bytes = bytes
    }
}

/// What `docker logs` asked for.
public struct LogReadOptions: Sendable, Hashable {
    public enum Framing: Sendable, Hashable {
        /// Docker's stdcopy frames (containers without a terminal).
        case stdcopy
        /// The bytes as written (containers with a terminal).
        case raw
    }

    public var stdout: Bool
    public var stderr: Bool
    public var since: LogTime?
    public var until: LogTime?
    /// The last N lines of the log (counted over both streams, as Docker does); nil for all.
    public var tail: Int?
    /// Prefix each line with its time (`-t`).
    public var timestamps: Bool
    public var follow: Bool
    public var framing: Framing

    public init(stdout: Bool = true, stderr: Bool = true, since: LogTime? = nil, until: LogTime? = nil,
                tail: Int? = nil, timestamps: Bool = false, follow: Bool = false, framing: Framing = .stdcopy) {
        self.stdout = stdout
        self.stderr = stderr
        self.since = since
        self.until = until
        self.tail = tail
        self.timestamps = timestamps
        self.follow = follow
        self.framing = framing
    }
}

/// Docker's stdcopy framing: an 8-byte header (stream 1 or 2, three zero bytes, big-endian
/// payload length), then the payload.
public enum StdCopy {
    public static func frame(_ stream: LogEntry.Stream, _ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [stream == .stdout ? 1 : 2, 0, 0, 0,
                UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)]
            + payload
    }

    /// Splits framed bytes back into (stream, payload) pairs; the rest is an incomplete frame.
    public static func parse(_ bytes: [UInt8]) -> (frames: [(LogEntry.Stream, [UInt8])], rest: [UInt8]) {
        var frames = [(LogEntry.Stream, [UInt8])]()
        var offset = 0
        while bytes.count - offset >= 8 {
            let length = Int(bytes[offset + 4]) << 24 | Int(bytes[offset + 5]) << 16 | Int(bytes[offset + 6]) << 8 | Int(bytes[offset + 7])
            guard bytes.count - offset - 8 >= length else { break }
            let stream: LogEntry.Stream = bytes[offset] == 2 ? .stderr : .stdout
            frames.append((stream, Array(bytes[(offset + 8)..<(offset + 8 + length)])))
            offset += 8 + length
        }
        return (frames, Array(bytes[offset...]))
    }
}

/// Reads the `<id>-json.log` files the shim writes (`<id>-json.log.1` … are older rotations)
/// for `docker logs`. Everything here blocks on file reads; `follow` polls the file.
public struct JSONFileLog: Sendable {
    public var directory: String
    public var id: String
    /// How often `follow` looks for new lines.
    public var pollInterval: Duration

    public init(directory: String, id: String, pollInterval: Duration = .milliseconds(50)) {
        self.directory = directory
        self.id = id
        self.pollInterval = pollInterval
    }

    public var path: String { joinPath(directory, "\(id)-json.log") }

    /// The log files, oldest first: `.N` … `.1`, then the current file.
    public func files() -> [String] {
        let base = "\(id)-json.log."
        let rotated = PosixFile.list(directory).compactMap { name -> (Int, String)? in
            guard name.hasPrefix(base), let n = Int(name.dropFirst(base.count)), n > 0 else { return nil }
            return (n, joinPath(directory, name))
        }.sorted { $0.0 > $1.0 }.map(\.1)
        return rotated + (PosixFile.exists(path) ? [path] : [])
    }

    /// Decodes one line; nil for a line that is not a log entry.
    public static func decode(_ line: ArraySlice<UInt8>) -> LogEntry? {
        struct Line: Decodable { var log: String; var stream: String; var time: String }
        guard let decoded = try? JSONDecoder().decode(Line.self, from: Data(line)),
              let stream = LogEntry.Stream(rawValue: decoded.stream),
              let time = LogTime(rfc3339: decoded.time) else { return nil }
        return LogEntry(stream: stream, time: time, bytes: Array(decoded.log.utf8))
    }

    /// The entries now in the files, oldest first, after `tail` (then `since`/`until` and the
    /// stream choice, in Docker's order).
    public func entries(_ options: LogReadOptions = LogReadOptions()) throws(RuntimeError) -> [LogEntry] {
        var entries = [LogEntry]()
        for file in files() {
            guard let bytes = try PosixFile.read(file) else { continue }
            entries += Self.lines(bytes).compactMap(Self.decode)
        }
        if let tail = options.tail { entries = Array(entries.suffix(max(tail, 0))) }
        return entries.filter { accepts($0, options) }
    }

    func accepts(_ entry: LogEntry, _ options: LogReadOptions) -> Bool {
        if let since = options.since, entry.time < since { return false }
        if let until = options.until, entry.time > until { return false }
        return entry.stream == .stdout ? options.stdout : options.stderr
    }

    /// Complete lines (a last line without its newline is still being written, and skipped).
    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var result = [ArraySlice<UInt8>]()
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            if index > start { result.append(bytes[start..<index]) }
            start = index + 1
        }
        return result
    }

    /// The bytes `docker logs` prints for one entry.
    public static func render(_ entry: LogEntry, _ options: LogReadOptions) -> [UInt8] {
        var payload = entry.bytes
        if options.timestamps { payload = Array((entry.time.description + " ").utf8) + payload }
        switch options.framing {
        case .raw: return payload
        case .stdcopy: return StdCopy.frame(entry.stream, payload)
        }
    }

    /// Reads what `options` ask for and hands each rendered entry to `emit`. With `follow`, keeps
    /// reading new lines (through rotations) until `shouldStop()` is true and the file is drained,
    /// or until an entry passes `until`. Blocks.
    public func read(_ options: LogReadOptions, shouldStop: @Sendable () -> Bool = { false },
                     emit: ([UInt8]) throws -> Void) throws {
        guard options.follow else {
            for entry in try entries(options) { try emit(Self.render(entry, options)) }
            return
        }
        // The current file is read through the descriptor that then follows it, so no line
        // is read twice or missed between the two.
        var follower = try Follower(path: path)
        defer { follower.close() }
        var existing = [LogEntry]()
        for file in files() where file != path {
            guard let bytes = try PosixFile.read(file) else { continue }
            existing += Self.lines(bytes).compactMap(Self.decode)
        }
        var switched = true
        while switched {
            let (entries, ended) = try follower.poll()
            existing += entries
            switched = ended
        }
        if let tail = options.tail { existing = Array(existing.suffix(max(tail, 0))) }
        for entry in existing {
            if let until = options.until, entry.time > until { return }
            if accepts(entry, options) { try emit(Self.render(entry, options)) }
        }
        let pollMs = Int(pollInterval.components.seconds * 1000 + pollInterval.components.attoseconds / 1_000_000_000_000_000)
        while true {
            let stopping = shouldStop()
            let (entries, ended) = try follower.poll()
            for entry in entries {
                if let until = options.until, entry.time > until { return }
                if accepts(entry, options) { try emit(Self.render(entry, options)) }
            }
            if ended { continue }
            if stopping { return }
            sleepMilliseconds(max(pollMs, 1))
        }
    }

    /// `read` on a dedicated thread, as a stream of rendered chunks; cancelling the consumer
    /// stops the reader within one poll interval.
    public func stream(_ options: LogReadOptions, shouldStop: @escaping @Sendable () -> Bool = { false })
        -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream { continuation in
            let cancelled = CancelFlag()
            continuation.onTermination = { _ in cancelled.set() }
            Thread.detachNewThread { [self] in
                do {
                    try read(options, shouldStop: { cancelled.isSet || shouldStop() }) { chunk in
                        if cancelled.isSet { throw CancellationError() }
                        continuation.yield(chunk)
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// Follows one log path through rotations: when the path names a new file, the rest of the
    /// old one is read first, then the new one from its start.
    struct Follower {
        let path: String
        var fd: Int32
        var inode: UInt64
        var pending: [UInt8] = []

        init(path: String) throws(RuntimeError) {
            self.path = path
            fd = -1
            inode = 0
            try reopen()
        }

        mutating func close() {
            if fd >= 0 { Glibc.close(fd) }
            fd = -1
        }

        mutating func reopen() throws(RuntimeError) {
            close()
            fd = open(path, O_RDONLY | O_CLOEXEC)
            pending = []
            if fd < 0 {
                let code = errno
                guard code == ENOENT else {
                    throw RuntimeError(.system, "cannot read \(path)", cause: SystemError("open", errno: code))
                }
                inode = 0
                return
            }
            var info = stat()
            fstat(fd, &info)
            inode = UInt64(info.st_ino)
        }

        /// New complete entries; `ended` when it switched to a rotated-in file (poll again now).
        mutating func poll() throws(RuntimeError) -> ([LogEntry], ended: Bool) {
            var entries = [LogEntry]()
            if fd >= 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                while true {
                    let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                    if n < 0 { if errno == EINTR { continue }; break }
                    if n == 0 { break }
                    pending.append(contentsOf: chunk[0..<n])
                }
                if let last = pending.lastIndex(of: UInt8(ascii: "\n")) {
                    entries = JSONFileLog.lines(Array(pending[...last])).compactMap(JSONFileLog.decode)
                    pending.removeSubrange(...last)
                }
            }
            var info = stat()
            if stat(path, &info) == 0, UInt64(info.st_ino) != inode {
                try reopen()
                return (entries, true)
            }
            return (entries, false)
        }
    }
}

/// A flag set once from any thread.
final class CancelFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}
