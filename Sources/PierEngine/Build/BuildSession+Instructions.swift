import Foundation
import PierDockerfile
import PierOCI

/// The instructions that only change the image config, and the dispatch to RUN and COPY/ADD.
extension BuildSession {
    func execute(_ instruction: StageInstruction, run: inout StageRun) throws {
        let line = instruction.source.startLine
        let environment = run.environment
        let lexer = ShellLexer(escape: escape)
        func expand(_ word: String) throws -> String {
            do { return try lexer.expand(word, environment: environment) } catch {
                throw stepError(line, error.message)
            }
        }
        switch instruction.instruction {
        case .from:
            throw stepError(line, "FROM cannot appear inside a stage")
        case .arg(let arguments):
            for argument in arguments {
                shared.consume(argument.name)
                if let given = options.buildArgs[argument.name], let given {
                    run.arguments[argument.name] = given
                } else if let value = argument.defaultValue {
                    run.arguments[argument.name] = try expand(value)
                } else if let global = globalArguments[argument.name] {
                    run.arguments[argument.name] = global   // a global ARG, or a platform one (TARGETARCH …)
                }
            }
            try emit(" ---> \(run.id.shortID)\n")
        case .env(let pairs):
            var text: [String] = []
            var values: [(String, String)] = []
            for (key, value) in pairs {
                let expanded = try expand(value)
                values.append((key, expanded))
                text.append("\(key)=\(expanded)")
            }
            try commitStep(&run, createdBy: nop("ENV \(text.joined(separator: " "))"), layer: false) { state in
                var env = state.config.config?.Env ?? []
                for (key, value) in values {
                    env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
                    env.append("\(key)=\(value)")
                }
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.Env = env }
            }
        case .label(let pairs):
            var values: [(String, String)] = []
            for (key, value) in pairs { values.append((try expand(key), try expand(value))) }
            let text = values.map { "\(goQuoted($0.0))=\(goQuoted($0.1))" }.joined(separator: " ")
            try commitStep(&run, createdBy: nop("LABEL \(text)"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { config in
                    var labels = config.Labels ?? [:]
                    for (key, value) in values { labels[key] = value }
                    config.Labels = labels
                }
            }
        case .maintainer(let name):
            let author = try expand(name)
            try commitStep(&run, createdBy: nop("MAINTAINER \(author)"), layer: false) { $0.config.author = author }
        case .workdir(let path):
            var directory = try expand(path)
            if !directory.hasPrefix("/") { directory = (run.config.WorkingDir ?? "/") + "/" + directory }
            let cleaned = BuildSession.cleanAbsolute(directory)
            try commitStep(&run, createdBy: nop("WORKDIR \(cleaned)"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.WorkingDir = cleaned }
            }
        case .user(let user):
            let expanded = try expand(user)
            try commitStep(&run, createdBy: nop("USER \(expanded)"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.User = expanded }
            }
        case .cmd(let form):
            let command = shellCommand(form, run: run)
            run.setsCommand = true
            try commitStep(&run, createdBy: nop("CMD \(BuildSession.jsonArray(command))"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.Cmd = command }
            }
        case .entrypoint(let form):
            let command = shellCommand(form, run: run)
            let keepCommand = run.setsCommand
            try commitStep(&run, createdBy: nop("ENTRYPOINT \(BuildSession.jsonArray(command))"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { config in
                    config.Entrypoint = command
                    if !keepCommand { config.Cmd = nil }
                }
            }
        case .expose(let ports):
            var expanded: [String] = []
            for port in ports {
                for word in try expand(port).split(separator: " ") {
                    expanded += try BuildSession.exposedPorts(String(word), line: line)
                }
            }
            try commitStep(&run, createdBy: nop("EXPOSE \(expanded.joined(separator: " "))"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { config in
                    var map = config.ExposedPorts ?? [:]
                    for port in expanded { map[port] = EmptyObject() }
                    config.ExposedPorts = map
                }
            }
        case .volume(let paths):
            var expanded: [String] = []
            for path in paths {
                let value = try expand(path)
                guard !value.isEmpty else { throw stepError(line, "VOLUME specified can not be an empty string") }
                expanded.append(value)
            }
            try commitStep(&run, createdBy: nop("VOLUME \(BuildSession.jsonArray(expanded))"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { config in
                    var map = config.Volumes ?? [:]
                    for path in expanded { map[path] = EmptyObject() }
                    config.Volumes = map
                }
            }
        case .stopsignal(let signal):
            let expanded = try expand(signal)
            try commitStep(&run, createdBy: nop("STOPSIGNAL \(expanded)"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.StopSignal = expanded }
            }
        case .shell(let shell):
            try commitStep(&run, createdBy: nop("SHELL \(BuildSession.jsonArray(shell))"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.Shell = shell }
            }
        case .onbuild(let trigger):
            try commitStep(&run, createdBy: nop("ONBUILD \(trigger.expression)"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { config in
                    config.OnBuild = (config.OnBuild ?? []) + [trigger.expression]
                }
            }
        case .healthcheck(let check):
            var health = HealthcheckConfig(Test: check.test)
            if !check.disablesCheck {
                health.Interval = check.interval.map(BuildSession.nanoseconds)
                health.Timeout = check.timeout.map(BuildSession.nanoseconds)
                health.StartPeriod = check.startPeriod.map(BuildSession.nanoseconds)
                health.StartInterval = check.startInterval.map(BuildSession.nanoseconds)
                health.Retries = check.retries
            }
            let settled = health
            try commitStep(&run, createdBy: nop("HEALTHCHECK \(BuildSession.jsonArray(check.test))"), layer: false) { state in
                state.config.config = (state.config.config ?? ContainerConfig()).with { $0.Healthcheck = settled }
            }
        case .run(let instruction):
            try runStep(instruction, line: line, run: &run)
        case .copy(let copy):
            let request = CopyRequest(
                keyword: "COPY", sources: copy.sources, inlineFiles: copy.inlineFiles, destination: copy.destination,
                from: copy.from, chown: copy.chown, chmod: copy.chmod, unpacksArchives: false, exclude: copy.exclude,
                parents: copy.parents)
            try copyStep(request, line: line, run: &run)
        case .add(let add):
            let request = CopyRequest(
                keyword: "ADD", sources: add.sources, inlineFiles: add.inlineFiles, destination: add.destination,
                from: nil, chown: add.chown, chmod: add.chmod, unpacksArchives: add.unpack ?? true, exclude: add.exclude,
                checksum: add.checksum, keepGitDirectory: add.keepGitDir ?? false)
            try copyStep(request, line: line, run: &run)
        }
    }

    /// CMD/ENTRYPOINT/RUN arguments: exec form as written; shell form through the stage's SHELL.
    func shellCommand(_ form: CommandForm, run: StageRun) -> [String] {
        switch form {
        case .exec(let arguments): arguments
        case .shell(let command): (run.config.Shell ?? ["/bin/sh", "-c"]) + [command]
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    static func jsonArray(_ items: [String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(items)).map { String(decoding: $0, as: UTF8.self) } ?? "\(items)"
    }

    /// `80`, `80/udp`, `8000-8002/tcp` → `80/tcp` ... (Docker's nat.ParsePortSpecs for EXPOSE).
    static func exposedPorts(_ spec: String, line: Int) throws -> [String] {
        let parts = spec.split(separator: "/", maxSplits: 1)
        let proto = parts.count > 1 ? parts[1].lowercased() : "tcp"
        guard ["tcp", "udp", "sctp"].contains(proto), let range = parts.first else {
            throw stepError(line, "invalid proto: \(proto)")
        }
        let bounds = range.split(separator: "-", maxSplits: 1)
        guard let low = bounds.first.flatMap({ Int($0) }), let high = bounds.count > 1 ? Int(bounds[1]) : low,
              low <= high, high <= 65535 else {
            throw stepError(line, "invalid containerPort: \(range)")
        }
        return (low...high).map { "\($0)/\(proto)" }
    }

    /// `/a/./b/../c/` → `/a/c`.
    static func cleanAbsolute(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { _ = parts.popLast() } else { parts.append(part) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

extension ContainerConfig {
    /// A copy with `change` applied.
    func with(_ change: (inout ContainerConfig) -> Void) -> ContainerConfig {
        var copy = self
        change(&copy)
        return copy
    }
}
