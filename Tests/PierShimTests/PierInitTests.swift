import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// pier-init as PID 1 of a container (`docker run --init`), bind-mounted read-only at
/// /sbin/docker-init as pierd does.
@Suite("pier-init", .serialized, .enabled(if: ContainerFixture.isRoot, "needs root"))
struct PierInitTests {
    func fixture(_ args: [String]) throws -> ContainerFixture {
        let f = try ContainerFixture(["/sbin/docker-init", "--"] + args)
        f.spec.mounts.append(.init(destination: "/sbin/docker-init", type: "bind",
                                   source: try BuiltBinary.path("pier-init"), options: ["bind", "ro"]))
        return f
    }

    @Test("reaps orphaned zombies and exits with the child's status")
    func reapsZombies() throws {
        // Each ( ... &) leaves an orphan that pier-init, as PID 1, inherits and must reap.
        let script = """
            for i in 1 2 3 4 5; do (sleep 0.1 &); done
            sleep 1
            ps -o stat,comm | grep -c '^Z' || true
            exit 5
            """
        let f = try fixture(["sh", "-c", script])
        defer { f.remove() }
        let run = try f.run()
        #expect(run.stdout == "0\n", "no zombies are left")
        #expect(run.exit.exitCode == 5)
    }

    @Test("without pier-init, the zombies stay (the test can tell)")
    func zombiesWithoutInit() throws {
        let script = "for i in 1 2 3; do (sleep 0.1 &); done; sleep 1; ps -o stat,comm | grep -c '^Z'; exit 0"
        let f = try ContainerFixture(["sleep", "60"])
        defer { f.remove() }
        // PID 1 is `sleep`, which never waits: the orphans of an exec'd shell stay zombies.
        var exec: ContainerRun?
        _ = try f.run(afterStart: { pid, _ in
            let pid = try #require(pid)
            var process = f.spec.process
            process.args = ["sh", "-c", script]
            let file = "\(f.base)/process.json"
            try JSONEncoder().encode(process).write(to: URL(fileURLWithPath: file))
            _ = try f.launchShim(["exec", "--bundle", "\(f.directory)/bundle", "--id", "z", "--pid", String(pid),
                                  "--process", file])
            exec = try f.run(prefix: "exec-z.")
            kill(pid, SIGKILL)
        })
        #expect(exec?.stdout == "3\n")
    }

    @Test("forwards TERM to the child's process group: 143")
    func forwardsSignals() throws {
        let f = try fixture(["sleep", "60"])
        defer { f.remove() }
        let run = try f.run(afterStart: { pid, control in
            // pier-init forks its child only once its signals are set up.
            let pid = try #require(pid)
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline,
                  (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?.isEmpty ?? true {
                usleep(10_000)
            }
            try control.send("kill TERM\n")
        })
        #expect(run.exit.exitCode == 143)
        #expect(run.exit.signal == 0, "pier-init itself exits normally")
    }

    @Test("a signalled child gives 128+signal; a missing command 127")
    func exitStatuses() throws {
        let f = try fixture(["sh", "-c", "kill -USR1 $$"])
        defer { f.remove() }
        #expect(try f.run().exit.exitCode == 128 + 10)
        let g = try fixture(["nosuch-command"])
        defer { g.remove() }
        let run = try g.run()
        #expect(run.exit.exitCode == 127)
        #expect(run.stderr.contains("nosuch-command"))
    }
}
