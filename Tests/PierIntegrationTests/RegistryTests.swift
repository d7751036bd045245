import Foundation
import Testing

/// Sharing images through registries, end to end on loopback: the real `pier` and `pierd`
/// against Pier's own registry (`pier registry serve`) and Debian's CNCF registry, and peers
/// that nobody here wrote (skopeo, podman, the docker CLI) against Pier on both sides.
///
/// Round trips assert that the pulled image is the pushed one — the same image ID (config
/// digest), the same layer diff IDs, the same manifest digest — and Pier ↔ Pier runs it.
@Suite(.serialized) struct RegistryTests {
    /// The manifest digest a push reported (`TAG: digest: sha256:… size: N`).
    static func pushedDigest(_ output: String) -> String? {
        guard let range = output.range(of: "digest: ") else { return nil }
        return String(output[range.upperBound...].prefix { $0 != " " && $0 != "\n" })
    }

    @Test func pierPushesToPierRemovesAndPullsBack() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let name = "\(registry.host)/team/busybox:1.0"
            #expect(daemon.pier(["tag", "busybox", name]).status == 0)
            let id = daemon.imageField(name, "{{.Id}}")
            let layers = daemon.imageField(name, "{{.RootFS.Layers}}")

            let push = daemon.pier(["push", name])
            #expect(push.status == 0, "\(push)")
            #expect(push.stdout.contains("The push refers to repository [\(registry.host)/team/busybox]"))
            #expect(push.stdout.contains(": Pushed"))
            let digest = try #require(RegistryTests.pushedDigest(push.stdout))
            // A second push finds everything there.
            let again = daemon.pier(["push", name])
            #expect(again.stdout.contains(": Layer already exists"), "\(again)")
            #expect(RegistryTests.pushedDigest(again.stdout) == digest)

            try daemon.removeAllImages()
            let pull = daemon.pier(["pull", name])
            #expect(pull.status == 0, "\(pull)")
            #expect(pull.stdout.contains("Pull complete"))
            #expect(pull.stdout.contains("Digest: \(digest)"))
            #expect(pull.stdout.contains("Status: Downloaded newer image for \(name)"))
            #expect(pull.stdout.hasSuffix("\(name)\n"))
            #expect(daemon.imageField(name, "{{.Id}}") == id)
            #expect(daemon.imageField(name, "{{.RootFS.Layers}}") == layers)
            #expect(daemon.imageField(name, "{{.RepoDigests}}") == "[\(registry.host)/team/busybox@\(digest)]")
            #expect(daemon.imageField(name, "{{.Config.Cmd}}") == "[sh]")
            let ran = daemon.pier(["run", "--rm", name, "sh", "-c", "echo pulled and running"])
            #expect(ran.status == 0, "\(ran)")
            #expect(ran.stdout == "pulled and running\n")

            // By digest, and again: up to date.
            try daemon.removeAllImages()
            let byDigest = daemon.pier(["pull", "\(registry.host)/team/busybox@\(digest)"])
            #expect(byDigest.status == 0, "\(byDigest)")
            #expect(daemon.imageField("\(registry.host)/team/busybox@\(digest)", "{{.Id}}") == id)
            let upToDate = daemon.pier(["pull", "\(registry.host)/team/busybox@\(digest)"])
            #expect(upToDate.stdout.contains("Image is up to date"))
            #expect(upToDate.stdout.contains("Already exists"))
        }
    }

    @Test func allTagsAndSearch() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            for tag in ["a", "b"] { #expect(daemon.pier(["tag", "busybox", "\(registry.host)/multi:\(tag)"]).status == 0) }
            let push = daemon.pier(["push", "-a", "\(registry.host)/multi"])
            #expect(push.status == 0, "\(push)")
            #expect(push.stdout.contains("a: digest: "))
            #expect(push.stdout.contains("b: digest: "))
            try daemon.removeAllImages()
            let pull = daemon.pier(["pull", "-a", "\(registry.host)/multi"])
            #expect(pull.status == 0, "\(pull)")
            let tags = daemon.pier(["images", "--format", "{{.Tag}}", "\(registry.host)/multi"]).stdout
            #expect(tags.split(separator: "\n").sorted() == ["a", "b"])
            let search = daemon.pier(["search", "\(registry.host)/mul"])
            #expect(search.status == 0, "\(search)")
            #expect(search.stdout.contains("multi"))
        }
    }

    @Test func skopeoAndPodmanAgainstPiersRegistryWithAuth() throws {
        try requirePeer("skopeo")
        try requirePeer("podman")
        let directory = NSTemporaryDirectory() + "pier-peers-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let htpasswd = try makeHtpasswd(in: directory, user: "alice", password: "s3cret")
        let registry = try RegistryProcess.pier(["--htpasswd", htpasswd, "--token-issuer", "pier-test"])
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let login = daemon.pier(["login", "-u", "alice", "--password-stdin", registry.host], stdin: "s3cret\n")
            #expect(login.status == 0, "\(login)")
            #expect(daemon.pier(["tag", "busybox", "\(registry.host)/from/pier:1"]).status == 0)
            #expect(daemon.pier(["push", "\(registry.host)/from/pier:1"]).status == 0)
            let id = daemon.imageField("busybox", "{{.Id}}")

            // skopeo: from Pier's registry to an OCI layout and back under another name.
            let layout = "oci:\(directory)/layout:x"
            let anonymous = run("/usr/bin/skopeo", ["copy", "--src-tls-verify=false", "docker://\(registry.host)/from/pier:1", layout])
            #expect(anonymous.status != 0)
            #expect(anonymous.stderr.contains("unauthorized") || anonymous.stderr.contains("authentication required"))
            let down = run("/usr/bin/skopeo", ["copy", "--src-tls-verify=false", "--src-creds", "alice:s3cret",
                                               "docker://\(registry.host)/from/pier:1", layout])
            #expect(down.status == 0, "\(down)")
            let up = run("/usr/bin/skopeo", ["copy", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret",
                                             layout, "docker://\(registry.host)/from/skopeo:1"])
            #expect(up.status == 0, "\(up)")
            let pulled = daemon.pier(["pull", "\(registry.host)/from/skopeo:1"])
            #expect(pulled.status == 0, "\(pulled)")
            #expect(daemon.imageField("\(registry.host)/from/skopeo:1", "{{.Id}}") == id)

            // podman, with its own storage and auth file in the test directory.
            var environment = ProcessInfo.processInfo.environment
            environment["REGISTRY_AUTH_FILE"] = directory + "/podman-auth.json"
            let podman = ["--root", directory + "/podman-root", "--runroot", directory + "/podman-run", "--storage-driver", "vfs"]
            func podmanRun(_ arguments: [String]) -> CommandResult {
                run("/usr/bin/podman", podman + arguments, environment: environment)
            }
            defer { _ = podmanRun(["system", "reset", "--force"]) }
            #expect(podmanRun(["login", "--tls-verify=false", "-u", "alice", "-p", "wrong", registry.host]).status != 0)
            let podLogin = podmanRun(["login", "--tls-verify=false", "-u", "alice", "-p", "s3cret", registry.host])
            #expect(podLogin.status == 0, "\(podLogin)")
            let podPull = podmanRun(["pull", "--tls-verify=false", "\(registry.host)/from/pier:1"])
            #expect(podPull.status == 0, "\(podPull)")
            #expect(podPull.stdout.contains(String(id.dropFirst(7))))
            #expect(podmanRun(["tag", "\(registry.host)/from/pier:1", "\(registry.host)/from/podman:1"]).status == 0)
            let podPush = podmanRun(["push", "--tls-verify=false", "\(registry.host)/from/podman:1"])
            #expect(podPush.status == 0, "\(podPush)")
            let fromPodman = daemon.pier(["pull", "\(registry.host)/from/podman:1"])
            #expect(fromPodman.status == 0, "\(fromPodman)")
            #expect(daemon.imageField("\(registry.host)/from/podman:1", "{{.RootFS.Layers}}")
                    == daemon.imageField("busybox", "{{.RootFS.Layers}}"))

            // A layer larger than one compression piece (4 MiB): several gzip members, some stored
            // (random bytes), some compressed (text), which podman must read as one stream.
            try FileManager.default.createDirectory(atPath: directory + "/big", withIntermediateDirectories: true)
            var content = Data(randomBytes(6 << 20))
            content.append(Data(String(repeating: "pier registry interop text\n", count: 200_000).utf8))
            try content.write(to: URL(fileURLWithPath: directory + "/big/data"))
            #expect(run("/bin/tar", ["-C", directory + "/big", "-cf", directory + "/big.tar", "."]).status == 0)
            #expect(daemon.pier(["import", directory + "/big.tar", "\(registry.host)/from/big:1"]).status == 0)
            let bigPush = daemon.pier(["push", "\(registry.host)/from/big:1"])
            #expect(bigPush.status == 0, "\(bigPush)")
            let bigPull = podmanRun(["pull", "--tls-verify=false", "\(registry.host)/from/big:1"])
            #expect(bigPull.status == 0, "\(bigPull)")
            let bigID = daemon.imageField("\(registry.host)/from/big:1", "{{.Id}}")
            #expect(bigPull.stdout.contains(String(bigID.dropFirst(7))))
        }
    }

    @Test func pierAgainstTheCNCFRegistry() throws {
        let directory = NSTemporaryDirectory() + "pier-cncf-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let htpasswd = try makeHtpasswd(in: directory, user: "bob", password: "hunter2")
        let registry = try RegistryProcess.distribution(htpasswd: htpasswd)
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let name = "\(registry.host)/cncf/busybox:v1"
            #expect(daemon.pier(["tag", "busybox", name]).status == 0)
            let id = daemon.imageField(name, "{{.Id}}")
            let denied = daemon.pier(["push", name])
            #expect(denied.status != 0)
            #expect(denied.stderr.contains("unauthorized"), "\(denied)")

            let wrong = daemon.pier(["login", "-u", "bob", "--password-stdin", registry.host], stdin: "nope\n")
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("unauthorized: incorrect username or password"), "\(wrong)")
            let configFile = daemon.directory + "/docker-config/config.json"
            #expect(!((try? String(contentsOfFile: configFile, encoding: .utf8)) ?? "").contains(registry.host))

            let login = daemon.pier(["login", "-u", "bob", "--password-stdin", registry.host], stdin: "hunter2\n")
            #expect(login.stdout == "Login Succeeded\n", "\(login)")
            #expect(((try? String(contentsOfFile: configFile, encoding: .utf8)) ?? "").contains(registry.host))
            let push = daemon.pier(["push", name])
            #expect(push.status == 0, "\(push)")
            let digest = try #require(RegistryTests.pushedDigest(push.stdout))

            try daemon.removeAllImages()
            let byTag = daemon.pier(["pull", name])
            #expect(byTag.status == 0, "\(byTag)")
            #expect(daemon.imageField(name, "{{.Id}}") == id)
            try daemon.removeAllImages()
            let byDigest = daemon.pier(["pull", "\(registry.host)/cncf/busybox@\(digest)"])
            #expect(byDigest.status == 0, "\(byDigest)")
            #expect(daemon.imageField("\(registry.host)/cncf/busybox@\(digest)", "{{.Id}}") == id)

            let missing = daemon.pier(["pull", "\(registry.host)/cncf/busybox:nope"])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("manifest for \(registry.host)/cncf/busybox:nope not found"), "\(missing)")
            #expect(daemon.pier(["logout", registry.host]).stdout == "Removing login credentials for \(registry.host)\n")
            let anonymous = daemon.pier(["pull", name])
            #expect(anonymous.stderr.contains("pull access denied"), "\(anonymous)")
        }
    }

    /// `build --pull` fetches the `FROM` image from its registry even when a local image has the
    /// name; without it the local one is used. A registry that is not there fails the step.
    @Test func buildPullFetchesTheBaseFromItsRegistry() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let base = "\(registry.host)/team/base:1"
            let published = try BuildTests.Context(["Dockerfile": "FROM busybox\nRUN echo published > /version\n"])
            #expect(daemon.pier(["build", "-q", "-t", base, published.path]).status == 0)
            let push = daemon.pier(["push", base])
            #expect(push.status == 0, "\(push)")
            // Now the name means something else locally.
            let local = try BuildTests.Context(["Dockerfile": "FROM busybox\nRUN echo local > /version\n"])
            #expect(daemon.pier(["build", "-q", "-t", base, local.path]).status == 0)

            let app = try BuildTests.Context(["Dockerfile": "FROM \(base)\nRUN cat /version\n"])
            let plain = daemon.pier(["build", "--progress=plain", "--no-cache", app.path])
            #expect(plain.status == 0, "\(plain)")
            #expect(plain.stdout.contains("local\n"), "\(plain.stdout)")

            let pulled = daemon.pier(["build", "--progress=plain", "--no-cache", "--pull", app.path])
            #expect(pulled.status == 0, "\(pulled)")
            #expect(pulled.stdout.contains("Pulling from team/base"), "\(pulled.stdout)")
            #expect(pulled.stdout.contains("published\n"), "\(pulled.stdout)")
            #expect(!pulled.stdout.contains("local\n"), "\(pulled.stdout)")
            #expect(daemon.pier(["run", "--rm", base, "cat", "/version"]).stdout == "published\n")

            let port = try freePort()
            let missing = try BuildTests.Context(["Dockerfile": "FROM 127.0.0.1:\(port)/team/base:1\nRUN true\n"])
            let failed = daemon.pier(["build", "--progress=plain", "--pull", missing.path])
            #expect(failed.status != 0)
            #expect(failed.stderr.contains("Dockerfile:1: FROM 127.0.0.1:\(port)/team/base:1: --pull could not pull"),
                    "\(failed.stderr)")
        }
    }

    @Test func dockerCLIThroughPierd() throws {
        try requirePeer("docker")
        let directory = NSTemporaryDirectory() + "pier-docker-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let htpasswd = try makeHtpasswd(in: directory, user: "carol", password: "pw-carol")
        let registry = try RegistryProcess.pier(["--htpasswd", htpasswd])
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let configFile = daemon.directory + "/docker-config/config.json"
            let wrong = daemon.docker(["login", "-u", "carol", "--password-stdin", registry.host],
                                      stdinFile: try writeTemp("bad\n", in: directory))
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("Error response from daemon"), "\(wrong)")
            #expect(!((try? String(contentsOfFile: configFile, encoding: .utf8)) ?? "").contains(registry.host))
            let login = daemon.docker(["login", "-u", "carol", "--password-stdin", registry.host],
                                      stdinFile: try writeTemp("pw-carol\n", in: directory))
            #expect(login.status == 0, "\(login)")
            #expect(login.stdout.contains("Login Succeeded"))

            let name = "\(registry.host)/docker/busybox:latest"
            #expect(daemon.docker(["tag", "busybox", name]).status == 0)
            let push = daemon.docker(["push", name])
            #expect(push.status == 0, "\(push)")
            #expect(push.stdout.contains("latest: digest: sha256:"))
            let id = daemon.imageField(name, "{{.Id}}")
            #expect(daemon.docker(["rmi", name]).status == 0)
            try daemon.removeAllImages()
            let pull = daemon.docker(["pull", name])
            #expect(pull.status == 0, "\(pull)")
            #expect(pull.stdout.contains("Status: Downloaded newer image for \(name)"))
            #expect(daemon.docker(["inspect", "--format", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == id)
            #expect(daemon.docker(["logout", registry.host]).status == 0)
            let anonymous = daemon.docker(["pull", name])
            #expect(anonymous.status != 0)
            #expect(anonymous.stderr.contains("pull access denied"), "\(anonymous)")
        }
    }

    @Test func credentialHelpersKeepTheSecrets() throws {
        let directory = NSTemporaryDirectory() + "pier-creds-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let htpasswd = try makeHtpasswd(in: directory, user: "dave", password: "pw-dave")
        let registry = try RegistryProcess.pier(["--htpasswd", htpasswd])
        defer { registry.stop() }
        // A helper in Docker's protocol (docker-credential-helpers): get/store/erase on stdin.
        let helper = """
            #!/bin/sh
            case "$1" in
              get) read url; if [ -f "$PIER_TEST_CREDS" ]; then cat "$PIER_TEST_CREDS"; else echo "credentials not found"; exit 1; fi ;;
              store) cat > "$PIER_TEST_CREDS" ;;
              erase) read url; rm -f "$PIER_TEST_CREDS" ;;
            esac
            """
        try helper.write(toFile: directory + "/bin/docker-credential-piertest", atomically: true, encoding: .utf8)
        chmod(directory + "/bin/docker-credential-piertest", 0o755)
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            var environment = daemon.environment
            environment["PATH"] = directory + "/bin:" + (environment["PATH"] ?? "/usr/bin:/bin")
            environment["PIER_TEST_CREDS"] = directory + "/secret.json"
            let configDirectory = daemon.directory + "/docker-config"
            try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
            try #"{"credsStore":"piertest","detachKeys":"ctrl-x"}"#.write(toFile: configDirectory + "/config.json",
                                                                           atomically: true, encoding: .utf8)
            func pier(_ arguments: [String], stdin: String? = nil) -> CommandResult {
                run(TestDaemon.pier, arguments, environment: environment, stdin: stdin)
            }
            let login = pier(["login", "-u", "dave", "--password-stdin", registry.host], stdin: "pw-dave\n")
            #expect(login.status == 0, "\(login)")
            let stored = (try? String(contentsOfFile: directory + "/secret.json", encoding: .utf8)) ?? ""
            #expect(stored.contains("pw-dave") && stored.contains(registry.host))
            let config = (try? String(contentsOfFile: configDirectory + "/config.json", encoding: .utf8)) ?? ""
            #expect(!config.contains("pw-dave"))
            #expect(config.contains("detachKeys"))   // keys Pier does not know are kept
            #expect(pier(["tag", "busybox", "\(registry.host)/helper/busybox:1"]).status == 0)
            let push = pier(["push", "\(registry.host)/helper/busybox:1"])
            #expect(push.status == 0, "\(push)")
            #expect(pier(["logout", registry.host]).status == 0)
            #expect(!FileManager.default.fileExists(atPath: directory + "/secret.json"))
            #expect(pier(["push", "\(registry.host)/helper/busybox:1"]).status != 0)
        }
    }

    // MARK: faults

    @Test func aConnectionCutInTheMiddleOfALayerResumes() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let name = "\(registry.host)/cut/busybox:1"
            #expect(daemon.pier(["tag", "busybox", name]).status == 0)
            #expect(daemon.pier(["push", name]).status == 0)
            let id = daemon.imageField(name, "{{.Id}}")
            try daemon.removeAllImages()
            let proxy = try CuttingProxy(target: registry.port, cutAfter: 400_000)
            defer { proxy.stop() }
            let through = "127.0.0.1:\(proxy.port)/cut/busybox:1"
            let pull = daemon.pier(["pull", through])
            #expect(pull.status == 0, "\(pull)")
            #expect(proxy.cutCount == 1)
            #expect(daemon.imageField(through, "{{.Id}}") == id)
            #expect(daemon.log().contains("blob download interrupted; resuming"))
        }
    }

    @Test func corruptOrMissingBlobsFailCleanly() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let name = "\(registry.host)/bad/busybox:1"
            #expect(daemon.pier(["tag", "busybox", name]).status == 0)
            let push = daemon.pier(["push", name])
            #expect(push.status == 0, "\(push)")
            try daemon.removeAllImages()
            let before = daemon.storeFiles()
            // The largest blob in the registry is the layer.
            let blobs = try FileManager.default.contentsOfDirectory(atPath: registry.blobDirectory)
            let layer = try #require(blobs.max { a, b in
                (try? FileManager.default.attributesOfItem(atPath: "\(registry.blobDirectory)/\(a)")[.size] as? Int ?? 0) ?? 0
                    < (try? FileManager.default.attributesOfItem(atPath: "\(registry.blobDirectory)/\(b)")[.size] as? Int ?? 0) ?? 0
            })
            let path = "\(registry.blobDirectory)/\(layer)"
            let original = try Data(contentsOf: URL(fileURLWithPath: path))

            // A blob whose content does not match its digest (same size, one byte flipped).
            var corrupt = original
            corrupt[corrupt.count / 2] ^= 0xFF
            try corrupt.write(to: URL(fileURLWithPath: path))
            let bad = daemon.pier(["pull", name])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains(String(layer.prefix(12))), "\(bad)")
            #expect(daemon.pier(["images", "-a", "-q"]).stdout.isEmpty)
            #expect(daemon.storeFiles() == before)

            // A manifest naming a blob the registry no longer has.
            try FileManager.default.removeItem(atPath: path)
            let missing = daemon.pier(["pull", name])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("blob unknown"), "\(missing)")
            #expect(daemon.pier(["images", "-a", "-q"]).stdout.isEmpty)
            #expect(daemon.storeFiles() == before)
        }
    }

    @Test func badNamesAreRefused() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { daemon in
            let upper = daemon.pier(["pull", "\(registry.host)/Team/App:1"])
            #expect(upper.status != 0)
            #expect(upper.stderr.contains("must be lowercase"), "\(upper)")
            let dots = daemon.pier(["pull", "\(registry.host)/team/../etc:1"])
            #expect(dots.status != 0)
            #expect(dots.stderr.contains("invalid reference format"), "\(dots)")
            // Straight to the registry, past any client-side check.
            let raw = run("/usr/bin/env", ["curl", "-s", "--path-as-is", "http://\(registry.host)/v2/team/../../etc/tags/list"])
            #expect(raw.stdout.contains("NAME_INVALID"), "\(raw)")
        }
    }

    @Test func twoClientsPushTheSameImageAtOnce() throws {
        let registry = try RegistryProcess.pier()
        defer { registry.stop() }
        try withDaemon { first in
            try withDaemon { second in
                try first.bootstrapBusybox()
                let archive = first.directory + "/busybox.tar"
                #expect(first.pier(["save", "-o", archive, "busybox"]).status == 0)
                #expect(second.pier(["load", "-i", archive]).status == 0)
                for daemon in [first, second] {
                    #expect(daemon.pier(["tag", "busybox", "\(registry.host)/race/busybox:1"]).status == 0)
                }
                let results = [first, second].map { daemon in
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: TestDaemon.pier)
                    process.arguments = ["push", "\(registry.host)/race/busybox:1"]
                    process.environment = daemon.environment
                    process.standardOutput = FileHandle.nullDevice
                    process.standardError = FileHandle.nullDevice
                    try? process.run()
                    return process
                }
                for process in results { process.waitUntilExit() }
                #expect(results.allSatisfy { $0.terminationStatus == 0 })
                try first.removeAllImages()
                let pull = first.pier(["pull", "\(registry.host)/race/busybox:1"])
                #expect(pull.status == 0, "\(pull)")
                #expect(first.imageField("\(registry.host)/race/busybox:1", "{{.Id}}")
                        == second.imageField("busybox", "{{.Id}}"))
                let ingest = (try? FileManager.default.contentsOfDirectory(atPath: registry.directory + "/storage/content/ingest")) ?? []
                #expect(ingest.isEmpty)
            }
        }
    }
}

func writeTemp(_ text: String, in directory: String) throws -> String {
    let path = directory + "/input-" + UUID().uuidString
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func randomBytes(_ count: Int) -> [UInt8] {
    [UInt8](FileHandle(forReadingAtPath: "/dev/urandom")?.readData(ofLength: count) ?? Data())
}
