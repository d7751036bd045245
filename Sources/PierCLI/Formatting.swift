import Foundation

/// Shared output paths of list commands: `--format` (Go template, `table …`, `json`) or docker's default table.
enum Listing {
    /// Prints rows (JSON objects with docker's field names) with a user's `--format`, or the default table.
    static func print(rows: [JSONValue], format: String?, defaultTable: String,
                      titles: [String: String] = columnTitles) throws {
        var text = format ?? defaultTable
        if text == "json" { text = "{{json .}}" }
        text = GoTemplate.expandEscapes(text)
        if text.hasPrefix("table") {
            let body = String(text.dropFirst(5)).trimmingCharacters(in: .whitespaces)
            let template = try compile(body)
            var table = TableWriter()
            table.addLine(template.renderHeader(.object(titles.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
            for row in rows { table.addLine(try template.render(row)) }
            Swift.print(table.render(), terminator: "")
        } else {
            let template = try compile(text)
            var output = ""
            for row in rows { output += try template.render(row) + "\n" }
            Swift.print(output, terminator: "")
        }
    }

    static func compile(_ text: String) throws -> GoTemplate {
        do { return try GoTemplate(text) } catch {
            throw CLIError("template parsing error: \(error)", exitCode: 1)
        }
    }

    static let columnTitles: [String: String] = [
        "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
        "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
        "CreatedBy": "CREATED BY", "Comment": "COMMENT", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
        "VirtualSize": "VIRTUAL SIZE", "Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE",
        "Reclaimable": "RECLAIMABLE",
    ]

    /// docker's `CreatedSince` / `CREATED` column.
    static func since(_ seconds: Int64) -> String {
        guard seconds > 0 else { return "N/A" }
        let now = Date().timeIntervalSince1970
        return Units.humanDuration(max(0, now - Double(seconds))) + " ago"
    }

    /// docker's `CreatedAt`: `2024-05-01 12:00:00 +0000 UTC`.
    static func createdAt(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S %z %Z", &parts)
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A JSON body from the daemon, re-indented like docker's `inspect` output.
enum InspectOutput {
    static func print(_ documents: [[UInt8]], format: String?) throws {
        var values: [JSONValue] = []
        for bytes in documents {
            do { values.append(try JSONValue.parse(bytes)) } catch {
                throw CLIError("unexpected answer from the daemon: \(error)")
            }
        }
        if let format {
            let template = try Listing.compile(GoTemplate.expandEscapes(format))
            for value in values { Swift.print(try template.render(value)) }
        } else {
            Swift.print(JSONValue.array(values).serialized(indent: "    "))
        }
    }
}
