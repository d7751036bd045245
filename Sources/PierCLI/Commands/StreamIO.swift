import Foundation
import PierClient

/// Copies a hijacked stream to this terminal: stdin to the process (then a half-close), and
/// its output to stdout/stderr — demultiplexed from Docker's stdcopy frames unless a TTY.
enum StreamIO {
    static func pump(_ stream: HijackedStream, tty: Bool, forwardStdin: Bool) {
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
