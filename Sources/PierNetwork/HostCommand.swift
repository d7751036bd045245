import Foundation

/// Runs one of the host's network tools (`ip`, `nft`, `nsenter`) with posix_spawn (never fork:
/// pierd is multi-threaded), feeding it a script on stdin and returning what it printed.
enum HostCommand {
    /// Where the tools live on Debian; the first match wins.
    static func path(_ tool: String) -> String {
        for directory in ["/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"] where access(directory + tool, X_OK) == 0 {
            return directory + tool
        }
        return tool
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String], input: String? = nil) throws(NetworkError) -> String {
        let program = path(tool)
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0 else {
            throw NetworkError(.host, "cannot run \(tool): pipe: \(String(cString: strerror(errno)))")
        }
        // Other threads may spawn at the same time: their children must not inherit these ends.
        for fd in inPipe + outPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables: [String] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]
        let env: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, env)
        close(inPipe[0])
        close(outPipe[1])
        guard spawned == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            throw NetworkError(.host, "cannot run \(program): \(String(cString: strerror(spawned))) (install iproute2 and nftables)")
        }
        if let input {
            var bytes = Array(input.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { write(inPipe[1], $0.baseAddress.map { $0 + offset }, $0.count - offset) }
                if written <= 0 { if errno == EINTR { continue }; break }
                offset += written
            }
        }
        close(inPipe[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(outPipe[0], $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        close(outPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 else {
            let command = ([tool] + arguments).joined(separator: " ")
            throw NetworkError(.host, "\(command) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return text
    }
}
