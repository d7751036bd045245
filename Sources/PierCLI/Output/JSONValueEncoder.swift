import Foundation

extension JSONValue {
    /// Converts an `Encodable` (an Engine API model) into a value whose objects keep
    /// the order in which the type encodes its keys, i.e. the declaration order of a
    /// synthesized `Codable` struct, mirroring the Go struct order docker prints;
    /// dictionaries come out with sorted keys, as Go writes maps.
    ///
    /// Foundation's `JSONEncoder` cannot be used for this: on Linux its objects come
    /// out in hash order. Optionals encoded with `encodeIfPresent` (the synthesized
    /// default) are left out when nil; `Date` becomes an RFC 3339 UTC string as Go
    /// writes `time.Time` (fraction to the microsecond, trailing zeros dropped); `Data`
    /// becomes base64; `URL` its absolute string.
    init(encoding value: some Encodable) throws {
        let root = EncodingNode()
        try OrderedEncoder(node: root, codingPath: []).encodeValue(value)
        self = root.finish()
    }
}

/// One value under construction; containers fill it in place.
private final class EncodingNode {
    enum Kind {
        case unset, scalar, object, array
    }

    var kind = Kind.unset
    var scalar = JSONValue.null
    var members: [(String, EncodingNode)] = []
    var items: [EncodingNode] = []

    func becomeObject() {
        if kind != .object {
            kind = .object
            members = []
        }
    }

    func becomeArray() {
        if kind != .array {
            kind = .array
            items = []
        }
    }

    func set(_ value: JSONValue) {
        kind = .scalar
        scalar = value
    }

    func member(_ key: String) -> EncodingNode {
        becomeObject()
        let child = EncodingNode()
        if let existing = members.firstIndex(where: { $0.0 == key }) {
            members[existing].1 = child
        } else {
            members.append((key, child))
        }
        return child
    }

    func appendItem() -> EncodingNode {
        becomeArray()
        let child = EncodingNode()
        items.append(child)
        return child
    }

    func finish() -> JSONValue {
        switch kind {
        case .unset: return .object([])
        case .scalar: return scalar
        case .object: return .object(members.map { ($0.0, $0.1.finish()) })
        case .array: return .array(items.map { $0.finish() })
        }
    }
}

private struct OrderedEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueContainer(node: node, codingPath: codingPath)
    }

    /// Encodes `value` into this encoder's node, with the special cases for types
    /// whose own `Encodable` form is not the one Go would print.
    func encodeValue(_ value: some Encodable) throws {
        switch value {
        case let date as Date: node.set(.string(Self.goTimestamp(date)))
        case let data as Data: node.set(.string(data.base64EncodedString()))
        case let url as URL: node.set(.string(url.absoluteString))
        case let map as [String: any Encodable]:
            // Go writes map keys sorted; a Swift dictionary would come out in hash order.
            node.becomeObject()
            for key in map.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }) {
                guard let member = map[key] else { continue }
                try OrderedEncoder(node: node.member(key), codingPath: codingPath).encodeValue(member)
            }
        default: try value.encode(to: self)
        }
    }

    /// `time.Time` as Go marshals it (RFC 3339 with the fraction trimmed), in UTC.
    static func goTimestamp(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = interval.rounded(.down)
        var micros = Int(((interval - seconds) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds))
        var text = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", parts.year ?? 1, parts.month ?? 1, parts.day ?? 1,
            parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        if micros > 0 {
            var fraction = String(format: "%06d", micros)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }
}

/// Numbers as the JSON parser would produce them: integers exact, other numbers double.
private func number<T: BinaryInteger>(_ value: T) -> JSONValue {
    if let exact = Int64(exactly: value) { return .int(exact) }
    return .double(Double(value))
}

private func number(_ value: Float) -> JSONValue {
    // The shortest Float text, so 0.1 stays 0.1 rather than 0.10000000149011612.
    .double(Double(value.description) ?? Double(value))
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    private func encoder(for key: Key) -> OrderedEncoder {
        OrderedEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).set(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.member(key.stringValue).set(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.member(key.stringValue).set(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.member(key.stringValue).set(.double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { node.member(key.stringValue).set(number(value)) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encoder(for: key).encodeValue(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder(for: key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder(for: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        OrderedEncoder(node: node.member("super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder(for: key) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.items.count }

    private struct Index: CodingKey {
        let intValue: Int?
        var stringValue: String { String(intValue ?? 0) }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { return nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private func nextEncoder() -> OrderedEncoder {
        let index = Index(node.items.count)
        return OrderedEncoder(node: node.appendItem(), codingPath: codingPath + [index])
    }

    mutating func encodeNil() throws { node.appendItem().set(.null) }
    mutating func encode(_ value: Bool) throws { node.appendItem().set(.bool(value)) }
    mutating func encode(_ value: String) throws { node.appendItem().set(.string(value)) }
    mutating func encode(_ value: Double) throws { node.appendItem().set(.double(value)) }
    mutating func encode(_ value: Float) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: Int) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: Int8) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: Int16) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: Int32) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: Int64) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: UInt) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: UInt8) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: UInt16) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: UInt32) throws { node.appendItem().set(number(value)) }
    mutating func encode(_ value: UInt64) throws { node.appendItem().set(number(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws { try nextEncoder().encodeValue(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        nextEncoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { nextEncoder().unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { nextEncoder() }
}

private struct SingleValueContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.set(.null) }
    mutating func encode(_ value: Bool) throws { node.set(.bool(value)) }
    mutating func encode(_ value: String) throws { node.set(.string(value)) }
    mutating func encode(_ value: Double) throws { node.set(.double(value)) }
    mutating func encode(_ value: Float) throws { node.set(number(value)) }
    mutating func encode(_ value: Int) throws { node.set(number(value)) }
    mutating func encode(_ value: Int8) throws { node.set(number(value)) }
    mutating func encode(_ value: Int16) throws { node.set(number(value)) }
    mutating func encode(_ value: Int32) throws { node.set(number(value)) }
    mutating func encode(_ value: Int64) throws { node.set(number(value)) }
    mutating func encode(_ value: UInt) throws { node.set(number(value)) }
    mutating func encode(_ value: UInt8) throws { node.set(number(value)) }
    mutating func encode(_ value: UInt16) throws { node.set(number(value)) }
    mutating func encode(_ value: UInt32) throws { node.set(number(value)) }
    mutating func encode(_ value: UInt64) throws { node.set(number(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try OrderedEncoder(node: node, codingPath: codingPath).encodeValue(value)
    }
}
