import ArgumentParser
import Foundation
import PierClient

/// `pier events`: what happens to containers, as it happens (or between `--since` and `--until`).
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Get real time events from the server")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided") var filter: [String] = []
    @Option(help: "Format the output using the given Go template") var format: String?
    @Option(help: "Show all events created since timestamp") var since: String?
    @Option(help: "Stream events until this timestamp") var until: String?

    func run() throws {
        var query: [(String, String)] = []
        if let since { query.append(("since", try Events.apiTime(since, flag: "--since"))) }
        if let until { query.append(("until", try Events.apiTime(until, flag: "--until"))) }
        let filters = try FilterFlags.parse(filter)
        if !filters.isEmpty { query.append(("filters", FilterFlags.encode(filters))) }
        let template = try format.map { try Listing.compile(GoTemplate.expandEscapes($0 == "json" ? "{{json .}}" : $0)) }
        let response = try call { try daemon.client().send("GET", "/events", query: query) }
        if response.status >= 400 { try call { try response.throwIfError(try response.readAll()) } }
        try response.forEachLine { line in
            guard let event = try? JSONValue.parse(line) else { return }
            if let template {
                print(try template.render(event))
            } else {
                print(Events.line(event))
            }
            fflush(nil)   // each event as it happens, also into a pipe
        }
    }

    /// docker's default line: `TIME TYPE ACTION ID (key=value, ...)`, attributes sorted by key.
    static func line(_ event: JSONValue) -> String {
        let nanos = event["timeNano"]?.intValue ?? 0
        let seconds = nanos / 1_000_000_000
        var time = tm()
        var raw = time_t(seconds)
        gmtime_r(&raw, &time)
        let stamp = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", Int(time.tm_year) + 1900, Int(time.tm_mon) + 1,
                           Int(time.tm_mday), Int(time.tm_hour), Int(time.tm_min), Int(time.tm_sec),
                           Int(nanos % 1_000_000_000))
        let type = event["Type"]?.stringValue ?? ""
        let action = event["Action"]?.stringValue ?? ""
        let id = event["Actor"]?["ID"]?.stringValue ?? ""
        var text = "\(stamp) \(type) \(action) \(id)"
        if case .object(let pairs)? = event["Actor"]?["Attributes"], !pairs.isEmpty {
            let attributes = pairs.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1.stringValue ?? "")" }
            text += " (" + attributes.joined(separator: ", ") + ")"
        }
        return text
    }

    /// What the API takes: Unix seconds. Accepts those, RFC 3339 and relative durations (`10m`).
    static func apiTime(_ text: String, flag: String) throws -> String {
        if Double(text) != nil { return text }
        if let nanos = Units.parseGoDuration(text) {
            return String(format: "%.9f", Date().timeIntervalSince1970 - Double(nanos) / 1e9)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) {
            return String(format: "%.9f", date.timeIntervalSince1970)
        }
        throw CLIError("invalid value \"\(text)\" for \(flag): give a timestamp (RFC 3339 or Unix seconds) or a duration such as 10m",
                       exitCode: 125)
    }
}
