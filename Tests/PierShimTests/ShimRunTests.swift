import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `pier-shim run`, driven as pierd drives it (docs/runtime.md), asserting what a user of
/// `docker run` would see. The shim needs root (namespaces, mounts, cgroups).
@Suite("pier-shim run", .serialized, .enabled(if: ContainerFixture.isRoot, "needs root"))
struct ShimRunTests {
    @Test("echo: framed on attach.sock, in the json log, exit 0")
    func echo() throws {
        let fixture = try ContainerFixture(["echo", "hi"])
        defer { fixture.remove() }
        let run = try fixture.run()
        #expect(run.stdout == "hi\n")
        #expect(run.stderr == "")
        #expect(run.exit.exitCode == 0)
        #expect(run.exit.signal == 0)
        #expect(run.exit.error == "")
        #expect(run.exit.startedAt.hasSuffix("Z") && run.exit.startedAt != "0001-01-01T00:00:00Z")
        let pid = try #require(run.pid)
        #expect(run.events == ["ready \(pid)", "started \(pid)", "exited 0 0 0"])
        let log = try fixture.logEntries()
        #expect(log.map(\.log) == ["hi\n"])
        #expect(log.map(\.stream) == ["stdout"])
        let time = try #require(log.first?.time)
        #expect(time.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z/) != nil)
        #expect(!fixture.fileExists("control.sock") && !fixture.fileExists("attach.sock"))
    }

    struct ExitCase: CustomTestStringConvertible, Sendable {
        var args: [String]
        var exitCode: Int
        var signal: Int = 0
        var error: String = ""
        var testDescription: String { args.joined(separator: " ") }
    }

    @Test("exit codes and start errors", arguments: [
        ExitCase(args: ["true"], exitCode: 0),
        ExitCase(args: ["sh", "-c", "exit 3"], exitCode: 3),
        ExitCase(args: ["nosuch"], exitCode: 127, error: #"exec: "nosuch": executable file not found in $PATH"#),
        ExitCase(args: ["/bin/nosuch"], exitCode: 127,
                 error: #"exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory"#),
        ExitCase(args: ["/etc/passwd"], exitCode: 126, error: #"exec: "/etc/passwd": permission denied"#),
        ExitCase(args: ["/etc"], exitCode: 126, error: #"exec: "/etc": permission denied"#),
    ])
    func exitCodes(_ c: ExitCase) throws {
        let fixture = try ContainerFixture(c.args)
        defer { fixture.remove() }
        let run = try fixture.run()
        #expect(run.exit.exitCode == c.exitCode)
        #expect(run.exit.signal == c.signal)
        #expect(run.exit.error == c.error)
        #expect(run.events.last == "exited \(c.exitCode) \(c.signal) 0")
        if c.error.isEmpty {
            #expect(run.events.contains { $0.hasPrefix("started ") })
        } else {
            #expect(run.events.contains("error \(c.error)"))
            #expect(!run.events.contains { $0.hasPrefix("started ") })
            #expect(run.exit.startedAt == "0001-01-01T00:00:00Z")
        }
    }

    @Test("a setup failure names its step and exits 125")
    func setupFailure() throws {
        let fixture = try ContainerFixture(["true"])
        defer { fixture.remove() }
        fixture.spec.mounts.append(.init(destination: "/data", type: "bind", source: "\(fixture.base)/missing",
                                         options: ["rbind", "ro"]))
        let run = try fixture.run()
        #expect(run.exit.exitCode == 125)
        #expect(run.exit.error == "bind source \(fixture.base)/missing: no such file or directory")
        #expect(run.events.last == "exited 125 0 0")
    }

    /// The child sets up its mounts while the shim moves it into its cgroups and sends "go".
    /// A child that fails before reading "go" closes its end with "go" unread, and the kernel
    /// then reports ECONNRESET to the shim ahead of the child's error message: a shim that read
    /// that as the end lost the message. It shows when the shim is slow to read, as on a busy
    /// machine: twelve failing containers at once, each after some mounts, make that likely.
    @Test("setup failures under load still name their step")
    func setupFailuresUnderLoad() throws {
        let fixtures = try (0..<12).map { _ in try ContainerFixture(["true"]) }
        defer { for fixture in fixtures { fixture.remove() } }
        for fixture in fixtures {
            for index in 0..<16 {
                fixture.spec.mounts.append(.init(destination: "/slow\(index)", type: "tmpfs", source: "tmpfs", options: ["size=64k"]))
            }
            fixture.spec.mounts.append(.init(destination: "/data", type: "bind", source: "\(fixture.base)/missing",
                                             options: ["rbind", "ro"]))
        }
        // Started back to back, the shims and their children overlap; each is then read in turn.
        for fixture in fixtures { try fixture.startShim() }
        for fixture in fixtures {
            let run = try fixture.run(launched: true)
            #expect(run.exit.exitCode == 125)
            #expect(run.exit.error == "bind source \(fixture.base)/missing: no such file or directory")
        }
    }

    @Test("the process is PID 1 with Docker's capabilities, no_new_privs and seccomp")
    func security() throws {
        let fixture = try ContainerFixture(["sh", "-c", "echo $$; cat /proc/self/status"])
        defer { fixture.remove() }
        let run = try fixture.run()
        #expect(run.exit.exitCode == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "1")
        let status = Dictionary(lines.dropFirst().compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { a, _ in a })
        #expect(status["CapEff"] == RuntimeSpec.dockerCapabilityMask)
        #expect(status["CapPrm"] == RuntimeSpec.dockerCapabilityMask)
        #expect(status["CapBnd"] == RuntimeSpec.dockerCapabilityMask)
        #expect(status["CapInh"] == "0000000000000000")
        #expect(status["NoNewPrivs"] == "1")
        #expect(status["Seccomp"] == "2")
    }

    @Test("hostname, masked paths, read-only paths, rlimits and lo")
    func containerView() throws {
        let script = """
            hostname
            wc -c < /proc/timer_list
            ls /sys/firmware | wc -l
            if [ -e /proc/kcore ]; then wc -c < /proc/kcore; else echo 0; fi
            echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo writable || echo read-only
            ulimit -n
            ip -o link show lo | grep -c UP
            """
        let fixture = try ContainerFixture(["sh", "-c", script], hostname: "shimbox")
        defer { fixture.remove() }
        let run = try fixture.run()
        #expect(run.exit.exitCode == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n") == ["shimbox", "0", "0", "0", "read-only", "4096", "1"])
    }

    @Test("seccomp denies unshare with EPERM")
    func seccompDenies() throws {
        let fixture = try ContainerFixture(["unshare", "-m", "true"])
        defer { fixture.remove() }
        let run = try fixture.run()
        #expect(run.exit.exitCode == 1)
        #expect(run.stderr.contains("Operation not permitted"))
    }

    struct SeccompCase: CustomTestStringConvertible, Sendable {
        var action: String
        var errnoRet: UInt32?
        var exitCode: Int
        var signal: Int
        var stderr: String
        var testDescription: String { action + (errnoRet.map { "(\($0))" } ?? "") }
    }

    // With CAP_SYS_ADMIN, only the filter stands between the process and unshare(2).
    @Test("seccomp actions on unshare(2), with CAP_SYS_ADMIN", arguments: [
        SeccompCase(action: "SCMP_ACT_ERRNO", errnoRet: 1, exitCode: 1, signal: 0, stderr: "Operation not permitted"),
        SeccompCase(action: "SCMP_ACT_ERRNO", errnoRet: 13, exitCode: 1, signal: 0, stderr: "Permission denied"),
        SeccompCase(action: "SCMP_ACT_KILL_PROCESS", exitCode: 128 + 31, signal: 31, stderr: ""),
        SeccompCase(action: "SCMP_ACT_KILL", exitCode: 128 + 31, signal: 31, stderr: ""),
        SeccompCase(action: "SCMP_ACT_TRAP", exitCode: 128 + 31, signal: 31, stderr: ""),
        SeccompCase(action: "SCMP_ACT_LOG", exitCode: 0, signal: 0, stderr: ""),
        SeccompCase(action: "SCMP_ACT_ALLOW", exitCode: 0, signal: 0, stderr: ""),
    ])
    func seccompActions(_ c: SeccompCase) throws {
        let fixture = try ContainerFixture(["unshare", "-m", "true"])
        defer { fixture.remove() }
        fixture.spec.process.capabilities = .init(RuntimeSpec.dockerCapabilities + ["CAP_SYS_ADMIN"])
        fixture.spec.linux.seccomp = .init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
                                           syscalls: [.init(names: ["unshare"], action: c.action, errnoRet: c.errnoRet)])
        let run = try fixture.run()
        #expect(run.exit.exitCode == c.exitCode)
        #expect(run.exit.signal == c.signal)
        if c.stderr.isEmpty { #expect(run.stderr == "") } else { #expect(run.stderr.contains(c.stderr)) }
    }

    @Test("compiled filters are kept per profile in org.pier.seccomp.cache, and still enforced")
    func seccompCache() throws {
        let cache = NSTemporaryDirectory() + "pier-seccomp-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: cache) }
        func run(_ action: String) throws -> (exitCode: Int, stderr: String) {
            let fixture = try ContainerFixture(["unshare", "-m", "true"])
            defer { fixture.remove() }
            fixture.spec.annotations["org.pier.seccomp.cache"] = cache
            fixture.spec.process.capabilities = .init(RuntimeSpec.dockerCapabilities + ["CAP_SYS_ADMIN"])
            fixture.spec.linux.seccomp = .init(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64"],
                                               syscalls: [.init(names: ["unshare"], action: action, errnoRet: 1)])
            let run = try fixture.run()
            return (run.exit.exitCode, run.stderr)
        }
        func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: cache).sorted() }

        let compiled = try run("SCMP_ACT_ERRNO")
        #expect(compiled.exitCode == 1 && compiled.stderr.contains("Operation not permitted"))
        let entries = try files()
        try #require(entries.count == 1)
        let entry = cache + "/" + entries[0]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: entry))

        let cached = try run("SCMP_ACT_ERRNO")
        #expect(cached.exitCode == 1 && cached.stderr.contains("Operation not permitted"), "the filter read back applies")
        #expect(try files() == entries)

        let other = try run("SCMP_ACT_ALLOW")
        #expect(other.exitCode == 0, "another profile is not served the first one's filter")
        let both = try files()
        #expect(both.count == 2)

        // The entry is what runs: with the other profile's filter in its place, unshare is allowed.
        let otherEntry = cache + "/" + (both.first { $0 != entries[0] } ?? "")
        try Data(contentsOf: URL(fileURLWithPath: otherEntry)).write(to: URL(fileURLWithPath: entry))
        #expect(try run("SCMP_ACT_ERRNO").exitCode == 0)

        // A damaged entry is compiled again and replaced.
        try Data(bytes.prefix(20)).write(to: URL(fileURLWithPath: entry))
        let repaired = try run("SCMP_ACT_ERRNO")
        #expect(repaired.exitCode == 1 && repaired.stderr.contains("Operation not permitted"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: entry)) == bytes)
    }

    @Test("kill 9 reaches the container's init: 137")
    func kill9() throws {
        let fixture = try ContainerFixture(["sleep", "60"])
        defer { fixture.remove() }
        let run = try fixture.run(commands: ["kill 9"])
        #expect(run.exit.exitCode == 137)
        #expect(run.exit.signal == 9)
        #expect(run.events.last == "exited 137 9 0")
    }

    @Test("the pid is written to the cgroup.procs files of org.pier.cgroup.procs",
          .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids"), "needs the v1 pids controller"))
    func cgroupProcs() throws {
        let fixture = try ContainerFixture(["sh", "-c", "cat /proc/self/cgroup; sleep 60"])
        defer { fixture.remove() }
        let cgroup = try fixture.makeCgroup(controller: "pids")
        fixture.spec.annotations["org.pier.cgroup.procs"] = "\(cgroup)/cgroup.procs"
        var members: [String] = []
        let run = try fixture.run(afterStart: { pid, _ in
            // Once it has printed its view of /proc/self/cgroup (in the log), look from outside.
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline,
                  (try? fixture.logEntries())?.contains(where: { $0.log.contains(":pids:") }) != true {
                usleep(20_000)
            }
            members = try String(contentsOfFile: "\(cgroup)/cgroup.procs", encoding: .utf8)
                .split(separator: "\n").map(String.init)
            if let pid { kill(pid, SIGKILL) }
        })
        let pid = try #require(run.pid)
        #expect(members.contains(String(pid)))
        // Inside, the cgroup namespace is rooted at the container's cgroup.
        #expect(run.stdout.split(separator: "\n").contains { $0.hasSuffix(":pids:/") })
        #expect(run.exit.exitCode == 137)
    }

    @Test("a 5 MB burst of output is complete on attach and in the log")
    func burst() throws {
        let size = 5 * 1024 * 1024
        let line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-pier-shim-burst-test\n"
        let fixture = try ContainerFixture(["sh", "-c", "yes '\(line.dropLast())' | head -c \(size)"])
        defer { fixture.remove() }
        let run = try fixture.run()
        #expect(run.exit.exitCode == 0)
        var expected = String(repeating: line, count: size / line.utf8.count + 1)
        expected = String(expected.utf8.prefix(size))!
        #expect(run.stdout.utf8.count == size)
        #expect(run.stdout == expected)
        let logged = try fixture.logEntries().filter { $0.stream == "stdout" }.map(\.log).joined()
        #expect(logged.utf8.count == size)
        #expect(logged == expected)
    }

    @Test("the shim stays within 2 MB of RSS, idle and during a burst")
    func residentMemory() throws {
        let fixture = try ContainerFixture(["sh", "-c", "sleep 0.5; head -c 8000000 /dev/zero | tr '\\0' x; sleep 0.5"])
        defer { fixture.remove() }
        var samples: [Int] = []
        let shimPid = { () -> String in
            (try? String(contentsOfFile: "\(fixture.directory)/shim.pid", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }
        func sample() {
            guard let status = try? String(contentsOfFile: "/proc/\(shimPid())/status", encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
                  let kb = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
            else { return }
            samples.append(kb)
        }
        let run = try fixture.run(afterStart: { _, _ in
            for _ in 0..<15 {
                sample()
                usleep(50_000)
            }
        })
        #expect(run.exit.exitCode == 0)
        #expect(run.stdout.utf8.count == 8_000_000)
        #expect(!samples.isEmpty)
        #expect(samples.max() ?? 0 <= 2048, "VmRSS samples (kB): \(samples)")
    }

    @Test("the overlay is mounted in the container's namespace only")
    func overlayDoesNotLeak() throws {
        let fixture = try ContainerFixture(["sh", "-c", "grep -c ' / overlay ' /proc/self/mounts; sleep 60"])
        defer { fixture.remove() }
        var duringRun = ""
        let run = try fixture.run(afterStart: { pid, _ in
            usleep(200_000)
            duringRun = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
            if let pid { kill(pid, SIGKILL) }
        })
        #expect(run.stdout == "1\n")
        #expect(!duringRun.contains(fixture.rootfs))
        let after = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)
        #expect(!after.contains(fixture.rootfs))
        #expect(!after.contains(fixture.base))
    }

    @Test("attached stdin reaches the process; its end closes stdin with stdin-once")
    func stdinOnce() throws {
        let fixture = try ContainerFixture(["sh", "-c", "cat; echo done"])
        defer { fixture.remove() }
        fixture.spec.annotations["org.pier.stdin-once"] = "true"
        let run = try fixture.run(stdin: "hello\nworld\n")
        #expect(run.stdout == "hello\nworld\ndone\n")
        #expect(run.exit.exitCode == 0)
    }

    @Test("close-stdin ends the process's input")
    func closeStdin() throws {
        let fixture = try ContainerFixture(["sh", "-c", "wc -c"])
        defer { fixture.remove() }
        let run = try fixture.run(commands: ["close-stdin"])
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(run.exit.exitCode == 0)
    }

    @Test("with a terminal: a pty of the container's devpts, resize, raw output")
    func terminal() throws {
        // The resize races the first `stty`; wait (bounded) until the new size shows.
        let fixture = try ContainerFixture(["sh", "-c",
            "tty; i=0; while [ \"$(stty size 2>/dev/null)\" != '30 100' ] && [ $i -lt 300 ]; do sleep 0.01; i=$((i+1)); done; stty size; test -c /dev/console && echo console"])
        defer { fixture.remove() }
        fixture.spec.process.terminal = true
        let run = try fixture.run(commands: ["resize 30 100"])
        #expect(run.exit.exitCode == 0)
        #expect(run.stdout == "/dev/pts/0\r\n30 100\r\nconsole\r\n")
    }

    @Test("a user, groups and working directory from process.user and cwd")
    func user() throws {
        let fixture = try ContainerFixture(["sh", "-c", "id; pwd; grep CapEff /proc/self/status"])
        defer { fixture.remove() }
        fixture.spec.process.user = .init(uid: 1000, gid: 1000, additionalGids: [1000, 5])
        fixture.spec.process.cwd = "/home/app"
        let run = try fixture.run()
        #expect(run.exit.exitCode == 0, "\(run.stderr)")
        #expect(run.stdout == "uid=1000 gid=1000 groups=5,1000\n/home/app\nCapEff:\t0000000000000000\n")
    }

    @Test("the log rotates at --log-max-size, keeping --log-max-files")
    func logRotation() throws {
        let fixture = try ContainerFixture(["sh", "-c", "for i in $(seq 1 200); do echo line-$i; done"])
        defer { fixture.remove() }
        let run = try fixture.run(["--log-max-size", "2000", "--log-max-files", "3"])
        #expect(run.exit.exitCode == 0)
        let log = "\(fixture.id)-json.log"
        #expect(fixture.fileExists(log) && fixture.fileExists("\(log).1") && fixture.fileExists("\(log).2"))
        #expect(!fixture.fileExists("\(log).3"))
        let kept = try fixture.logEntries("\(log).2") + fixture.logEntries("\(log).1") + fixture.logEntries(log)
        let numbers = kept.map { Int($0.log.dropFirst(5).dropLast()) ?? -1 }
        #expect(numbers.last == 200)
        #expect(numbers == Array((200 - numbers.count + 1)...200), "the newest lines, in order")
        for name in [log, "\(log).1", "\(log).2"] {
            let size = (try FileManager.default.attributesOfItem(atPath: "\(fixture.directory)/\(name)")[.size] as? Int) ?? 0
            #expect(size < 2000 + 200)
        }
    }
}

/// The rest of config.json: devices, sysctls, bind mounts, a read-only root, the overlay's
/// long options, and the shim outliving pierd.
@Suite("pier-shim run, more of config.json", .serialized, .enabled(if: ContainerFixture.isRoot, "needs root"))
struct ShimConfigHonouredTests {
    @Test("devices, sysctl, a read-only bind, tmpfs options and a read-only root")
    func mountsAndDevices() throws {
        let script = """
            stat -c '%F %t,%T %a' /dev/fuse
            cat /proc/sys/net/ipv4/ip_forward
            cat /data/hello
            touch /data/x 2>/dev/null && echo data-writable || echo data-read-only
            touch /x 2>/dev/null && echo root-writable || echo root-read-only
            touch /scratch/x && echo scratch-writable
            stat -c '%a' /scratch
            """
        let fixture = try ContainerFixture(["sh", "-c", script])
        defer { fixture.remove() }
        let data = "\(fixture.base)/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try "hi from the host\n".write(toFile: "\(data)/hello", atomically: true, encoding: .utf8)
        fixture.spec.mounts += [
            .init(destination: "/data", type: "bind", source: data, options: ["rbind", "ro", "rprivate"]),
            .init(destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["nosuid", "mode=1777", "size=1m"]),
        ]
        fixture.spec.root.readonly = true
        fixture.spec.linux.sysctl = ["net.ipv4.ip_forward": "1"]
        try fixture.writeSpec()
        // linux.devices is not in RuntimeSpec's Encodable subset: add it to the JSON by hand.
        let url = URL(fileURLWithPath: "\(fixture.directory)/bundle/config.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var linux = try #require(json["linux"] as? [String: Any])
        linux["devices"] = [["path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o620,
                             "uid": 0, "gid": 0]]
        json["linux"] = linux
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        let launch = try fixture.launchShim(["run", "--bundle", "\(fixture.directory)/bundle", "--id", fixture.id])
        #expect(launch.status == 0)
        let run = try fixture.run(launched: true)
        #expect(run.exit.exitCode == 0, "\(run.stderr) \(run.exit.error)")
        #expect(run.stdout.split(separator: "\n") == [
            "character special file a,e5 620", "1", "hi from the host", "data-read-only", "root-read-only",
            "scratch-writable", "1777",
        ])
    }

    @Test("without no_new_privs the filter still applies")
    func seccompWithoutNoNewPrivs() throws {
        let fixture = try ContainerFixture(["sh", "-c", "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; unshare -m true"])
        defer { fixture.remove() }
        fixture.spec.process.noNewPrivileges = false
        let run = try fixture.run()
        #expect(run.stdout == "NoNewPrivs:\t0\nSeccomp:\t2\n")
        #expect(run.stderr.contains("Operation not permitted"))
        #expect(run.exit.exitCode == 1)
    }

    @Test("overlay options longer than a page use names relative to the layers' parent")
    func manyLayers() throws {
        let fixture = try ContainerFixture(["sh", "-c", "cat /layer-count"])
        defer { fixture.remove() }
        var layers: [String] = []
        for i in 0..<45 {
            let layer = "\(fixture.base)/layers/\(String(repeating: "l", count: 60))-\(i)"
            try FileManager.default.createDirectory(atPath: layer, withIntermediateDirectories: true)
            layers.append(layer)
        }
        try "45\n".write(toFile: "\(layers[0])/layer-count", atomically: true, encoding: .utf8)
        let lowers = (layers + [fixture.lower]).joined(separator: ":")
        #expect(lowers.utf8.count > 4096)
        fixture.spec.annotations["org.pier.overlay.lowerdir"] = lowers
        let run = try fixture.run()
        #expect(run.exit.exitCode == 0, "\(run.exit.error)")
        #expect(run.stdout == "45\n")
    }

    @Test("the shim outlives pierd: a new control connection learns the state and the exit")
    func reconnect() throws {
        let fixture = try ContainerFixture(["sh", "-c", "sleep 1; echo late"])
        defer { fixture.remove() }
        try fixture.startShim()
        var control: UnixSocket? = try fixture.connect("control.sock")
        var attach: UnixSocket? = try fixture.connect("attach.sock")
        let ready = try #require(try control?.readLine())
        #expect(ready.hasPrefix("ready "))
        try control?.send("start\n")
        #expect(try control?.readLine() == "started \(ready.dropFirst(6))")
        // pierd goes away without a word.
        control = nil
        attach = nil
        _ = attach
        let again = try fixture.connect("control.sock")
        #expect(try again.readLine() == ready)
        #expect(try again.readLine() == "started \(ready.dropFirst(6))")
        #expect(try again.readLine(timeout: .seconds(30)) == "exited 0 0 0")
        #expect(try fixture.logEntries().map(\.log) == ["late\n"])
        #expect(try fixture.exitRecord().exitCode == 0)
    }

    @Test("a container killed for memory is reported oomKilled",
          .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory"), "needs the v1 memory controller"))
    func oomKilled() throws {
        let fixture = try ContainerFixture(["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"])
        defer { fixture.remove() }
        let memory = try fixture.makeCgroup(controller: "memory")
        try "33554432".write(toFile: "\(memory)/memory.limit_in_bytes", atomically: false, encoding: .utf8)
        fixture.spec.annotations["org.pier.cgroup.procs"] = "\(memory)/cgroup.procs"
        let run = try fixture.run()
        #expect(run.exit.oomKilled)
        #expect(run.events.last?.hasSuffix(" 1") == true)
        #expect(run.stdout == "")
    }
}
