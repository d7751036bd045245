import Foundation

extension JSONValue {
    /// Writes the value as Go's `encoding/json` does, so that `docker inspect` and
    /// `{{json .}}` output from Pier is byte-identical to Docker's.
    ///
    /// - `indent == nil`: compact, as `json.Marshal` (`{"a":1,"b":[1,2]}`).
    /// - `indent == "    "`: as `json.MarshalIndent(v, "", "    ")`, the form of
    ///   `docker inspect`; empty arrays and objects stay `[]` and `{}`.
    /// - `escapeHTML`: Go's default escapes `<`, `>` and `&` as `\u003c`, `\u003e`,
    ///   `\u0026`; docker's template `json` function turns that off.
    ///
    /// U+2028 and U+2029 are always escaped; NaN and infinities become `null`.
    func serialized(indent: String? = nil, escapeHTML: Bool = true) -> String {
        var writer = GoJSONWriter(indent: indent, escapeHTML: escapeHTML)
        writer.write(self, depth: 0)
        return String(decoding: writer.out, as: UTF8.self)
    }
}

private struct GoJSONWriter {
    let indent: String?
    let escapeHTML: Bool
    var out: [UInt8] = []

    init(indent: String?, escapeHTML: Bool) {
        self.indent = indent
        self.escapeHTML = escapeHTML
        out.reserveCapacity(256)
    }

    mutating func newline(depth: Int) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<depth { out.append(contentsOf: indent.utf8) }
    }

    mutating func write(_ value: JSONValue, depth: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): out.append(contentsOf: String(number).utf8)
        case .double(let number): out.append(contentsOf: GoFloatFormat.json(number).utf8)
        case .string(let text): writeString(text)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth: depth + 1)
                write(item, depth: depth + 1)
            }
            if !items.isEmpty { newline(depth: depth) }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (position, pair) in pairs.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth: depth + 1)
                writeString(pair.0)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(pair.1, depth: depth + 1)
            }
            if !pairs.isEmpty { newline(depth: depth) }
            out.append(UInt8(ascii: "}"))
        }
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    mutating func writeUnicodeEscape(_ code: UInt32) {
        out.append(contentsOf: "\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(Self.hexDigits[Int((code >> UInt32(shift)) & 0xF)])
        }
    }

    mutating func writeString(_ text: String) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: "\\\"".utf8)
            case 0x5C: out.append(contentsOf: "\\\\".utf8)
            case 0x0A: out.append(contentsOf: "\\n".utf8)
            case 0x0D: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0x08: out.append(contentsOf: "\\b".utf8)  // Go 1.22+
            case 0x0C: out.append(contentsOf: "\\f".utf8)  // Go 1.22+
            case 0x00..<0x20: writeUnicodeEscape(scalar.value)
            case 0x3C, 0x3E, 0x26:
                if escapeHTML { writeUnicodeEscape(scalar.value) } else { out.append(UInt8(scalar.value)) }
            case 0x2028, 0x2029: writeUnicodeEscape(scalar.value)
            default: UTF8.encode(scalar) { out.append($0) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
