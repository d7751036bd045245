import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// config.json comes from pierd, but nothing in it may crash the shim: a bad one is
/// refused before the shim detaches, with exit status 125 and a message on stderr.
@Suite("pier-shim config.json", .enabled(if: ContainerFixture.isRoot, "needs root"))
struct ShimConfigTests {
    struct BadConfig: CustomTestStringConvertible, Sendable {
        var name: String
        var json: String
        var message: String
        var testDescription: String { name }
    }

    static let deepNesting = String(repeating: "[", count: 100_000)

    @Test("malformed or incomplete config.json", arguments: [
        BadConfig(name: "empty", json: "", message: "invalid JSON: unexpected end of input at offset 0"),
        BadConfig(name: "truncated", json: #"{"process": {"args": ["sh""#, message: "invalid JSON"),
        BadConfig(name: "trailing garbage", json: "{} x", message: "invalid JSON: trailing characters"),
        BadConfig(name: "not an object", json: "[1,2]", message: "must hold a JSON object"),
        BadConfig(name: "deep nesting", json: deepNesting, message: "nesting too deep"),
        BadConfig(name: "NUL escape", json: #"{"root": {"path": "a\u0000b"}}"#, message: "NUL character in string"),
        BadConfig(name: "raw control character", json: "{\"root\": {\"path\": \"a\u{1}\"}}", message: "control character"),
        BadConfig(name: "bad number", json: #"{"x": -}"#, message: "bad number"),
        BadConfig(name: "no root", json: #"{"process": {"args": ["true"]}}"#, message: "root.path must be set"),
        BadConfig(name: "no process", json: #"{"root": {"path": "rootfs"}}"#, message: "process must be an object"),
        BadConfig(name: "empty args", json: #"{"root": {"path": "r"}, "process": {"args": []}}"#,
                  message: "process.args must name a command"),
        BadConfig(name: "args of numbers", json: #"{"root": {"path": "r"}, "process": {"args": [1]}}"#,
                  message: "process.args[0] must be a string"),
        BadConfig(name: "uid too large", json: #"{"root": {"path": "r"}, "process": {"args": ["a"], "user": {"uid": 1e99}}}"#,
                  message: "process.user.uid must be an integer"),
        BadConfig(name: "unknown capability",
                  json: #"{"root": {"path": "r"}, "process": {"args": ["a"], "capabilities": {"bounding": ["CAP_NOPE"]}}}"#,
                  message: "unknown capability CAP_NOPE"),
        BadConfig(name: "no mount namespace",
                  json: #"{"root": {"path": "r"}, "process": {"args": ["a"]}, "linux": {"namespaces": [{"type": "pid"}]}}"#,
                  message: "must include a mount namespace"),
        BadConfig(name: "unknown seccomp action",
                  json: #"{"root": {"path": "r"}, "process": {"args": ["a"]}, "linux": {"namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_MAYBE"}}}"#,
                  message: "action SCMP_ACT_MAYBE is not supported"),
    ])
    func refused(_ c: BadConfig) throws {
        let fixture = try ContainerFixture(["true"])
        defer { fixture.remove() }
        try Data(c.json.utf8).write(to: URL(fileURLWithPath: "\(fixture.directory)/bundle/config.json"))
        let launch = try fixture.launchShim(["run", "--bundle", "\(fixture.directory)/bundle", "--id", fixture.id])
        #expect(launch.status == 125)
        #expect(launch.stderr.hasPrefix("pier-shim: config.json: "), "\(launch.stderr)")
        #expect(launch.stderr.contains(c.message), "\(launch.stderr)")
        #expect(!fixture.fileExists("shim.pid"), "the shim did not detach")
    }

    @Test("invalid UTF-8 and odd escapes are read, not fatal")
    func oddStrings() throws {
        let fixture = try ContainerFixture(["echo"])
        defer { fixture.remove() }
        fixture.spec.process.args = ["echo", "caf\u{e9} \u{1F600} <&>"]
        let run = try fixture.run()
        #expect(run.stdout == "caf\u{e9} \u{1F600} <&>\n")
        // Go's escaping in the log: <, >, & as \u00XX.
        let raw = try String(contentsOfFile: "\(fixture.directory)/\(fixture.id)-json.log", encoding: .utf8)
        #expect(raw.contains(#"\u003c\u0026\u003e\n"#))
    }

    @Test("usage errors exit 125")
    func usage() throws {
        let fixture = try ContainerFixture(["true"])
        defer { fixture.remove() }
        for args in [[String](), ["run"], ["run", "--bundle", fixture.directory], ["frobnicate"],
                     ["run", "--bundle", fixture.directory, "--id", "../x"]] {
            let launch = try fixture.launchShim(args)
            #expect(launch.status == 125, "\(args)")
            #expect(launch.stderr.contains("usage:"), "\(args)")
        }
    }
}
