import Foundation
import Testing
@testable import PierCLI

/// Expected strings were produced by docker/go-units (and Go's `fmt`) for the same input.
@Suite struct UnitsTests {
    struct SizeCase: Sendable, CustomTestStringConvertible {
        let bytes: Int64
        let human: String
        let human4: String
        let binary: String
        init(_ bytes: Int64, _ human: String, _ human4: String, _ binary: String) {
            (self.bytes, self.human, self.human4, self.binary) = (bytes, human, human4, binary)
        }
        var testDescription: String { String(bytes) }
    }

    static let sizes: [SizeCase] = [
        SizeCase(0, "0B", "0B", "0B"),
        SizeCase(1, "1B", "1B", "1B"),
        SizeCase(999, "999B", "999B", "999B"),
        SizeCase(1000, "1kB", "1kB", "1000B"),
        SizeCase(1023, "1.02kB", "1.023kB", "1023B"),
        SizeCase(1024, "1.02kB", "1.024kB", "1KiB"),
        SizeCase(1536, "1.54kB", "1.536kB", "1.5KiB"),
        SizeCase(9999, "10kB", "9.999kB", "9.765KiB"),
        SizeCase(99999, "100kB", "100kB", "97.66KiB"),
        SizeCase(999_499, "999kB", "999.5kB", "976.1KiB"),
        SizeCase(999_500, "1e+03kB", "999.5kB", "976.1KiB"),
        SizeCase(999_999, "1e+03kB", "1000kB", "976.6KiB"),
        SizeCase(1_000_000, "1MB", "1MB", "976.6KiB"),
        SizeCase(1_048_576, "1.05MB", "1.049MB", "1MiB"),
        SizeCase(4_261_234, "4.26MB", "4.261MB", "4.064MiB"),
        SizeCase(12_345_678, "12.3MB", "12.35MB", "11.77MiB"),
        SizeCase(5_000_000_000, "5GB", "5GB", "4.657GiB"),
        SizeCase(1_099_511_627_776, "1.1TB", "1.1TB", "1TiB"),
        SizeCase(Int64.max, "9.22EB", "9.223EB", "8EiB"),
        SizeCase(-5000, "-5e+03B", "-5000B", "-5000B"),
    ]

    @Test(arguments: sizes)
    func sizesPrintLikeGoUnits(_ testCase: SizeCase) {
        #expect(Units.humanSize(testCase.bytes) == testCase.human)
        #expect(Units.humanSize(testCase.bytes, precision: 4) == testCase.human4)
        #expect(Units.bytesSize(testCase.bytes) == testCase.binary)
    }

    static let durations: [(Double, String)] = [
        (-5, "Less than a second"), (0, "Less than a second"), (0.99, "Less than a second"),
        (1, "1 second"), (1.9, "1 second"), (2, "2 seconds"), (59.9, "59 seconds"),
        (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"),
        (3600, "About an hour"), (5399, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"),
        (48 * 3600 - 1801, "47 hours"), (48 * 3600 - 1800, "2 days"), (13 * 86400, "13 days"),
        (14 * 86400, "2 weeks"), (59 * 86400, "8 weeks"), (60 * 86400, "2 months"),
        (729 * 86400, "24 months"), (730 * 86400, "2 years"), (3650 * 86400, "10 years"),
        (.nan, "Less than a second"), (.infinity, "291 years"),
    ]

    @Test(arguments: durations)
    func durationsReadLikeDocker(_ seconds: Double, _ expected: String) {
        #expect(Units.humanDuration(seconds) == expected)
    }

    static let parsed: [(String, Int64)] = [
        ("32", 32), ("32b", 32), ("32B", 32), ("100k", 102_400), ("100K", 102_400), ("512m", 536_870_912),
        ("1g", 1_073_741_824), ("1.5g", 1_610_612_736), ("0.5k", 512), ("10.5", 10), ("1KiB", 1024),
        ("1kib", 1024), ("1MB", 1_048_576), ("1 GB", 1_073_741_824), ("1t", 1 << 40), ("2p", 2 << 50),
        (".5m", 524_288), ("1e3", 1000), ("1 ", 1),
    ]

    @Test(arguments: parsed)
    func parsesMemorySizes(_ text: String, _ expected: Int64) throws {
        #expect(try Units.parseBytes(text) == expected)
    }

    static let rejected: [(String, String)] = [
        ("12q", "invalid suffix: 'q'"),
        ("", "invalid size: ''"),
        ("abc", "invalid size: 'abc'"),
        ("-1", "invalid size: '-1'"),
        ("1kbb", "invalid suffix: 'kbb'"),
        ("1KIBX", "invalid suffix: 'KIBX'"),
        ("1bb", "invalid suffix: 'bb'"),
        ("1kx", "invalid suffix: 'kx'"),
        ("1.2.3k", #"strconv.ParseFloat: parsing "1.2.3": invalid syntax"#),
        ("k1", #"strconv.ParseFloat: parsing "k1": invalid syntax"#),
        ("1_000", #"strconv.ParseFloat: parsing "1_000": invalid syntax"#),
        ("10000000p", "invalid size: '10000000p'"),
    ]

    @Test(arguments: rejected)
    func rejectsBadSizes(_ text: String, _ message: String) {
        #expect(throws: Units.SizeError(message: message)) { try Units.parseBytes(text) }
    }

    static let truncations: [(String, Int, String)] = [
        ("abcdef", -1, ""), ("abcdef", 0, ""), ("abcdef", 1, "a"), ("abcdef", 3, "ab…"),
        ("abcdef", 6, "abcdef"), ("abcdef", 10, "abcdef"), ("", 1, ""), ("", 5, ""),
        ("/docker-entrypoint.sh nginx -g 'daemon off;'", 20, "/docker-entrypoint.…"),
        ("héllo wörld", 5, "héll…"), ("héllo", 5, "héllo"),
        ("日本語テキスト", 5, "日本…"), ("日本語", 6, "日本語"),
        // docker returns text whole when its first character is wider than the room.
        ("日本語", 2, "日本語"),
    ]

    @Test(arguments: truncations)
    func truncatesLikeDockerEllipsis(_ text: String, _ width: Int, _ expected: String) {
        #expect(truncate(text, width) == expected)
    }

    static let floats: [(Double, String, String, String)] = [
        // value, %v, %.3g, encoding/json
        (1, "1", "1", "1"), (-1, "-1", "-1", "-1"), (0.1, "0.1", "0.1", "0.1"), (1.5, "1.5", "1.5", "1.5"),
        (100, "100", "100", "100"), (123_456, "123456", "1.23e+05", "123456"),
        (1_234_567, "1.234567e+06", "1.23e+06", "1234567"), (1e6, "1e+06", "1e+06", "1000000"),
        (1e-5, "1e-05", "1e-05", "0.00001"), (0.0001234, "0.0001234", "0.000123", "0.0001234"),
        (1e20, "1e+20", "1e+20", "100000000000000000000"), (1e21, "1e+21", "1e+21", "1e+21"),
        (1e-7, "1e-07", "1e-07", "1e-7"), (.leastNonzeroMagnitude, "5e-324", "4.94e-324", "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308", "1.8e+308", "1.7976931348623157e+308"),
        (999.5, "999.5", "1e+03", "999.5"), (123_456_789.125, "1.23456789125e+08", "1.23e+08", "123456789.125"),
        (-6.868230728671095e-30, "-6.868230728671095e-30", "-6.87e-30", "-6.868230728671095e-30"),
        (-0.0, "-0", "-0", "-0"), (.infinity, "+Inf", "+Inf", "null"), (.nan, "NaN", "NaN", "null"),
    ]

    @Test(arguments: floats)
    func floatsFormatLikeGo(_ value: Double, _ verbV: String, _ verbG3: String, _ json: String) {
        #expect(GoFloatFormat.verbV(value) == verbV)
        #expect(GoFloatFormat.verbG(value, precision: 3) == verbG3)
        #expect(GoFloatFormat.json(value) == json)
    }
}
