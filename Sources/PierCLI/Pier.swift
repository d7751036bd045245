import ArgumentParser
import Foundation

/// `pier`: Docker's commands, against pierd.
public struct Pier: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pier",
        abstract: "A container engine for Linux that speaks Docker.",
        version: "pier version \(PierVersionText.client)",
        subcommands: [
            ImageGroup.self, SystemGroup.self, RegistryGroup.self, NetworkGroup.self, VolumeGroup.self, PortCommand.self,
            Images.self, Tag.self, Rmi.self, Inspect.self, History.self, Import.self, Save.self, Load.self,
            Pull.self, Push.self, Login.self, Logout.self, Search.self,
            ContainerGroup.self, Run.self, Create.self, Start.self, Stop.self, Restart.self, Kill.self, Rm.self, Wait.self,
            Ps.self, Logs.self, Exec.self, Pause.self, Unpause.self, Rename.self, Top.self, Events.self, Stats.self, Copy.self, Attach.self,
            Build.self, BuilderGroup.self, Bootstrap.self, Version.self, Info.self,
        ])

    public init() {}

    /// Parses and runs, printing errors the way docker does and exiting with its codes.
    public static func runMain() -> Never {
        do {
            var command = try parseDirectly() ?? parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            // docker exits 125 for a flag it cannot parse.
            Foundation.exit(code == .validationFailure ? 125 : code.rawValue)
        }
    }
}

extension Pier {
    /// The command the arguments name, parsed by itself (`run …` as `Run`, `image ls …` as
    /// `ImageLs`). ArgumentParser's pass from the root reflects over the chosen command's whole
    /// argument table twice more on the way (for the root and for its passthrough check). Commands
    /// that parse their own flags (`FlagCommand`: `run`, `create`, `ps`) get every argument as it
    /// is, `--help` and mistakes included, and `help run` is `run --help`. For the others only a
    /// parse that succeeds is used; help, `--version`, mistakes and anything unusual get `nil`, and
    /// the full parse from the root then words them as it always has.
    static func parseDirectly(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> ParsableCommand? {
        guard let name = arguments.first, !name.hasPrefix("-") else { return nil }
        if name == "help" {
            return (resolve(arguments.dropFirst())?.command as? any FlagCommand.Type)?.init(commandLine: ["--help"])
        }
        guard let (command, rest) = resolve(arguments[...]) else { return nil }
        if let flagCommand = command as? any FlagCommand.Type { return flagCommand.init(commandLine: Array(rest)) }
        guard !rest.contains(where: { $0 == "--help" || $0 == "-h" || $0 == "--version" || $0 == "help" }) else {
            return nil
        }
        return try? command.parseAsRoot(Array(rest))
    }

    /// The command the leading words name (`run`, `image ls`) and the arguments after them.
    static func resolve(_ arguments: ArraySlice<String>) -> (command: ParsableCommand.Type, rest: ArraySlice<String>)? {
        // The commands that parse their own flags are found by their path: walking the
        // subcommand lists builds every earlier command's configuration on the way.
        for command in flagCommands {
            let path = command.commandPath.split(separator: " ")
            if arguments.count >= path.count, zip(arguments, path).allSatisfy({ $0 == $1 }) {
                return (command, arguments.dropFirst(path.count))
            }
        }
        guard let name = arguments.first, var command = subcommand(named: name, of: Pier.self) else { return nil }
        var rest = arguments.dropFirst()
        while !command.configuration.subcommands.isEmpty {
            guard let next = rest.first, let sub = subcommand(named: next, of: command) else { return nil }
            command = sub
            rest = rest.dropFirst()
        }
        return (command, rest)
    }

    /// The commands that parse Docker's flags from a table (Flags.swift).
    static let flagCommands: [any FlagCommand.Type] = [Run.self, Create.self, Ps.self, ContainerLs.self]

    static func subcommand(named name: String, of command: ParsableCommand.Type) -> ParsableCommand.Type? {
        command.configuration.subcommands.first { $0._commandName == name || $0.configuration.aliases.contains(name) }
    }
}

enum PierVersionText {
    static let client = "0.1.0"
}

struct ImageGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images",
        subcommands: [ImageLs.self, Tag.self, ImageRm.self, ImageInspect.self, History.self, ImagePrune.self,
                      Import.self, Save.self, Load.self, Pull.self, Push.self, Build.self])
}

struct SystemGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "system", abstract: "Manage Pier",
        subcommands: [SystemDF.self, SystemPrune.self, Info.self])
}
