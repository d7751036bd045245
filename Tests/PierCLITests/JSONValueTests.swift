import Foundation
import Testing
@testable import PierCLI

@Suite struct JSONValueTests {
    /// Documents already in Go's canonical compact form: parsing and writing them back
    /// must give the same bytes (key order, escapes, number forms).
    static let canonical: [String] = [
        #"{"b":1,"a":2,"c":{"z":null,"y":[true,false]}}"#,
        #"[]"#,
        #"{}"#,
        #"[[],{},[[]],{"a":{}}]"#,
        #""plain""#,
        #"9223372036854775807"#,
        #"-9223372036854775808"#,
        #"9007199254740993"#,
        #"[0,-1,1.5,-0.25,0.1,1e+21,1e-7,0.000001,123456789,1234567.125,-0]"#,
        #""\u003cscript\u003e \u0026amp; \u2028\u2029""#,
        #""quote \" backslash \\ tab \t newline \n return \r \b \f \u0001 \u001f""#,
        #""héllo wörld 日本 😀""#,
        #"{"Id":"sha256:6d3b","RepoTags":["busybox:latest"],"Size":4261234,"Config":{"Labels":null}}"#,
    ]

    @Test(arguments: canonical)
    func compactRoundTrip(_ document: String) throws {
        #expect(try JSONValue.parse(document).serialized() == document)
    }

    struct DecodeCase: Sendable, CustomTestStringConvertible {
        let json: String
        let value: JSONValue
        var testDescription: String { json }
    }

    static let decodeCases: [DecodeCase] = [
        DecodeCase(json: #" { "b" : 1 , "a" : [ 2 , 3 ] } "#, value: ["b": 1, "a": [2, 3]]),
        DecodeCase(json: #""\u00e9\/\"""#, value: "é/\""),
        DecodeCase(json: #""\ud83d\ude00""#, value: "😀"),
        DecodeCase(json: #""\ud83d x""#, value: "\u{FFFD} x"),
        DecodeCase(json: #""\ude00""#, value: "\u{FFFD}"),
        DecodeCase(json: #""\ud83d\u0041""#, value: "\u{FFFD}A"),
        DecodeCase(json: #""\u007f""#, value: "\u{7F}"),
        DecodeCase(json: "1E3", value: .double(1000)),
        DecodeCase(json: "-0", value: .double(-0.0)),
        DecodeCase(json: "12345678901234567890", value: .double(1.2345678901234567e19)),
        DecodeCase(json: "[null,true,false]", value: [nil, true, false]),
        DecodeCase(json: #"{"a":1,"a":2}"#, value: .object([("a", 1), ("a", 2)])),
    ]

    @Test(arguments: decodeCases)
    func decodes(_ testCase: DecodeCase) throws {
        #expect(try JSONValue.parse(testCase.json) == testCase.value)
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        let json: String
        let offset: Int
        let message: String
        var testDescription: String { json }
    }

    static let failures: [FailureCase] = [
        FailureCase(json: "", offset: 0, message: "unexpected end of JSON input"),
        FailureCase(json: "{", offset: 1, message: "unexpected end of JSON input"),
        FailureCase(json: "[1,]", offset: 3, message: "invalid character ']' looking for beginning of value"),
        FailureCase(json: "{a:1}", offset: 1, message: "invalid character 'a' looking for beginning of object key string"),
        FailureCase(json: #"{"a" 1}"#, offset: 5, message: "invalid character '1' after object key"),
        FailureCase(json: "[1 2]", offset: 3, message: "invalid character '2' after array element"),
        FailureCase(json: "01", offset: 1, message: "invalid character '1' after top-level value"),
        FailureCase(json: "1.", offset: 2, message: "unexpected end of JSON input"),
        FailureCase(json: "-x", offset: 1, message: "invalid character 'x' in numeric literal"),
        FailureCase(json: "tru", offset: 3, message: "unexpected end of JSON input"),
        FailureCase(json: "nul1", offset: 3, message: "invalid character '1' in literal null (expecting 'l')"),
        FailureCase(json: "\"a\nb\"", offset: 2, message: "invalid character 0x0a in string literal"),
        FailureCase(json: #""\x""#, offset: 2, message: "invalid character 'x' in string escape code"),
        FailureCase(json: #""\u12G4""#, offset: 5, message: #"invalid character 'G' in \u hexadecimal character escape"#),
        FailureCase(json: "1e999", offset: 0, message: "number 1e999 out of range"),
    ]

    @Test(arguments: failures)
    func rejectsMalformedInput(_ testCase: FailureCase) {
        #expect(throws: JSONValue.ParseError(offset: testCase.offset, message: testCase.message)) {
            try JSONValue.parse(testCase.json)
        }
    }

    @Test func refusesPathologicalNesting() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(deep) }
    }

    /// `docker inspect` output: the daemon's JSON through `json.Indent(dst, src, "", "    ")`.
    @Test func indentMatchesDockerInspect() throws {
        let raw = #"""
            [{"Id":"sha256:abc","RepoTags":["busybox:latest"],"RepoDigests":[],"Parent":"","Comment":"",\#
            "Created":"2024-01-01T00:00:00Z","Config":{"Env":["PATH=/usr/bin"],"Cmd":["sh"],"Labels":null,\#
            "ExposedPorts":{}},"Size":4261234,"Metadata":{"LastTagTime":"0001-01-01T00:00:00Z"}}]
            """#
        let expected = """
            [
                {
                    "Id": "sha256:abc",
                    "RepoTags": [
                        "busybox:latest"
                    ],
                    "RepoDigests": [],
                    "Parent": "",
                    "Comment": "",
                    "Created": "2024-01-01T00:00:00Z",
                    "Config": {
                        "Env": [
                            "PATH=/usr/bin"
                        ],
                        "Cmd": [
                            "sh"
                        ],
                        "Labels": null,
                        "ExposedPorts": {}
                    },
                    "Size": 4261234,
                    "Metadata": {
                        "LastTagTime": "0001-01-01T00:00:00Z"
                    }
                }
            ]
            """
        #expect(try JSONValue.parse(raw).serialized(indent: "    ") == expected)
    }

    struct IndentCase: Sendable, CustomTestStringConvertible {
        let value: JSONValue
        let indent: String
        let expected: String
        var testDescription: String { expected }
    }

    static let indentCases: [IndentCase] = [
        IndentCase(value: [], indent: "    ", expected: "[]"),
        IndentCase(value: [:], indent: "    ", expected: "{}"),
        IndentCase(value: "x", indent: "  ", expected: #""x""#),
        IndentCase(value: [1, [2]], indent: "\t", expected: "[\n\t1,\n\t[\n\t\t2\n\t]\n]"),
        IndentCase(value: ["a": [:], "b": []], indent: "  ", expected: "{\n  \"a\": {},\n  \"b\": []\n}"),
    ]

    @Test(arguments: indentCases)
    func indents(_ testCase: IndentCase) {
        #expect(testCase.value.serialized(indent: testCase.indent) == testCase.expected)
    }

    @Test func htmlEscapingCanBeTurnedOff() {
        let value: JSONValue = ["cmd": "a < b && c > d", "sep": "\u{2028}"]
        #expect(value.serialized() == #"{"cmd":"a \u003c b \u0026\u0026 c \u003e d","sep":"\u2028"}"#)
        #expect(value.serialized(escapeHTML: false) == #"{"cmd":"a < b && c > d","sep":"\u2028"}"#)
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONValue.array([.double(.nan), .double(.infinity)]).serialized() == "[null,null]")
    }

    @Test func accessors() throws {
        let value = try JSONValue.parse(#"{"State":{"Pid":42,"Running":true},"Names":["/web"],"Size":1.5,"N":null}"#)
        #expect(value["State"]?["Pid"]?.intValue == 42)
        #expect(value["State"]?["Running"]?.boolValue == true)
        #expect(value["Names"]?[0]?.stringValue == "/web")
        #expect(value["Names"]?[1] == nil)
        #expect(value["Size"]?.doubleValue == 1.5)
        #expect(value["Size"]?.intValue == nil)
        #expect(value["N"]?.isNull == true)
        #expect(value["Missing"] == nil)
        #expect(value["Names"]?["x"] == nil)
        #expect(value.objectValue?.map(\.0) == ["State", "Names", "Size", "N"])
    }

    @Test func listsKeepOnlyTheNamedMembers() throws {
        let list = #"[{"Id":"a","Labels":{"k":"v \" \u00e9","n":[1,{"x":null}]},"Names":["/web"],"Created":5},"#
            + #"{"Mounts":[],"Id":"b","Names":[],"Created":-1.5e3}]"#
        let kept = try JSONValue.parse(Array(list.utf8), keepingMembers: ["Id", "Names", "Created"])
        #expect(kept == JSONValue.array([
            .object([("Id", "a"), ("Names", .array(["/web"])), ("Created", 5)]),
            .object([("Id", "b"), ("Names", .array([])), ("Created", .double(-1500))]),
        ]))
        // Skipped members are still checked: a mistake inside one is reported where it is.
        let broken = #"[{"Id":"a","Labels":{"k":tru}}]"#
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(broken.utf8), keepingMembers: ["Id"]) }
        let unterminated = #"[{"Id":"a","Labels":{"k":"v}}]"#
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(Array(unterminated.utf8), keepingMembers: ["Id"]) }
        // Nested objects keep all their members, and a document that is not a list is read whole.
        let object = #"{"Id":"a","Labels":{"k":"v"}}"#
        #expect(try JSONValue.parse(Array(object.utf8), keepingMembers: ["Id"]) == JSONValue.parse(object))
    }

    @Test func objectsWithDifferentOrderAreDifferent() {
        #expect(JSONValue.object([("a", 1), ("b", 2)]) != JSONValue.object([("b", 2), ("a", 1)]))
        #expect(JSONValue.int(1) != JSONValue.double(1))
    }

    struct Port: Encodable {
        let IP: String?
        let PrivatePort: UInt16
        let PublicPort: UInt16?
        let `Type`: String
    }

    struct Container: Encodable {
        let Id: String
        let Names: [String]
        let Ports: [Port]
        let SizeRw: Int64?
        let Labels: [String: String]
        let Created: Date
        let Ratio: Float
        let Raw: Data
    }

    @Test func encodesModelsInDeclarationOrder() throws {
        let container = Container(
            Id: "abc", Names: ["/web"], Ports: [Port(IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"),
                                               Port(IP: nil, PrivatePort: 443, PublicPort: nil, Type: "tcp")],
            SizeRw: nil, Labels: ["z": "1", "a": "v/w", "m": "<x>"],
            Created: Date(timeIntervalSince1970: 1_700_000_000.25), Ratio: 0.1, Raw: Data("hi".utf8))
        let value = try JSONValue(encoding: container)
        #expect(value.serialized() == #"{"Id":"abc","Names":["/web"],"Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},{"PrivatePort":443,"Type":"tcp"}],"Labels":{"a":"v/w","m":"\u003cx\u003e","z":"1"},"Created":"2023-11-14T22:13:20.25Z","Ratio":0.1,"Raw":"aGk="}"#)
        #expect(try JSONValue(encoding: [3, 1, 2]) == [3, 1, 2])
        #expect(try JSONValue(encoding: "x") == "x")
        #expect(try JSONValue(encoding: UInt64.max) == .double(1.8446744073709552e19))
        #expect(try JSONValue(encoding: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }
}
