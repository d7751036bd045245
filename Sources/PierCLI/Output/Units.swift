import Foundation

/// Sizes and durations as docker prints and parses them (docker/go-units).
enum Units {
    /// Why a size such as `--memory 12q` could not be read; worded as go-units words it.
    struct SizeError: Error, Equatable, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private static let decimalSuffixes = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    private static let binarySuffixes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]

    /// Decimal size with three significant digits, as in the SIZE column of
    /// `docker images` and `docker ps -s` (`units.HumanSizeWithPrecision(size, 3)`):
    /// 999 → `999B`, 1000 → `1kB`, 4261234 → `4.26MB`, 999999 → `1e+03kB`.
    static func humanSize(_ bytes: Int64, precision: Int = 3) -> String {
        let (value, suffix) = scaled(Double(bytes), base: 1000, suffixes: decimalSuffixes)
        return GoFloatFormat.verbG(value, precision: precision) + suffix
    }

    /// Binary size with four significant digits, as `docker stats` prints memory
    /// (`units.BytesSize`): 1048576 → `1MiB`, 1536 → `1.5KiB`.
    static func bytesSize(_ bytes: Int64) -> String {
        let (value, suffix) = scaled(Double(bytes), base: 1024, suffixes: binarySuffixes)
        return GoFloatFormat.verbG(value, precision: 4) + suffix
    }

    /// Divides by `base` while the value is at least `base` (go-units' `getSizeAndUnit`).
    private static func scaled(_ size: Double, base: Double, suffixes: [String]) -> (Double, String) {
        var value = size
        var index = 0
        while value >= base && index < suffixes.count - 1 {
            value /= base
            index += 1
        }
        return (value, suffixes[index])
    }

    /// An approximate age or uptime as docker words it (`units.HumanDuration`), e.g.
    /// `Up 2 hours`, `Exited (0) About a minute ago`, `CREATED 3 weeks ago`.
    static func humanDuration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 1 else {
            // NaN and negative spans read as "just now"; +infinity as the longest span.
            return seconds == .infinity ? humanDuration(9.2e9) : "Less than a second"
        }
        let clamped = min(seconds, 9.2e9)  // Go's time.Duration tops out near 292 years
        let wholeSeconds = Int(clamped)
        if wholeSeconds == 1 { return "1 second" }
        if wholeSeconds < 60 { return "\(wholeSeconds) seconds" }
        let minutes = Int(clamped / 60)
        if minutes == 1 { return "About a minute" }
        if minutes < 60 { return "\(minutes) minutes" }
        let hours = Int(clamped / 3600 + 0.5)
        if hours == 1 { return "About an hour" }
        if hours < 48 { return "\(hours) hours" }
        if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
        if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
        if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
        return "\(Int(clamped / 3600) / 24 / 365) years"
    }

    /// Reads a memory size such as `--memory 512m` (`units.RAMInBytes`): a number,
    /// optionally followed (with or without one space) by `b`, `k`, `m`, `g`, `t` or
    /// `p` in any case, itself optionally followed by `b` or `ib`; multipliers are
    /// binary (`1k` is 1024). Fractions are allowed: `1.5g`.
    static func parseBytes(_ text: String) throws(SizeError) -> Int64 {
        let number: Substring
        var suffix: Substring
        if let space = text.firstIndex(of: " ") {
            number = text[..<space]
            suffix = text[text.index(after: space)...]
        } else {
            guard let last = text.lastIndex(where: { "0123456789.".contains($0) }) else {
                throw SizeError(message: "invalid size: '\(text)'")
            }
            number = text[...last]
            suffix = text[text.index(after: last)...]
        }
        guard let size = parseGoFloat(number) else {
            throw SizeError(message: "strconv.ParseFloat: parsing \(goQuote(String(number))): invalid syntax")
        }
        guard size >= 0, !size.isNaN else { throw SizeError(message: "invalid size: '\(text)'") }

        var multiplier: Double = 1
        if !suffix.isEmpty {
            if suffix.utf8.count > 3 { throw SizeError(message: "invalid suffix: '\(suffix)'") }
            suffix = Substring(suffix.lowercased())
            let badSuffix = SizeError(message: "invalid suffix: '\(suffix)'")
            let first = suffix.first ?? " "
            if first == "b" {
                if suffix.count > 1 { throw badSuffix }
            } else {
                switch first {
                case "k": multiplier = Double(Int64(1) << 10)
                case "m": multiplier = Double(Int64(1) << 20)
                case "g": multiplier = Double(Int64(1) << 30)
                case "t": multiplier = Double(Int64(1) << 40)
                case "p": multiplier = Double(Int64(1) << 50)
                default: throw badSuffix
                }
                if suffix.count == 2 && suffix.dropFirst() != "b" { throw badSuffix }
                if suffix.count == 3 && suffix.dropFirst() != "ib" { throw badSuffix }
            }
        }
        let bytes = size * multiplier
        guard bytes < 9_223_372_036_854_775_808.0 else { throw SizeError(message: "invalid size: '\(text)'") }
        return Int64(bytes)  // truncates toward zero, as Go's int64() does
    }

    /// `strconv.ParseFloat` for the decimal forms a size can take ("1", "1.5", ".5", "1e3").
    private static func parseGoFloat(_ text: Substring) -> Double? {
        guard !text.isEmpty,
            text.allSatisfy({ "0123456789.eE+-".contains($0) }),
            let value = Double(text)
        else { return nil }
        return value
    }

    /// A Go duration (`1h30m`, `2.5s`, `300ms`, `0`) in nanoseconds; nil when it is not one.
    static func parseGoDuration(_ text: String) -> Int64? {
        if text == "0" { return 0 }
        let factors: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !$0.isNumber && $0 != "." }
            guard let factor = factors.first(where: { $0.0 == unit })?.1 else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * factor
        }
        return Int64(total)
    }
}
