import Foundation
import Testing

/// `pier build` and `POST /build` through the real `pier` CLI and the real docker CLI.
@Suite(.serialized) struct BuildTests {
    /// A build context in a temporary directory: file name → contents.
    final class Context {
        let path: String

        init(_ files: [String: String]) throws {
            path = NSTemporaryDirectory() + "pier-build-" + UUID().uuidString.prefix(8)
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for (name, contents) in files { try write(name, contents) }
        }

        func write(_ name: String, _ contents: String) throws {
            let url = URL(fileURLWithPath: path + "/" + name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func build(_ daemon: TestDaemon, _ context: Context, _ arguments: [String] = []) -> CommandResult {
        daemon.pier(["build", "--progress=plain"] + arguments + [context.path])
    }

    func inspect(_ daemon: TestDaemon, _ format: String, _ image: String) -> String {
        daemon.pier(["image", "inspect", "--format", format, image]).stdout.trimmingCharacters(in: .newlines)
    }

    @Test func instructionsMakeTheImageDockerWould() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                ARG BASE=busybox
                FROM $BASE
                LABEL org.example.team="ml platform"
                ARG VERSION=1.0
                ENV APP_HOME=/srv/app VERSION=$VERSION
                WORKDIR $APP_HOME
                COPY app.sh data/ ./
                COPY --chmod=0755 app.sh /usr/local/bin/app
                RUN echo "built $VERSION" > built.txt && rm -f /etc/motd
                EXPOSE 8080 9000/udp
                VOLUME /data
                STOPSIGNAL SIGINT
                HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD test -f built.txt
                ONBUILD RUN echo triggered
                SHELL ["/bin/sh", "-c"]
                ENTRYPOINT ["/bin/sh"]
                CMD ["app.sh"]
                """,
                "app.sh": "echo app $VERSION; cat built.txt; cat one.txt\n",
                "data/one.txt": "one\n",
            ])
            let result = build(daemon, context, ["-t", "app:1", "-t", "app:latest", "--build-arg", "VERSION=2.5",
                                                 "--build-arg", "UNUSED=x", "--label", "from=cli"])
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("Step 1/17 : FROM $BASE"))
            #expect(result.stdout.contains("Step 17/17 : LABEL \"from\"=\"cli\""))
            #expect(result.stdout.contains("[Warning] One or more build-args [UNUSED] were not consumed"))
            #expect(result.stdout.contains("Successfully tagged app:1"))
            let run = daemon.pier(["run", "--rm", "app:1"])
            #expect(run.stdout == "app 2.5\nbuilt 2.5\none\n", "\(run)")
            #expect(inspect(daemon, "{{json .Config.Env}}", "app:1").hasSuffix(#""APP_HOME=/srv/app","VERSION=2.5"]"#))
            #expect(inspect(daemon, "{{.Config.WorkingDir}}", "app:1") == "/srv/app")
            #expect(inspect(daemon, "{{json .Config.Entrypoint}}", "app:1") == #"["/bin/sh"]"#)
            #expect(inspect(daemon, "{{json .Config.Cmd}}", "app:1") == #"["app.sh"]"#)
            #expect(inspect(daemon, "{{json .Config.ExposedPorts}}", "app:1") == #"{"8080/tcp":{},"9000/udp":{}}"#)
            #expect(inspect(daemon, "{{json .Config.Volumes}}", "app:1") == #"{"/data":{}}"#)
            #expect(inspect(daemon, "{{.Config.StopSignal}}", "app:1") == "SIGINT")
            #expect(inspect(daemon, "{{json .Config.Healthcheck}}", "app:1")
                    == #"{"Interval":5000000000,"Retries":4,"Test":["CMD-SHELL","test -f built.txt"],"Timeout":2000000000}"#)
            #expect(inspect(daemon, "{{json .Config.OnBuild}}", "app:1") == #"["RUN echo triggered"]"#)
            #expect(inspect(daemon, "{{index .Config.Labels \"org.example.team\"}}", "app:1") == "ml platform")
            #expect(inspect(daemon, "{{index .Config.Labels \"from\"}}", "app:1") == "cli")
            // busybox's layer + COPY + COPY + RUN
            #expect(inspect(daemon, "{{len .RootFS.Layers}}", "app:1") == "4")
            let mode = daemon.pier(["run", "--rm", "--entrypoint", "stat", "app:1", "-c", "%a %u", "/usr/local/bin/app", "/srv/app/one.txt"])
            #expect(mode.stdout == "755 0\n644 0\n", "\(mode)")
            // The RUN's deletion is a whiteout in its layer.
            #expect(daemon.pier(["run", "--rm", "--entrypoint", "ls", "app:1", "/etc/motd"]).status != 0)
            let history = daemon.pier(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"]).stdout
            // VERSION is also an ENV, which wins over the ARG: the RUN sees no extra build args.
            #expect(history.contains("\n/bin/sh -c echo \"built $VERSION\" > built.txt && rm -f /etc/motd\n"), "\(history)")
            // The config and manifest the build wrote validate against the OCI image-spec schemas.
            let id = String(inspect(daemon, "{{.Id}}", "app:1").dropFirst("sha256:".count))
            try expectValidOCI(daemon.root + "/image/content/blobs/sha256/" + id, schema: "config-schema.json")
            // ONBUILD triggers run in a build FROM the image.
            let child = try Context(["Dockerfile": "FROM app:1\nRUN true\n"])
            let triggered = build(daemon, child, ["-t", "child"])
            #expect(triggered.stdout.contains("# Executing 1 build trigger"), "\(triggered)")
            #expect(triggered.stdout.contains("triggered"))
            #expect(!inspect(daemon, "{{json .Config.OnBuild}}", "child").contains("triggered"))
        }
    }

    /// Validates a JSON file with python's jsonschema against ../shared/conformance/oci-image-schema.
    func expectValidOCI(_ file: String, schema: String) throws {
        var directory = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { directory.deleteLastPathComponent() }
        let schemas = directory.deletingLastPathComponent().appendingPathComponent("shared/conformance/oci-image-schema").path
        guard FileManager.default.fileExists(atPath: schemas + "/" + schema) else {
            throw TestFailure("the OCI schemas are not at \(schemas)")
        }
        let script = """
        import json, sys, pathlib, warnings
        warnings.filterwarnings("ignore")
        from jsonschema import Draft4Validator, RefResolver
        d = pathlib.Path(sys.argv[1])
        local = lambda uri: json.loads((d / uri.split("#")[0].rsplit("/", 1)[1]).read_text())
        schema = json.loads((d / sys.argv[2]).read_text())
        resolver = RefResolver.from_schema(schema, handlers={"https": local, "http": local})
        errors = [e.message for e in Draft4Validator(schema, resolver=resolver).iter_errors(json.load(open(sys.argv[3])))]
        print("\\n".join(errors)); sys.exit(1 if errors else 0)
        """
        let result = run("/usr/bin/env", ["python3", "-c", script, schemas, schema, file])
        #expect(result.status == 0, "\(file) does not validate against \(schema): \(result)")
    }

    @Test func cacheReusesOnlyWhatIsUnchanged() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM busybox
                COPY requirements.txt /app/
                RUN echo installing && cat /app/requirements.txt > /app/installed
                COPY . /app
                CMD ["cat", "/app/main.txt"]
                """,
                "requirements.txt": "flask\n",
                "main.txt": "v1\n",
                "notes.log": "ignored\n",
                ".dockerignore": "*.log\n",
            ])
            let first = build(daemon, context, ["-t", "cached"])
            #expect(first.status == 0, "\(first)")
            #expect(!first.stdout.contains("Using cache"))
            let firstID = inspect(daemon, "{{.Id}}", "cached")

            let again = build(daemon, context, ["-t", "cached"])
            #expect(again.stdout.components(separatedBy: "Using cache").count - 1 == 4, "\(again)")
            #expect(inspect(daemon, "{{.Id}}", "cached") == firstID)

            try context.write("notes.log", "changed but ignored\n")
            let ignored = build(daemon, context, ["-t", "cached"])
            #expect(ignored.stdout.components(separatedBy: "Using cache").count - 1 == 4, "\(ignored)")

            try context.write("main.txt", "v2\n")
            let source = build(daemon, context, ["-t", "cached"])
            #expect(source.stdout.components(separatedBy: "Using cache").count - 1 == 2, "\(source)")
            #expect(!source.stdout.contains("\ninstalling\n"))
            #expect(daemon.pier(["run", "--rm", "cached"]).stdout == "v2\n")

            try context.write("requirements.txt", "flask\nnumpy\n")
            let requirements = build(daemon, context, ["-t", "cached"])
            #expect(requirements.stdout.contains("\ninstalling\n"), "\(requirements)")
            #expect(!requirements.stdout.contains("Using cache"))

            let noCache = build(daemon, context, ["-t", "cached", "--no-cache"])
            #expect(noCache.status == 0)
            #expect(!noCache.stdout.contains("Using cache"))
            #expect(noCache.stdout.contains("\ninstalling\n"))

            let quiet = daemon.pier(["build", "-q", context.path])
            #expect(quiet.stdout.hasPrefix("sha256:") && quiet.stdout.split(separator: "\n").count == 1, "\(quiet)")

            // SOURCE_DATE_EPOCH: rebuilding from scratch gives the very same image.
            let epoch = ["build", "-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", context.path]
            let once = daemon.pier(epoch).stdout
            usleep(1_100_000)
            let twice = daemon.pier(epoch).stdout
            #expect(once.hasPrefix("sha256:") && once == twice, "\(once) \(twice)")
            #expect(inspect(daemon, "{{.Created}}", once.trimmingCharacters(in: .newlines)) == "2023-11-14T22:13:20Z")
        }
    }

    @Test func multiStageBuildsOnlyWhatTheTargetNeeds() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM busybox AS builder
                RUN mkdir -p /root/.local/bin && echo 'echo from builder' > /root/.local/bin/tool
                FROM busybox AS unused
                RUN echo this stage must not run && false
                FROM busybox AS final
                RUN echo 'app:x:1000:1000::/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group && mkdir -p /home/app && chown app:app /home/app
                COPY --from=builder /root/.local /home/app/.local
                COPY --chown=app:app owned.txt /home/app/
                USER app
                CMD ["sh", "-c", "sh ~/.local/bin/tool; id -u; stat -c %U /home/app/owned.txt"]
                FROM builder AS test
                RUN echo testing
                """,
                "owned.txt": "mine\n",
            ])
            let runtime = build(daemon, context, ["-t", "runtime", "-f", context.path + "/Dockerfile", "--target", "final"])
            #expect(runtime.status == 0, "\(runtime)")
            #expect(!runtime.stdout.contains("this stage must not run"))
            #expect(!runtime.stdout.contains("testing"))
            let run = daemon.pier(["run", "--rm", "runtime"])
            #expect(run.stdout == "from builder\n1000\napp\n", "\(run)")
            #expect(inspect(daemon, "{{.Config.User}}", "runtime") == "app")

            let target = build(daemon, context, ["-t", "tested", "--target", "test"])
            #expect(target.status == 0, "\(target)")
            #expect(target.stdout.contains("Step 4/4 : RUN echo testing"), "\(target)")
            #expect(!target.stdout.contains("/etc/passwd"))
        }
    }

    @Test func independentStagesRunAtOnce() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            // /proc/uptime is the machine's clock in every container: the stages' times compare.
            let context = try Context([
                "Dockerfile": """
                FROM busybox AS a
                RUN cut -d' ' -f1 /proc/uptime > /start && sleep 1 && cut -d' ' -f1 /proc/uptime > /end && echo a slept
                FROM busybox AS b
                RUN cut -d' ' -f1 /proc/uptime > /start && sleep 1 && cut -d' ' -f1 /proc/uptime > /end && echo b slept
                FROM busybox
                COPY --from=a /start /a.start
                COPY --from=a /end /a.end
                COPY --from=b /start /b.start
                COPY --from=b /end /b.end
                CMD ["cat", "/a.start", "/a.end", "/b.start", "/b.end"]
                """,
            ])
            let built = build(daemon, context, ["-t", "parallel"])
            #expect(built.status == 0, "\(built)")
            // Docker's numbering and order, as if the stages had run one after another.
            let steps = built.stdout.split(separator: "\n").filter { $0.hasPrefix("Step ") }
                .map { Int($0.dropFirst(5).prefix { $0 != "/" }) ?? 0 }
            #expect(steps == Array(1...10), "\(built.stdout)")
            let a = try #require(built.stdout.range(of: "a slept\n"))
            let b = try #require(built.stdout.range(of: "b slept\n"))
            let third = try #require(built.stdout.range(of: "Step 3/10 : FROM busybox AS b"))
            #expect(a.upperBound <= third.lowerBound && third.upperBound <= b.lowerBound, "\(built.stdout)")
            let times = daemon.pier(["run", "--rm", "parallel"]).stdout.split(separator: "\n").compactMap { Double($0) }
            try #require(times.count == 4, "\(times)")
            #expect(times[1] - times[0] >= 1 && times[3] - times[2] >= 1, "\(times)")
            // Each sleep began before the other ended, and both fit in well under two seconds: they ran at once.
            #expect(times[0] < times[3] && times[2] < times[1], "\(times)")
            #expect(max(times[1], times[3]) - min(times[0], times[2]) < 1.7, "\(times)")

            // The image does not depend on which stage finished first.
            try context.write("Dockerfile", """
                FROM busybox AS a
                RUN sleep 0.$RANDOM && echo a > /a
                FROM busybox AS b
                RUN sleep 0.$RANDOM && echo b > /b
                FROM busybox
                COPY --from=b /b /
                COPY --from=a /a /
                """)
            let epoch = ["build", "-q", "--no-cache", "--build-arg", "SOURCE_DATE_EPOCH=1700000000", context.path]
            let once = daemon.pier(epoch).stdout
            let twice = daemon.pier(epoch).stdout
            #expect(once.hasPrefix("sha256:") && once == twice, "\(once) \(twice)")

            // A failing stage stops the others (their RUN is killed) and is the build's error.
            try context.write("Dockerfile", """
                FROM busybox AS slow
                RUN sleep 20 && echo "slow fin""ished"
                FROM busybox AS failing
                RUN echo failing now && exit 4
                FROM busybox
                COPY --from=slow /etc/hostname /slow
                COPY --from=failing /etc/hostname /failing
                """)
            let started = Date()
            let failed = build(daemon, context)
            #expect(failed.status != 0)
            #expect(failed.stderr.contains("returned a non-zero code: 4"), "\(failed)")
            #expect(failed.stdout.contains("failing now"), "\(failed)")
            #expect(!failed.stdout.contains("slow finished"))
            #expect(Date().timeIntervalSince(started) < 15, "the slow stage was not stopped")
        }
    }

    @Test func badInputSaysWhatIsWrong() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            func failure(_ dockerfile: String, _ files: [String: String] = [:], _ arguments: [String] = []) throws -> CommandResult {
                var all = files
                all["Dockerfile"] = dockerfile
                let context = try Context(all)
                let result = build(daemon, context, arguments)
                #expect(result.status != 0, "\(result)")
                return result
            }
            let unknown = try failure("FROM busybox\nFROBNICATE x\n")
            #expect(unknown.stderr.contains("Dockerfile:2: unknown instruction: FROBNICATE"), "\(unknown)")
            let syntax = try failure("FROM busybox\nRUN <<EOF\necho never closed\n")
            #expect(syntax.stderr.contains("Dockerfile:"), "\(syntax)")
            let missing = try failure("FROM busybox\nCOPY model.pkl /\n")
            #expect(missing.stderr.contains("Dockerfile:2: COPY source \"model.pkl\" not found in build context"), "\(missing)")
            let excluded = try failure("FROM busybox\nCOPY model.pkl /\n", ["model.pkl": "weights", ".dockerignore": "*.pkl\n"])
            #expect(excluded.stderr.contains("excluded by .dockerignore"), "\(excluded)")
            let failing = try failure("FROM busybox\nRUN echo about to fail; exit 3\n")
            #expect(failing.stderr.contains("The command '/bin/sh -c echo about to fail; exit 3' returned a non-zero code: 3"),
                    "\(failing)")
            #expect(failing.stdout.contains("about to fail"))
            #expect(failing.stderr.contains("(Dockerfile:2, step 2/2); the last lines of its output:\nabout to fail"), "\(failing)")
            let quietFailing = try failure("FROM busybox\nRUN echo about to fail; exit 3\n", [:], ["-q"])
            #expect(quietFailing.stderr.contains("about to fail"), "\(quietFailing)")
            let target = try failure("FROM busybox AS base\nRUN true\n", [:], ["--target", "nosuch"])
            #expect(target.stderr.contains("failed to reach build target nosuch"), "\(target)")
            let cycle = try failure("FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n")
            #expect(cycle.stderr.contains("circular dependency detected on stage"), "\(cycle)")
            let absent = try failure("FROM busybox\nCOPY --from=nosuch/image:1 /x /x\n")
            #expect(absent.stderr.contains("nosuch/image:1 is not present locally"), "\(absent)")
            let python = try failure("FROM python:3.11-slim\nRUN true\n")
            #expect(python.stderr.contains("make it first with `pier bootstrap python:3.11-slim`"), "\(python)")
            let base = try failure("FROM nosuchbase\nRUN true\n")
            #expect(base.stderr.contains("Dockerfile:1: FROM nosuchbase: image nosuchbase is not present locally"), "\(base)")
            let many = try failure("FROM busybox\nCOPY a b /dest\n", ["a": "a", "b": "b"])
            #expect(many.stderr.contains("the destination must be a directory and end with a /"), "\(many)")
            // Nothing of a failed build is named.
            #expect(daemon.pier(["images", "-q"]).stdout.split(separator: "\n").count == 1)
        }
    }

    @Test func copyFollowsLinksInsideTheImageOnly() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM busybox
                RUN mkdir -p /usr/lib2 && ln -s usr/lib2 /lib2
                COPY tool /lib2/
                COPY alias /copied
                CMD ["sh", "-c", "readlink /lib2; cat /usr/lib2/tool /copied"]
                """,
                "tool": "tool\n",
                "real": "real\n",
            ])
            try FileManager.default.createSymbolicLink(atPath: context.path + "/alias", withDestinationPath: "real")
            let built = build(daemon, context, ["-t", "links"])
            #expect(built.status == 0, "\(built)")
            // The merged-/usr style link stays a link; the context's relative link is followed.
            #expect(daemon.pier(["run", "--rm", "links"]).stdout == "usr/lib2\ntool\nreal\n")
            // A link in the context that points at the host's files is not followed out of the context.
            try FileManager.default.createSymbolicLink(atPath: context.path + "/escape", withDestinationPath: "/etc/hostname")
            try context.write("Dockerfile", "FROM busybox\nCOPY escape /escape\n")
            let escape = build(daemon, context)
            #expect(escape.status != 0)
            #expect(escape.stderr.contains("COPY source \"escape\" not found in build context"), "\(escape)")
        }
    }

    @Test func copyParentsKeepsTheSourcePaths() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM busybox AS first
                COPY --parents a/b/one.txt a/c/*.txt /dst/
                COPY --parents ./src/./app/ /srv/
                COPY --parents ./a/./c/two.txt /pivot
                FROM busybox
                COPY --from=first --parents /dst/./a/c/*.txt /again/
                COPY --from=first /dst /dst
                COPY --from=first /srv /srv
                COPY --from=first /pivot /pivot
                CMD ["find", "/dst", "/srv", "/pivot", "/again", "-type", "f"]
                """,
                "a/b/one.txt": "1\n",
                "a/c/two.txt": "2\n",
                "a/c/three.txt": "3\n",
                "a/c/skip.md": "no\n",
                "src/app/main.py": "print()\n",
                "src/app/lib/util.py": "x = 1\n",
            ])
            let built = build(daemon, context, ["-t", "parents"])
            #expect(built.status == 0, "\(built)")
            let files = daemon.pier(["run", "--rm", "parents"]).stdout.split(separator: "\n").sorted()
            #expect(files == ["/again/a/c/three.txt", "/again/a/c/two.txt", "/dst/a/b/one.txt", "/dst/a/c/three.txt",
                              "/dst/a/c/two.txt", "/pivot/c/two.txt", "/srv/app/lib/util.py", "/srv/app/main.py"], "\(files)")

            // The docker CLI only sends the Dockerfile: pierd's builder does the rest.
            try requirePeer("docker")
            var environment = daemon.environment
            environment["DOCKER_BUILDKIT"] = "0"
            try context.write("Dockerfile", "FROM busybox\nCOPY --parents a/c/two.txt /dst/\nCMD [\"cat\", \"/dst/a/c/two.txt\"]\n")
            let docker = run("/usr/bin/env", ["docker", "build", "-t", "parents-docker", context.path], environment: environment)
            #expect(docker.status == 0, "\(docker)")
            #expect(daemon.docker(["run", "--rm", "parents-docker"]).stdout == "2\n")

            try context.write("Dockerfile", "FROM busybox\nCOPY --parents a/*/./c/two.txt /dst/\n")
            let glob = build(daemon, context)
            #expect(glob.stderr.contains("Dockerfile:2: COPY --parents a/*/./c/two.txt: the part before \"/./\" cannot hold wildcards"),
                    "\(glob)")
            try context.write("Dockerfile", "FROM busybox\nCOPY --parents a/nothing.txt /dst/\n")
            let missing = build(daemon, context)
            #expect(missing.stderr.contains("Dockerfile:2: COPY source \"a/nothing.txt\" not found in build context"), "\(missing)")
        }
    }

    @Test func runMountsCacheBindAndTmpfs() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM busybox
                RUN --mount=type=cache,target=/root/.cache echo run >> /root/.cache/log && wc -l < /root/.cache/log
                RUN --mount=type=bind,source=data.txt,target=/data.txt cat /data.txt
                RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && ls /scratch
                RUN ls -A /root/.cache /scratch
                """,
                "data.txt": "bound v1\n",
            ])
            let first = build(daemon, context, ["-t", "mounts"])
            #expect(first.status == 0, "\(first)")
            #expect(first.stdout.contains("\n1\n"))
            #expect(first.stdout.contains("bound v1"))
            // What went to the cache mount and the tmpfs is not in the image.
            #expect(first.stdout.contains("/root/.cache:\n\n/scratch:\n"), "\(first)")
            // The bind's content is part of the step's key; the cache mount persists between builds.
            try context.write("data.txt", "bound v2\n")
            let second = build(daemon, context, ["-t", "mounts"])
            #expect(second.stdout.contains("bound v2"), "\(second)")
            let third = build(daemon, context, ["-t", "mounts", "--no-cache"])
            #expect(third.stdout.contains("\n2\n"), "\(third)")
        }
    }

    @Test func runNetworkAndExtraHosts() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM busybox
                RUN --network=none echo isolated: $(ls /sys/class/net)
                RUN echo host: $(ls /sys/class/net | wc -l) && grep myhost /etc/hosts
                """,
            ])
            let built = build(daemon, context, ["--add-host", "myhost:10.1.2.3"])
            #expect(built.status == 0, "\(built)")
            #expect(built.stdout.contains("isolated: lo\n"))
            // The host's interfaces (more than loopback) without --network=none.
            #expect(!built.stdout.contains("host: 1\n"), "\(built)")
            #expect(built.stdout.contains("10.1.2.3\tmyhost"))
        }
    }

    @Test func addFetchesURLsAndChecksThem() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let served = try Context(["model.bin": "weights v1\n"])
            let port = Int.random(in: 20000...40000)
            guard let server = spawn("/usr/bin/env", ["python3", "-m", "http.server", "\(port)", "--bind", "127.0.0.1",
                                                      "--directory", served.path],
                                     environment: nil, stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null") else {
                throw TestFailure("cannot start python3 -m http.server")
            }
            defer { kill(server, SIGKILL); _ = waitForExit(server) }
            usleep(800_000)
            let url = "http://127.0.0.1:\(port)/model.bin"
            let digest = run("/usr/bin/sha256sum", [served.path + "/model.bin"]).stdout.prefix(64)
            let context = try Context([
                "Dockerfile": "FROM busybox\nADD --checksum=sha256:\(digest) \(url) /models/\nCMD [\"cat\", \"/models/model.bin\"]\n",
            ])
            let built = build(daemon, context, ["-t", "fetched"])
            #expect(built.status == 0, "\(built)")
            #expect(daemon.pier(["run", "--rm", "fetched"]).stdout == "weights v1\n")
            // The content is part of the key: a changed file is fetched and added again.
            try served.write("model.bin", "weights v2\n")
            try context.write("Dockerfile", "FROM busybox\nADD \(url) /models/\nCMD [\"cat\", \"/models/model.bin\"]\n")
            #expect(build(daemon, context, ["-t", "fetched"]).status == 0)
            #expect(daemon.pier(["run", "--rm", "fetched"]).stdout == "weights v2\n")
            try context.write("Dockerfile", "FROM busybox\nADD --checksum=sha256:\(digest) \(url) /models/\n")
            let mismatch = build(daemon, context)
            #expect(mismatch.stderr.contains("checksum mismatch"), "\(mismatch)")
            try context.write("Dockerfile", "FROM busybox\nADD http://127.0.0.1:\(port)/nothing /x\n")
            #expect(build(daemon, context).stderr.contains("the server answered 404"))
        }
    }

    @Test func killedDaemonLeavesNoPartialImageOrCache() throws {
        let daemon = try TestDaemon()
        var current = daemon
        defer { current.stop() }
        try daemon.bootstrapBusybox()
        let context = try Context(["Dockerfile": "FROM busybox\nRUN echo start && sleep 3 && echo done > /done\nCMD [\"cat\", \"/done\"]\n"])
        let pid = spawn(TestDaemon.pier, ["build", "-t", "interrupted", context.path], environment: daemon.environment,
                        stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null")
        usleep(1_500_000)
        daemon.kill()
        if let pid { _ = waitForExit(pid) }
        current = try daemon.restart()
        #expect(current.pier(["image", "inspect", "interrupted"]).status != 0)
        let rebuilt = build(current, context, ["-t", "interrupted"])
        #expect(rebuilt.status == 0, "\(rebuilt)")
        #expect(!rebuilt.stdout.contains("Using cache"))
        #expect(current.pier(["run", "--rm", "interrupted"]).stdout == "done\n")
    }

    @Test func interruptedClientStopsTheBuild() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context(["Dockerfile": "FROM busybox\nRUN echo start && sleep 20 && echo done > /done\nCMD [\"cat\", \"/done\"]\n"])
            let started = Date()
            guard let pid = spawn(TestDaemon.pier, ["build", "-t", "interrupted", context.path], environment: daemon.environment,
                                  stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null") else {
                throw TestFailure("cannot start pier build")
            }
            usleep(1_500_000)
            // The client dies as on Ctrl-C (SIGKILL: test threads may block or ignore SIGINT/SIGTERM, and children inherit that).
            kill(pid, SIGKILL)
            _ = waitForExit(pid)
            // The RUN container is killed: its directory goes away well before the command would have ended.
            var left: [String] = ["?"]
            while Date().timeIntervalSince(started) < 15 {
                left = (try? FileManager.default.contentsOfDirectory(atPath: daemon.root + "/builder/containers")) ?? []
                if left.isEmpty { break }
                usleep(200_000)
            }
            #expect(left.isEmpty, "RUN containers left: \(left); pierd log: \(daemon.log().suffix(2500))")
            #expect(Date().timeIntervalSince(started) < 15)
            #expect(daemon.pier(["image", "inspect", "interrupted"]).status != 0)
        }
    }

    @Test func dockerCLIBuildsAgainstPierd() throws {
        try requirePeer("docker")
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": "FROM busybox\nARG WHO=docker\nRUN echo \"hello from $WHO\" > /greeting\nCMD [\"cat\", \"/greeting\"]\n",
            ])
            var environment = daemon.environment
            environment["DOCKER_BUILDKIT"] = "0"
            let built = run("/usr/bin/env", ["docker", "build", "-t", "x", "--build-arg", "WHO=pier", context.path],
                            environment: environment)
            #expect(built.status == 0, "\(built)")
            #expect(built.stdout.contains("Step 1/4 : FROM busybox"))
            #expect(built.stdout.contains("Successfully built "))
            #expect(built.stdout.contains("Successfully tagged x:latest"))
            let history = daemon.pier(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "x"]).stdout
            #expect(history.contains("|1 WHO=pier /bin/sh -c echo \"hello from $WHO\" > /greeting"), "\(history)")
            let ran = daemon.docker(["run", "--rm", "x"])
            #expect(ran.stdout == "hello from pier\n", "\(ran)")
            let quiet = run("/usr/bin/env", ["docker", "build", "-q", context.path], environment: environment)
            #expect(quiet.stdout.hasPrefix("sha256:"), "\(quiet)")
            let failing = try Context(["Dockerfile": "FROM busybox\nRUN exit 7\n"])
            let failed = run("/usr/bin/env", ["docker", "build", failing.path], environment: environment)
            #expect(failed.status == 1)
            #expect(failed.stderr.contains("returned a non-zero code: 7"), "\(failed)")
        }
    }

    /// The seeds' Flask app on python:3.11-slim, pip reaching PyPI from a RUN; then a
    /// multi-stage `pip install --user`. Slow: it bootstraps python (debootstrap) first.
    @Test func flaskAppOnPythonSlim() throws {
        try requirePeer("debootstrap")
        try withDaemon { daemon in
            let made = daemon.pier(["bootstrap", "python:3.11-slim"])
            #expect(made.status == 0, "\(made.stderr)")
            let context = try Context([
                "Dockerfile": """
                FROM python:3.11-slim
                WORKDIR /app
                COPY requirements.txt .
                RUN pip install --no-cache-dir -r requirements.txt
                COPY . .
                EXPOSE 5000
                CMD ["python", "app.py"]
                """,
                "requirements.txt": "flask==3.0.3\n",
                "app.py": "import flask\nprint('flask', flask.__version__ if hasattr(flask, '__version__') else 'ok')\n",
            ])
            let built = build(daemon, context, ["-t", "flask-app"])
            #expect(built.status == 0, "\(built.stdout.suffix(3000)) \(built.stderr)")
            let ran = daemon.pier(["run", "--rm", "flask-app"])
            #expect(ran.stdout.hasPrefix("flask"), "\(ran)")
            try context.write("app.py", "print('changed')\n")
            let rebuilt = build(daemon, context, ["-t", "flask-app"])
            #expect(!rebuilt.stdout.contains("Collecting flask"), "pip reran: \(rebuilt.stdout)")
            #expect(daemon.pier(["run", "--rm", "flask-app"]).stdout == "changed\n")

            let multi = try Context([
                "Dockerfile": """
                FROM python:3.11-slim AS builder
                COPY requirements.txt .
                RUN pip install --user --no-cache-dir -r requirements.txt
                FROM python:3.11-slim
                COPY --from=builder /root/.local /root/.local
                ENV PATH=/root/.local/bin:$PATH
                CMD ["python", "-c", "import six; print(six.__version__)"]
                """,
                "requirements.txt": "six==1.16.0\n",
            ])
            let stages = build(daemon, multi, ["-t", "multi-py"])
            #expect(stages.status == 0, "\(stages.stdout.suffix(3000)) \(stages.stderr)")
            #expect(daemon.pier(["run", "--rm", "multi-py"]).stdout == "1.16.0\n")
        }
    }
}
