/// Quotes `text` the way Go's `strconv.Quote` does: the format BuildKit's parse dumps (and
/// its error messages, `%q`) use. Printable characters stay as they are; `"` and `\` are
/// escaped; control characters become `\n`, `\t`, `\x00`...; other non-printables `\uXXXX`.
func goQuote(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.isGoPrint: out.unicodeScalars.append(scalar)
        case "\u{07}": out += "\\a"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{0B}": out += "\\v"
        default:
            let value = scalar.value
            if value < 0x20 || value == 0x7F {
                out += "\\x" + hex(value, width: 2)
            } else if value < 0x10000 {
                out += "\\u" + hex(value, width: 4)
            } else {
                out += "\\U" + hex(value, width: 8)
            }
        }
    }
    return out + "\""
}

private func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
