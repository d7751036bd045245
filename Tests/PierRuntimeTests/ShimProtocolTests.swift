import Foundation
import PierOCI
import Testing
@testable import PierRuntime

@Suite("the pier-shim protocol against a fake shim")
struct ShimProtocolTests {
    @Test(arguments: [
        ("ready 42", ShimEvent.ready(pid: 42)),
        ("started 42", .started(pid: 42)),
        ("error exec: \"nosuch\": executable file not found in $PATH", .error("exec: \"nosuch\": executable file not found in $PATH")),
        ("exited 0 0 0", .exited(exitCode: 0, signal: 0, oomKilled: false)),
        ("exited 137 9 1", .exited(exitCode: 137, signal: 9, oomKilled: true)),
    ])
    func parseEvents(_ line: String, _ event: ShimEvent) throws {
        #expect(try ShimEvent(line: line) == event)
        #expect(event.description == line)
    }

    @Test(arguments: ["ready", "ready x", "started -1", "exited 1 2", "exited 1 2 3", "bogus 1", ""])
    func refuseBadEvents(_ line: String) {
        let error = #expect(throws: RuntimeError.self) { try ShimEvent(line: line) }
        #expect(error?.code == .protocolViolation)
    }

    @Test(arguments: [(ShimCommand.start, "start"), (.kill(signal: 15), "kill 15"), (.resize(rows: 40, columns: 120), "resize 40 120"),
                      (.closeStdin, "close-stdin")])
    func commands(_ command: ShimCommand, _ line: String) {
        #expect(command.description == line)
    }

    @Test("ready, start, resize, close-stdin, kill, exited, end of stream")
    func conversation() throws {
        let dir = TemporaryDirectory()
        let server = try FakeShimSocket(directory: dir.path, name: "control.sock") { server, fd in
            FakeShimSocket.send(fd, "ready 4242\n")
            while let line = FakeShimSocket.readLine(fd) {
                server.record(line)
                if line == "start" { FakeShimSocket.send(fd, "started 4242\n") }
                if line.hasPrefix("kill ") { FakeShimSocket.send(fd, "exited 143 15 0\n"); return }
            }
        }
        let control = try ShimControl.connect(ShimFiles(directory: dir.path))
        #expect(try control.waitForReady(timeout: .seconds(5)) == 4242)
        #expect(try control.start(timeout: .seconds(5)) == .started(pid: 4242))
        try control.send(.resize(rows: 40, columns: 120))
        try control.send(.closeStdin)
        try control.send(.kill(signal: 15))
        #expect(try control.nextEvent(timeout: .seconds(5)) == .exited(exitCode: 143, signal: 15, oomKilled: false))
        #expect(try control.nextEvent(timeout: .seconds(5)) == nil)
        #expect(server.received == ["start", "resize 40 120", "close-stdin", "kill 15"])
    }

    @Test("events as an AsyncThrowingStream")
    func eventStream() async throws {
        let dir = TemporaryDirectory()
        let server = try FakeShimSocket(directory: dir.path, name: "control.sock") { _, fd in
            FakeShimSocket.send(fd, "ready 7\nstarted 7\n")
            _ = FakeShimSocket.readLine(fd)  // waits for "kill 9"
            FakeShimSocket.send(fd, "exited 137 9 1\n")
        }
        let control = try ShimControl.connect(ShimFiles(directory: dir.path))
        var events = [ShimEvent]()
        for try await event in control.events() {
            events.append(event)
            if event == .started(pid: 7) { try control.send(.kill(signal: 9)) }
        }
        #expect(events == [.ready(pid: 7), .started(pid: 7), .exited(exitCode: 137, signal: 9, oomKilled: true)])
        _ = server
    }

    @Test("cancelling the event stream closes the connection")
    func cancelStream() async throws {
        let dir = TemporaryDirectory()
        let server = try FakeShimSocket(directory: dir.path, name: "control.sock") { server, fd in
            FakeShimSocket.send(fd, "ready 7\n")
            if FakeShimSocket.readLine(fd) == nil { server.record("closed") }
        }
        let control = try ShimControl.connect(ShimFiles(directory: dir.path))
        let task = Task {
            var seen = [ShimEvent]()
            for try await event in control.events() { seen.append(event) }
            return seen
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        _ = try? await task.value
        for _ in 0..<100 where server.received.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(server.received == ["closed"])
    }

    @Test("a failed exec reports the shim's message and exit code")
    func failedStart() throws {
        let dir = TemporaryDirectory()
        let server = try FakeShimSocket(directory: dir.path, name: "control.sock") { _, fd in
            FakeShimSocket.send(fd, "ready 9\n")
            _ = FakeShimSocket.readLine(fd)
            FakeShimSocket.send(fd, "error exec: \"nosuch\": executable file not found in $PATH\nexited 127 0 0\n")
        }
        let control = try ShimControl.connect(ShimFiles(directory: dir.path))
        _ = try control.waitForReady()
        #expect(try control.start() == .failed(message: "exec: \"nosuch\": executable file not found in $PATH", exitCode: 127))
        _ = server
    }

    @Test("garbage from the shim is a protocol violation; silence is a timeout")
    func badShim() throws {
        let dir = TemporaryDirectory()
        let server = try FakeShimSocket(directory: dir.path, name: "control.sock", connections: 2) { _, fd in
            FakeShimSocket.send(fd, "hello there\n")
            _ = FakeShimSocket.readLine(fd)
        }
        let control = try ShimControl.connect(ShimFiles(directory: dir.path))
        let error = #expect(throws: RuntimeError.self) { try control.nextEvent(timeout: .seconds(5)) }
        #expect(error?.code == .protocolViolation)

        let quiet = TemporaryDirectory()
        let silent = try FakeShimSocket(directory: quiet.path, name: "control.sock") { _, fd in _ = FakeShimSocket.readLine(fd) }
        let waiting = try ShimControl.connect(ShimFiles(directory: quiet.path))
        let timeout = #expect(throws: RuntimeError.self) { try waiting.nextEvent(timeout: .milliseconds(100)) }
        #expect(timeout?.code == .timeout)
        waiting.shutdownConnection()
        _ = (server, silent)
    }

    @Test("no socket: a clear not-found error after the timeout")
    func missingSocket() {
        let dir = TemporaryDirectory()
        let error = #expect(throws: RuntimeError.self) {
            try ShimControl.connect(ShimFiles(directory: dir.path), timeout: .milliseconds(50))
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("control.sock") == true)
    }

    @Test("directories longer than sun_path work through /proc/self/fd")
    func longDirectory() throws {
        let dir = TemporaryDirectory()
        let long = dir.directory(String(repeating: "d", count: 120) + "/" + String(repeating: "e", count: 60))
        #expect(long.utf8.count > 108)
        let server = try FakeShimSocket(directory: long, name: "exec-abc.control.sock") { _, fd in
            FakeShimSocket.send(fd, "ready 1\n")
        }
        let control = try ShimControl.connect(ShimFiles.exec(directory: long, execID: "abc"))
        #expect(try control.waitForReady() == 1)
        _ = server
    }

    @Test("attach: output frames in, stdin out, half-close")
    func attach() throws {
        let dir = TemporaryDirectory()
        let server = try FakeShimSocket(directory: dir.path, name: "attach.sock") { server, fd in
            FakeShimSocket.send(fd, bytes: StdCopy.frame(.stdout, Array("hello\n".utf8)) + StdCopy.frame(.stderr, Array("oops\n".utf8)))
            let input = FakeShimSocket.readAll(fd)  // until the client's half-close
            server.record(String(decoding: input, as: UTF8.self))
            FakeShimSocket.send(fd, bytes: StdCopy.frame(.stdout, Array("bye\n".utf8)))
        }
        let attach = try AttachConnection.connect(ShimFiles(directory: dir.path))
        defer { attach.close() }
        _ = Array("some input".utf8).withUnsafeBytes { write(attach.fileDescriptor, $0.baseAddress, $0.count) }
        attach.closeWrite()
        let output = FakeShimSocket.readAll(attach.fileDescriptor)
        let (frames, rest) = StdCopy.parse(output)
        #expect(rest.isEmpty)
        #expect(frames.map(\.0) == [.stdout, .stderr, .stdout])
        #expect(frames.map { String(decoding: $0.1, as: UTF8.self) } == ["hello\n", "oops\n", "bye\n"])
        #expect(server.received == ["some input"])
    }

    @Test("the exit file")
    func exitFile() throws {
        let dir = TemporaryDirectory()
        let files = ShimFiles(directory: dir.path)
        #expect(try files.readExit() == nil)
        dir.file("exit", #"{"exitCode":137,"signal":9,"oomKilled":true,"startedAt":"2024-05-01T12:00:00.123456789Z","finishedAt":"2024-05-01T12:00:01Z","error":""}"#)
        #expect(try files.readExit() == ExitRecord(exitCode: 137, signal: 9, oomKilled: true,
                                                     startedAt: "2024-05-01T12:00:00.123456789Z", finishedAt: "2024-05-01T12:00:01Z"))
        dir.file("exec-e1.exit", #"{"exitCode":127,"error":"exec: \"x\": executable file not found in $PATH"}"#)
        #expect(try ShimFiles.exec(directory: dir.path, execID: "e1").readExit()?.error == "exec: \"x\": executable file not found in $PATH")
        dir.file("exit", "{half")
        let error = #expect(throws: RuntimeError.self) { try files.readExit() }
        #expect(error?.code == .protocolViolation)
        dir.file("shim.pid", "1234\n")
        #expect(try files.readPid() == 1234)
    }
}

@Suite("starting pier-shim")
struct ShimLauncherTests {
    /// A shell script that behaves like the shim's start-up: forks a long-lived child, records
    /// the pid, its session and its open descriptors, and creates the control socket's path.
    static let fakeShim = """
        #!/bin/sh
        while [ $# -gt 0 ]; do case "$1" in --bundle) bundle="$2"; shift;; esac; shift; done
        dir=$(dirname "$bundle")
        read -r pid comm state ppid pgrp session rest < /proc/self/stat
        echo "$pid $session" > "$dir/session"
        ls /proc/$$/fd > "$dir/fds"
        sleep 30 < /dev/null > /dev/null 2>&1 &
        echo $! > "$dir/shim.pid"
        : > "$dir/control.sock"
        exit 0

        """

    @Test("the shim runs in its own session, without pierd's descriptors, and the launcher returns its pid")
    func launches() throws {
        let dir = TemporaryDirectory()
        dir.file("pier-shim", Self.fakeShim, mode: 0o755)
        _ = dir.directory("container/bundle")
        let leaked = open("/dev/null", O_RDONLY)  // no O_CLOEXEC: must still not reach the shim
        defer { close(leaked) }
        let process = try ShimLauncher(executable: dir.path + "/pier-shim").run(id: "abc", files: ShimFiles(directory: dir.path + "/container"))
        defer { kill(process.pid, SIGKILL) }
        #expect(process.pid > 0)
        #expect(kill(process.pid, 0) == 0)
        let session = try #require(dir.read("container/session")).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(session.count == 2 && session[0] == session[1], "the shim should lead its own session")
        let fds = try #require(dir.read("container/fds")).split(separator: "\n")
        #expect(!fds.contains(Substring(String(leaked))), "descriptor \(leaked) leaked into the shim: \(fds)")
    }

    @Test("a failing shim's stderr becomes the error")
    func failure() throws {
        let dir = TemporaryDirectory()
        dir.file("pier-shim", "#!/bin/sh\necho 'pier-shim: cannot read config.json: no such file' >&2\nexit 125\n", mode: 0o755)
        _ = dir.directory("container")
        let error = #expect(throws: RuntimeError.self) {
            try ShimLauncher(executable: dir.path + "/pier-shim").run(id: "abc", files: ShimFiles(directory: dir.path + "/container"))
        }
        #expect(error?.code == .shim)
        #expect(error?.message == "pier-shim run failed with exit code 125: pier-shim: cannot read config.json: no such file")
    }

    @Test("a shim that never opens its socket times out")
    func timeout() throws {
        let dir = TemporaryDirectory()
        dir.file("pier-shim", "#!/bin/sh\nexit 0\n", mode: 0o755)
        _ = dir.directory("container")
        let error = #expect(throws: RuntimeError.self) {
            try ShimLauncher(executable: dir.path + "/pier-shim", startTimeout: .milliseconds(200))
                .run(id: "abc", files: ShimFiles(directory: dir.path + "/container"))
        }
        #expect(error?.code == .timeout)
    }

    @Test("liveness: a pier-shim process for the id, not a reused pid")
    func liveness() throws {
        // A shell started under the name pier-shim, through the launcher's spawn (own session,
        // no inherited descriptors that would keep the test runner's pipes open).
        let dir = TemporaryDirectory()
        symlink("/bin/sh", dir.path + "/pier-shim")
        let pid = try ShimLauncher(executable: dir.path + "/pier-shim")
            .spawn([dir.path + "/pier-shim", "-c", "sleep 30; true", "run", "--id", "c1"], stderrPath: dir.path + "/err")
        #expect(ShimLiveness.isAlive(pid: pid, id: "c1"))
        #expect(!ShimLiveness.isAlive(pid: pid, id: "c2"))
        #expect(!ShimLiveness.isAlive(pid: getpid(), id: "c1"))
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(!ShimLiveness.isAlive(pid: pid, id: "c1"))
    }
}
