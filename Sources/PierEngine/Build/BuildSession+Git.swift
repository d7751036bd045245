import Foundation
import PierAPI

/// A Git repository as the build context (`pier build https://host/repo.git#ref:subdir`, the
/// `remote` parameter of `POST /build`) or as an `ADD` source: pierd fetches the ref (shallow,
/// with its submodules) into the build's scratch directory and uses the subdirectory, without
/// `.git` (as BuildKit does by default; `ADD --keep-git-dir` keeps it). A context's .dockerignore
/// applies to COPY as for any context.
extension BuildSession {
    func fetchGitContext(_ remote: GitContextURL) throws {
        let source = try checkOutGit(remote, into: workDirectory + "/git", label: "Git context \(remote.repository)",
                                     keepGitDirectory: false)
        try FileManager.default.removeItem(atPath: contextDirectory)
        try FileManager.default.moveItem(atPath: source, toPath: contextDirectory)
    }

    /// Fetches the ref of `remote` into `checkout` and returns the directory it names. Errors
    /// start with `label` (`Git context <url>`, `Dockerfile:3: ADD <url>`).
    func checkOutGit(_ remote: GitContextURL, into checkout: String, label: String, keepGitDirectory: Bool) throws -> String {
        if let ref = remote.ref, ref.hasPrefix("-") || ref.contains("..") {
            throw EngineError(.invalidArgument, "\(label): invalid ref \"\(ref)\"")
        }
        try git(["init", "-q", checkout], label: label, what: "prepare a checkout")
        try git(["-C", checkout, "remote", "add", "origin", remote.fetchURL], label: label, what: "prepare a checkout")
        let ref = remote.ref ?? "HEAD"
        do {
            try git(["-C", checkout, "fetch", "-q", "--depth", "1", "origin", ref], label: label, what: "fetch")
            try git(["-C", checkout, "checkout", "-q", "FETCH_HEAD"], label: label, what: "check out \(ref)")
        } catch is EngineError where BuildSession.isCommitHash(ref) {
            // A server that will not send a commit by its hash: fetch the branches and tags, then check it out.
            try git(["-C", checkout, "fetch", "-q", "--tags", "origin", "+refs/heads/*:refs/remotes/origin/*"],
                    label: label, what: "fetch")
            try git(["-C", checkout, "checkout", "-q", ref], label: label, what: "check out \(ref)",
                    unknown: "unknown ref \(ref): no such commit")
        } catch let error as EngineError where error.message.contains("couldn't find remote ref") {
            throw EngineError(.invalidArgument, "\(label): unknown ref \(ref): the repository has no such branch, tag or commit")
        }
        try git(["-C", checkout, "submodule", "update", "-q", "--init", "--recursive", "--depth", "1"],
                label: label, what: "fetch the submodules")

        var source = checkout
        if let subdirectory = remote.subdirectory {
            var parts: [Substring] = []
            for part in subdirectory.split(separator: "/") where part != "." {
                guard part != ".." else {
                    throw EngineError(.invalidArgument, "\(label): subdirectory \(subdirectory) climbs out of the repository")
                }
                parts.append(part)
            }
            source = checkout + "/" + parts.joined(separator: "/")
            var isDirectory: ObjCBool = false
            let real = URL(fileURLWithPath: source).resolvingSymlinksInPath().path
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue,
                  real.hasPrefix(URL(fileURLWithPath: checkout).resolvingSymlinksInPath().path + "/") else {
                throw EngineError(.invalidArgument, "\(label): there is no directory \(subdirectory) in \(ref)")
            }
            source = real
        }
        if !keepGitDirectory { try? FileManager.default.removeItem(atPath: source + "/.git") }
        return source
    }

    static func isCommitHash(_ ref: String) -> Bool {
        (7...64).contains(ref.count) && ref.allSatisfy(\.isHexDigit)
    }

    /// Runs git without a terminal prompt and only over network transports (no `file://` or
    /// `ext::` that would read the daemon's machine); a failure carries git's last lines. A client
    /// that goes away (Ctrl-C) stops it, as it stops a RUN.
    func git(_ arguments: [String], label: String, what: String, unknown: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_ALLOW_PROTOCOL"] = "https:http:git:ssh"
        environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw EngineError(.internalError, "\(label): cannot \(what): git is not installed on the daemon's machine (\(error))")
        }
        let output = OutputTail()
        let reader = DispatchSemaphore(value: 0)
        let handle = errors.fileHandleForReading
        Thread.detachNewThread {
            output.add(String(decoding: handle.readDataToEndOfFile(), as: UTF8.self))
            reader.signal()
        }
        // git's standard error closes when it (and what it started) has finished.
        while reader.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if cancellation.isCancelled, process.isRunning { process.terminate() }
        }
        process.waitUntilExit()
        if cancellation.isCancelled { throw EngineError(.internalError, "build cancelled") }
        guard process.terminationStatus == 0 else {
            if let unknown { throw EngineError(.invalidArgument, "\(label): \(unknown)") }
            throw EngineError(.invalidArgument, "\(label): cannot \(what): " + output.lines(3).joined(separator: "\n"))
        }
    }
}
