import Glibc
import PierOCI
import PierStore

/// `images --filter`: dangling, reference, label, before, since (Docker's semantics).
struct ImageFilter {
    var dangling: Bool?
    var references: [String] = []
    var labels: [(String, String?)] = []
    var before: Int64?
    var since: Int64?

    init(_ filters: [String: [String]], resolve: (String) -> ImageRecord?) throws(EngineError) {
        for (key, values) in filters {
            switch key {
            case "dangling":
                guard let value = values.last, ["true", "false", "1", "0"].contains(value) else {
                    throw EngineError(.invalidArgument, "invalid filter 'dangling=\(values.last ?? "")': use true or false")
                }
                dangling = value == "true" || value == "1"
            case "reference":
                references = values
            case "label":
                labels = values.map { item in
                    guard let eq = item.firstIndex(of: "=") else { return (item, nil) }
                    return (String(item[..<eq]), String(item[item.index(after: eq)...]))
                }
            case "before", "since":
                for value in values {
                    guard let image = resolve(value) else { throw EngineError.noSuchImage(value) }
                    if key == "before" { before = image.created } else { since = image.created }
                }
            case "until":
                continue
            default:
                throw EngineError(.invalidArgument, "invalid filter '\(key)'")
            }
        }
    }

    func matches(_ image: ImageRecord, tags: [ImageReference]) -> Bool {
        if let dangling, dangling != tags.isEmpty { return false }
        if !references.isEmpty {
            let matched = tags.contains { tag in
                references.contains { pattern in
                    ImageFilter.glob(pattern, tag.familiarDescription) || ImageFilter.glob(pattern, tag.familiarRepository)
                        || ImageFilter.glob(pattern, tag.description)
                }
            }
            if !matched { return false }
        }
        for (key, value) in labels {
            guard let actual = image.labels?[key] else { return false }
            if let value, value != actual { return false }
        }
        if let before, image.created >= before { return false }
        if let since, image.created <= since { return false }
        return true
    }

    /// Go's path.Match: `*` and `?` do not cross `/`.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, FNM_PATHNAME) == 0
    }
}
