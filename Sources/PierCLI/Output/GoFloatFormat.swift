import CFormat
import Foundation

/// Formats doubles the way Go's `strconv` does for the verbs docker's output relies on:
/// `%v` (templates), `%.Ng` (`units.HumanSize`, `units.BytesSize`) and the float form
/// of `encoding/json`. Each is a different rule for when to switch to exponent form.
enum GoFloatFormat {
    /// `fmt.Sprint(x)`, i.e. `%v`: shortest digits, in exponent form when the decimal
    /// exponent is below -4 or at least 6 (`123456`, but `1e+06` and `1e-05`).
    static func verbV(_ value: Double) -> String {
        if let special = specialValue(value) { return special }
        let digits = DecimalDigits(shortest: value)
        let exponent = digits.decimalPoint - 1
        if exponent < -4 || exponent >= 6 {
            return digits.exponentForm(fractionDigits: max(digits.count - 1, 0))
        }
        return digits.fixedForm(fractionDigits: max(digits.count - digits.decimalPoint, 0))
    }

    /// `fmt.Sprintf("%.*g", precision, x)`.
    static func verbG(_ value: Double, precision requested: Int) -> String {
        if let special = specialValue(value) { return special }
        let precision = max(requested, 1)
        let digits = DecimalDigits(value, significantDigits: precision)
        var exponentLimit = precision
        if exponentLimit > digits.count && digits.count >= digits.decimalPoint {
            exponentLimit = digits.count
        }
        let exponent = digits.decimalPoint - 1
        if exponent < -4 || exponent >= exponentLimit {
            return digits.exponentForm(fractionDigits: min(precision, digits.count) - 1)
        }
        let shown = precision > digits.decimalPoint ? digits.count : precision
        return digits.fixedForm(fractionDigits: max(shown - digits.decimalPoint, 0))
    }

    /// A float as `encoding/json` writes it: plain decimal between 1e-6 and 1e21,
    /// otherwise exponent form with a one-digit negative exponent (`1e-7`, `1e+21`).
    /// NaN and infinities, which Go refuses to encode, become `null`.
    static func json(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        let digits = DecimalDigits(shortest: value)
        let magnitude = abs(value)
        if magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21) {
            return digits.fixedForm(fractionDigits: max(digits.count - digits.decimalPoint, 0))
        }
        var text = digits.exponentForm(fractionDigits: max(digits.count - 1, 0))
        // Go trims "e-07" to "e-7" (only for negative exponents).
        let tail = Array(text.utf8.suffix(4))
        if tail.count == 4, tail[0] == UInt8(ascii: "e"), tail[1] == UInt8(ascii: "-"), tail[2] == UInt8(ascii: "0") {
            text.removeLast(2)
            text.append(Character(Unicode.Scalar(tail[3])))
        }
        return text
    }

    private static func specialValue(_ value: Double) -> String? {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        return nil
    }
}

/// A double as significant decimal digits and the position of the decimal point:
/// the value is 0.d1d2d3… × 10^decimalPoint (Go's `decimalSlice`). Trailing zeros
/// are trimmed; zero has no digits.
struct DecimalDigits {
    var negative: Bool
    var digits: [UInt8]  // ASCII '0'...'9'
    var decimalPoint: Int

    var count: Int { digits.count }

    /// The shortest digits that read back as `value` (Swift's `description` finds the
    /// same digits as Go's shortest formatting: shortest, then closest).
    init(shortest value: Double) {
        self.init(parsing: value.magnitude.description.utf8, negative: value.sign == .minus)
    }

    /// `value` correctly rounded to `significantDigits` digits (C's `%e` rounds the
    /// exact binary value half-to-even, as Go's `strconv` does).
    /// (Through the C library directly: Foundation's `String(format:)` costs ~10 µs a call,
    /// which is 10 ms of `pier images` with 1,000 rows; `withVaList` still ~1 µs.)
    init(_ value: Double, significantDigits: Int) {
        var buffer = [CChar](repeating: 0, count: 64)
        let precision = Int32(min(max(significantDigits - 1, 0), 40))
        let written = buffer.withUnsafeMutableBufferPointer { out in
            pier_format_exponent(out.baseAddress, out.count, precision, value.magnitude)
        }
        guard written > 0, written < buffer.count else {
            self.init(parsing: "0e+00".utf8, negative: value.sign == .minus)
            return
        }
        self = buffer.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: UInt8.self) { bytes in
                DecimalDigits(parsing: bytes[0..<Int(written)], negative: value.sign == .minus)
            }
        }
    }

    /// Reads "123.45", "1.5e-07" or "4.26e+00" style text of a non-negative number.
    private init<Bytes: Collection<UInt8>>(parsing text: Bytes, negative: Bool) {
        self.negative = negative
        var collected: [UInt8] = []
        collected.reserveCapacity(24)
        var integerDigits = 0
        var seenPoint = false
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in text {
            if inExponent {
                if byte == UInt8(ascii: "-") { exponentSign = -1 }
                else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") { exponent = exponent * 10 + Int(byte - UInt8(ascii: "0")) }
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                inExponent = true
            } else if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                collected.append(byte)
                if !seenPoint { integerDigits += 1 }
            }
        }
        var point = integerDigits + exponentSign * exponent
        var leading = 0
        while leading < collected.count && collected[leading] == UInt8(ascii: "0") {
            leading += 1
            point -= 1
        }
        collected.removeFirst(leading)
        while let last = collected.last, last == UInt8(ascii: "0") { collected.removeLast() }
        if collected.isEmpty { point = 0 }
        digits = collected
        decimalPoint = point
    }

    /// Go's `fmtE`: d.ddd e±XX with at least two exponent digits.
    func exponentForm(fractionDigits: Int) -> String {
        var out: [UInt8] = []
        if negative { out.append(UInt8(ascii: "-")) }
        out.append(digits.first ?? UInt8(ascii: "0"))
        if fractionDigits > 0 {
            out.append(UInt8(ascii: "."))
            for position in 1...fractionDigits {
                out.append(position < digits.count ? digits[position] : UInt8(ascii: "0"))
            }
        }
        out.append(UInt8(ascii: "e"))
        var exponent = digits.isEmpty ? 0 : decimalPoint - 1
        if exponent < 0 {
            out.append(UInt8(ascii: "-"))
            exponent = -exponent
        } else {
            out.append(UInt8(ascii: "+"))
        }
        if exponent < 10 { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: Array(String(exponent).utf8))
        return String(decoding: out, as: UTF8.self)
    }

    /// Go's `fmtF`: integer part (or 0), then `fractionDigits` digits after the point.
    func fixedForm(fractionDigits: Int) -> String {
        var out: [UInt8] = []
        if negative { out.append(UInt8(ascii: "-")) }
        if decimalPoint > 0 {
            for position in 0..<decimalPoint {
                out.append(position < digits.count ? digits[position] : UInt8(ascii: "0"))
            }
        } else {
            out.append(UInt8(ascii: "0"))
        }
        if fractionDigits > 0 {
            out.append(UInt8(ascii: "."))
            for offset in 1...fractionDigits {
                let position = decimalPoint + offset - 1
                out.append(position >= 0 && position < digits.count ? digits[position] : UInt8(ascii: "0"))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
