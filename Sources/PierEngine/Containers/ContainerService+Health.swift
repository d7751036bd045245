import Foundation
import PierAPI
import PierOCI
import PierRuntime

/// Health checks (`HEALTHCHECK`, `--health-*`): while a container runs, a probe runs inside it
/// every interval through the exec path; its exit code decides `State.Health`. As Docker: the
/// first probe comes one interval after start (the start interval during the start period),
/// failures in the start period do not count, `Retries` consecutive failures make a container
/// `unhealthy`, one success makes it `healthy`, and the last five probes are kept.
extension ContainerService {
    /// Docker's defaults, in nanoseconds.
    static let defaultHealthInterval: Int64 = 30_000_000_000
    static let defaultHealthTimeout: Int64 = 30_000_000_000
    static let defaultHealthStartInterval: Int64 = 5_000_000_000
    static let defaultHealthRetries = 3
    /// Output kept per probe, as Docker.
    static let healthOutputLimit = 4096

    /// The probe command of a health check, or nil when there is none (`NONE`, empty).
    static func healthCommand(_ config: HealthcheckConfig?) -> [String]? {
        guard let test = config?.Test, let kind = test.first else { return nil }
        switch kind {
        case "CMD": return test.count > 1 ? Array(test.dropFirst()) : nil
        case "CMD-SHELL": return test.count > 1 ? ["/bin/sh", "-c", test.dropFirst().joined(separator: " ")] : nil
        default: return nil
        }
    }

    /// Starts the health monitor of a container that has just started (or that pierd found
    /// running after a restart, `resumed`): one thread that lives as long as this run does.
    func watchHealth(_ id: String, resumed: Bool = false) {
        guard let record = store.get(id), let command = ContainerService.healthCommand(record.config.Healthcheck) else { return }
        let run = record.state.startedAt
        if !resumed || record.state.health == nil {
            _ = try? store.update(id, durable: false) { $0.state.health = HealthState(Status: "starting") }
        }
        let config = record.config.Healthcheck ?? HealthcheckConfig()
        func positive(_ value: Int64?, _ fallback: Int64) -> Int64 { (value ?? 0) > 0 ? value! : fallback }
        let interval = positive(config.Interval, ContainerService.defaultHealthInterval)
        let timeout = positive(config.Timeout, ContainerService.defaultHealthTimeout)
        let startInterval = positive(config.StartInterval, ContainerService.defaultHealthStartInterval)
        let startPeriod = max(0, config.StartPeriod ?? 0)
        let retries = (config.Retries ?? 0) > 0 ? config.Retries! : ContainerService.defaultHealthRetries
        let started = Double(Timestamp.parse(run) ?? Int64(Date().timeIntervalSince1970))
        Thread.detachNewThread { [self] in
            while true {
                let inStartPeriod = Date().timeIntervalSince1970 - started < Double(startPeriod) / 1e9
                let wait = inStartPeriod && startPeriod > 0 ? min(startInterval, interval) : interval
                usleep(useconds_t(min(Int64(UInt32.max / 2), wait / 1000)))
                // Stop with this run: a restart starts a new monitor.
                guard let current = store.get(id), current.state.startedAt == run,
                      current.state.status == .running || current.state.status == .paused else { return }
                if current.state.status == .paused { continue }
                let entry = probe(id, command: command, timeout: timeout)
                let stillStarting = Date().timeIntervalSince1970 - started < Double(startPeriod) / 1e9
                var changed: (from: String, to: String)?
                _ = try? store.update(id, durable: false) { record in
                    // A probe that ended with the container (or its run) says nothing about its health.
                    guard record.state.startedAt == run, record.state.status == .running else { return }
                    var health = record.state.health ?? HealthState(Status: "starting")
                    let before = health.Status
                    health.Log = Array((health.Log + [entry]).suffix(5))
                    if entry.ExitCode == 0 {
                        health.Status = "healthy"
                        health.FailingStreak = 0
                    } else if !(stillStarting && health.Status == "starting") {
                        health.FailingStreak += 1
                        if health.FailingStreak >= retries { health.Status = "unhealthy" }
                    }
                    if health.Status != before { changed = (before, health.Status) }
                    record.state.health = health
                }
                if let changed {
                    logger.info("health status changed", metadata: [
                        "id": "\(String(id.prefix(12)))", "from": "\(changed.from)", "to": "\(changed.to)"])
                    if let record = store.get(id) { emit(record, "health_status: \(changed.to)") }
                }
            }
        }
    }

    /// Runs one probe as an exec in the container and reports it as Docker's log entry.
    func probe(_ id: String, command: [String], timeout: Int64) -> HealthLogEntry {
        let start = Timestamp.now()
        var request = ExecCreateRequest(Cmd: command)
        request.AttachStdout = true
        request.AttachStderr = true
        let box = ProbeConnection()
        let execID: String
        do {
            execID = try createExec(id, request)
            try startExec(execID) { files in box.connection = try AttachConnection.connect(files) }
        } catch {
            return HealthLogEntry(Start: start, End: Timestamp.now(), ExitCode: -1, Output: "\(error)")
        }
        defer { forgetExec(execID, container: id) }
        let deadline = Date().addingTimeInterval(Double(timeout) / 1e9)
        var output: [UInt8] = []
        var timedOut = false
        if let connection = box.connection {
            defer { connection.close() }
            var buffer = [UInt8](repeating: 0, count: 16384)
            while true {
                let remaining = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
                var poller = pollfd(fd: connection.fileDescriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, remaining)
                if ready == 0 { timedOut = true; break }
                if ready < 0 { if errno == EINTR { continue }; break }
                let count = read(connection.fileDescriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                // Keep enough raw bytes for 4 KiB of payload plus frame headers.
                if output.count < ContainerService.healthOutputLimit * 2 { output += buffer[0..<count] }
            }
        }
        if timedOut {
            if let pid = execs.withLock({ $0[execID]?.pid }), pid > 0 { Glibc.kill(pid, SIGKILL) }
            return HealthLogEntry(Start: start, End: Timestamp.now(), ExitCode: -1,
                                  Output: "Health check exceeded timeout (\(ContainerService.goDuration(timeout)))")
        }
        // The exit code arrives from the shim just after the output ends.
        var code: Int?
        for _ in 0..<400 {
            code = execs.withLock { $0[execID]?.exitCode }
            if code != nil { break }
            usleep(5000)
        }
        let text = String(decoding: StdcopyFrames.payload(output).prefix(ContainerService.healthOutputLimit), as: UTF8.self)
        return HealthLogEntry(Start: start, End: Timestamp.now(), ExitCode: code ?? -1, Output: text)
    }

    /// A duration as Go prints it: `200ms`, `30s`, `1.5s`, `1m30s`, `2h0m0s`.
    static func goDuration(_ nanoseconds: Int64) -> String {
        func trimmed(_ value: Double) -> String {
            var text = String(format: "%.9f", value)
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
            return text
        }
        if nanoseconds == 0 { return "0s" }
        if nanoseconds < 1_000 { return "\(nanoseconds)ns" }
        if nanoseconds < 1_000_000 { return trimmed(Double(nanoseconds) / 1e3) + "µs" }
        if nanoseconds < 1_000_000_000 { return trimmed(Double(nanoseconds) / 1e6) + "ms" }
        let hours = nanoseconds / 3_600_000_000_000
        let minutes = nanoseconds / 60_000_000_000 % 60
        let seconds = trimmed(Double(nanoseconds % 60_000_000_000) / 1e9) + "s"
        if hours > 0 { return "\(hours)h\(minutes)m" + seconds }
        if minutes > 0 { return "\(minutes)m" + seconds }
        return seconds
    }

    /// Drops a finished probe's exec record and the files its shim left.
    func forgetExec(_ execID: String, container id: String) {
        execs.withLock { _ = $0.removeValue(forKey: execID) }
        let directory = store.directory(id)
        let prefix = "exec-\(execID)."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            unlink(directory + "/" + name)
        }
    }
}

/// Holds the attach connection made inside `startExec`'s callback.
final class ProbeConnection: @unchecked Sendable {
    // Written once by startExec's callback before it returns; read after.
    var connection: AttachConnection?
}

/// The payload of Docker's multiplexed stream (`[stream, 0, 0, 0, size(4, big-endian)] + data`).
enum StdcopyFrames {
    static func payload(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            let size = Int(bytes[offset + 4]) << 24 | Int(bytes[offset + 5]) << 16 | Int(bytes[offset + 6]) << 8 | Int(bytes[offset + 7])
            let end = min(bytes.count, offset + 8 + size)
            result += bytes[(offset + 8)..<end]
            offset = end
        }
        return result
    }
}
