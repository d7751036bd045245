import ArgumentParser
import Testing
@testable import PierCLI

/// Docker's flag syntax as `run`, `create` and `ps` parse it (Flags.swift).
@Suite struct FlagTests {
    func parseRun(_ arguments: [String]) throws -> (Run.Options, [String]) {
        try Run(commandLine: arguments).parse(into: Run.Options(), positionalCount: 1...Int.max)
    }

    @Test func valuesInEveryForm() throws {
        let (flags, positionals) = try parseRun(["-e", "A", "-eB", "-e=C", "--env", "D", "--env=E", "--name=web", "-c", "512",
                                            "--stop-timeout=7", "-m", "1g", "busybox"])
        #expect(flags.container.env == ["A", "B", "C", "D", "E"])
        #expect(flags.container.name == "web")
        #expect(flags.container.cpuShares == 512)
        #expect(flags.container.stopTimeout == 7)
        #expect(flags.container.memory == "1g")
        #expect(positionals == ["busybox"])
    }

    @Test func booleansClusterAndTakeOnlyInlineValues() throws {
        let (flags, _) = try parseRun(["-dit", "-Pp8080:80", "--rm=false", "--init", "busybox"])
        #expect(flags.detach && flags.container.interactive && flags.container.tty && flags.container.publishAll)
        #expect(flags.container.publish == ["8080:80"])
        #expect(!flags.rm)
        #expect(flags.container.`init`)
        let (again, positionals) = try parseRun(["--rm", "true"])
        #expect(again.rm)
        #expect(positionals == ["true"], "a boolean never takes the next argument")
    }

    @Test func theFirstPositionalEndsRunsFlags() throws {
        let (flags, positionals) = try parseRun(["--rm", "busybox", "ls", "-l", "--rm", "--help", "-d"])
        #expect(flags.rm && !flags.detach)
        #expect(positionals == ["busybox", "ls", "-l", "--rm", "--help", "-d"])
        let (_, afterTerminator) = try parseRun(["--", "-image-", "x"])
        #expect(afterTerminator == ["-image-", "x"])
        let (withValue, rest) = try parseRun(["--name", "-dash-", "--entrypoint", "", "busybox"])
        #expect(withValue.container.name == "-dash-", "a flag's value may start with a dash")
        #expect(withValue.container.entrypoint == "")
        #expect(rest == ["busybox"])
    }

    @Test func psTakesFlagsAnywhereAndNoArguments() throws {
        let (arguments, _) = try Ps(commandLine: ["-a", "--format", "{{.ID}}", "-n", "3", "--filter", "status=exited"])
            .parse(into: PsArguments(), positionalCount: 0...0)
        #expect(arguments.all && arguments.format == "{{.ID}}" && arguments.last == 3 && arguments.filter == ["status=exited"])
        let error = #expect(throws: CLIError.self) {
            try Ps(commandLine: ["-a", "stray"]).parse(into: PsArguments(), positionalCount: 0...0)
        }
        #expect(error?.message == "\"pier ps\" accepts no arguments.\nSee 'pier ps --help'.\n\nUsage:  pier ps [OPTIONS]\n\nList containers")
        #expect(error?.exitCode == 125)
    }

    static let mistakeCases: [([String], String)] = [
        (["--bogus", "busybox"], "unknown flag: --bogus"),
        (["-x", "busybox"], "unknown shorthand flag: 'x' in -x"),
        (["-dx", "busybox"], "unknown shorthand flag: 'x' in -x"),
        (["-dxi", "busybox"], "unknown shorthand flag: 'x' in -xi"),
        (["--name"], "flag needs an argument: --name"),
        (["-e"], "flag needs an argument: 'e' in -e"),
        (["--stop-timeout", "soon", "busybox"],
         "invalid argument \"soon\" for \"--stop-timeout\" flag: strconv.ParseInt: parsing \"soon\": invalid syntax"),
        (["-c", "99999999999999999999", "busybox"],
         "invalid argument \"99999999999999999999\" for \"-c, --cpu-shares\" flag: strconv.ParseInt: parsing "
            + "\"99999999999999999999\": value out of range"),
        (["-d=maybe", "busybox"],
         "invalid argument \"maybe\" for \"-d, --detach\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"),
        // pflag: a lone `=` after a letter is the value of a value flag, and the next letter after a boolean.
        (["-e=", "busybox"], "invalid argument \"=\" for \"-e, --env\" flag: invalid environment variable: ="),
        (["--env=", "busybox"], "invalid argument \"\" for \"-e, --env\" flag: invalid environment variable: "),
        (["-e", "=1", "busybox"], "invalid argument \"=1\" for \"-e, --env\" flag: invalid environment variable: =1"),
        (["-d=", "busybox"], "unknown shorthand flag: '=' in -="),
    ]

    @Test("mistakes get docker's words and exit code 125", arguments: mistakeCases)
    func mistakes(_ arguments: [String], _ message: String) {
        let error = #expect(throws: CLIError.self) { try parseRun(arguments) }
        #expect(error?.message == message + "\nSee 'pier run --help'.")
        #expect(error?.exitCode == 125)
    }

    @Test func noImage() {
        let error = #expect(throws: CLIError.self) { try parseRun(["--rm"]) }
        #expect(error?.message.hasPrefix("\"pier run\" requires at least 1 argument.\nSee 'pier run --help'.") == true)
    }

    @Test func helpListsEveryFlagOnce() throws {
        for help in [["--help"], ["-h"], ["-dh"], ["--rm", "--help", "busybox"]] {
            let error = #expect(throws: CleanExit.self) { try parseRun(help) }
            #expect(error.map { Pier.fullMessage(for: $0) } == Run.help)
        }
        let lines = Run.help.split(separator: "\n")
        #expect(lines.first == "Usage:  pier run [OPTIONS] IMAGE [COMMAND] [ARG...]")
        for flag in Run.table.flags {
            #expect(lines.filter { $0.contains("--\(flag.long) ") || $0.hasSuffix("--\(flag.long)") }.count == 1, "--\(flag.long)")
        }
        #expect(lines.contains { $0.hasPrefix("  -e, --env list ") && $0.hasSuffix("Set environment variables") })
    }

    @Test("every name is taken once", arguments: [Run.table.flags.map { ($0.short, $0.long) },
                                                 Create.table.flags.map { ($0.short, $0.long) },
                                                 PsArguments.table.flags.map { ($0.short, $0.long) }])
    func uniqueNames(_ names: [(Character?, String)]) {
        #expect(Set(names.map(\.1)).count == names.count)
        let shorts = names.compactMap(\.0) + ["h"]
        #expect(Set(shorts).count == shorts.count)
    }

    /// Each container flag sets the field its name says (`--dns-search` sets `dnsSearch`), and only it.
    @Test func eachFlagSetsItsOwnField() throws {
        func fields(_ options: ContainerOptions) -> [String: String] {
            Dictionary(uniqueKeysWithValues: Mirror(reflecting: options).children.map { ($0.label!, "\($0.value)") })
        }
        let defaults = fields(ContainerOptions())
        for flag in ContainerOptions.table.flags {
            var options = ContainerOptions()
            try flag.apply(&options, flag.valueType == nil ? "" : "1")
            let changed = fields(options).filter { defaults[$0.key] != $0.value }.map(\.key)
            let words = flag.long.split(separator: "-")
            let expected = String(words[0]) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            #expect(changed == [expected], "--\(flag.long)")
        }
    }

    /// Shell completion offers the table's flags after `run`, `create` and `ps`.
    @Test func completionOffersTheTablesFlags() {
        #expect(Run.table.completionWords.starts(with: ["--host", "-H", "--detach", "-d", "--rm"]))
        #expect(Ps.table.completionWords.contains("--no-trunc"))
        for shell in [CompletionShell.bash, .zsh, .fish] {
            let script = Pier.completionScript(for: shell)
            for word in ["--publish-all", "--health-start-period", "--no-trunc"] {
                #expect(script.contains(word), "\(shell): \(word)")
            }
        }
    }
}
