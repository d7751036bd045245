import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `pier-shim exec`: a second process joins a running container.
@Suite("pier-shim exec", .serialized, .enabled(if: ContainerFixture.isRoot, "needs root"))
struct ShimExecTests {
    @Test("an exec'd process shares the container's namespaces, with its own user and exit code")
    func execIntoRunningContainer() throws {
        let fixture = try ContainerFixture(["sleep", "60"], hostname: "execbox")
        defer { fixture.remove() }
        var exec: ContainerRun?
        let run = try fixture.run(afterStart: { pid, _ in
            let pid = try #require(pid)
            var process = fixture.spec.process
            process.args = ["sh", "-c", "echo $$; hostname; cat /proc/1/cmdline; echo; id -u; pwd; echo oops >&2; exit 7"]
            process.user = .init(uid: 1000, gid: 1000)
            process.cwd = "/tmp"
            let processFile = "\(fixture.base)/process.json"
            let encoder = JSONEncoder()
            try encoder.encode(process).write(to: URL(fileURLWithPath: processFile))
            let launch = try fixture.launchShim(["exec", "--bundle", "\(fixture.directory)/bundle", "--id", "e1",
                                                 "--pid", String(pid), "--process", processFile])
            #expect(launch.status == 0, "\(launch.stderr)")
            exec = try fixture.run(prefix: "exec-e1.")
            kill(pid, SIGKILL)
        })
        #expect(run.exit.exitCode == 137)
        let result = try #require(exec)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines.first != "1", "the exec'd process is not the container's init")
        #expect(Int(lines.first ?? "") != nil)
        #expect(Array(lines.dropFirst()) == ["execbox", "sleep\u{0}60\u{0}", "1000", "/tmp"])
        #expect(result.stderr == "oops\n")
        #expect(result.exit.exitCode == 7)
        #expect(result.events.last == "exited 7 0 0")
        #expect(fixture.fileExists("exec-e1.exit"))
        #expect(!fixture.fileExists("exec-e1.control.sock"))
    }

    @Test("exec into a container that is gone fails at once with 125")
    func execWithoutContainer() throws {
        let fixture = try ContainerFixture(["true"])
        defer { fixture.remove() }
        try fixture.writeSpec()
        let processFile = "\(fixture.base)/process.json"
        try JSONEncoder().encode(fixture.spec.process).write(to: URL(fileURLWithPath: processFile))
        let launch = try fixture.launchShim(["exec", "--bundle", "\(fixture.directory)/bundle", "--id", "e2",
                                             "--pid", "4000000", "--process", processFile])
        #expect(launch.status == 125)
        #expect(launch.stderr.contains("container process 4000000"))
    }
}
