/// docker/go-units `RAMInBytes`: `512`, `64k`, `1.5g`, `100MiB` (powers of 1024).
enum ByteSize {
    static func parse(_ text: String) -> Int64? {
        var scalars = Substring(text).unicodeScalars[...]
        let number = scalars.prefix { $0.isASCIIDigit || $0 == "." }
        scalars = scalars.dropFirst(number.count)
        guard let first = number.first, first.isASCIIDigit, number.last?.isASCIIDigit == true,
              let value = Double(String(number)) else { return nil }
        if scalars.first == " " { scalars = scalars.dropFirst() }
        var multiplier: Double = 1
        if let unit = scalars.first, let unitMultiplier = multipliers[unit] {
            multiplier = unitMultiplier
            scalars = scalars.dropFirst()
        }
        if let next = scalars.first, next == "i" || next == "I" { scalars = scalars.dropFirst() }
        if let next = scalars.first, next == "b" || next == "B" { scalars = scalars.dropFirst() }
        guard scalars.isEmpty else { return nil }
        return Int64(value * multiplier)
    }

    private static let multipliers: [Unicode.Scalar: Double] = {
        var table: [Unicode.Scalar: Double] = [:]
        var multiplier: Double = 1
        for (lower, upper) in zip("kmgtp".unicodeScalars, "KMGTP".unicodeScalars) {
            multiplier *= 1024
            table[lower] = multiplier
            table[upper] = multiplier
        }
        return table
    }()
}
