import Foundation
import Testing

/// What a build takes besides a context directory: secrets (`--secret`, `RUN --mount=type=secret`),
/// the platform (`--platform`, `FROM --platform`) and a Git URL as the context, through the real
/// `pier` and docker CLIs.
@Suite(.serialized) struct BuildInputTests {
    typealias Context = BuildTests.Context

    func build(_ daemon: TestDaemon, _ context: Context, _ arguments: [String] = [],
               environment extra: [String: String] = [:]) -> CommandResult {
        var environment = daemon.environment
        for (key, value) in extra { environment[key] = value }
        return run(TestDaemon.pier, ["build", "--progress=plain"] + arguments + [context.path], environment: environment)
    }

    static func sha256(_ text: String) -> String {
        let file = NSTemporaryDirectory() + "pier-sha-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: file) }
        FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return String(run("/usr/bin/sha256sum", [file]).stdout.prefix(64))
    }

    /// Waits until the build's RUN containers' directories (their runtime specs) are gone.
    static func waitForRunContainers(_ daemon: TestDaemon) {
        for _ in 0..<100 {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: daemon.root + "/builder/containers")) ?? []
            if left.isEmpty { return }
            usleep(100_000)
        }
    }

    @Test func secretsReachRunButNeverTheImageOrTheCacheKey() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let token = "token-" + UUID().uuidString
            let apiKey = "api-" + UUID().uuidString
            let outside = try Context(["token.txt": token])   // a secret file is never in the context
            let context = try Context([
                "Dockerfile": """
                FROM busybox
                RUN --mount=type=secret,id=token sha256sum /run/secrets/token && stat -c 'default %a %u' /run/secrets/token
                RUN --mount=type=secret,id=token,target=/etc/app/key,mode=0440,uid=1000,gid=1000 \\
                    stat -c 'custom %a %u:%g' /etc/app/key && sha256sum /etc/app/key
                RUN --mount=type=secret,id=api,env=API_KEY,required=true printf %s "$API_KEY" | sha256sum && ls /run/secrets/api || echo no file for env
                RUN --mount=type=secret,id=absent cat /run/secrets/absent || echo optional secret absent
                CMD ["sh", "-c", "ls /run/secrets /etc/app 2>&1; echo \\"[$API_KEY]\\""]
                """,
            ])
            let secrets = ["--secret", "id=token,src=\(outside.path)/token.txt", "--secret", "id=api,env=PIER_TEST_API"]
            let built = build(daemon, context, ["-t", "secrets"] + secrets, environment: ["PIER_TEST_API": apiKey])
            #expect(built.status == 0, "\(built)")
            #expect(built.stdout.contains(BuildInputTests.sha256(token) + "  /run/secrets/token"), "\(built)")
            #expect(built.stdout.contains("default 400 0\n"))
            #expect(built.stdout.contains("custom 440 1000:1000\n"))
            #expect(built.stdout.contains(BuildInputTests.sha256(token) + "  /etc/app/key"))
            #expect(built.stdout.contains(BuildInputTests.sha256(apiKey) + "  -"))
            #expect(built.stdout.contains("no file for env\n"))
            #expect(built.stdout.contains("optional secret absent\n"))

            // Neither the files, their mount points, nor the variable are in the image.
            let ran = daemon.pier(["run", "--rm", "secrets"])
            #expect(ran.stdout.contains("ls: /run/secrets: No such file or directory"), "\(ran)")
            #expect(ran.stdout.contains("ls: /etc/app: No such file or directory"), "\(ran)")
            #expect(ran.stdout.hasSuffix("[]\n"), "\(ran)")
            let history = daemon.pier(["history", "--no-trunc", "--format", "{{.CreatedBy}}", "secrets"]).stdout
            #expect(history.contains("--mount=type=secret,id=token,target=/run/secrets/token /bin/sh -c sha256sum"), "\(history)")
            #expect(history.contains("--mount=type=secret,id=api,env=API_KEY "), "\(history)")
            // Nowhere under the daemon's root or in its log: not in a layer, a config, the cache, a spec left behind.
            BuildInputTests.waitForRunContainers(daemon)
            for value in [token, apiKey] {
                let found = run("/usr/bin/grep", ["-r", "-l", "-F", value, daemon.directory])
                #expect(found.status == 1, "the secret is written in \(found.stdout)")
            }

            // A new value does not rerun the steps (as BuildKit: the value is not in the key).
            try outside.write("token.txt", "rotated")
            let again = build(daemon, context, ["-t", "secrets"] + secrets, environment: ["PIER_TEST_API": "rotated"])
            #expect(again.status == 0, "\(again)")
            #expect(again.stdout.components(separatedBy: "Using cache").count - 1 == 5, "\(again)")

            // `id=NAME` alone: the variable NAME, else the file NAME.
            let bare = try Context(["Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=PIER_BARE,required wc -c < /run/secrets/PIER_BARE\n"])
            let fromVariable = build(daemon, bare, ["--secret", "id=PIER_BARE"], environment: ["PIER_BARE": "12345"])
            #expect(fromVariable.stdout.contains("\n5\n"), "\(fromVariable)")
            try outside.write("PIER_BARE", "123")
            let fromFile = run("/bin/sh", ["-c", "cd \"$1\" && shift && exec \"$@\"", "sh", outside.path, TestDaemon.pier,
                                           "build", "--progress=plain", "--no-cache", "--secret", "id=PIER_BARE", bare.path],
                               environment: daemon.environment)
            #expect(fromFile.stdout.contains("\n3\n"), "\(fromFile)")
        }
    }

    @Test func secretMistakesSayWhatIsWrong() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context(["Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=npmrc,required=true true\n"])
            let missing = build(daemon, context)
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("Dockerfile:2: secret npmrc is required but was not given: "
                                            + "pass it with pier build --secret id=npmrc,src=FILE"), "\(missing)")
            let noID = build(daemon, context, ["--secret", "src=/etc/hostname"])
            #expect(noID.stderr.contains("invalid --secret src=/etc/hostname: id is required"), "\(noID)")
            let unreadable = build(daemon, context, ["--secret", "id=npmrc,src=/nonexistent/npmrc"])
            #expect(unreadable.stderr.contains("secret npmrc: cannot read the file /nonexistent/npmrc"), "\(unreadable)")
            let unset = build(daemon, context, ["--secret", "id=npmrc,env=PIER_SURELY_UNSET"])
            #expect(unset.stderr.contains("secret npmrc: the environment variable PIER_SURELY_UNSET is not set"), "\(unset)")
            let large = try Context(["big": String(repeating: "x", count: 60_000)])
            let tooLarge = build(daemon, context, ["--secret", "id=npmrc,src=\(large.path)/big"])
            #expect(tooLarge.stderr.contains("the secrets are too large to send"), "\(tooLarge)")
            let badType = build(daemon, context, ["--secret", "id=npmrc,type=vault"])
            #expect(badType.stderr.contains("unsupported type \"vault\""), "\(badType)")
            try context.write("Dockerfile", "FROM busybox\nRUN true\nRUN --mount=type=ssh git clone git@example.com:x.git\n")
            let ssh = build(daemon, context)
            #expect(ssh.stderr.contains("Dockerfile:3: RUN --mount=type=ssh is not supported"), "\(ssh)")
        }
    }

    @Test func platformIsTheHostsOrAClearError() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let context = try Context([
                "Dockerfile": """
                FROM --platform=$BUILDPLATFORM busybox AS tools
                ARG TARGETPLATFORM
                ARG TARGETOS
                ARG TARGETARCH
                ARG TARGETVARIANT
                ARG BUILDPLATFORM
                ARG BUILDARCH
                RUN echo "target=$TARGETPLATFORM $TARGETOS $TARGETARCH [$TARGETVARIANT] build=$BUILDPLATFORM $BUILDARCH"
                FROM --platform=linux/x86_64 busybox
                COPY --from=tools /bin/busybox /tools/busybox
                """,
            ])
            let built = build(daemon, context, ["--platform", "linux/amd64", "-t", "platform"])
            #expect(built.status == 0, "\(built)")
            #expect(built.stdout.contains("target=linux/amd64 linux amd64 [] build=linux/amd64 amd64\n"), "\(built)")
            #expect(daemon.pier(["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", "platform"]).stdout == "linux/amd64\n")
            #expect(build(daemon, context, ["--platform", "x86_64"]).status == 0)

            let other = build(daemon, context, ["--platform", "linux/arm64"])
            #expect(other.status != 0)
            #expect(other.stderr.contains("--platform=linux/arm64: no emulation"), "\(other)")
            #expect(other.stderr.contains("can only build for linux/amd64, not linux/arm64"), "\(other)")
            let invalid = build(daemon, context, ["--platform", "linux//"])
            #expect(invalid.stderr.contains("--platform=linux//: invalid platform"), "\(invalid)")
            try context.write("Dockerfile", "FROM busybox\nRUN true\nFROM --platform=linux/arm/v7 busybox\n")
            let from = build(daemon, context)
            #expect(from.stderr.contains("Dockerfile:3: FROM --platform=linux/arm/v7: no emulation"), "\(from)")

            // The docker CLI sends --platform as the `platform` query parameter.
            try requirePeer("docker")
            var environment = daemon.environment
            environment["DOCKER_BUILDKIT"] = "0"
            try context.write("Dockerfile", "FROM --platform=$TARGETPLATFORM busybox\nRUN echo built\n")
            let docker = run("/usr/bin/env", ["docker", "build", "--platform", "linux/amd64", context.path], environment: environment)
            #expect(docker.status == 0, "\(docker)")
            let refused = run("/usr/bin/env", ["docker", "build", "--platform", "linux/s390x", context.path], environment: environment)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("no emulation"), "\(refused)")
        }
    }

    /// A repository served by `git daemon` on loopback for the length of a test.
    final class GitServer {
        let base: Context
        let port: Int
        let pid: pid_t

        init(_ files: [String: String], branches: [String: [String: String]] = [:], tag: String? = nil) throws {
            base = try Context([:])
            let work = base.path + "/work"
            func git(_ arguments: [String]) throws {
                let result = run("/usr/bin/env", ["git", "-C", work, "-c", "user.name=Pier", "-c", "user.email=pier@example.com"]
                                 + arguments)
                guard result.status == 0 else { throw TestFailure("git \(arguments): \(result)") }
            }
            for (name, contents) in files { try base.write("work/" + name, contents) }
            try git(["init", "-q", "-b", "main"])
            try git(["add", "-A"])
            try git(["commit", "-q", "-m", "first"])
            if let tag { try git(["tag", tag]) }
            for (branch, changes) in branches.sorted(by: { $0.key < $1.key }) {
                try git(["checkout", "-q", "-b", branch, "main"])
                for (name, contents) in changes { try base.write("work/" + name, contents) }
                try git(["add", "-A"])
                try git(["commit", "-q", "-m", branch])
            }
            try git(["checkout", "-q", "main"])
            let cloned = run("/usr/bin/env", ["git", "clone", "-q", "--bare", work, base.path + "/served/app.git"])
            guard cloned.status == 0 else { throw TestFailure("git clone --bare: \(cloned)") }
            port = Int.random(in: 20000...40000)
            // git-daemon itself, not `git daemon`: the `git` wrapper runs it as a child, which a kill
            // of the wrapper would leave running after the test.
            let execPath = run("/usr/bin/env", ["git", "--exec-path"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let pid = spawn(execPath + "/git-daemon", ["--export-all", "--base-path=\(base.path)/served",
                                                   "--listen=127.0.0.1", "--port=\(port)", "--reuseaddr", base.path + "/served"],
                                  environment: nil, stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null") else {
                throw TestFailure("cannot start git daemon")
            }
            self.pid = pid
            for _ in 0..<50 where run("/usr/bin/env", ["git", "ls-remote", url]).status != 0 { usleep(100_000) }
        }

        var url: String { "git://127.0.0.1:\(port)/app.git" }

        func commit(of ref: String) -> String {
            run("/usr/bin/env", ["git", "-C", base.path + "/served/app.git", "rev-parse", ref]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func stop() {
            kill(pid, SIGKILL)
            _ = waitForExit(pid)
        }
    }

    @Test func gitURLContextsAndADDSourcesAreClonedByPierd() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let server = try GitServer([
                "Dockerfile": "FROM busybox\nCOPY . /src\nCMD [\"sh\", \"-c\", \"cd /src && find . -type f | sort && cat version\"]\n",
                "version": "main\n",
                ".dockerignore": "notes.md\n",
                "notes.md": "not for the image\n",
                "web/Dockerfile": "FROM busybox\nCOPY page.html /www/\nCMD [\"cat\", \"/www/page.html\"]\n",
                "web/page.html": "<p>v1</p>\n",
            ], branches: ["feature": ["version": "feature\n", "web/page.html": "<p>feature</p>\n"]], tag: "v1")
            defer { server.stop() }

            let root = daemon.pier(["build", "-q", "-t", "from-git", server.url])
            #expect(root.status == 0, "\(root)")
            let files = daemon.pier(["run", "--rm", "from-git"])
            // No .git, nothing .dockerignore excludes.
            #expect(files.stdout == "./.dockerignore\n./Dockerfile\n./version\n./web/Dockerfile\n./web/page.html\nmain\n", "\(files)")

            let branch = daemon.pier(["build", "-q", "-t", "branch", server.url + "#feature:web"])
            #expect(branch.status == 0, "\(branch)")
            #expect(daemon.pier(["run", "--rm", "branch"]).stdout == "<p>feature</p>\n")
            let tag = daemon.pier(["build", "-q", "-t", "tag", server.url + "#v1:web"])
            #expect(tag.status == 0, "\(tag)")
            #expect(daemon.pier(["run", "--rm", "tag"]).stdout == "<p>v1</p>\n")
            let commit = daemon.pier(["build", "-q", "-t", "commit", server.url + "#" + server.commit(of: "feature")])
            #expect(commit.status == 0, "\(commit)")
            #expect(daemon.pier(["run", "--rm", "commit"]).stdout.hasSuffix("feature\n"))

            let unknownRef = daemon.pier(["build", server.url + "#nosuch"])
            #expect(unknownRef.status != 0)
            #expect(unknownRef.stderr.contains("Git context \(server.url): unknown ref nosuch"), "\(unknownRef)")
            let missingDirectory = daemon.pier(["build", server.url + "#main:nope"])
            #expect(missingDirectory.stderr.contains("Git context \(server.url): there is no directory nope in main"),
                    "\(missingDirectory)")
            let unreachable = daemon.pier(["build", "git://127.0.0.1:1/app.git"])
            #expect(unreachable.stderr.contains("Git context git://127.0.0.1:1/app.git: cannot fetch"), "\(unreachable)")
            let notGit = daemon.pier(["build", "https://127.0.0.1:1/context.tar"])
            #expect(notGit.status != 0, "\(notGit)")

            // ADD of a Git URL: the checkout of the ref (its subdirectory), without .git unless --keep-git-dir.
            let add = try Context([
                "Dockerfile": """
                FROM busybox
                ADD \(server.url)#v1:web /www/
                ADD --keep-git-dir=true \(server.url)#feature /repo
                CMD ["sh", "-c", "ls -A /www; cat /repo/version; test -d /repo/.git && echo has .git"]
                """,
            ])
            let added = daemon.pier(["build", "-q", "-t", "added", add.path])
            #expect(added.status == 0, "\(added)")
            #expect(daemon.pier(["run", "--rm", "added"]).stdout == "Dockerfile\npage.html\nfeature\nhas .git\n")
            try add.write("Dockerfile", "FROM busybox\nADD \(server.url)#nosuch /x\n")
            let addUnknown = daemon.pier(["build", add.path])
            #expect(addUnknown.stderr.contains("Dockerfile:2: ADD \(server.url)#nosuch: unknown ref nosuch"), "\(addUnknown)")
            try add.write("Dockerfile", "FROM busybox\nCOPY \(server.url) /x\n")
            let copy = daemon.pier(["build", add.path])
            #expect(copy.stderr.contains("Dockerfile:2: COPY \(server.url): COPY cannot fetch Git repositories; use ADD"), "\(copy)")

            // The docker CLI clones a Git context itself (the legacy builder's way) and sends a tar.
            try requirePeer("docker")
            var environment = daemon.environment
            environment["DOCKER_BUILDKIT"] = "0"
            let docker = run("/usr/bin/env", ["docker", "build", "-t", "docker-git", server.url + "#feature:web"],
                             environment: environment)
            #expect(docker.status == 0, "\(docker)")
            #expect(daemon.pier(["run", "--rm", "docker-git"]).stdout == "<p>feature</p>\n")
        }
    }
}
