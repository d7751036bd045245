import Foundation
import PierAPI

/// Docker's `filters` query parameter, in both of its JSON shapes.
enum FilterSet {
    static func decode(_ text: String) throws(APIError) -> [String: [String]] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw APIError.badRequest("invalid filter: \(text) is not a JSON object of lists")
        }
        var result: [String: [String]] = [:]
        for (key, value) in object {
            if let list = value as? [String] {
                result[key] = list
            } else if let map = value as? [String: Bool] {
                result[key] = map.filter(\.value).map(\.key)
            } else {
                throw APIError.badRequest("invalid filter '\(key)': expected a list of strings")
            }
        }
        return result
    }
}
