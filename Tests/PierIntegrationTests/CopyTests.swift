import Foundation
import Testing

/// `cp` in both directions, through pier and the docker CLI, running and stopped containers,
/// and symlinks that try to leave the container.
@Suite(.serialized) struct CopyTests {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "pier-cp-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    @Test func copyOutAndIn() throws {
        let host = try scratch()
        defer { try? FileManager.default.removeItem(atPath: host) }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "-d", "--name", "box", "busybox", "sh", "-c",
                                 "mkdir -p /data/sub; echo hello > /data/sub/a.txt; ln -sf sub/a.txt /data/link; sleep 60"]).status == 0)
            usleep(300_000)
            // A directory into an existing directory keeps its name; a symlink stays a symlink.
            #expect(daemon.pier(["cp", "box:/data", host]).status == 0)
            #expect(read(host + "/data/sub/a.txt") == "hello\n")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: host + "/data/link")) == "sub/a.txt")
            // A file to a new name; the contents of a directory (`dir/.`) to a new directory.
            #expect(daemon.pier(["cp", "box:/data/sub/a.txt", host + "/renamed.txt"]).status == 0)
            #expect(read(host + "/renamed.txt") == "hello\n")
            #expect(daemon.pier(["cp", "box:/data/.", host + "/contents"]).status == 0)
            #expect(read(host + "/contents/sub/a.txt") == "hello\n")
            // `-` streams a tar.
            let tar = daemon.pier(["cp", "box:/data/sub/a.txt", "-"])
            #expect(tar.status == 0 && tar.stdout.hasPrefix("a.txt"), "\(tar.stdout.prefix(100))")
            let missing = daemon.pier(["cp", "box:/nope", host])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("Could not find the file /nope in container box"), "\(missing)")

            // Into the container: a tree into an existing directory, a file under a new name, a tar from stdin.
            try FileManager.default.createDirectory(atPath: host + "/tree/in", withIntermediateDirectories: true)
            try "up\n".write(toFile: host + "/tree/in/f", atomically: true, encoding: .utf8)
            #expect(daemon.pier(["cp", host + "/tree", "box:/data/"]).status == 0)
            #expect(daemon.pier(["exec", "box", "cat", "/data/tree/in/f"]).stdout == "up\n")
            #expect(daemon.pier(["cp", host + "/tree/in/f", "box:/data/new.txt"]).status == 0)
            #expect(daemon.pier(["exec", "box", "cat", "/data/new.txt"]).stdout == "up\n")
            let piped = daemon.pier(["cp", "-", "box:/data"], stdin: tar.stdout)
            #expect(piped.status == 0, "\(piped)")
            let noSource = daemon.pier(["cp", host + "/nonexistent", "box:/data"])
            #expect(noSource.status == 1 && noSource.stderr.contains("no such file or directory"))

            // A stopped container: its filesystem is mounted for the copy.
            #expect(daemon.pier(["kill", "box"]).status == 0)
            _ = daemon.pier(["wait", "box"])
            #expect(daemon.pier(["cp", host + "/renamed.txt", "box:/stopped.txt"]).status == 0)
            #expect(daemon.pier(["cp", "box:/data/sub/a.txt", host + "/from-stopped.txt"]).status == 0)
            #expect(read(host + "/from-stopped.txt") == "hello\n")
            #expect(daemon.pier(["start", "box"]).status == 0)
            #expect(daemon.pier(["exec", "box", "cat", "/stopped.txt"]).stdout == "hello\n")
            #expect(!(try String(contentsOfFile: "/proc/mounts", encoding: .utf8)).contains("cp-root"))
            #expect(daemon.pier(["rm", "-f", "box"]).status == 0)
        }
    }

    @Test func symlinksStayInsideTheContainer() throws {
        let host = try scratch()
        defer { try? FileManager.default.removeItem(atPath: host) }
        let marker = "pier-cp-escape-" + UUID().uuidString.prefix(8)
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            // Both an absolute and a climbing relative link at the host's /tmp.
            #expect(daemon.pier(["run", "-d", "--name", "evil", "busybox", "sh", "-c",
                                 "mkdir -p /tmp /data && ln -s /tmp /data/abs && ln -s ../../../../../../tmp /data/rel && "
                                 + "echo inside > /tmp/secret && sleep 60"]).status == 0)
            usleep(300_000)
            try "host secret\n".write(toFile: "/tmp/\(marker)", atomically: true, encoding: .utf8)
            defer { unlink("/tmp/\(marker)") }
            // Reading through the links reads the container's /tmp, never the host's.
            let read = daemon.pier(["cp", "evil:/data/abs/\(marker)", host + "/x"])
            #expect(read.status == 1, "the host's file must not be reachable: \(read)")
            #expect(daemon.pier(["cp", "evil:/data/rel/secret", host + "/secret"]).status == 0)
            #expect(self.read(host + "/secret") == "inside\n")
            // Writing through them writes into the container.
            try "payload\n".write(toFile: host + "/payload-\(marker)", atomically: true, encoding: .utf8)
            #expect(daemon.pier(["cp", host + "/payload-\(marker)", "evil:/data/rel/"]).status == 0)
            #expect(daemon.pier(["cp", host + "/payload-\(marker)", "evil:/data/abs/"]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: "/tmp/payload-\(marker)"))
            #expect(daemon.pier(["exec", "evil", "cat", "/tmp/payload-\(marker)"]).stdout == "payload\n")
            #expect(daemon.pier(["rm", "-f", "evil"]).status == 0)
        }
    }

    @Test func dockerCLICopies() throws {
        let host = try scratch()
        defer { try? FileManager.default.removeItem(atPath: host) }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.docker(["run", "-d", "--name", "dc", "busybox", "sh", "-c", "echo from-container > /out.txt; sleep 60"]).status == 0)
            usleep(300_000)
            let out = daemon.docker(["cp", "dc:/out.txt", host + "/out.txt"])
            #expect(out.status == 0, "\(out)")
            #expect(read(host + "/out.txt") == "from-container\n")
            try "from-host\n".write(toFile: host + "/in.txt", atomically: true, encoding: .utf8)
            let into = daemon.docker(["cp", host + "/in.txt", "dc:/tmp/"])
            #expect(into.status == 0, "\(into)")
            #expect(daemon.docker(["exec", "dc", "cat", "/tmp/in.txt"]).stdout == "from-host\n")
            #expect(daemon.docker(["rm", "-f", "dc"]).status == 0)
        }
    }
}

/// `-it` through a real terminal (tmux), window-size changes, and `attach`.
@Suite(.serialized) struct TerminalTests {
    /// A tmux server of its own, so the test never touches a user's sessions.
    struct Tmux {
        let socket = NSTemporaryDirectory() + "pier-tmux-" + UUID().uuidString.prefix(8)
        func run(_ arguments: [String]) -> CommandResult { PierIntegrationTests.run("/usr/bin/tmux", ["-S", socket] + arguments) }
        func screen() -> String { run(["capture-pane", "-p", "-t", "t"]).stdout }
        /// Waits up to 10 s for `text` on the screen.
        func waitFor(_ text: String) -> Bool {
            for _ in 0..<100 {
                if screen().contains(text) { return true }
                usleep(100_000)
            }
            return false
        }
        func kill() { _ = run(["kill-server"]); unlink(socket) }
    }

    func interactiveSession(_ command: String) throws {
        try requirePeer("tmux")
        let tmux = Tmux()
        defer { tmux.kill() }
        #expect(tmux.run(["new-session", "-d", "-s", "t", "-x", "80", "-y", "24", command + "; echo EXITED $?; sleep 30"]).status == 0)
        #expect(tmux.waitFor("/ #"), "\(tmux.screen())")   // capture-pane drops trailing blanks
        _ = tmux.run(["send-keys", "-t", "t", "echo $((6*7)); stty size", "Enter"])
        #expect(tmux.waitFor("42\n24 80"), "\(tmux.screen())")
        _ = tmux.run(["resize-window", "-t", "t", "-x", "100", "-y", "30"])
        usleep(300_000)
        _ = tmux.run(["send-keys", "-t", "t", "stty size; exit 3", "Enter"])
        #expect(tmux.waitFor("30 100"), "the new window size reaches the container: \(tmux.screen())")
        #expect(tmux.waitFor("EXITED 3"), "\(tmux.screen())")
    }

    @Test func pierRunInteractiveTerminal() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            try interactiveSession("PIER_HOST=unix://\(daemon.socket) \(TestDaemon.pier) run -it --rm busybox sh")
        }
    }

    @Test func dockerRunInteractiveTerminal() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            try interactiveSession("DOCKER_HOST=unix://\(daemon.socket) docker run -it --rm busybox sh")
        }
    }

    @Test func attachFollowsARunningContainer() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "-d", "--name", "talker", "busybox", "sh", "-c",
                                 "sleep 0.5; for i in 1 2 3; do echo line $i; sleep 0.1; done; exit 4"]).status == 0)
            let attached = daemon.pier(["attach", "talker"])
            #expect(attached.status == 4, "\(attached)")
            #expect(attached.stdout.contains("line 3\n"), "\(attached)")
            let stopped = daemon.pier(["attach", "talker"])
            #expect(stopped.status == 1)
            #expect(stopped.stderr.contains("You cannot attach to a stopped container, start it first"))
            #expect(daemon.pier(["rm", "talker"]).status == 0)
        }
    }
}
