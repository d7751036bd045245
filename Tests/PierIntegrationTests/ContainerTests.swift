import Foundation
import Testing

/// Containers through the real `pier` CLI and the real docker CLI, against a real `pierd`.
@Suite(.serialized) struct ContainerTests {
    /// No cgroup of a container this daemon made (its log names each one it created) may
    /// outlive the container. (`rm` answers before it frees the cgroup: this allows a moment.)
    func expectNoCgroupsLeft(_ daemon: TestDaemon, file: String = #filePath, line: Int = #line) {
        let log = daemon.log()
        let existing = Set((try? FileManager.default.contentsOfDirectory(atPath: daemon.root + "/containers")) ?? [])
        for controller in ["pids", "memory", "cpu"] {
            var left: [String] = []
            for _ in 0..<50 {
                left = ((try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/\(controller)/pier")) ?? [])
                    .filter { $0.count == 64 && !existing.contains($0) && log.contains("id=\($0.prefix(12))") }
                if left.isEmpty { break }
                usleep(40_000)
            }
            #expect(left.isEmpty, "cgroups left in \(controller): \(left)")
        }
    }

    @Test func runPrintsOutputAndExitCodes() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let hello = daemon.pier(["run", "--rm", "busybox", "echo", "hi"])
            #expect(hello.status == 0, "\(hello)")
            #expect(hello.stdout == "hi\n")
            let streams = daemon.pier(["run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"])
            #expect(streams.status == 3)
            #expect(streams.stdout == "out\n")
            #expect(streams.stderr == "err\n")
            let notFound = daemon.pier(["run", "--rm", "busybox", "nosuchcommand"])
            #expect(notFound.status == 127)
            #expect(notFound.stderr.contains("exec: \"nosuchcommand\": executable file not found in $PATH"))
            let notExecutable = daemon.pier(["run", "--rm", "busybox", "/etc/passwd"])
            #expect(notExecutable.status == 126, "\(notExecutable)")
            let noImage = daemon.pier(["run", "--rm", "nosuchimage"])
            #expect(noImage.status == 125)
            #expect(noImage.stderr.contains("Unable to find image 'nosuchimage' locally"))
            let badMemory = daemon.pier(["run", "--memory", "12q", "busybox", "true"])
            #expect(badMemory.status == 125)
            #expect(badMemory.stderr.contains("invalid argument \"12q\" for \"--memory\" flag"))
            let badCpus = daemon.pier(["run", "--cpus", "-1", "busybox", "true"])
            #expect(badCpus.status == 125, "\(badCpus)")
            let unknownFlag = daemon.pier(["run", "--rm", "--bogus", "busybox", "true"])
            #expect(unknownFlag.status == 125)
            #expect(unknownFlag.stderr == "unknown flag: --bogus\nSee 'pier run --help'.\n")
            let help = daemon.pier(["run", "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.hasPrefix("Usage:  pier run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"))
            let badUser = daemon.pier(["run", "--rm", "-u", "nosuchuser", "busybox", "id"])
            #expect(badUser.status == 125)
            #expect(badUser.stderr.contains("unable to find user nosuchuser: no matching entries in passwd file"))
            let stdin = daemon.pier(["run", "-i", "--rm", "busybox", "tr", "a-z", "A-Z"], stdin: "pier\n")
            #expect(stdin.stdout == "PIER\n")
            // --rm removes containers whose process never started, too.
            #expect(daemon.pier(["ps", "-aq"]).stdout.isEmpty)
            expectNoCgroupsLeft(daemon)
        }
    }

    @Test func detachedLifecycle() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let started = daemon.pier(["run", "-d", "--name", "ticker", "busybox", "sh", "-c",
                                       "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"])
            #expect(started.status == 0, "\(started)")
            #expect(started.stdout.trimmingCharacters(in: .newlines).count == 64)
            let ps = daemon.pier(["ps"])
            #expect(ps.stdout.hasPrefix("CONTAINER ID   IMAGE     COMMAND"))
            #expect(ps.stdout.contains("ticker"))
            usleep(500_000)
            let logs = daemon.pier(["logs", "ticker"])
            #expect(logs.stdout.hasPrefix("tick 0\ntick 1\n"))
            #expect(daemon.pier(["logs", "--tail", "1", "ticker"]).stdout.split(separator: "\n").count == 1)
            let exec = daemon.pier(["exec", "ticker", "sh", "-c", "echo $$ in $(hostname); exit 4"])
            #expect(exec.status == 4)
            #expect(exec.stdout.contains(" in "))
            let duplicate = daemon.pier(["run", "-d", "--name", "ticker", "busybox", "true"])
            #expect(duplicate.status == 125)
            #expect(duplicate.stderr.contains("The container name \"/ticker\" is already in use"))
            let refuse = daemon.pier(["rm", "ticker"])
            #expect(refuse.status == 1)
            #expect(refuse.stderr.contains("You cannot remove a running container"))
            let inspect = daemon.pier(["inspect", "--format", "{{.State.Status}} {{.State.Running}} {{.Name}}", "ticker"])
            #expect(inspect.stdout == "running true /ticker\n")
            // PID 1 (sh) ignores SIGTERM, so stop falls back to SIGKILL after the timeout: 137, as with Docker.
            #expect(daemon.pier(["stop", "-t", "1", "ticker"]).stdout == "ticker\n")
            #expect(daemon.pier(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "ticker"]).stdout == "exited 137\n")
            #expect(daemon.pier(["ps", "-a", "--format", "{{.Names}} {{.State}}"]).stdout == "ticker exited\n")
            #expect(daemon.pier(["wait", "ticker"]).stdout == "137\n")
            #expect(daemon.pier(["rm", "ticker"]).status == 0)
            #expect(daemon.pier(["ps", "-aq"]).stdout.isEmpty)
            let busy = daemon.pier(["rmi", "busybox"])
            #expect(busy.status == 0)
            expectNoCgroupsLeft(daemon)
        }
    }

    @Test func pauseRenameTopAndPrune() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "-d", "--name", "counter", "busybox", "sh", "-c",
                                 "while true; do echo x; sleep 0.1; done"]).status == 0)
            let top = daemon.pier(["top", "counter"])
            #expect(top.stdout.hasPrefix("UID"))
            #expect(top.stdout.contains("while true"))
            #expect(daemon.pier(["pause", "counter"]).stdout == "counter\n")
            #expect(daemon.pier(["ps", "--format", "{{.State}}"]).stdout == "paused\n")
            let before = daemon.pier(["logs", "counter"]).stdout.count
            usleep(500_000)
            #expect(daemon.pier(["logs", "counter"]).stdout.count == before)
            #expect(daemon.pier(["unpause", "counter"]).status == 0)
            usleep(500_000)
            #expect(daemon.pier(["logs", "counter"]).stdout.count > before)
            #expect(daemon.pier(["rename", "counter", "renamed"]).status == 0)
            #expect(daemon.pier(["ps", "--format", "{{.Names}}"]).stdout == "renamed\n")
            #expect(daemon.pier(["stop", "-t", "1", "renamed"]).status == 0)
            let prune = daemon.pier(["container", "prune", "-f"])
            #expect(prune.stdout.hasPrefix("Deleted Containers:\n"))
            #expect(daemon.pier(["ps", "-aq"]).stdout.isEmpty)
            expectNoCgroupsLeft(daemon)
        }
    }

    @Test func isolationAsSeenFromInside() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["run", "--rm", "busybox", "sh", "-c", "echo $$"]).stdout == "1\n")
            #expect(daemon.pier(["run", "--rm", "--hostname", "model-box", "busybox", "hostname"]).stdout == "model-box\n")
            let status = daemon.pier(["run", "--rm", "busybox", "cat", "/proc/self/status"]).stdout
            #expect(status.contains("CapEff:\t00000000a80425fb"))
            #expect(status.contains("NoNewPrivs:\t0") || status.contains("NoNewPrivs:\t1"))
            #expect(status.contains("Seccomp:\t2"))
            let mounts = daemon.pier(["run", "--rm", "busybox", "cat", "/proc/mounts"]).stdout
            #expect(!mounts.contains(" /work "))
            #expect(!mounts.contains(" /root "))
            // /sys/fs/cgroup is the container's own cgroup directory, read-only: never the host's tree.
            let cgroup = daemon.pier(["run", "--rm", "busybox", "sh", "-c",
                                      "grep ' /sys/fs/cgroup ' /proc/self/mountinfo; echo 1 > /sys/fs/cgroup/cgroup.procs"])
            #expect(cgroup.stdout.contains(" /pier/") && cgroup.stdout.contains(" /sys/fs/cgroup ro,"), "\(cgroup)")
            #expect(cgroup.stderr.contains("Read-only file system"), "\(cgroup)")
            let readOnly = daemon.pier(["run", "--rm", "--read-only", "busybox", "touch", "/newfile"])
            #expect(readOnly.status == 1)
            #expect(readOnly.stderr.contains("Read-only file system"))
            let nonRoot = daemon.pier(["run", "--rm", "-u", "nobody", "busybox", "touch", "/etc/passwd"])
            #expect(nonRoot.status == 1)
            #expect(nonRoot.stderr.contains("Permission denied"))
            let pids = daemon.pier(["run", "--rm", "--pids-limit", "6", "busybox", "sh", "-c",
                                    "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 2 & done; wait"])
            #expect(pids.stderr.contains("can't fork") || pids.stderr.contains("Resource temporarily unavailable"), "\(pids)")
            let oom = daemon.pier(["run", "--name", "hog", "--memory", "16m", "--memory-swap", "16m", "busybox", "sh", "-c",
                                   "x=a; while true; do x=$x$x; done"])
            #expect(oom.status == 137, "\(oom)")
            #expect(daemon.pier(["inspect", "--format", "{{.State.OOMKilled}}", "hog"]).stdout == "true\n")
            #expect(daemon.pier(["rm", "hog"]).status == 0)
            let bind = daemon.directory + "/shared"
            try FileManager.default.createDirectory(atPath: bind, withIntermediateDirectories: true)
            try "from host\n".write(toFile: bind + "/note", atomically: true, encoding: .utf8)
            #expect(daemon.pier(["run", "--rm", "-v", "\(bind):/data:ro", "busybox", "cat", "/data/note"]).stdout == "from host\n")
            let roBind = daemon.pier(["run", "--rm", "-v", "\(bind):/data:ro", "busybox", "touch", "/data/x"])
            #expect(roBind.status == 1)
            expectNoCgroupsLeft(daemon)
        }
    }

    @Test func dockerCLIRunsContainers() throws {
        try requirePeer("docker")
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let hello = daemon.docker(["run", "--rm", "busybox", "echo", "hi"])
            #expect(hello.status == 0, "\(hello)")
            #expect(hello.stdout == "hi\n")
            #expect(daemon.docker(["run", "--rm", "busybox", "sh", "-c", "exit 42"]).status == 42)
            let id = daemon.docker(["run", "-d", "--name", "bg", "busybox", "sh", "-c", "echo started; sleep 30"])
                .stdout.trimmingCharacters(in: .newlines)
            #expect(id.count == 64)
            usleep(300_000)
            #expect(daemon.docker(["logs", "bg"]).stdout == "started\n")
            #expect(daemon.docker(["exec", "bg", "echo", "inside"]).stdout == "inside\n")
            let ps = daemon.docker(["ps", "-a"])
            #expect(ps.stdout.contains("bg"))
            #expect(daemon.docker(["inspect", "--format", "{{.State.Running}}", "bg"]).stdout == "true\n")
            #expect(daemon.docker(["stop", "-t", "1", "bg"]).stdout == "bg\n")
            #expect(daemon.docker(["wait", "bg"]).stdout == "137\n")
            #expect(daemon.docker(["rm", "bg"]).status == 0)
            let stdin = daemon.docker(["run", "-i", "--rm", "busybox", "wc", "-c"], stdinFile: "/etc/hostname")
            #expect(stdin.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    == String((try? Data(contentsOf: URL(fileURLWithPath: "/etc/hostname")).count) ?? 0))
            expectNoCgroupsLeft(daemon)
        }
    }

    /// `run --rm` returns once the container is gone (pier and docker both wait with
    /// `condition=removed`), so its name is free at once; `removed` outlasts the exit until `rm`.
    @Test func waitForRemovalFreesTheName() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            try requirePeer("curl")
            for _ in 0..<5 {
                let again = daemon.pier(["run", "--rm", "--name", "again", "busybox", "true"])
                #expect(again.status == 0, "\(again)")
            }
            for _ in 0..<3 {
                let viaDocker = daemon.docker(["run", "--rm", "--name", "again", "busybox", "true"])
                #expect(viaDocker.status == 0, "\(viaDocker)")
            }
            #expect(daemon.pier(["run", "--name", "kept", "busybox", "sh", "-c", "exit 4"]).status == 4)
            let waiter = Process()
            waiter.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            waiter.arguments = ["-s", "-m", "20", "--unix-socket", daemon.socket, "-X", "POST",
                                "http://pier/v1.41/containers/kept/wait?condition=removed"]
            let output = Pipe()
            waiter.standardOutput = output
            try waiter.run()
            usleep(700_000)
            #expect(waiter.isRunning, "wait?condition=removed answered before the container was removed")
            #expect(daemon.pier(["rm", "kept"]).status == 0)
            waiter.waitUntilExit()
            let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(answer == "{\"StatusCode\":4}\n")
            #expect(daemon.pier(["ps", "-aq"]).stdout.isEmpty)
            expectNoCgroupsLeft(daemon)
        }
    }

    @Test func runningContainersSurviveADaemonCrash() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            // The figure: 20 containers running when pierd dies.
            for index in 0..<20 {
                #expect(daemon.pier(["run", "-d", "--name", "keep\(index)", "busybox", "sh", "-c",
                                     "trap 'exit 0' TERM; i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done"]).status == 0)
            }
            #expect(daemon.pier(["run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1; exit 7"]).status == 0)
            // An --rm container that is not running when pierd starts again is removed (as dockerd does).
            #expect(daemon.pier(["create", "--rm", "--name", "never", "busybox", "true"]).status == 0)
            daemon.kill()
            sleep(2)
            let restarted = try daemon.restart()
            defer { restarted.stop() }
            let running = restarted.pier(["ps", "--format", "{{.Names}}"]).stdout.split(separator: "\n").sorted()
            #expect(running == (0..<20).map { "keep\($0)" }.sorted())
            #expect(restarted.pier(["inspect", "--format", "{{.State.ExitCode}}", "short"]).stdout == "7\n")
            #expect(restarted.pier(["inspect", "never"]).status != 0)
            // The log has no gap across the crash: line numbers are consecutive.
            for index in 0..<20 {
                let lines = restarted.pier(["logs", "keep\(index)"]).stdout.split(separator: "\n")
                    .compactMap { Int($0.split(separator: " ").last ?? "") }
                #expect(lines.count > 20)
                #expect(lines == Array(0..<lines.count), "keep\(index) has a gap in its log")
            }
            #expect(restarted.pier(["stop", "-t", "2"] + (0..<20).map { "keep\($0)" }).status == 0)
            #expect(restarted.pier(["inspect", "--format", "{{.State.ExitCode}}", "keep0"]).stdout == "0\n")
            _ = restarted.pier(["rm", "-f", "short"] + (0..<20).map { "keep\($0)" })
            expectNoCgroupsLeft(restarted)
        }
    }

    @Test func aHundredContainersStartAtOnce() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let results = ConcurrentResults(count: 100)
            DispatchQueue.concurrentPerform(iterations: 100) { index in
                results.set(index, daemon.pier(["run", "-d", "--name", "many\(index)", "busybox", "sleep", "30"]))
            }
            let failed = results.all().filter { $0.status != 0 }
            #expect(failed.isEmpty, "\(failed.prefix(3))")
            let running = daemon.pier(["ps", "-q"]).stdout.split(separator: "\n")
            #expect(running.count == 100)
            #expect(daemon.pier(["rm", "-f"] + (0..<100).map { "many\($0)" }).status == 0)
            #expect(daemon.pier(["ps", "-aq"]).stdout.isEmpty)
            expectNoCgroupsLeft(daemon)
        }
    }

    @Test func initReapsZombiesAndForwardsSignals() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            // Orphans re-parented to PID 1 are reaped by the init; without it they stay zombies.
            let script = "for i in 1 2 3; do (sleep 0.1 &) ; done; sleep 1; ps -o stat | grep -c Z || true"
            let withInit = daemon.pier(["run", "--rm", "--init", "busybox", "sh", "-c", script])
            #expect(withInit.stdout == "0\n", "\(withInit)")
            let pid1 = daemon.pier(["run", "--rm", "--init", "busybox", "cat", "/proc/1/cmdline"])
            #expect(pid1.stdout.hasPrefix("/sbin/docker-init") || pid1.stdout.contains("init"), "\(pid1)")
            // SIGTERM goes on to the child, whose exit code the container reports.
            #expect(daemon.pier(["run", "-d", "--init", "--name", "fwd", "busybox", "sh", "-c",
                                 "trap 'exit 9' TERM; while true; do sleep 0.1; done"]).status == 0)
            usleep(300_000)
            #expect(daemon.pier(["stop", "-t", "5", "fwd"]).status == 0)
            #expect(daemon.pier(["inspect", "--format", "{{.State.ExitCode}}", "fwd"]).stdout == "9\n")
            #expect(daemon.pier(["rm", "fwd"]).status == 0)
        }
    }

    @Test func logsRotateAndLoseNothing() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            // 20,000 lines fast: with max-size 100k and 3 files, the newest lines survive in order.
            let run = daemon.pier(["run", "--name", "chatty", "--log-opt", "max-size=100k", "--log-opt", "max-file=3", "busybox",
                                   "sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done"])
            #expect(run.status == 0)
            // Attached output is never rotated away: all 20,000 lines, in order.
            let attached = run.stdout.split(separator: "\n")
            #expect(attached.count == 20000)
            #expect(attached.last == "line 19999")
            let directory = daemon.root + "/containers/" + daemon.pier(["inspect", "--format", "{{.Id}}", "chatty"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains("-json.log") }
            #expect(files.count == 3, "\(files)")
            for file in files {
                let size = (try? FileManager.default.attributesOfItem(atPath: directory + "/" + file)[.size] as? Int) ?? 0
                #expect(size <= 100 * 1024 + 200, "\(file) is \(size) bytes")
            }
            let logs = daemon.pier(["logs", "chatty"]).stdout.split(separator: "\n").compactMap { Int($0.split(separator: " ").last ?? "") }
            #expect(logs.last == 19999)
            #expect(logs == Array((20000 - logs.count)..<20000), "the kept lines are the newest, with no gap")
            #expect(daemon.pier(["rm", "chatty"]).status == 0)
        }
    }
}

/// Command results filled in by concurrent workers.
final class ConcurrentResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [CommandResult?]
    init(count: Int) { results = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ result: CommandResult) { lock.withLock { results[index] = result } }
    func all() -> [CommandResult] { lock.withLock { results.compactMap { $0 } } }
}
