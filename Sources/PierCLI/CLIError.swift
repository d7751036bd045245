import PierClient

/// A failure the CLI reports to the user and turns into an exit code, as docker does:
/// 1 for most errors, 125 for bad flags and engine errors of `run`.
struct CLIError: Error, CustomStringConvertible {
    let message: String
    let exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }

    /// How docker words an error the daemon returned.
    static func daemon(_ error: ClientError) -> CLIError {
        switch error.code {
        case .api: CLIError("Error response from daemon: \(error.message)")
        default: CLIError(error.message)
        }
    }
}
