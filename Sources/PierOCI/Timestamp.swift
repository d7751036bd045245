import Foundation

/// RFC 3339 times as image configs and the Engine API write them (`2024-05-01T12:00:00.123456789Z`).
public enum Timestamp {
    /// Seconds since the epoch, or nil when the text is not RFC 3339.
    public static func parse(_ text: String) -> Int64? {
        parseWithFraction(text)?.seconds
    }

    /// Nanoseconds since the epoch (digits past the ninth ignored), or nil when the text is not RFC 3339.
    public static func nanoseconds(_ text: String) -> Int64? {
        guard let (seconds, fraction) = parseWithFraction(text) else { return nil }
        return seconds * 1_000_000_000 + fraction
    }

    static func parseWithFraction(_ text: String) -> (seconds: Int64, fraction: Int64)? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let b = bytes[index]
                guard b >= 48 && b <= 57 else { return nil }
                value = value * 10 + Int(b - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var fraction: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 9 { fraction = fraction * 10 + Int64(bytes[index] - 48); digits += 1 }
                index += 1
            }
            for _ in digits..<9 { fraction *= 10 }
        }
        var offset = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard index + 6 <= bytes.count, let h = number((index + 1)..<(index + 3)),
                  let m = number((index + 4)..<(index + 6)) else { return nil }
            offset = (h * 3600 + m * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return (Int64(timegm(&parts)) - Int64(offset), fraction)
    }

    /// `2024-05-01T12:00:00.123456789Z` for a moment given as seconds and nanoseconds.
    public static func format(seconds: Int64, nanoseconds: Int = 0) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                          Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        if nanoseconds > 0 {
            var fraction = String(format: "%09d", nanoseconds)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    /// Now, in the same form.
    public static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return format(seconds: Int64(spec.tv_sec), nanoseconds: Int(spec.tv_nsec))
    }
}
