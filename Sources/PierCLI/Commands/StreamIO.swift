import Foundation
import PierClient

/// Copies a hijacked stream to this terminal: stdin to the process (then a half-close), and
/// its output to stdout/stderr — demultiplexed from Docker's stdcopy frames unless a TTY.
enum StreamIO {
    /// `resize` is called with (rows, columns) once at the start and on every SIGWINCH when
    /// the process has a TTY and this terminal is one: docker's `POST .../resize`.
    static func pump(_ stream: HijackedStream, tty: Bool, forwardStdin: Bool,
                     resize: (@Sendable (Int, Int) -> Void)? = nil) {
        var windowChanges: (any DispatchSourceSignal)?
        if tty, let resize, isatty(1) != 0 {
            let report: @Sendable () -> Void = {
                var size = winsize()
                if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 { resize(Int(size.ws_row), Int(size.ws_col)) }
            }
            signal(SIGWINCH, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
            source.setEventHandler(handler: report)
            source.resume()
            windowChanges = source
            report()
        }
        defer { windowChanges?.cancel() }
        var savedTerminal: termios?
        if tty, forwardStdin, isatty(0) != 0 {
            var settings = termios()
            tcgetattr(0, &settings)
            savedTerminal = settings
            cfmakeraw(&settings)
            tcsetattr(0, TCSANOW, &settings)
        }
        defer {
            if var saved = savedTerminal { tcsetattr(0, TCSANOW, &saved) }
        }
        if forwardStdin {
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 32 * 1024)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    let ok = (try? buffer.withUnsafeBytes { try stream.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }) != nil
                    if !ok { return }
                }
                stream.closeWrite()
            }
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var pending: [UInt8] = []
        while true {
            guard let n = try? buffer.withUnsafeMutableBytes({ try stream.read(into: $0) }), n > 0 else { break }
            if tty {
                writeAll(1, buffer[0..<n])
                continue
            }
            pending.append(contentsOf: buffer[0..<n])
            while pending.count >= 8 {
                let length = Int(pending[4]) << 24 | Int(pending[5]) << 16 | Int(pending[6]) << 8 | Int(pending[7])
                guard pending.count >= 8 + length else { break }
                writeAll(pending[0] == 2 ? 2 : 1, pending[8..<(8 + length)])
                pending.removeFirst(8 + length)
            }
        }
    }

    /// Sends a terminal size to `<object>/resize` (a container or an exec).
    static func resizer(_ client: EngineClient, _ object: String) -> @Sendable (Int, Int) -> Void {
        { rows, columns in try? client.call("POST", "\(object)/resize", query: [("h", String(rows)), ("w", String(columns))]) }
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return }
                offset += n
            }
        }
    }
}
