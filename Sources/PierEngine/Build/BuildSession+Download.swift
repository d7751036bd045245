import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore

/// `ADD <url>`: the file is downloaded into the build's scratch space on every build (the classic
/// builder's rule: its content digest is then part of the step's key), checked against
/// `--checksum`, and added like a local file (mode 0600, never unpacked).
extension BuildSession {
    func download(_ url: String, checksum: String?, line: Int) throws -> SourceMatch {
        guard let parsed = URL(string: url), let host = parsed.host, !host.isEmpty else {
            throw stepError(line, "ADD \(url): not a valid URL")
        }
        let directory = try makeScratchDirectory("download")
        var name = parsed.lastPathComponent
        if name.isEmpty || name == "/" { name = "download" }
        let path = directory + "/" + name
        try emit("Downloading \(url)\n")
        let result = DownloadResult()
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let request = HTTPClientRequest(url: url)
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
                guard response.status == .ok else {
                    throw stepError(line, "ADD \(url): the server answered \(response.status.code) \(response.status.reasonPhrase)")
                }
                guard FileManager.default.createFile(atPath: path, contents: nil),
                      let handle = FileHandle(forWritingAtPath: path) else {
                    throw EngineError(.internalError, "cannot write \(path)")
                }
                defer { try? handle.close() }
                var hasher = SHA256()
                for try await buffer in response.body {
                    let bytes = Array(buffer.readableBytesView)
                    hasher.update(data: bytes)
                    try handle.write(contentsOf: bytes)
                }
                result.digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
                result.lastModified = response.headers.first(name: "Last-Modified")
            } catch {
                result.error = error
            }
            done.signal()
        }
        done.wait()
        if let error = result.error {
            if error is EngineError { throw error }
            throw stepError(line, "ADD \(url): the download failed: \(error)")
        }
        if let checksum {
            guard checksum == "sha256:" + (result.digest ?? "") else {
                throw stepError(line, "ADD \(url): checksum mismatch: expected \(checksum), got sha256:\(result.digest ?? "")")
            }
        }
        chmod(path, 0o600)
        if let text = result.lastModified, let date = BuildSession.httpDate(text) {
            let seconds = Int(date.timeIntervalSince1970)
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            utimensat(AT_FDCWD, path, &times, 0)
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { throw EngineError(.internalError, "cannot read the download \(path)") }
        return SourceMatch(host: path, relative: name, info: info)
    }

    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

/// What the download task hands back to the blocking build thread.
final class DownloadResult: @unchecked Sendable {
    // Written by the task before it signals the semaphore, read by the waiter after.
    var digest: String?
    var lastModified: String?
    var error: (any Error)?
}
