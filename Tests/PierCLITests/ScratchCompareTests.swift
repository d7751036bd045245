import Foundation
import Testing
@testable import PierCLI

@Test func scratchFloats() throws {
    let text = try String(contentsOfFile: "/tmp/gh/floats.tsv", encoding: .utf8)
    var failures = 0
    for line in text.split(separator: "\n") {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let v = Double(bitPattern: UInt64(f[0])!)
        let got = [GoFloatFormat.verbV(v), GoFloatFormat.verbG(v, precision: 3), GoFloatFormat.verbG(v, precision: 4), GoFloatFormat.json(v), GoFloatFormat.verbG(v, precision: 1)]
        if got != Array(f[1...]) { failures += 1; if failures < 15 { print("FLOAT MISMATCH", f, got) } }
    }
    #expect(failures == 0)
}

@Test func scratchSizes() throws {
    let text = try String(contentsOfFile: "/tmp/gh/sizes.tsv", encoding: .utf8)
    var failures = 0
    for line in text.split(separator: "\n") {
        let f = line.split(separator: "\t").map(String.init)
        let v = Int64(f[0])!
        let got = [Units.humanSize(v), Units.humanSize(v, precision: 4), Units.bytesSize(v)]
        if got != Array(f[1...]) { failures += 1; if failures < 15 { print("SIZE MISMATCH", f, got) } }
    }
    #expect(failures == 0)
}

@Test func scratchTemplates() throws {
    let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/gh/tcases.json"))) as! [[String: String]]
    let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/gh/texpected.json"))) as! [String]
    var failures = 0
    for (c, want) in zip(cases, expected) {
        let got: String
        let data = try JSONValue.parse(c["data"]!)
        do {
            let t = try GoTemplate(c["template"]!)
            got = try t.render(data)
        } catch {
            got = (error.phase == .parse ? "PARSE-ERROR: " : "EXEC-ERROR: ") + error.message
        }
        if got != want { failures += 1; print("TEMPLATE MISMATCH\n  tpl: \(c["template"]!)\n  want: \(want.debugDescription)\n  got:  \(got.debugDescription)") }
    }
    #expect(failures == 0)
}

@Test func scratchTabs() throws {
    let inputs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/gh/tabin.json"))) as! [String]
    let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/gh/tabout.json"))) as! [String]
    var failures = 0
    for (input, want) in zip(inputs, expected) {
        var w = TableWriter()
        w.write(input)
        let got = w.render()
        if got != want { failures += 1; print("TAB MISMATCH\n  in: \(input.debugDescription)\n  want: \(want.debugDescription)\n  got:  \(got.debugDescription)") }
    }
    #expect(failures == 0)
}

@Test func scratchIndent() throws {
    let inputs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/gh/jin.json"))) as! [String]
    let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "/tmp/gh/jout.json"))) as! [String]
    var failures = 0
    for (input, want) in zip(inputs, expected) {
        let got = try JSONValue.parse(input).serialized(indent: "    ")
        if got != want { failures += 1; print("JSON MISMATCH\n  in: \(input.debugDescription)\n  want: \(want.debugDescription)\n  got:  \(got.debugDescription)") }
    }
    #expect(failures == 0)
}
