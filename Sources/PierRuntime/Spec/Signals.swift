import Foundation

/// Signal names as Docker accepts them (`SIGTERM`, `TERM`, `15`, `RTMIN+3`; moby/sys/signal).
public enum Signals {
    static let table: [String: Int32] = [
        "ABRT": 6, "ALRM": 14, "BUS": 7, "CHLD": 17, "CLD": 17, "CONT": 18, "FPE": 8, "HUP": 1,
        "ILL": 4, "INT": 2, "IO": 29, "IOT": 6, "KILL": 9, "PIPE": 13, "POLL": 29, "PROF": 27,
        "PWR": 30, "QUIT": 3, "SEGV": 11, "STKFLT": 16, "STOP": 19, "SYS": 31, "TERM": 15,
        "TRAP": 5, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "USR1": 10, "USR2": 12,
        "VTALRM": 26, "WINCH": 28, "XCPU": 24, "XFSZ": 25,
    ]
    static let rtmin: Int32 = 34
    static let rtmax: Int32 = 64

    /// The signal number; Docker's error `Invalid signal: X` otherwise.
    public static func parse(_ raw: String) throws(RuntimeError) -> Int32 {
        if let number = Int32(raw) {
            guard number > 0 && number <= rtmax else { throw RuntimeError(.invalidArgument, "Invalid signal: \(raw)") }
            return number
        }
        var name = raw.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let number = table[name] { return number }
        if name == "RTMIN" { return rtmin }
        if name == "RTMAX" { return rtmax }
        if name.hasPrefix("RTMIN+"), let n = Int32(name.dropFirst(6)), (1...15).contains(n) { return rtmin + n }
        if name.hasPrefix("RTMAX-"), let n = Int32(name.dropFirst(6)), (1...14).contains(n) { return rtmax - n }
        throw RuntimeError(.invalidArgument, "Invalid signal: \(raw)")
    }
}
