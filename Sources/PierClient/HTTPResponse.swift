import Foundation
import PierAPI

/// A response whose head has been read; the body is read on demand (it may be a long stream).
public final class HTTPResponse {
    public let status: Int
    public let headers: [String: String]
    let connection: UnixConnection
    var remaining: Int?          // Content-Length framing
    let chunked: Bool
    var chunkLeft = 0
    var done = false

    init(connection: UnixConnection, method: String) throws {
        self.connection = connection
        guard let statusLine = try connection.readLine() else {
            throw ClientError(.protocolError, "the daemon closed the connection without answering")
        }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
            throw ClientError(.protocolError, "not an HTTP answer: \(statusLine.prefix(80))")
        }
        status = code
        var headers: [String: String] = [:]
        while let line = try connection.readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].trimmingBlanks)
        }
        self.headers = headers
        chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        remaining = headers["content-length"].flatMap { Int($0) }
        if method == "HEAD" || status == 204 || status == 304 { remaining = 0 }
    }

    /// Reads body bytes; 0 at the end of the body.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard !done, buffer.count > 0 else { return 0 }
        if chunked {
            if chunkLeft == 0 {
                guard let sizeLine = try connection.readLine() else { throw truncated() }
                let hex = sizeLine.split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(hex.trimmingBlanks, radix: 16) else {
                    throw ClientError(.protocolError, "bad chunk size \"\(sizeLine.prefix(20))\"")
                }
                if size == 0 {
                    while let trailer = try connection.readLine(), !trailer.isEmpty {}
                    done = true
                    return 0
                }
                chunkLeft = size
            }
            let n = try connection.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, chunkLeft)]))
            guard n > 0 else { throw truncated() }
            chunkLeft -= n
            if chunkLeft == 0 { _ = try connection.readLine() }
            return n
        }
        if let left = remaining {
            if left == 0 { done = true; return 0 }
            let n = try connection.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, left)]))
            guard n > 0 else { throw truncated() }
            remaining = left - n
            return n
        }
        let n = try connection.read(into: buffer)
        if n == 0 { done = true }
        return n
    }

    func truncated() -> ClientError {
        ClientError(.protocolError, "the daemon closed the connection in the middle of an answer (see pierd's log)")
    }

    public func readAll() throws -> [UInt8] {
        // With a length (a list of 1,000 containers is ~500 KB), read straight into one array
        // of that size instead of growing one through a buffer.
        if !chunked, let length = remaining, length > 0, length <= 64 << 20 {
            return try [UInt8](unsafeUninitializedCapacity: length) { storage, count in
                while count < length {
                    let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(storage)[count...]))
                    if n == 0 { break }
                    count += n
                }
            }
        }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try buffer.withUnsafeMutableBytes { (raw) throws in try read(into: raw) }
            if n == 0 { return result }
            result.append(contentsOf: buffer[0..<n])
        }
    }

    /// The body up to its first newline, or all of it if it has none: for an answer whose
    /// first line is all the caller needs (`wait` sends one JSON line, then ends).
    public func readFirstLine() throws -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try buffer.withUnsafeMutableBytes { (raw) throws in try read(into: raw) }
            if n == 0 { return result }
            if let newline = buffer[0..<n].firstIndex(of: UInt8(ascii: "\n")) {
                return result + buffer[0..<newline]
            }
            result.append(contentsOf: buffer[0..<n])
        }
    }

    /// Calls `body` for each newline-terminated line of a streamed body (JSON progress streams).
    public func forEachLine(_ body: (String) throws -> Void) throws {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = try buffer.withUnsafeMutableBytes { (raw) throws in try read(into: raw) }
            if n == 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if !line.isEmpty { try body(line) }
            }
        }
        if !pending.isEmpty { try body(String(decoding: pending, as: UTF8.self)) }
    }

    /// Turns an error status into a `ClientError` carrying the daemon's message.
    public func throwIfError(_ bytes: [UInt8]) throws {
        guard status >= 400 else { return }
        let message = (try? JSONDecoder().decode(ErrorResponse.self, from: Data(bytes)))?.message
            ?? String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw ClientError(.api, message.isEmpty ? "the daemon answered \(status)" : message, status: status)
    }
}

extension StringProtocol {
    /// Without HTTP's optional whitespace (spaces and tabs) at either end. Foundation's
    /// `trimmingCharacters(in:)` builds a `CharacterSet` first: 5 % of a `pier run`.
    var trimmingBlanks: SubSequence {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
