import ArgumentParser

/// Docker's flag syntax (pflag's rules), for the commands on the hot path of `pier` (`run`,
/// `create`, `ps`), parsed from a table instead of by ArgumentParser.
///
/// ArgumentParser discovers a command's options by reflection the first time it parses in a
/// process: for any command that was 4 ms of the CLI's start-up on this machine, and 6 ms for
/// `run` with its ~50 options, a fifth of `pier run --rm busybox true`. A table of names and
/// closures costs almost nothing to set up (key paths would not: they are made at run time, 0.5 ms
/// for these tables). ArgumentParser still lists these commands in `pier --help`;
/// their own `--help`, errors and exit codes are Docker's, from here.
///
/// The rules: `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`; booleans take no
/// value (`--rm`, `--rm=false`) and cluster (`-it`, `-dit`, `-itp 80`); `--` ends the flags.
/// Commands that stop at their first positional (`run IMAGE COMMAND…`) pass everything after it on
/// untouched.
///
/// Immutable, and its closures capture only names, other immutable closures and (in `lifted`) a
/// key path: safe to share between threads.
struct FlagTable<Options>: @unchecked Sendable {
    struct Flag {
        let short: Character?
        let long: String
        let help: String
        /// pflag's type word in help (`string`, `list`, `int`); nil for a boolean.
        let valueType: String?
        let apply: (inout Options, String) throws -> Void
    }

    let flags: [Flag]

    init(_ flags: [Flag]) { self.flags = flags }

    /// Every name, long then short (`--detach`, `-d`): what shell completion offers after the command.
    var completionWords: [String] {
        flags.flatMap { flag in ["--" + flag.long] + (flag.short.map { ["-" + String($0)] } ?? []) }
    }

    /// This table's flags working on a part of a larger value (`run`'s flags include the
    /// container options it shares with `create`).
    func lifted<Outer>(_ path: WritableKeyPath<Outer, Options>) -> [FlagTable<Outer>.Flag] {
        flags.map { flag in
            FlagTable<Outer>.Flag(short: flag.short, long: flag.long, help: flag.help, valueType: flag.valueType) {
                try flag.apply(&$0[keyPath: path], $1)
            }
        }
    }
}

extension FlagTable.Flag {
    /// `names` as help shows them: `"-d, --detach"` or `"--rm"`.
    init(_ names: String, _ help: String, valueType: String?, apply: @escaping (inout Options, String) throws -> Void) {
        // By hand: `split(separator: ", ")` goes through _StringProcessing, slow on first use.
        let long = names.hasPrefix("--") ? names : String(names.drop { $0 != "," }.drop { $0 == "," || $0 == " " })
        self.short = names.hasPrefix("--") ? nil : names.dropFirst().first
        self.long = String(long.dropFirst(2))
        self.help = help
        self.valueType = valueType
        self.apply = apply
    }

    /// A boolean: `--rm`, `--rm=false`, `-d` (clusters with other letters: `-dit`).
    static func flag(_ names: String, _ help: String, _ set: @escaping (inout Options, Bool) -> Void) -> Self {
        Self(names, help, valueType: nil) { options, value in
            switch value {
            case "", "true", "1", "t", "T", "TRUE", "True": set(&options, true)
            case "false", "0", "f", "F", "FALSE", "False": set(&options, false)
            default: throw FlagError.invalid(value, names: names, problem: .notABoolean)
            }
        }
    }

    static func string(_ names: String, _ help: String, _ set: @escaping (inout Options, String) -> Void) -> Self {
        Self(names, help, valueType: "string") { set(&$0, $1) }
    }

    /// `-e NAME[=VALUE]`, checked as docker checks it: a variable needs a name.
    static func environment(_ names: String, _ help: String, _ add: @escaping (inout Options, String) -> Void) -> Self {
        Self(names, help, valueType: "list") { options, value in
            guard value.first != "=", !value.isEmpty else {
                throw FlagError.invalid(value, names: names, problem: .notAnEnvironmentVariable)
            }
            add(&options, value)
        }
    }

    /// A flag that may be given many times (`-e A=1 -e B=2`); `add` gets each value in turn.
    static func list(_ names: String, _ help: String, _ add: @escaping (inout Options, String) -> Void) -> Self {
        Self(names, help, valueType: "list") { add(&$0, $1) }
    }

    static func int<Number: FixedWidthInteger>(_ names: String, _ help: String,
                                               _ set: @escaping (inout Options, Number) -> Void) -> Self {
        Self(names, help, valueType: "int") { options, value in
            guard let number = Number(value) else {
                let digits = value.drop { $0 == "-" || $0 == "+" }
                let outOfRange = !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
                throw FlagError.invalid(value, names: names, problem: outOfRange ? .outOfRange : .notANumber)
            }
            set(&options, number)
        }
    }
}

/// A flag's value that is not of its type, worded as the docker CLI words it; `parse` adds
/// where to look for help.
struct FlagError: Error {
    enum Problem { case notABoolean, notANumber, outOfRange, notAnEnvironmentVariable }

    let message: String

    static func invalid(_ value: String, names: String, problem: Problem) -> FlagError {
        let detail = switch problem {
        case .notABoolean: "strconv.ParseBool: parsing \"\(value)\": invalid syntax"
        case .notANumber: "strconv.ParseInt: parsing \"\(value)\": invalid syntax"
        case .outOfRange: "strconv.ParseInt: parsing \"\(value)\": value out of range"
        case .notAnEnvironmentVariable: "invalid environment variable: \(value)"
        }
        return FlagError(message: "invalid argument \"\(value)\" for \"\(names)\" flag: \(detail)")
    }
}

/// How a command's positionals sit among its flags.
enum Positionals {
    /// Flags and positionals mix (`ps`, `rm a -f b`).
    case interspersed
    /// The first positional ends the flags (`run [OPTIONS] IMAGE [COMMAND] [ARG...]`).
    case stopAtFirst
}

/// A command whose flags `pier` parses itself with a `FlagTable`. ArgumentParser only routes to
/// it, passing every argument on, untouched, in `arguments`.
protocol FlagCommand: ParsableCommand {
    associatedtype Options
    /// The words after `pier` in usage and errors (`run`, `container ls`).
    static var commandPath: String { get }
    /// The rest of the usage line (`[OPTIONS] IMAGE [COMMAND] [ARG...]`).
    static var usage: String { get }
    static var table: FlagTable<Options> { get }
    static var positionals: Positionals { get }
    var arguments: [String] { get set }
}

extension FlagCommand {
    init(commandLine arguments: [String]) {
        self.init()
        self.arguments = arguments
    }

    /// `arguments` as this command's options and positionals. `-h`/`--help` among the flags
    /// prints the help and exits 0; a mistake throws docker's message and exit code 125.
    func parse(into options: Options, positionalCount: ClosedRange<Int>) throws -> (Options, [String]) {
        var options = options
        var positionals: [String] = []
        var index = arguments.startIndex
        func apply(_ flag: FlagTable<Options>.Flag, _ value: String) throws {
            do { try flag.apply(&options, value) } catch let error as FlagError { throw Self.mistake(error.message) }
        }
        func value(for name: String) throws -> String {
            index += 1
            guard index < arguments.endIndex else { throw Self.mistake("flag needs an argument: \(name)") }
            return arguments[index]
        }
        scan: while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == "--" {
                positionals += arguments[(index + 1)...]
                break scan
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = String(body.prefix { $0 != "=" })
                let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
                if name == "help" { throw CleanExit.message(Self.help) }
                guard let flag = Self.table.flags.first(where: { $0.long == name }) else {
                    throw Self.mistake("unknown flag: --\(name)")
                }
                try apply(flag, inline ?? (flag.valueType == nil ? "" : try value(for: "--\(name)")))
            } else if argument.hasPrefix("-"), argument.count > 1 {
                var rest = argument.dropFirst()
                while let letter = rest.first {
                    rest = rest.dropFirst()
                    if letter == "h" { throw CleanExit.message(Self.help) }
                    guard let flag = Self.table.flags.first(where: { $0.short == letter }) else {
                        // pflag names what is left of the cluster: `-dx` → 'x' in -x.
                        throw Self.mistake("unknown shorthand flag: '\(letter)' in -\(letter)\(rest)")
                    }
                    // pflag's rules: `-x=v` gives v only when something follows the `=`; a lone
                    // `=` is a boolean's next letter (an unknown one), and a value flag's value.
                    if rest.count > 1, rest.first == "=" {
                        try apply(flag, String(rest.dropFirst()))
                        break
                    }
                    if flag.valueType == nil {
                        try apply(flag, "")
                    } else {
                        try apply(flag, rest.isEmpty ? try value(for: "'\(letter)' in -\(letter)") : String(rest))
                        break
                    }
                }
            } else if Self.positionals == .stopAtFirst {
                positionals += arguments[index...]
                break scan
            } else {
                positionals.append(argument)
            }
            index += 1
        }
        guard positionalCount.contains(positionals.count) else {
            let wanted = positionalCount.upperBound == 0 ? "accepts no arguments"
                : positionalCount.upperBound == .max ? "requires at least \(positionalCount.lowerBound) argument"
                    + (positionalCount.lowerBound == 1 ? "" : "s")
                : "requires exactly \(positionalCount.lowerBound) argument" + (positionalCount.lowerBound == 1 ? "" : "s")
            throw CLIError("\"pier \(Self.commandPath)\" \(wanted).\nSee 'pier \(Self.commandPath) --help'.\n\n"
                           + "Usage:  pier \(Self.commandPath) \(Self.usage)\n\n\(Self.configuration.abstract)", exitCode: 125)
        }
        return (options, positionals)
    }

    static func mistake(_ message: String) -> CLIError {
        CLIError("\(message)\nSee 'pier \(commandPath) --help'.", exitCode: 125)
    }

    /// Docker's help layout: usage, what the command does, then the flags in two columns.
    static var help: String {
        let rows = (table.flags + [.init("-h, --help", "Print usage", valueType: nil) { _, _ in }])
            .sorted { $0.long < $1.long }
            .map { flag -> (String, String) in
                let names = (flag.short.map { "-\($0), " } ?? "    ") + "--" + flag.long
                return (names + (flag.valueType.map { " " + $0 } ?? ""), flag.help)
            }
        let width = rows.map(\.0.count).max() ?? 0
        let options = rows.map { "  " + $0.0 + String(repeating: " ", count: width + 3 - $0.0.count) + $0.1 }
        return "Usage:  pier \(commandPath) \(usage)\n\n\(configuration.abstract)\n\nOptions:\n" + options.joined(separator: "\n")
    }
}
