import PierOCI

/// How Docker combines the image's ENTRYPOINT/CMD/Env with the user's (moby `daemon/commit.go`
/// `merge`, `daemon/create.go`, `daemon/container.go` `getEntrypointAndArgs`,
/// `container.CreateDaemonEnvironment`, `ReplaceOrAppendEnvValues`).
public enum ProcessArguments {
    /// The argv a container runs: `entrypoint + cmd`, where an entrypoint the user set (even
    /// empty) discards the image's CMD, and `[""]` discards the image's ENTRYPOINT as well.
    public static func command(image: ContainerConfig, entrypoint: [String]?, cmd: [String]?) throws(RuntimeError) -> [String] {
        var entry = entrypoint
        var command = cmd
        if (entry ?? []).isEmpty {
            if (command ?? []).isEmpty { command = image.Cmd }
            if entry == nil { entry = image.Entrypoint }
        }
        if let e = entry, e.count == 1, e[0].isEmpty { entry = nil }
        let args = (entry ?? []) + (command ?? [])
        guard !args.isEmpty else {
            throw RuntimeError(.invalidArgument, "no command specified")
        }
        return args
    }

    /// The user's variables, then the image's that the user did not name (Docker's `merge`).
    public static func mergeConfigEnv(image: [String]?, user: [String]) -> [String] {
        guard !user.isEmpty else { return image ?? [] }
        let userKeys = Set(user.map(key))
        return user + (image ?? []).filter { !userKeys.contains(key($0)) }
    }

    /// The process environment: `PATH` (Docker's default), `HOSTNAME`, `TERM=xterm` with a
    /// terminal, overridden or extended by `configEnv`; `KEY` without `=` removes a default.
    /// `HOME` is appended from the passwd entry when nobody set it (runc does this at exec).
    public static func environment(configEnv: [String], hostname: String, tty: Bool, home: String?) -> [String] {
        var env = ["PATH=" + defaultPath, "HOSTNAME=" + hostname]
        if tty { env.append("TERM=xterm") }
        env = replaceOrAppend(defaults: env, overrides: configEnv)
        if let home, !env.contains(where: { key($0) == "HOME" }) {
            env.append("HOME=" + home)
        }
        return env
    }

    /// moby's `ReplaceOrAppendEnvValues`.
    public static func replaceOrAppend(defaults: [String], overrides: [String]) -> [String] {
        var result: [String?] = defaults
        var index = [String: Int]()
        for (i, entry) in defaults.enumerated() { index[key(entry)] = i }
        for value in overrides {
            guard value.contains("=") else {
                if let i = index[value] { result[i] = nil }
                continue
            }
            if let i = index[key(value)] {
                result[i] = value
            } else {
                index[key(value)] = result.count
                result.append(value)
            }
        }
        return result.compactMap { $0 }.filter { !$0.isEmpty }
    }

    /// Docker's default PATH for Linux containers.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func key(_ entry: String) -> String {
        guard let eq = entry.firstIndex(of: "=") else { return entry }
        return String(entry[..<eq])
    }
}
