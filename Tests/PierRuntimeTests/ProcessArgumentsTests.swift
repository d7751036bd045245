import PierOCI
import Testing
@testable import PierRuntime

@Suite("ENTRYPOINT, CMD and environment as Docker combines them")
struct ProcessArgumentsTests {
    struct CommandCase: Sendable, CustomTestStringConvertible {
        var name: String
        var imageEntrypoint: [String]?
        var imageCmd: [String]?
        var entrypoint: [String]?
        var cmd: [String]?
        var expected: [String]?   // nil: "no command specified"
        var testDescription: String { name }
    }

    static let nginx = (ep: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"])

    static let commandCases: [CommandCase] = [
        .init(name: "image CMD only", imageCmd: ["/bin/sh"], expected: ["/bin/sh"]),
        .init(name: "run image ls -l", imageCmd: ["/bin/sh"], cmd: ["ls", "-l"], expected: ["ls", "-l"]),
        .init(name: "image ENTRYPOINT + CMD", imageEntrypoint: nginx.ep, imageCmd: nginx.cmd,
              expected: nginx.ep + nginx.cmd),
        .init(name: "args replace CMD, keep ENTRYPOINT", imageEntrypoint: nginx.ep, imageCmd: nginx.cmd, cmd: ["bash"],
              expected: ["/docker-entrypoint.sh", "bash"]),
        .init(name: "--entrypoint drops the image CMD", imageEntrypoint: nginx.ep, imageCmd: nginx.cmd,
              entrypoint: ["sh"], expected: ["sh"]),
        .init(name: "--entrypoint with args", imageEntrypoint: nginx.ep, imageCmd: nginx.cmd,
              entrypoint: ["sh"], cmd: ["-c", "id"], expected: ["sh", "-c", "id"]),
        .init(name: "--entrypoint \"\" with args", imageEntrypoint: nginx.ep, imageCmd: nginx.cmd,
              entrypoint: [""], cmd: ["ls"], expected: ["ls"]),
        .init(name: "--entrypoint \"\" alone", imageEntrypoint: ["/entry"], entrypoint: [""], expected: nil),
        .init(name: "nothing at all", expected: nil),
        .init(name: "API Entrypoint [] keeps image CMD, drops image ENTRYPOINT", imageEntrypoint: ["/e"], imageCmd: ["c"],
              entrypoint: [], expected: ["c"]),
        .init(name: "API Cmd [] takes image CMD", imageEntrypoint: ["/e"], imageCmd: ["c"], cmd: [], expected: ["/e", "c"]),
        .init(name: "ENTRYPOINT only", imageEntrypoint: ["/bin/echo", "hi"], expected: ["/bin/echo", "hi"]),
    ]

    @Test(arguments: commandCases)
    func command(_ c: CommandCase) throws {
        var image = ContainerConfig()
        image.Entrypoint = c.imageEntrypoint
        image.Cmd = c.imageCmd
        if let expected = c.expected {
            #expect(try ProcessArguments.command(image: image, entrypoint: c.entrypoint, cmd: c.cmd) == expected)
        } else {
            let error = #expect(throws: RuntimeError.self) {
                try ProcessArguments.command(image: image, entrypoint: c.entrypoint, cmd: c.cmd)
            }
            #expect(error?.message == "no command specified")
            #expect(error?.code == .invalidArgument)
        }
    }

    struct EnvCase: Sendable, CustomTestStringConvertible {
        var name: String
        var image: [String]?
        var user: [String]
        var tty = false
        var expected: [String]
        var testDescription: String { name }
    }

    static let imageEnv = ["PATH=/usr/local/bin:/usr/bin", "LANG=C.UTF-8"]

    static let envCases: [EnvCase] = [
        .init(name: "image env", image: imageEnv, user: [],
              expected: ["PATH=/usr/local/bin:/usr/bin", "HOSTNAME=abc", "LANG=C.UTF-8", "HOME=/root"]),
        .init(name: "no PATH in the image", image: ["A=1"], user: [],
              expected: ["PATH=\(ProcessArguments.defaultPath)", "HOSTNAME=abc", "A=1", "HOME=/root"]),
        .init(name: "user overrides by key", image: imageEnv, user: ["LANG=fr_FR", "FOO=1"],
              expected: ["PATH=/usr/local/bin:/usr/bin", "HOSTNAME=abc", "LANG=fr_FR", "FOO=1", "HOME=/root"]),
        .init(name: "tty adds TERM", image: nil, user: [], tty: true,
              expected: ["PATH=\(ProcessArguments.defaultPath)", "HOSTNAME=abc", "TERM=xterm", "HOME=/root"]),
        .init(name: "user TERM and HOSTNAME win", image: nil, user: ["TERM=dumb", "HOSTNAME=x"], tty: true,
              expected: ["PATH=\(ProcessArguments.defaultPath)", "HOSTNAME=x", "TERM=dumb", "HOME=/root"]),
        .init(name: "KEY without = unsets", image: imageEnv, user: ["PATH"],
              expected: ["HOSTNAME=abc", "LANG=C.UTF-8", "HOME=/root"]),
        .init(name: "user HOME kept", image: nil, user: ["HOME=/srv"],
              expected: ["PATH=\(ProcessArguments.defaultPath)", "HOSTNAME=abc", "HOME=/srv"]),
    ]

    @Test(arguments: envCases)
    func environment(_ c: EnvCase) {
        let env = ProcessArguments.environment(configEnv: ProcessArguments.mergeConfigEnv(image: c.image, user: c.user),
                                               hostname: "abc", tty: c.tty, home: "/root")
        #expect(env == c.expected)
    }

    @Test(arguments: [
        ("SIGTERM", Int32(15)), ("TERM", 15), ("sigkill", 9), ("9", 9), ("SIGRTMIN+3", 37), ("RTMAX-1", 63), ("SIGUSR1", 10),
    ])
    func signals(_ name: String, _ number: Int32) throws {
        #expect(try Signals.parse(name) == number)
    }

    @Test(arguments: ["SIGFOO", "0", "", "RTMIN+20"])
    func badSignals(_ name: String) {
        let error = #expect(throws: RuntimeError.self) { try Signals.parse(name) }
        #expect(error?.message == "Invalid signal: \(name)")
    }
}
