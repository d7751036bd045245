import Foundation

/// A JSON document as the Engine API sends it, kept in the order the daemon wrote it.
///
/// `docker inspect` and `--format '{{json .}}'` print objects in the order of the Go
/// struct fields, which is the order the daemon's JSON already has. Foundation's
/// `JSONSerialization` forgets that order, so Pier parses into this type instead.
/// Integers stay exact (`int`) apart from other numbers (`double`) so that sizes,
/// PIDs and timestamps print without a `.0` or a rounding error.
enum JSONValue: Sendable {
    /// Object members in source order; duplicate keys are kept as written.
    typealias OrderedPairs = [(String, JSONValue)]

    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(OrderedPairs)
}

extension JSONValue: Equatable {
    /// Objects compare member by member, in order: `{"a":1,"b":2}` and
    /// `{"b":2,"a":1}` print differently, so they are different values here.
    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

extension JSONValue {
    /// The member named `key` of an object (the last one if the key repeats, as Go's
    /// decoder keeps the last); nil for a missing key or a value that is not an object.
    subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.last(where: { $0.0 == key })?.1
    }

    /// The element at `index` of an array; nil out of range or for a non-array.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var intValue: Int64? {
        switch self {
        case .int(let number): return number
        case .double(let number) where number == number.rounded(.towardZero) && abs(number) < 9.2e18:
            return Int64(number)
        default: return nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var objectValue: OrderedPairs? {
        if case .object(let pairs) = self { return pairs }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    init(nilLiteral: ()) { self = .null }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int64) { self = .int(value) }
    init(floatLiteral value: Double) { self = .double(value) }
    init(stringLiteral value: String) { self = .string(value) }
    init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Dictionary literals keep their written order: `["Id": "x", "Size": 1]`.
    init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
}
