import ArgumentParser
import Testing
@testable import PierCLI

/// `Pier.parseDirectly` parses the named command by itself; whatever it accepts must come out as
/// the full parse from the root makes it, and whatever it declines goes to that full parse.
@Suite struct DirectParseTests {
    static let accepted: [[String]] = [
        ["run", "--rm", "--network", "none", "busybox", "true"],
        ["run", "-d", "--name", "web", "-p", "8080:80", "-e", "A=1", "busybox", "sh", "-c", "echo -n hi"],
        ["create", "--rm", "busybox"],
        ["ps", "-a", "--format", "{{.Names}}"],
        ["image", "ls", "-q"],
        ["container", "rm", "-f", "a", "b"],
        ["network", "ls"],
        ["images"],
    ]

    @Test("the same command value as the full parse", arguments: accepted)
    func sameAsTheFullParse(_ arguments: [String]) throws {
        let direct = try #require(Pier.parseDirectly(arguments), "declined \(arguments)")
        let full = try Pier.parseAsRoot(arguments)
        #expect(type(of: direct) == type(of: full))
        #expect(String(describing: direct) == String(describing: full))
    }

    static let declined: [[String]] = [
        [],
        ["--version"],
        ["help", "images"],
        ["images", "--help"],
        ["images", "--bogus"],
        ["image"],
        ["image", "nosuch"],
        ["nosuch"],
        ["-H", "unix:///x", "ps"],
    ]

    @Test("help, versions, mistakes and groups without a command go to the full parse", arguments: declined)
    func declines(_ arguments: [String]) {
        #expect(Pier.parseDirectly(arguments) == nil)
    }

    static let flagCommands: [([String], [String])] = [
        (["run", "--help"], ["--help"]),
        (["run", "busybox", "ls", "-h"], ["busybox", "ls", "-h"]),
        (["run", "--bogus", "busybox"], ["--bogus", "busybox"]),
        (["run"], []),
        (["container", "run", "-d", "busybox"], ["-d", "busybox"]),
        (["container", "ls", "-a"], ["-a"]),
        (["help", "run"], ["--help"]),
        (["help", "container", "ls"], ["--help"]),
    ]

    @Test("commands that parse their own flags get every argument as given", arguments: flagCommands)
    func flagCommandsGetTheirArguments(_ arguments: [String], _ expected: [String]) throws {
        let command = try #require(Pier.parseDirectly(arguments) as? any FlagCommand)
        #expect(command.arguments == expected)
    }
}
