/// Go's `time.ParseDuration`: `300ms`, `1.5h`, `2h45m`, `-1s`; units ns, us (µs), ms, s, m, h.
enum GoDuration {
    static func parse(_ text: String) -> Duration? {
        var scalars = Substring(text).unicodeScalars[...]
        var negative = false
        if let sign = scalars.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            scalars = scalars.dropFirst()
        }
        if String(scalars) == "0" { return .zero }
        guard !scalars.isEmpty else { return nil }
        var total = Duration.zero
        while !scalars.isEmpty {
            let whole = scalars.prefix { $0.isASCIIDigit }
            scalars = scalars.dropFirst(whole.count)
            var fraction = Substring.UnicodeScalarView.SubSequence()
            if scalars.first == "." {
                scalars = scalars.dropFirst()
                fraction = scalars.prefix { $0.isASCIIDigit }
                scalars = scalars.dropFirst(fraction.count)
            }
            guard !whole.isEmpty || !fraction.isEmpty else { return nil }
            let unit = scalars.prefix { $0 != "." && !$0.isASCIIDigit }
            scalars = scalars.dropFirst(unit.count)
            guard let nanosecondsPerUnit = units[String(unit)] else { return nil }
            let wholeValue = Double(String(whole)) ?? 0
            let fractionValue = fraction.isEmpty ? 0 : (Double("0." + String(fraction)) ?? 0)
            total += .nanoseconds(Int64(((wholeValue + fractionValue) * Double(nanosecondsPerUnit)).rounded()))
        }
        return negative ? .zero - total : total
    }

    private static let units: [String: Int64] = [
        "ns": 1, "us": 1_000, "\u{B5}s": 1_000, "\u{3BC}s": 1_000, "ms": 1_000_000,
        "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
    ]
}
