import Foundation
import Synchronization

/// What the shim says on `control.sock` (one `\n`-terminated ASCII line each).
public enum ShimEvent: Sendable, Hashable, CustomStringConvertible {
    /// The container process exists (in its namespaces, waiting for `start`).
    case ready(pid: Int32)
    /// `execve` is about to happen.
    case started(pid: Int32)
    /// Setup or exec failed; `exited` follows with 125, 126 or 127.
    case error(String)
    /// The process ended; `exitCode` is 128 + signal when a signal killed it.
    case exited(exitCode: Int32, signal: Int32, oomKilled: Bool)

    public init(line: String) throws(RuntimeError) {
        let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let verb = parts.first.map(String.init) ?? ""
        let rest = parts.count > 1 ? String(parts[1]) : ""
        func bad() -> RuntimeError { RuntimeError(.protocolViolation, "the shim sent \"\(line)\", which is not a control event") }
        switch verb {
        case "ready":
            guard let pid = Int32(rest), pid > 0 else { throw bad() }
            self = .ready(pid: pid)
        case "started":
            guard let pid = Int32(rest), pid > 0 else { throw bad() }
            self = .started(pid: pid)
        case "error":
            self = .error(rest)
        case "exited":
            let fields = rest.split(separator: " ")
            guard fields.count == 3, let code = Int32(fields[0]), let signal = Int32(fields[1]),
                  fields[2] == "0" || fields[2] == "1" else { throw bad() }
            self = .exited(exitCode: code, signal: signal, oomKilled: fields[2] == "1")
        default:
            throw bad()
        }
    }

    /// The line as the shim writes it (without the newline).
    public var description: String {
        switch self {
        case .ready(let pid): "ready \(pid)"
        case .started(let pid): "started \(pid)"
        case .error(let message): "error \(message)"
        case .exited(let code, let signal, let oom): "exited \(code) \(signal) \(oom ? 1 : 0)"
        }
    }
}

/// What pierd tells the shim.
public enum ShimCommand: Sendable, Hashable, CustomStringConvertible {
    case start
    case kill(signal: Int32)
    case resize(rows: UInt16, columns: UInt16)
    case closeStdin

    public var description: String {
        switch self {
        case .start: "start"
        case .kill(let signal): "kill \(signal)"
        case .resize(let rows, let columns): "resize \(rows) \(columns)"
        case .closeStdin: "close-stdin"
        }
    }
}

/// How `start` ended.
public enum StartOutcome: Sendable, Hashable {
    case started(pid: Int32)
    /// The shim reported an error; `exitCode` is 125 (setup), 126 (not executable) or 127
    /// (not found) when its `exited` event came in time.
    case failed(message: String, exitCode: Int32?)
}

/// A connection to a shim's `control.sock`. Either read events with the blocking
/// `nextEvent(timeout:)` from one thread, or consume `events()`; not both at once.
/// `send` may be called from any thread.
public final class ShimControl: Sendable {
    let fd: Int32
    private let buffer = Mutex<[UInt8]>([])
    private let writing = Mutex<Void>(())
    static let maximumLine = 65536

    init(fd: Int32) { self.fd = fd }

    deinit { Glibc.close(fd) }

    /// Connects to the control socket of `files`, retrying while it does not accept yet.
    /// Blocks up to `timeout`.
    public static func connect(_ files: ShimFiles, timeout: Duration = .seconds(5)) throws(RuntimeError) -> ShimControl {
        ShimControl(fd: try UnixSocket.connect(directory: files.directory, name: files.controlSocketName, timeout: timeout))
    }

    /// Sends one command. Blocks until the line is written.
    public func send(_ command: ShimCommand) throws(RuntimeError) {
        let bytes = Array((command.description + "\n").utf8)
        let failure: Int32 = writing.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return 0
        }
        if failure != 0 {
            throw RuntimeError(.shim, "cannot send \"\(command)\" to the shim (did it exit?)", cause: SystemError("send", errno: failure))
        }
    }

    /// The next event; nil when the shim closed the connection (it does after `exited`).
    /// Blocks up to `timeout` (forever when nil) and throws `.timeout` after it.
    public func nextEvent(timeout: Duration? = nil) throws(RuntimeError) -> ShimEvent? {
        let deadline = timeout.map { monotonicNanoseconds() + UInt64(max(0, $0.components.seconds)) * 1_000_000_000
            + UInt64(max(0, $0.components.attoseconds) / 1_000_000_000) }
        let line: String? = try buffer.withLock { (pending: inout [UInt8]) throws(RuntimeError) -> String? in
            while true {
                if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let text = String(decoding: pending[..<newline], as: UTF8.self)
                    pending.removeSubrange(...newline)
                    return text
                }
                guard pending.count < Self.maximumLine else {
                    throw RuntimeError(.protocolViolation, "the shim sent a control line longer than \(Self.maximumLine) bytes")
                }
                var waitMs: Int32 = -1
                if let deadline {
                    let now = monotonicNanoseconds()
                    guard now < deadline else {
                        throw RuntimeError(.timeout, "no event from the shim within \(timeout.map { "\($0)" } ?? "")")
                    }
                    waitMs = Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
                }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, waitMs)
                if ready < 0 {
                    if errno == EINTR { continue }
                    throw RuntimeError(.system, "cannot wait for the shim", cause: SystemError("poll", errno: errno))
                }
                if ready == 0 { continue }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    if errno == ECONNRESET { return nil }
                    throw RuntimeError(.system, "cannot read from the shim", cause: SystemError("recv", errno: errno))
                }
                if n == 0 {
                    guard pending.isEmpty else {
                        throw RuntimeError(.protocolViolation, "the shim closed the control socket in the middle of a line")
                    }
                    return nil
                }
                pending.append(contentsOf: chunk[0..<n])
            }
        }
        return try line.map { (text: String) throws(RuntimeError) -> ShimEvent in try ShimEvent(line: text) }
    }

    /// Events as they arrive, read on a dedicated thread; the stream ends when the shim closes
    /// the socket and stops (closing the connection) when the consumer cancels.
    public func events() -> AsyncThrowingStream<ShimEvent, any Error> {
        AsyncThrowingStream { continuation in
            continuation.onTermination = { [self] _ in shutdownConnection() }
            Thread.detachNewThread { [self] in
                do {
                    while let event = try nextEvent() { continuation.yield(event) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }

    /// Reads until `ready`. Blocks up to `timeout`.
    public func waitForReady(timeout: Duration = .seconds(10)) throws(RuntimeError) -> Int32 {
        while let event = try nextEvent(timeout: timeout) {
            switch event {
            case .ready(let pid): return pid
            case .error(let message): throw RuntimeError(.shim, "the container could not be set up: \(message)")
            case .exited(let code, _, _): throw RuntimeError(.shim, "the container exited with code \(code) before it was ready")
            case .started: continue
            }
        }
        throw RuntimeError(.shim, "the shim closed its control socket before the container was ready")
    }

    /// Sends `start` and waits for `started` (or for `error` and the `exited` after it).
    /// Blocks up to `timeout`.
    public func start(timeout: Duration = .seconds(10)) throws(RuntimeError) -> StartOutcome {
        try send(.start)
        var failure: String?
        while let event = try nextEvent(timeout: timeout) {
            switch event {
            case .started(let pid): return .started(pid: pid)
            case .error(let message): failure = message
            case .exited(let code, _, _): return .failed(message: failure ?? "the process exited before it started", exitCode: code)
            case .ready: continue
            }
        }
        return .failed(message: failure ?? "the shim closed its control socket", exitCode: nil)
    }

    /// Stops reading and writing; a thread blocked in `nextEvent` sees the end of the stream.
    public func shutdownConnection() {
        shutdown(fd, Int32(SHUT_RDWR))
    }
}

/// Unix stream sockets reached through a descriptor of their directory, so paths longer than
/// `sun_path` (108 bytes) work: `/proc/self/fd/<dirfd>/<name>`.
enum UnixSocket {
    static func connect(directory: String, name: String, timeout: Duration) throws(RuntimeError) -> Int32 {
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else {
            throw RuntimeError(.notFound, "cannot open the container directory \(directory)", cause: SystemError("open", errno: errno))
        }
        defer { close(dirfd) }
        let path = "/proc/self/fd/\(dirfd)/\(name)"
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw RuntimeError(.invalidArgument, "socket name \(name) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let deadline = monotonicNanoseconds() + UInt64(max(0, timeout.components.seconds)) * 1_000_000_000
            + UInt64(max(0, timeout.components.attoseconds) / 1_000_000_000)
        while true {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw RuntimeError(.system, "cannot create a socket", cause: SystemError("socket", errno: errno)) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result == 0 { return fd }
            let code = errno
            close(fd)
            let retry = code == ENOENT || code == ECONNREFUSED || code == EAGAIN || code == EINTR
            if !retry || monotonicNanoseconds() > deadline {
                throw RuntimeError(code == ENOENT ? .notFound : .shim,
                                   "cannot connect to \(joinPath(directory, name)) (is the shim running?)",
                                   cause: SystemError("connect", errno: code))
            }
            sleepMilliseconds(5)
        }
    }
}
