import Foundation
import Testing

/// `pier bootstrap` of the Debian-based images: debootstrap from the machine's apt source, then apt's
/// python3 on top. Slow (a few minutes: it downloads from the Debian mirror), so one test makes both.
@Suite(.serialized) struct BootstrapTests {
    @Test func debianAndPythonImagesAreMadeAndRun() throws {
        try requirePeer("debootstrap")
        try withDaemon { daemon in
            let made = daemon.pier(["bootstrap", "python:3.11-slim"])
            #expect(made.status == 0, "\(made.stdout.suffix(2000)) \(made.stderr)")
            let names = daemon.pier(["images", "--format", "{{.Repository}}:{{.Tag}}"]).stdout.split(separator: "\n").sorted()
            #expect(names == ["debian:bookworm-slim", "python:3.11-slim"])
            let labels = daemon.pier(["image", "inspect", "--format", "{{index .Config.Labels \"org.pier.bootstrap.source\"}}",
                                      "debian:bookworm-slim"])
            #expect(labels.stdout.contains("debootstrap --variant=minbase bookworm"))
            #expect(daemon.pier(["image", "inspect", "--format", "{{len .RootFS.Layers}}", "python:3.11-slim"]).stdout == "2\n")
            let python = daemon.pier(["run", "--rm", "python:3.11-slim", "python", "-c",
                                      "import sys, venv, pip; print(sys.version_info[:2])"])
            #expect(python.stdout == "(3, 11)\n", "\(python)")
            let tools = daemon.pier(["run", "--rm", "python:3.11-slim", "sh", "-c", "which python pip; test ! -e /usr/lib/python3.11/EXTERNALLY-MANAGED && echo system-wide"])
            #expect(tools.stdout == "/usr/local/bin/python\n/usr/local/bin/pip\nsystem-wide\n")
            // The host's CA bundle is what the image trusts.
            let hostBundle = try Data(contentsOf: URL(fileURLWithPath: "/etc/ssl/certs/ca-certificates.crt"))
            let imageBundle = daemon.pier(["run", "--rm", "python:3.11-slim", "wc", "-c", "/etc/ssl/certs/ca-certificates.crt"])
            #expect(imageBundle.stdout.hasPrefix("\(hostBundle.count) "))
            // Making it again is a no-op.
            let again = daemon.pier(["bootstrap", "python:3.11-slim"])
            #expect(again.stdout.contains("already exists"))
            let unknown = daemon.pier(["bootstrap", "alpine"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("pier bootstrap cannot make \"alpine\""))
        }
    }
}
