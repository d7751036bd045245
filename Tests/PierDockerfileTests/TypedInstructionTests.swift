import PierDockerfile
import Testing

/// The typed layer: arguments interpreted, flags validated, instructions grouped in stages.
@Suite struct TypedInstructionTests {
    private func typed(_ line: String) throws -> TypedInstruction {
        let dockerfile = try Dockerfile(parsing: "FROM scratch\n" + line + "\n")
        return try TypedInstruction(dockerfile.instructions[1])
    }

    @Test func stagesGroupInstructions() throws {
        let dockerfile = try Dockerfile(parsing: """
            ARG VERSION=3.20
            ARG REGISTRY
            FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
            WORKDIR /src
            RUN go build -o /out/app .
            FROM alpine:${VERSION}
            COPY --from=build /out/app /usr/bin/app
            CMD ["app"]
            """)
        let build = try dockerfile.stages()
        #expect(build.globalArguments == [BuildArgument(name: "VERSION", defaultValue: "3.20"),
                                          BuildArgument(name: "REGISTRY")])
        #expect(build.stages.count == 2)
        #expect(build.stages[0].name == "build")
        #expect(build.stages[0].platform == "$BUILDPLATFORM")
        #expect(build.stages[0].baseImage == "golang:1.22")
        #expect(build.stages[0].instructions.count == 2)
        #expect(build.stages[1].name == nil)
        #expect(build.stages[1].baseImage == "alpine:${VERSION}")
        #expect(build.stages[1].instructions.map(\.source.startLine) == [7, 8])
        #expect(build.stage(named: "BUILD")?.baseImage == "golang:1.22")
        #expect(build.stage(named: "1")?.baseImage == "alpine:${VERSION}")
    }

    @Test func copyFlags() throws {
        let instruction = try typed(
            "COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=.git a b /dst/")
        guard case .copy(let copy) = instruction else {
            Issue.record("expected COPY, got \(instruction)")
            return
        }
        #expect(copy == CopyInstruction(sources: ["a", "b"], destination: "/dst/", from: "build", chown: "app:app",
                                        chmod: "0755", link: true, parents: true, exclude: ["*.md", ".git"]))
    }

    @Test func copyFromHeredoc() throws {
        let dockerfile = try Dockerfile(parsing: "FROM a\nCOPY <<-EOF <<'RAW' /etc/\n\tx=$Y\n\tEOF\n$Z\nRAW\n")
        guard case .copy(let copy) = try TypedInstruction(dockerfile.instructions[1]) else {
            Issue.record("expected COPY")
            return
        }
        #expect(copy.sources.isEmpty)
        #expect(copy.inlineFiles == [InlineFile(name: "EOF", content: "x=$Y\n", expand: true),
                                     InlineFile(name: "RAW", content: "$Z\n", expand: false)])
        #expect(copy.destination == "/etc/")
    }

    @Test func addFlags() throws {
        let instruction = try typed(
            "ADD --checksum=sha256:abc --keep-git-dir=false --unpack --link https://x/y.tgz /opt/")
        guard case .add(let add) = instruction else {
            Issue.record("expected ADD, got \(instruction)")
            return
        }
        #expect(add == AddInstruction(sources: ["https://x/y.tgz"], destination: "/opt/", link: true,
                                      keepGitDir: false, checksum: "sha256:abc", unpack: true))
    }

    @Test func runFlagsAndMounts() throws {
        let instruction = try typed(
            "RUN --mount=type=cache,target=/root/.cache,sharing=locked --mount=type=secret,id=npm,required "
                + "--network=none --security=insecure make")
        guard case .run(let run) = instruction else {
            Issue.record("expected RUN, got \(instruction)")
            return
        }
        #expect(run.command == .shell("make"))
        #expect(run.network == .none)
        #expect(run.security == .insecure)
        let mounts = try run.mounts()
        #expect(mounts.count == 2)
        #expect(mounts[0].type == .cache)
        #expect(mounts[0].target == "/root/.cache")
        #expect(mounts[0].sharing == .locked)
        #expect(mounts[0].readOnly == false)
        #expect(mounts[1].type == .secret)
        #expect(mounts[1].id == "npm")
        #expect(mounts[1].required)
        #expect(mounts[1].readOnly)
    }

    @Test func mountValuesAreExpandedAtBuildTime() throws {
        guard case .run(let run) = try typed("RUN --mount=type=$KIND,target=$DIR,size=64m true") else {
            Issue.record("expected RUN")
            return
        }
        let lexer = ShellLexer()
        let environment = ["KIND": "tmpfs", "DIR": "/scratch"]
        let mounts = try run.mounts { (value: String) throws(DockerfileError) -> String in
            try lexer.expand(value, environment: environment)
        }
        #expect(mounts.first?.type == .tmpfs)
        #expect(mounts.first?.target == "/scratch")
        #expect(mounts.first?.sizeLimit == Int64(64 * 1024 * 1024))
    }

    @Test func commandForms() throws {
        guard case .cmd(let shell) = try typed("CMD echo $HOME"),
              case .entrypoint(let exec) = try typed("ENTRYPOINT [\"/bin/app\", \"--serve\"]"),
              case .shell(let shellCommand) = try typed("SHELL [\"/bin/bash\", \"-eo\", \"pipefail\", \"-c\"]") else {
            Issue.record("unexpected instruction kinds")
            return
        }
        #expect(shell == .shell("echo $HOME"))
        #expect(exec == .exec(["/bin/app", "--serve"]))
        #expect(shellCommand == ["/bin/bash", "-eo", "pipefail", "-c"])
    }

    @Test func keyValueInstructions() throws {
        guard case .env(let env) = try typed("ENV A=1 B=\"two words\""),
              case .label(let labels) = try typed("LABEL maintainer me@example.com"),
              case .arg(let arguments) = try typed("ARG A B=2") else {
            Issue.record("unexpected instruction kinds")
            return
        }
        #expect(env.map(\.key) == ["A", "B"])
        #expect(env.map(\.value) == ["1", "\"two words\""])
        #expect(labels.map(\.key) == ["maintainer"])
        #expect(labels.map(\.value) == ["me@example.com"])
        #expect(arguments == [BuildArgument(name: "A"), BuildArgument(name: "B", defaultValue: "2")])
    }

    @Test func healthcheck() throws {
        guard case .healthcheck(let check) = try typed(
                "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=500ms --retries=3 CMD curl -f localhost"),
              case .healthcheck(let exec) = try typed("HEALTHCHECK CMD [\"/bin/check\"]"),
              case .healthcheck(let none) = try typed("HEALTHCHECK NONE") else {
            Issue.record("expected HEALTHCHECK")
            return
        }
        #expect(check == HealthcheckInstruction(test: ["CMD-SHELL", "curl -f localhost"], interval: .seconds(30),
                                                timeout: .seconds(90), startPeriod: .milliseconds(500), retries: 3))
        #expect(exec.test == ["CMD", "/bin/check"])
        #expect(none.disablesCheck)
    }

    @Test func onbuildKeepsTheTriggerText() throws {
        guard case .onbuild(let onbuild) = try typed("onbuild  COPY . /app") else {
            Issue.record("expected ONBUILD")
            return
        }
        #expect(onbuild.expression == "COPY . /app")
        #expect(onbuild.trigger.keyword == "copy")
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let dockerfile: String
        let code: DockerfileError.Code
        let description: String
        var testDescription: String { description }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(dockerfile: "FROM a\nENV a=1\nENV =x\n", code: .invalidArguments,
                  description: "Dockerfile:3: ENV names can not be blank"),
        ErrorCase(dockerfile: "FROM a\n\n\nCOPY --frm=build a b\n", code: .invalidFlag,
                  description: "Dockerfile:4: unknown flag: --frm (did you mean --from?)"),
        ErrorCase(dockerfile: "FROM a\nCOPY --from a b\n", code: .invalidFlag,
                  description: "Dockerfile:2: missing a value on flag: --from"),
        ErrorCase(dockerfile: "FROM a\nCOPY --link=maybe a b\n", code: .invalidFlag,
                  description: "Dockerfile:2: expecting boolean value for flag --link, not: maybe"),
        ErrorCase(dockerfile: "FROM a\nCOPY --from=x --from=y a b\n", code: .invalidFlag,
                  description: "Dockerfile:2: duplicate flag specified: --from"),
        ErrorCase(dockerfile: "FROM a\nCOPY onlyone\n", code: .invalidArguments,
                  description: "Dockerfile:2: COPY requires at least two arguments, but only one was provided. "
                      + "Destination could not be determined"),
        ErrorCase(dockerfile: "FROM a\nRUN --network=bridge x\n", code: .invalidFlag,
                  description: "Dockerfile:2: invalid network mode \"bridge\" (use default, none or host)"),
        ErrorCase(dockerfile: "FROM a\nRUN --mount=type=nfs,target=/x x\n", code: .invalidFlag,
                  description: "Dockerfile:2: --mount=type=nfs,target=/x: unsupported mount type \"nfs\" "
                      + "(use one of bind, cache, tmpfs, secret, ssh)"),
        ErrorCase(dockerfile: "FROM a\nRUN --mount=from=$STAGE,target=/x x\n", code: .invalidFlag,
                  description: "Dockerfile:2: --mount=from=$STAGE,target=/x: 'from' doesn't support variable "
                      + "expansion, define alias stage instead"),
        ErrorCase(dockerfile: "FROM a AS 1st\n", code: .invalidArguments,
                  description: "Dockerfile:1: invalid name for build stage: \"1st\", "
                      + "name can't start with a number or contain symbols"),
        ErrorCase(dockerfile: "FROM a b\n", code: .invalidArguments,
                  description: "Dockerfile:1: FROM requires either one or three arguments (FROM image [AS name])"),
        ErrorCase(dockerfile: "FROM a AS x\nFROM b AS X\n", code: .invalidArguments,
                  description: "Dockerfile:2: duplicate stage name \"x\""),
        ErrorCase(dockerfile: "RUN x\nFROM a\n", code: .noBuildStage,
                  description: "Dockerfile:1: no build stage in current context (RUN before the first FROM; "
                      + "only ARG may come first)"),
        ErrorCase(dockerfile: "FROM a\nSHELL /bin/bash -c\n", code: .invalidArguments,
                  description: "Dockerfile:2: SHELL requires the arguments to be in JSON form, "
                      + "e.g. SHELL [\"/bin/bash\", \"-c\"]"),
        ErrorCase(dockerfile: "FROM a\nWORKDIR\n", code: .invalidArguments,
                  description: "Dockerfile:2: WORKDIR requires exactly one argument"),
        ErrorCase(dockerfile: "FROM a\nONBUILD FROM b\n", code: .invalidArguments,
                  description: "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ErrorCase(dockerfile: "FROM a\nHEALTHCHECK CONNECT TCP 7000\n", code: .invalidArguments,
                  description: "Dockerfile:2: Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)"),
        ErrorCase(dockerfile: "FROM a\nHEALTHCHECK --interval=1us CMD true\n", code: .invalidFlag,
                  description: "Dockerfile:2: Interval \"interval\" cannot be less than 1ms"),
        ErrorCase(dockerfile: "FROM a\nCOPY a <<EOF\nx\nEOF\n", code: .invalidArguments,
                  description: "Dockerfile:2: COPY cannot accept a heredoc as a destination"),
    ]

    @Test(arguments: errorCases)
    func errors(_ testCase: ErrorCase) {
        #expect {
            try Dockerfile(parsing: testCase.dockerfile).stages()
        } throws: { error in
            guard let error = error as? DockerfileError else { return false }
            return error.code == testCase.code && error.description == testCase.description
        }
    }

    /// Every corpus Dockerfile whose instructions BuildKit's typed layer accepts goes through
    /// ours too (the rest use flags or HEALTHCHECK types that only the raw parser accepts).
    @Test(arguments: ParserConformanceTests.positiveCases.filter { !["flags", "health"].contains($0) })
    func corpusInterprets(_ name: String) throws {
        let source = try Conformance.text("dockerfile-parser/positive/\(name)/Dockerfile")
        let dockerfile = try Dockerfile(parsing: source)
        for instruction in dockerfile.instructions {
            _ = try TypedInstruction(instruction)
        }
    }
}
