import ArgumentParser
import Foundation
import PierAPI
import PierClient

/// `pier images` / `pier image ls`
struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images")
    @OptionGroup var arguments: ImagesArguments
    func run() throws { try arguments.run() }
}

/// `pier image ls`
struct ImageLs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images", aliases: ["list"])
    @OptionGroup var arguments: ImagesArguments
    func run() throws { try arguments.run() }
}

struct ImagesArguments: ParsableArguments {
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Show all images (default hides intermediate images)") var all = false
    @Flag(name: .shortAndLong, help: "Only show image IDs") var quiet = false
    @Flag(help: "Show digests") var digests = false
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Option(name: .shortAndLong, help: "Filter output based on conditions provided") var filter: [String] = []
    @Option(help: "Format output using a custom template ('table', 'table TEMPLATE', 'json', 'TEMPLATE')") var format: String?
    @Argument(help: "REPOSITORY[:TAG]") var reference: String?

    func run() throws {
        var filters = try FilterFlags.parse(filter)
        if let reference { filters["reference", default: []].append(reference) }
        var query: [(String, String)] = []
        if all { query.append(("all", "1")) }
        if !filters.isEmpty { query.append(("filters", FilterFlags.encode(filters))) }
        let images = try ImagesArguments.fetch(try call { try daemon.client() }, query: query)
        if quiet {
            var seen = Set<String>()
            for image in images where seen.insert(image.Id).inserted {
                print(noTrunc ? image.Id : shortID(image.Id))
            }
            return
        }
        // One line per tag; the fields a template may name are made only when one is used.
        var lines: [(image: ImageSummary, repository: String, tag: String, digest: String)] = []
        for image in images {
            let tags = image.RepoTags.isEmpty ? ["<none>:<none>"] : image.RepoTags
            for tag in tags {
                let (repository, tagName) = splitTag(tag)
                let digest = image.RepoDigests.first { splitDigest($0).0 == repository }.map { splitDigest($0).1 }
                    ?? (image.RepoDigests.isEmpty || repository != "<none>" ? "<none>" : splitDigest(image.RepoDigests[0]).1)
                lines.append((image, repository, tagName, digest))
            }
        }
        if format == nil || format == "table" {
            // The default columns, without going through the template engine (a list of 1,000 images
            // must print in a few milliseconds).
            var table = TableWriter()
            table.addRow(digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
                                 : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
            for line in lines {
                let id = noTrunc ? line.image.Id : shortID(line.image.Id)
                let since = Listing.since(line.image.Created)
                let size = Units.humanSize(line.image.Size)
                table.addRow(digests ? [line.repository, line.tag, line.digest, id, since, size]
                                     : [line.repository, line.tag, id, since, size])
            }
            print(table.render(), terminator: "")
            return
        }
        let rows: [JSONValue] = lines.map { line in
            let image = line.image
            return .object([
                ("Containers", .string(image.Containers < 0 ? "N/A" : String(image.Containers))),
                ("CreatedAt", .string(Listing.createdAt(image.Created))),
                ("CreatedSince", .string(Listing.since(image.Created))),
                ("Digest", .string(line.digest)),
                ("ID", .string(noTrunc ? image.Id : shortID(image.Id))),
                ("Repository", .string(line.repository)),
                ("SharedSize", .string(image.SharedSize < 0 ? "N/A" : Units.humanSize(image.SharedSize))),
                ("Size", .string(Units.humanSize(image.Size))),
                ("Tag", .string(line.tag)),
                ("UniqueSize", .string("N/A")),
                ("VirtualSize", .string(Units.humanSize(image.VirtualSize))),
            ])
        }
        try Listing.print(rows: rows, format: format, defaultTable: "")
    }

    /// `GET /images/json`, read with the CLI's own JSON parser (Foundation's decoder costs ~10 ms
    /// for 1,000 images, a third of the command's budget).
    static func fetch(_ client: EngineClient, query: [(String, String)]) throws -> [ImageSummary] {
        let response = try call { try client.send("GET", "/images/json", query: query) }
        let bytes = try call { try response.readAll() }
        try call { try response.throwIfError(bytes) }
        guard let value = try? JSONValue.parse(bytes), let list = value.arrayValue else {
            throw CLIError("unexpected answer from the daemon to GET /images/json")
        }
        return list.map { item in
            func int(_ key: String) -> Int64 { item[key]?.intValue ?? 0 }
            func strings(_ key: String) -> [String] { item[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            var labels: [String: String] = [:]
            for (key, value) in item["Labels"]?.objectValue ?? [] { labels[key] = value.stringValue ?? "" }
            var summary = ImageSummary(
                Id: item["Id"]?.stringValue ?? "", ParentId: item["ParentId"]?.stringValue ?? "",
                RepoTags: strings("RepoTags"), RepoDigests: strings("RepoDigests"), Created: int("Created"),
                Size: int("Size"), Labels: labels, Containers: int("Containers"))
            summary.SharedSize = int("SharedSize")
            summary.VirtualSize = int("VirtualSize")
            return summary
        }
    }

    func splitTag(_ text: String) -> (String, String) {
        guard let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") else { return (text, "<none>") }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    func splitDigest(_ text: String) -> (String, String) {
        guard let at = text.firstIndex(of: "@") else { return (text, "<none>") }
        return (String(text[..<at]), String(text[text.index(after: at)...]))
    }
}

/// `pier tag SOURCE TARGET`
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag", abstract: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")
    @OptionGroup var daemon: DaemonOptions
    @Argument(help: "SOURCE_IMAGE[:TAG]") var source: String
    @Argument(help: "TARGET_IMAGE[:TAG]") var target: String

    func run() throws {
        var repository = target
        var tag = ""
        if let colon = target.lastIndex(of: ":"), !target[colon...].contains("/"), !target.contains("@") {
            repository = String(target[..<colon])
            tag = String(target[target.index(after: colon)...])
        }
        try call {
            try daemon.client().call("POST", "/images/\(source)/tag", query: [("repo", repository), ("tag", tag)])
        }
    }
}

/// `pier rmi IMAGE...` / `pier image rm`
struct Rmi: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove one or more images")
    @OptionGroup var arguments: RmiArguments
    func validate() throws { try arguments.validate() }
    func run() throws { try arguments.run() }
}

/// `pier image rm`
struct ImageRm: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more images",
                                                    aliases: ["remove", "rmi"])
    @OptionGroup var arguments: RmiArguments
    func validate() throws { try arguments.validate() }
    func run() throws { try arguments.run() }
}

struct RmiArguments: ParsableArguments {
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Force removal of the image") var force = false
    @Flag(name: .customLong("no-prune"), help: "Do not delete untagged parents") var noPrune = false
    @Argument(help: "IMAGE") var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("\"rmi\" requires at least 1 argument.") }
    }

    func run() throws {
        let client = try call { try daemon.client() }
        var failures: [String] = []
        for image in images {
            do {
                var query: [(String, String)] = []
                if force { query.append(("force", "1")) }
                if noPrune { query.append(("noprune", "1")) }
                let items = try client.json([ImageDeleteItem].self, "DELETE", "/images/\(image)", query: query)
                for item in items {
                    if let untagged = item.Untagged { print("Untagged: \(untagged)") }
                    if let deleted = item.Deleted { print("Deleted: \(deleted)") }
                }
            } catch let error as ClientError {
                failures.append(CLIError.daemon(error).message)
            }
        }
        if !failures.isEmpty { throw CLIError(failures.joined(separator: "\n")) }
    }
}

/// `pier image inspect IMAGE...`
struct ImageInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect",
                                                    abstract: "Display detailed information on one or more images")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?
    @Argument(help: "IMAGE") var images: [String]

    func run() throws {
        try ImageInspect.inspect(try call { try daemon.client() }, names: images, format: format)
    }

    static func inspect(_ client: EngineClient, names: [String], format: String?) throws {
        var documents: [[UInt8]] = []
        var failures: [String] = []
        for image in names {
            do {
                let response = try client.send("GET", "/images/\(image)/json")
                let bytes = try response.readAll()
                if response.status == 404 {
                    failures.append("Error: No such image: \(image)")
                    continue
                }
                try response.throwIfError(bytes)
                documents.append(bytes)
            } catch let error as ClientError {
                failures.append(CLIError.daemon(error).message)
            }
        }
        if !documents.isEmpty || failures.isEmpty { try InspectOutput.print(documents, format: format) }
        if !failures.isEmpty {
            if documents.isEmpty && format == nil { print("[]") }
            throw CLIError(failures.joined(separator: "\n"))
        }
    }
}

/// `pier inspect NAME...`: images for now; containers, networks and volumes join as they arrive.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect",
                                                    abstract: "Return low-level information on Pier objects")
    @OptionGroup var daemon: DaemonOptions
    @Option(name: .shortAndLong, help: "Format output using a custom template") var format: String?
    @Option(name: .customLong("type"), help: "Return JSON for specified type") var type: String?
    @Argument(help: "NAME|ID") var names: [String]

    func run() throws {
        if let type, !["image", "container", "network", "volume"].contains(type) {
            throw CLIError("\"\(type)\" is not a valid value for --type", exitCode: 1)
        }
        let client = try call { try daemon.client() }
        func all(_ prefix: String, _ suffix: String = "") -> Bool {
            names.allSatisfy { (try? client.send("GET", "\(prefix)/\($0)\(suffix)").status) == 200 }
        }
        // Like docker: a name that is a container is a container, else an image, else a network or a volume.
        if type == "container" || (type == nil && all("/containers", "/json")) {
            try ContainerInspectCommand.inspect(client, names: names, format: format)
        } else if type == "network" || (type == nil && !all("/images", "/json") && all("/networks")) {
            try InspectDocuments.print(client, paths: names.map { "/networks/\($0)" }, format: format)
        } else if type == "volume" || (type == nil && !all("/images", "/json") && all("/volumes")) {
            try InspectDocuments.print(client, paths: names.map { "/volumes/\($0)" }, format: format)
        } else {
            try ImageInspect.inspect(client, names: names, format: format)
        }
    }
}

/// `pier history IMAGE`
struct History: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Flag(name: .shortAndLong, help: "Only show image IDs") var quiet = false
    @Option(name: .customLong("human"), help: "Print sizes and dates in human readable format")
    var human: Bool = true
    @Option(help: "Format output using a custom template") var format: String?
    @Argument(help: "IMAGE") var image: String

    func run() throws {
        let items = try call { try daemon.client().json([HistoryItem].self, "GET", "/images/\(image)/history") }
        if quiet {
            for item in items { print(noTrunc || item.Id == "<missing>" ? item.Id : shortID(item.Id)) }
            return
        }
        var rows: [JSONValue] = []
        var table = TableWriter()
        table.addRow(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"])
        for item in items {
            let createdBy = item.CreatedBy.replacingOccurrences(of: "\t", with: " ")
            let cells = [
                noTrunc || item.Id == "<missing>" ? item.Id : shortID(item.Id),
                human ? Listing.since(item.Created) : Timestamp.rfc3339(item.Created),
                noTrunc ? createdBy : truncate(createdBy, 45),
                human ? Units.humanSize(item.Size) : String(item.Size),
                item.Comment,
            ]
            table.addRow(cells)
            rows.append(.object([
                ("ID", .string(cells[0])), ("CreatedSince", .string(cells[1])),
                ("CreatedAt", .string(Timestamp.rfc3339(item.Created))), ("CreatedBy", .string(cells[2])),
                ("Size", .string(cells[3])), ("Comment", .string(cells[4])),
            ]))
        }
        if let format {
            try Listing.print(rows: rows, format: format, defaultTable: "")
        } else {
            print(table.render(), terminator: "")
        }
    }
}

/// `pier image prune`
struct ImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused images")
    @OptionGroup var daemon: DaemonOptions
    @Flag(name: .shortAndLong, help: "Remove all unused images, not just dangling ones") var all = false
    @Flag(name: .shortAndLong, help: "Do not prompt for confirmation") var force = false
    @Option(help: "Provide filter values (e.g. \"until=<timestamp>\")") var filter: [String] = []

    func run() throws {
        if !force {
            let warning = all
                ? "WARNING! This will remove all images without at least one container associated to them."
                : "WARNING! This will remove all dangling images."
            guard Prompt.confirm(warning) else { return }
        }
        try ImagePrune.prune(try call { try daemon.client() }, all: all, filters: try FilterFlags.parse(filter))
    }

    static func prune(_ client: EngineClient, all: Bool, filters: [String: [String]]) throws {
        var filters = filters
        filters["dangling"] = [all ? "false" : "true"]
        let report = try call {
            try client.json(ImagePruneReport.self, "POST", "/images/prune", query: [("filters", FilterFlags.encode(filters))])
        }
        if let deleted = report.ImagesDeleted, !deleted.isEmpty {
            print("Deleted Images:")
            for item in deleted {
                if let untagged = item.Untagged { print("untagged: \(untagged)") }
                if let id = item.Deleted { print("deleted: \(id)") }
            }
            print("")
        }
        print("Total reclaimed space: \(Units.humanSize(report.SpaceReclaimed))")
    }
}

/// Runs a client call, turning its errors into docker-worded CLI errors.
func call<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ClientError {
        throw CLIError.daemon(error)
    }
}

func shortID(_ id: String) -> String {
    let hex = id.hasPrefix("sha256:") ? id.dropFirst(7) : Substring(id)
    return String(hex.prefix(12))
}

/// `--filter key=value` flags → the API's `filters` JSON.
enum FilterFlags {
    static func parse(_ flags: [String]) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for flag in flags {
            guard let eq = flag.firstIndex(of: "=") else {
                throw CLIError("invalid argument \"\(flag)\" for \"-f, --filter\" flag: bad format of filter (expected name=value)")
            }
            result[String(flag[..<eq]), default: []].append(String(flag[flag.index(after: eq)...]))
        }
        return result
    }

    static func encode(_ filters: [String: [String]]) -> String {
        let object = filters.mapValues { values in Dictionary(uniqueKeysWithValues: values.map { ($0, true) }) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

enum Prompt {
    /// docker's `Are you sure you want to continue? [y/N]`.
    static func confirm(_ warning: String) -> Bool {
        print(warning)
        print("Are you sure you want to continue? [y/N] ", terminator: "")
        fflush(nil)
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }
}

enum Timestamp {
    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone.current
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }
}
