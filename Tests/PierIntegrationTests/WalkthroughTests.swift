import Foundation
import Testing

/// The ML walkthrough (README's main job) end to end: build the examples from `examples/`, serve
/// them on published ports, ask for predictions, share the image, rebuild from the cache; the same
/// through the docker CLI; and the mistakes a new user makes. Slow (pip downloads): minutes.
@Suite(.serialized) struct WalkthroughTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples").path

    /// A copy of an example in a scratch directory, so a test may edit it.
    func copyExample(_ name: String) throws -> String {
        let directory = NSTemporaryDirectory() + "pier-walk-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: WalkthroughTests.examples + "/" + name, toPath: directory + "/" + name)
        return directory + "/" + name
    }

    /// A TCP socket bound to a free loopback port (listening when asked), and that port.
    func loopbackSocket(listening: Bool) -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length)
                if listening { listen(fd, 1) }
                return getsockname(fd, pointer, &length)
            }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A TCP port nobody listens on now.
    func freePort() -> Int {
        let (fd, port) = loopbackSocket(listening: false)
        close(fd)
        return port
    }

    /// curl: the status code, then the body.
    func post(_ url: String, _ json: String) -> (Int, String) {
        let result = run("/usr/bin/curl", ["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", url,
                                           "-H", "Content-Type: application/json", "-d", json])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func waitForHealth(_ daemon: TestDaemon, _ name: String, docker: Bool = false) -> String {
        var status = ""
        for _ in 0..<240 {
            let arguments = ["inspect", "--format", "{{.State.Health.Status}}", name]
            status = (docker ? daemon.docker(arguments) : daemon.pier(arguments)).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if status == "healthy" || status == "unhealthy" { break }
            usleep(500_000)
        }
        return status
    }

    /// The `Step N/M : ...` headers of a build's output, each with whether it came from the cache.
    func steps(_ output: String) -> [(step: String, cached: Bool)] {
        var result: [(String, Bool)] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix("Step ") { result.append((String(line), false)) }
            if line.contains("Using cache"), !result.isEmpty { result[result.count - 1].1 = true }
        }
        return result
    }

    func seconds(since start: Date) -> String { String(format: "%.1f s", Date().timeIntervalSince(start)) }

    @Test func irisBuildServePredictShareAndRebuild() throws {
        try requirePeer("curl")
        let context = try copyExample("iris")
        defer { try? FileManager.default.removeItem(atPath: (context as NSString).deletingLastPathComponent) }
        try withDaemon { daemon in
            try daemon.bootstrapPython()
            var start = Date()
            let build = daemon.pier(["build", "-t", "iris", "--progress=plain", context])
            #expect(build.status == 0, "\(build.stdout.suffix(3000)) \(build.stderr)")
            print("iris: first build \(seconds(since: start))")

            let port = freePort()
            start = Date()
            let run = daemon.pier(["run", "-d", "-p", "127.0.0.1:\(port):5000", "--name", "iris", "iris"])
            #expect(run.status == 0, "\(run)")
            #expect(waitForHealth(daemon, "iris") == "healthy", "\(daemon.pier(["logs", "iris"]))")
            let (status, answer) = post("http://127.0.0.1:\(port)/predict", #"{"features": [5.1, 3.5, 1.4, 0.2]}"#)
            print("iris: first prediction \(seconds(since: start)) after pier run")
            #expect(status == 200)
            #expect(answer.contains(#""class":"setosa""#), "\(answer)")
            let (_, two) = post("http://127.0.0.1:\(port)/predict", #"{"features": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}"#)
            #expect(two.hasPrefix("[") && two.contains("setosa") && two.contains("virginica"), "\(two)")
            let (badStatus, bad) = post("http://127.0.0.1:\(port)/predict", #"{"features": [1, 2]}"#)
            #expect(badStatus == 400 && bad.contains("expected 4 numbers"), "\(bad)")
            let page = PierIntegrationTests.run("/usr/bin/curl", ["-sS", "http://127.0.0.1:\(port)/"])
            #expect(page.stdout.contains("Which iris is it?"))
            let ps = daemon.pier(["ps", "--format", "{{.Names}} {{.Status}} {{.Ports}}"]).stdout
            #expect(ps.contains("(healthy)") && ps.contains("127.0.0.1:\(port)->5000/tcp"), "\(ps)")
            #expect(daemon.pier(["logs", "iris"]).stdout.contains("POST /predict"))
            #expect(daemon.pier(["exec", "iris", "id", "-u"]).stdout == "10001\n", "the service runs as the non-root user")
            #expect(daemon.pier(["stop", "iris"]).status == 0)
            #expect(daemon.pier(["rm", "iris"]).status == 0)

            // Share it as the tutorials do: save, and load it back.
            let id = daemon.pier(["image", "inspect", "--format", "{{.Id}}", "iris"]).stdout
            let archive = (context as NSString).deletingLastPathComponent + "/iris.tar"
            #expect(daemon.pier(["save", "-o", archive, "iris"]).status == 0)
            #expect(daemon.pier(["rmi", "iris"]).status == 0)
            #expect(daemon.pier(["load", "-i", archive]).stdout.contains("Loaded image: iris:latest"))
            #expect(daemon.pier(["image", "inspect", "--format", "{{.Id}}", "iris"]).stdout == id)

            // One line of app.py changed: only the steps from the COPY of the code run again.
            let app = context + "/app.py"
            try (try String(contentsOfFile: app, encoding: .utf8) + "\n# a change\n").write(toFile: app, atomically: true, encoding: .utf8)
            start = Date()
            let rebuild = daemon.pier(["build", "-t", "iris", "--progress=plain", context])
            #expect(rebuild.status == 0, "\(rebuild.stdout.suffix(2000))")
            print("iris: rebuild after an app.py change \(seconds(since: start))")
            let rebuilt = steps(rebuild.stdout)
            let pip = rebuilt.first { $0.step.contains("pip install") }
            let copyApp = rebuilt.first { $0.step.contains("COPY --chown=app:app app.py") }
            #expect(pip?.cached == true, "pip install must come from the cache: \(rebuilt)")
            #expect(copyApp?.cached == false, "the COPY of app.py must run again: \(rebuilt)")
            #expect(rebuilt.first { $0.step.contains("python train.py") }?.cached == true)
        }
    }

    @Test func fastapiServesAModelFromAVolume() throws {
        try requirePeer("curl")
        let context = try copyExample("fastapi")
        let models = (context as NSString).deletingLastPathComponent + "/models"
        defer { try? FileManager.default.removeItem(atPath: (context as NSString).deletingLastPathComponent) }
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try withDaemon { daemon in
            try daemon.bootstrapPython()
            let build = daemon.pier(["build", "-t", "churn", "-q", context])
            #expect(build.status == 0, "\(build)")
            // Without a model the service stops at once and says why.
            let missing = daemon.pier(["run", "--rm", "-v", "\(models):/app/models", "churn"])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("no model at /app/models/churn.pkl"), "\(missing)")

            let train = daemon.pier(["run", "--rm", "-u", "root", "-v", "\(models):/app/models", "churn", "python", "train.py"])
            #expect(train.status == 0, "\(train)")
            #expect(FileManager.default.fileExists(atPath: models + "/churn.pkl"))
            let port = freePort()
            #expect(daemon.pier(["run", "-d", "--name", "churn", "-p", "127.0.0.1:\(port):8000", "-v", "\(models):/app/models",
                                 "-e", "MODEL_PATH=/app/models/churn.pkl", "churn"]).status == 0)
            #expect(waitForHealth(daemon, "churn") == "healthy", "\(daemon.pier(["logs", "churn"]))")
            let (status, answer) = post("http://127.0.0.1:\(port)/predict",
                                        #"{"tenure_months": 2, "monthly_charges": 110, "support_calls": 6, "contract_years": 0}"#)
            #expect(status == 200 && answer.contains(#""churn":true"#), "\(answer)")
            let (invalid, _) = post("http://127.0.0.1:\(port)/predict", #"{"tenure_months": -1}"#)
            #expect(invalid == 422)
            #expect(daemon.pier(["rm", "-f", "churn"]).status == 0)
        }
    }

    @Test func theDockerCLIBuildsAndServesTheSameModel() throws {
        try requirePeer("curl")
        let context = try copyExample("iris")
        defer { try? FileManager.default.removeItem(atPath: (context as NSString).deletingLastPathComponent) }
        try withDaemon { daemon in
            try daemon.bootstrapPython()
            let build = run("/usr/bin/env", ["DOCKER_BUILDKIT=0", "docker", "build", "-t", "iris-docker", context],
                            environment: daemon.environment)
            #expect(build.status == 0, "\(build.stdout.suffix(2000)) \(build.stderr)")
            #expect(build.stdout.contains("Successfully tagged iris-docker:latest"))
            let port = freePort()
            #expect(daemon.docker(["run", "-d", "--name", "iris-d", "-p", "127.0.0.1:\(port):5000", "iris-docker"]).status == 0)
            #expect(waitForHealth(daemon, "iris-d", docker: true) == "healthy")
            let (_, answer) = post("http://127.0.0.1:\(port)/predict", #"{"features": [5.1, 3.5, 1.4, 0.2]}"#)
            #expect(answer.contains(#""class":"setosa""#), "\(answer)")
            #expect(daemon.docker(["port", "iris-d"]).stdout.contains("5000/tcp -> 127.0.0.1:\(port)"))
            #expect(daemon.docker(["rm", "-f", "iris-d"]).status == 0)
        }
    }

    @Test func aNewUsersMistakesGetHelpfulErrors() throws {
        let context = try copyExample("iris")
        defer { try? FileManager.default.removeItem(atPath: (context as NSString).deletingLastPathComponent) }
        try withDaemon { daemon in
            // No base image yet: say which bootstrap makes it.
            let noBase = daemon.pier(["build", "-t", "iris", context])
            #expect(noBase.status != 0)
            #expect(noBase.stderr.contains("pier bootstrap python:3.11-slim"), "\(noBase)")

            try daemon.bootstrapPython()
            // A typo in requirements.txt: pip's own error, with the step that ran it.
            let requirements = context + "/requirements.txt"
            let original = try String(contentsOfFile: requirements, encoding: .utf8)
            try original.replacingOccurrences(of: "scikit-learn", with: "scikit-lern")
                .write(toFile: requirements, atomically: true, encoding: .utf8)
            let typo = daemon.pier(["build", "-t", "iris", context])
            #expect(typo.status != 0)
            let said = typo.stdout + typo.stderr
            #expect(said.contains("scikit-lern"), "\(said.suffix(2000))")
            #expect(said.contains("pip install") && said.contains("returned a non-zero code"), "\(said.suffix(2000))")

            // The port is taken: name it.
            try original.write(toFile: requirements, atomically: true, encoding: .utf8)
            #expect(daemon.pier(["build", "-q", "-t", "iris", context]).status == 0)
            let (holder, port) = loopbackSocket(listening: true)
            defer { close(holder) }
            let taken = daemon.pier(["run", "-d", "-p", "127.0.0.1:\(port):5000", "iris"])
            #expect(taken.status == 125)
            #expect(taken.stderr.contains("\(port)"), "\(taken)")
            _ = daemon.pier(["container", "prune", "-f"])
        }
    }
}
