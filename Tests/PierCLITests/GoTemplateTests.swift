import Testing
@testable import PierCLI

/// Expected outputs were produced by Go's text/template running docker's template
/// functions over the same document (decoded as docker's inspect fallback decodes it,
/// with `missingkey=error`).
@Suite struct GoTemplateTests {
    static let document = #"""
        {"Big":1e+21,"Config":{"Cmd":null,"Empty":[],"EmptyMap":{},"Env":["PATH=/usr/bin","A=1"],
        "Labels":{"com.example":"x","maintainer":"me <a@b>"}},"F":false,"Float":1.5,"Html":"<a&b>",
        "Id":"sha256:abc","Int":42,"List":["a","b","c"],"Million":1000000.0,
        "Mixed":[1,"two",3.5,null,true,{"k":"v"},[1,2]],"Name":"hello world","Neg":-3,"Null":null,
        "Ports":[{"IP":"0.0.0.0","PrivatePort":80},{"IP":"::","PrivatePort":443}],"Small":1e-05,
        "State":"running","T":true,"Unicode":"h\u00e9llo w\u00f6rld \u00df","Words":"foo-bar baz_qux","Zero":0}
        """#

    static func data() throws -> JSONValue { try JSONValue.parse(document) }

    struct RenderCase: CustomTestStringConvertible, Sendable {
        let template: String
        let expected: String
        init(_ template: String, _ expected: String) {
            self.template = template
            self.expected = expected
        }
        var testDescription: String { template }
    }

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        let template: String
        let phase: TemplateError.Phase
        let message: String
        init(_ template: String, _ phase: TemplateError.Phase, _ message: String) {
            self.template = template
            self.phase = phase
            self.message = message
        }
        var testDescription: String { template }
    }

    static let renderCases: [RenderCase] = [
        RenderCase("{{.Id}}", "sha256:abc"),
        RenderCase("{{.}}", "map[Big:1e+21 Config:map[Cmd:<nil> Empty:[] EmptyMap:map[] Env:[PATH=/usr/bin A=1] Labels:map[com.example:x maintainer:me <a@b>]] F:false Float:1.5 Html:<a&b> Id:sha256:abc Int:42 List:[a b c] Million:1e+06 Mixed:[1 two 3.5 <nil> true map[k:v] [1 2]] Name:hello world Neg:-3 Null:<nil> Ports:[map[IP:0.0.0.0 PrivatePort:80] map[IP::: PrivatePort:443]] Small:1e-05 State:running T:true Unicode:héllo wörld ß Words:foo-bar baz_qux Zero:0]"),
        RenderCase("{{.Config.Env}}", "[PATH=/usr/bin A=1]"),
        RenderCase("{{.Config}}", "map[Cmd:<nil> Empty:[] EmptyMap:map[] Env:[PATH=/usr/bin A=1] Labels:map[com.example:x maintainer:me <a@b>]]"),
        RenderCase("{{json .}}", "{\"Big\":1e+21,\"Config\":{\"Cmd\":null,\"Empty\":[],\"EmptyMap\":{},\"Env\":[\"PATH=/usr/bin\",\"A=1\"],\"Labels\":{\"com.example\":\"x\",\"maintainer\":\"me <a@b>\"}},\"F\":false,\"Float\":1.5,\"Html\":\"<a&b>\",\"Id\":\"sha256:abc\",\"Int\":42,\"List\":[\"a\",\"b\",\"c\"],\"Million\":1000000,\"Mixed\":[1,\"two\",3.5,null,true,{\"k\":\"v\"},[1,2]],\"Name\":\"hello world\",\"Neg\":-3,\"Null\":null,\"Ports\":[{\"IP\":\"0.0.0.0\",\"PrivatePort\":80},{\"IP\":\"::\",\"PrivatePort\":443}],\"Small\":0.00001,\"State\":\"running\",\"T\":true,\"Unicode\":\"héllo wörld ß\",\"Words\":\"foo-bar baz_qux\",\"Zero\":0}"),
        RenderCase("{{json .Config}}", "{\"Cmd\":null,\"Empty\":[],\"EmptyMap\":{},\"Env\":[\"PATH=/usr/bin\",\"A=1\"],\"Labels\":{\"com.example\":\"x\",\"maintainer\":\"me <a@b>\"}}"),
        RenderCase("{{json .Html}}", "\"<a&b>\""),
        RenderCase("{{json .Null}}", "null"),
        RenderCase("{{join .List \",\"}}", "a,b,c"),
        RenderCase("{{join .Mixed \"|\"}}", "1|two|3.5|<nil>|true|map[k:v]|[1 2]"),
        RenderCase("{{join .Config.Labels \",\"}}", "me <a@b>,x"),
        RenderCase("{{join .Null \",\"}}", ""),
        RenderCase("{{upper .Name}}", "HELLO WORLD"),
        RenderCase("{{lower .State}}", "running"),
        RenderCase("{{title .Words}}", "Foo-Bar Baz_qux"),
        RenderCase("{{title .Unicode}}", "Héllo Wörld ß"),
        RenderCase("{{upper .Unicode}}", "HÉLLO WÖRLD ß"),
        RenderCase("{{len .List}}", "3"),
        RenderCase("{{len .Name}}", "11"),
        RenderCase("{{len .Unicode}}", "16"),
        RenderCase("{{len .Config.Labels}}", "2"),
        RenderCase("{{index .Config.Labels \"com.example\"}}", "x"),
        RenderCase("{{index .Config.Labels \"nope\"}}", "<no value>"),
        RenderCase("{{index .List 1}}", "b"),
        RenderCase("{{index .Ports 0}}", "map[IP:0.0.0.0 PrivatePort:80]"),
        RenderCase("{{println .Name}}", "hello world\n"),
        RenderCase("{{println .Int .Name .Float}}", "42 hello world 1.5\n"),
        RenderCase("{{print .Int .Int .Name .Int}}", "42 42hello world42"),
        RenderCase("{{range .List}}[{{.}}]{{end}}", "[a][b][c]"),
        RenderCase("{{range $i, $e := .List}}{{$i}}={{$e}} {{end}}", "0=a 1=b 2=c "),
        RenderCase("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", "com.example:x;maintainer:me <a@b>;"),
        RenderCase("{{range .Ports}}{{.IP}}:{{.PrivatePort}} {{end}}", "0.0.0.0:80 :::443 "),
        RenderCase("{{range .Null}}x{{else}}none{{end}}", "none"),
        RenderCase("{{if .T}}yes{{else}}no{{end}}", "yes"),
        RenderCase("{{if .F}}yes{{else if .Int}}int{{else}}no{{end}}", "int"),
        RenderCase("{{if .Null}}y{{else}}n{{end}}", "n"),
        RenderCase("{{if .Zero}}y{{else}}n{{end}}", "n"),
        RenderCase("{{if eq .State \"running\"}}up{{end}}", "up"),
        RenderCase("{{if ne .Int 42}}a{{else}}b{{end}}", "b"),
        RenderCase("{{if and .T .Int}}both{{end}}", "both"),
        RenderCase("{{or .Null .Name}}", "hello world"),
        RenderCase("{{and .T .Zero}}", "0"),
        RenderCase("{{not .T}}", "false"),
        RenderCase("{{if lt .Int 100}}small{{end}}", "small"),
        RenderCase("{{if gt .Name \"a\"}}gt{{end}}", "gt"),
        RenderCase("a {{- \" b \" -}} c", "a b c"),
        RenderCase("x\n  {{- .Int}}\n  y", "x42\n  y"),
        RenderCase("{{.Int -}}\n\n  z", "42z"),
        RenderCase("{{/* comment */}}ok", "ok"),
        RenderCase("a {{- /* c */ -}} b", "ab"),
        RenderCase("{{.Float}}", "1.5"),
        RenderCase("{{.Big}}", "1e+21"),
        RenderCase("{{.Small}}", "1e-05"),
        RenderCase("{{.Million}}", "1e+06"),
        RenderCase("{{.Neg}}", "-3"),
        RenderCase("{{.Null}}", "<no value>"),
        RenderCase("{{.Mixed}}", "[1 two 3.5 <nil> true map[k:v] [1 2]]"),
        RenderCase("{{.T}}", "true"),
        RenderCase("{{with .Config}}{{.Env}}{{end}}", "[PATH=/usr/bin A=1]"),
        RenderCase("{{with .Null}}x{{else}}empty{{end}}", "empty"),
        RenderCase("{{$x := .Name}}{{$x}}", "hello world"),
        RenderCase("{{$x := 1}}{{$x = 2}}{{$x}}", "2"),
        RenderCase("{{$.Id}}", "sha256:abc"),
        RenderCase("{{.Name | upper}}", "HELLO WORLD"),
        RenderCase("{{.List | len}}", "3"),
        RenderCase("{{.Name | printf \"%s!\"}}", "hello world!"),
        RenderCase("{{printf \"%d-%s-%v\" .Int .Name .Float}}", "42-hello world-1.5"),
        RenderCase("{{printf \"%5d|%-5s|%05d\" .Int .State .Neg}}", "   42|running|-0003"),
        RenderCase("{{printf \"%q\" .Html}}", "\"<a&b>\""),
        RenderCase("{{json (index .Ports 0)}}", "{\"IP\":\"0.0.0.0\",\"PrivatePort\":80}"),
        RenderCase("{{(index .Ports 1).IP}}", "::"),
        RenderCase("{{pad .Name 2 3}}|", "  hello world   |"),
        RenderCase("{{truncate .Id 6}}", "sha256"),
        RenderCase("{{split .Name \" \"}}", "[hello world]"),
        RenderCase("{{join (split .Name \" \") \"_\"}}", "hello_world"),
        RenderCase("{{range .List}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a"),
        RenderCase("{{range .List}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac"),
        RenderCase("{{slice .Name 0 5}}", "hello"),
        RenderCase("{{slice .List 1}}", "[b c]"),
        RenderCase("{{index .Mixed 5}}", "map[k:v]"),
        RenderCase("{{3}}", "3"),
        RenderCase("{{true}}", "true"),
        RenderCase("{{\"str\"}}", "str"),
        RenderCase("{{'a'}}", "97"),
        RenderCase("{{-3}}", "-3"),
        RenderCase("{{ -3 }}", "-3"),
        RenderCase("{{.Html}}", "<a&b>"),
        RenderCase("{{with $x := .Int}}{{$x}}{{end}}", "42"),
        RenderCase("{{range $i, $e := .Config.Labels}}{{$i}}{{end}}", "com.examplemaintainer"),
        RenderCase("{{.Config.Labels.maintainer}}", "me <a@b>"),
        RenderCase("{{json .Mixed}}", "[1,\"two\",3.5,null,true,{\"k\":\"v\"},[1,2]]"),
        RenderCase("{{json .Unicode}}", "\"héllo wörld ß\""),
        RenderCase("{{print nil}}", "<nil>"),
        RenderCase("{{printf \"%v %v\" .Config .List}}", "map[Cmd:<nil> Empty:[] EmptyMap:map[] Env:[PATH=/usr/bin A=1] Labels:map[com.example:x maintainer:me <a@b>]] [a b c]"),
        RenderCase("{{printf \"%s\" .Int}}", "%!s(int=42)"),
        RenderCase("{{printf \"%d\"}}", "%!d(MISSING)"),
        RenderCase("{{printf \"%d\" 1 2}}", "1%!(EXTRA int=2)"),
        RenderCase("{{.Config.Env}}\t{{.Id}}", "[PATH=/usr/bin A=1]\tsha256:abc"),
        RenderCase("tab\\there", "tab\\there"),
        RenderCase("{{-\t.Int}}", "42"),
        RenderCase("{{ .Int\n}}", "42"),
        RenderCase("{{range .Ports}}{{$.Id}} {{end}}", "sha256:abc sha256:abc "),
        RenderCase("{{with .Config}}{{.Labels.maintainer}}{{end}}", "me <a@b>"),
        RenderCase("{{range $i, $p := .Ports}}{{if $i}}, {{end}}{{$p.IP}}{{end}}", "0.0.0.0, ::"),
        RenderCase("{{printf \"%.2f\" .Float}}", "1.50"),
        RenderCase("{{printf \"%10s|\" .State}}", "   running|"),
        RenderCase("{{printf \"%-10s|\" .State}}", "running   |"),
        RenderCase("{{printf \"%x\" .Int}}", "2a"),
        RenderCase("{{printf \"%v\" .Null}}", "<nil>"),
        RenderCase("{{printf \"%s\" .Null}}", "%!s(<nil>)"),
        RenderCase("{{len .Config.Empty}}", "0"),
        RenderCase("{{if not .Config.Empty}}empty{{end}}", "empty"),
        RenderCase("{{\"a\" | printf \"%s-%s\" \"b\"}}", "b-a"),
        RenderCase("{{(index .Ports 0).PrivatePort | printf \"%d\"}}", "80"),
        RenderCase("x {{- /* x */}} y", "x y"),
        RenderCase("{{$x := .List}}{{range $x}}{{.}}{{end}}", "abc"),
        RenderCase("{{.Int | printf \"%05d\"}}", "00042"),
        RenderCase("{{println}}", "\n"),
        RenderCase("{{json .Config.Labels}}", "{\"com.example\":\"x\",\"maintainer\":\"me <a@b>\"}"),
        RenderCase("{{ .Id -}}   {{- .Int }}", "sha256:abc42"),
        RenderCase("{{if .F}}1{{else if .Zero}}2{{else if .Null}}3{{else}}4{{end}}", "4"),
        RenderCase("{{.T | not}}", "false"),
        RenderCase("{{or 0 \"\"}}", ""),
        RenderCase("{{ 1.5 }}", "1.5"),
        RenderCase("{{ 0x10 }}", "16"),
        RenderCase("{{1e3}}", "1000"),
        RenderCase("{{-1.5}}", "-1.5"),
        RenderCase("{{index .Mixed 6 1}}", "2"),
        RenderCase("{{printf \"%q\" .Unicode}}", "\"héllo wörld ß\""),
        RenderCase("{{printf \"%5.1f|%e\" .Float .Float}}", "  1.5|1.500000e+00"),
        RenderCase("{{printf \"%t %v\" .T .Mixed}}", "true [1 two 3.5 <nil> true map[k:v] [1 2]]"),
        RenderCase("{{printf \"%d%%\" .Int}}", "42%"),
        RenderCase("{{printf \"%s\" .List}}", "[a b c]"),
        RenderCase("{{print .List .Int}}", "[a b c] 42"),
        RenderCase("{{print \"a\" \"b\" 1 2 \"c\"}}", "ab1 2c"),
        RenderCase("{{.Float | printf \"%g\"}}", "1.5"),
        RenderCase("{{printf \"%.3g\" .Float}}", "1.5"),
        RenderCase("{{printf \"%c\" 65}}", "A"),
        RenderCase("{{printf \"%X\" \"hi\"}}", "6869"),
        RenderCase("{{printf \"%+d % d\" .Int .Int}}", "+42  42"),
        RenderCase("{{range $i, $e := .List}}{{if eq $i 1}}{{continue}}{{end}}{{$e}}{{end}}", "ac"),
        RenderCase("{{range .List}}{{break}}{{else}}e{{end}}", ""),
        RenderCase("{{with $x := .Config}}{{$x.Env}}{{end}}", "[PATH=/usr/bin A=1]"),
        RenderCase("{{range .Config.Labels}}{{.}};{{end}}", "x;me <a@b>;"),
        RenderCase("{{split \"a,b,,c\" \",\"}}", "[a b  c]"),
        RenderCase("{{split \"abc\" \"\"}}", "[a b c]"),
        RenderCase("{{len (split .Name \" \")}}", "2"),
        RenderCase("{{title \"hello_world foo.bar ωmega\"}}", "Hello_world Foo.Bar Ωmega"),
        RenderCase("{{upper \"ǆ straße\"}}", "Ǆ STRAßE"),
        RenderCase("{{lower \"ÀÉÎ İ\"}}", "àéî i"),
        RenderCase("{{truncate .Unicode 2}}", "h�"),
        RenderCase("{{pad \"\" 1 1}}|", "|"),
        RenderCase("{{index .Name 0}}", "104"),
        RenderCase("{{slice .Name 6}}", "world"),
        RenderCase("{{slice .List 1 2}}", "[b]"),
        RenderCase("{{eq .Int 42 43}}", "true"),
        RenderCase("{{eq .Int 1 2 42}}", "true"),
        RenderCase("{{eq .Null .Null}}", "true"),
        RenderCase("{{ne .Name \"x\"}}", "true"),
        RenderCase("{{lt 1 2}}", "true"),
        RenderCase("{{le 2 2}}", "true"),
        RenderCase("{{ge \"a\" \"b\"}}", "false"),
        RenderCase("{{gt .Float .Float}}", "false"),
        RenderCase("{{json 1.0}}", "1"),
        RenderCase("{{json \"<>&\"}}", "\"<>&\""),
        RenderCase("{{.Config.Env | json}}", "[\"PATH=/usr/bin\",\"A=1\"]"),
        RenderCase("{{$}}", "map[Big:1e+21 Config:map[Cmd:<nil> Empty:[] EmptyMap:map[] Env:[PATH=/usr/bin A=1] Labels:map[com.example:x maintainer:me <a@b>]] F:false Float:1.5 Html:<a&b> Id:sha256:abc Int:42 List:[a b c] Million:1e+06 Mixed:[1 two 3.5 <nil> true map[k:v] [1 2]] Name:hello world Neg:-3 Null:<nil> Ports:[map[IP:0.0.0.0 PrivatePort:80] map[IP::: PrivatePort:443]] Small:1e-05 State:running T:true Unicode:héllo wörld ß Words:foo-bar baz_qux Zero:0]"),
        RenderCase("{{if $x := .Int}}{{$x}}{{end}}", "42"),
        RenderCase("{{range $x := .List}}{{$x}}{{end}}", "abc"),
        RenderCase("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2"),
        RenderCase("{{index .Ports 0 \"IP\"}}", "0.0.0.0"),
        RenderCase("{{index .List}}", "[a b c]"),
        RenderCase("{{json nil}}", "null"),
        RenderCase("{{.Int}} {{/* multi\nline */}} {{.Int}}", "42  42"),
        RenderCase("{{\"\\u00e9\\t\\x41\\101\"}}", "é\tAA"),
        RenderCase("{{`raw\\n`}}", "raw\\n"),
    ]

    @Test(arguments: renderCases)
    func rendersLikeGo(_ testCase: RenderCase) throws {
        let template = try GoTemplate(testCase.template)
        #expect(try template.render(Self.data()) == testCase.expected)
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase("{{join .Name \",\"}}", .execute, "template: :1:2: executing \"\" at <join .Name \",\">: error calling join: expected slice, got string"),
        ErrorCase("{{index .List 5}}", .execute, "template: :1:2: executing \"\" at <index .List 5>: error calling index: index out of range: 5"),
        ErrorCase("{{range .Empty}}x{{else}}empty{{end}}", .execute, "template: :1:8: executing \"\" at <.Empty>: map has no entry for key \"Empty\""),
        ErrorCase("{{if .Empty}}y{{else}}n{{end}}", .execute, "template: :1:5: executing \"\" at <.Empty>: map has no entry for key \"Empty\""),
        ErrorCase("{{.Nope}}", .execute, "template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""),
        ErrorCase("{{.Config.Nope}}", .execute, "template: :1:9: executing \"\" at <.Config.Nope>: map has no entry for key \"Nope\""),
        ErrorCase("  {{.Null.X}}", .execute, "template: :1:9: executing \"\" at <.Null.X>: nil pointer evaluating interface {}.X"),
        ErrorCase("{{.Name.X}}", .execute, "template: :1:7: executing \"\" at <.Name.X>: can't evaluate field X in type interface {}"),
        ErrorCase("{{.List.X}}", .execute, "template: :1:7: executing \"\" at <.List.X>: can't evaluate field X in type interface {}"),
        ErrorCase("{{.Int.X}}", .execute, "template: :1:6: executing \"\" at <.Int.X>: can't evaluate field X in type interface {}"),
        ErrorCase("line1\n{{.Nope}}", .execute, "template: :2:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\""),
        ErrorCase("{{", .parse, "template: :1: unclosed action"),
        ErrorCase("{{.Id", .parse, "template: :1: unclosed action"),
        ErrorCase("{{end}}", .parse, "template: :1: unexpected {{end}}"),
        ErrorCase("{{if .T}}x", .parse, "template: :1: unexpected EOF"),
        ErrorCase("{{nope .X}}", .parse, "template: :1: function \"nope\" not defined"),
        ErrorCase("{{.Id}}{{else}}", .parse, "template: :1: unexpected {{else}}"),
        ErrorCase("{{$y}}", .parse, "template: :1: undefined variable \"$y\""),
        ErrorCase("{{.A.B | 3}}", .parse, "template: :1: non executable command in pipeline stage 2"),
        ErrorCase("{{json}}", .execute, "template: :1:2: executing \"\" at <json>: wrong number of args for json: want 1 got 0"),
        ErrorCase("{{upper .Int}}", .execute, "template: :1:8: executing \"\" at <.Int>: wrong type for value; expected string; got int"),
        ErrorCase("{{upper .Null}}", .execute, "template: :1:8: executing \"\" at <.Null>: wrong type for value; expected string; got interface {}"),
        ErrorCase("{{index .Null 1}}", .execute, "template: :1:2: executing \"\" at <index .Null 1>: error calling index: index of untyped nil"),
        ErrorCase("{{len .Int}}", .execute, "template: :1:2: executing \"\" at <len .Int>: error calling len: len of type int"),
        ErrorCase("{{.Id .Name}}", .execute, "template: :1:2: executing \"\" at <.Id>: Id is not a method but has arguments"),
        ErrorCase("{{\"x\" .Id}}", .execute, "template: :1:2: executing \"\" at <\"x\">: can't give argument to non-function \"x\""),
        ErrorCase("{{range .Name}}{{end}}", .execute, "template: :1:8: executing \"\" at <.Name>: range can't iterate over hello world"),
        ErrorCase("{{eq .Int \"a\"}}", .execute, "template: :1:2: executing \"\" at <eq .Int \"a\">: error calling eq: incompatible types for comparison"),
        ErrorCase("{{.Name | .Id}}", .execute, "template: :1:10: executing \"\" at <.Id>: Id is not a method but has arguments"),
        ErrorCase("{{.Id!}}", .parse, "template: :1: bad character U+0021 '!'"),
        ErrorCase("{{nil}}", .execute, "template: :1:2: executing \"\" at <nil>: nil is not a command"),
        ErrorCase("{{index .Config.Labels 1}}", .execute, "template: :1:2: executing \"\" at <index .Config.Labels 1>: error calling index: value has type int; should be string"),
        ErrorCase("{{if .T}}a{{else}}b{{else}}c{{end}}", .parse, "template: :1: expected end; found {{else}}"),
        ErrorCase("{{range .List}}{{end}}{{break}}", .parse, "template: :1: {{break}} outside {{range}}"),
        ErrorCase("{{.List|join}}", .execute, "template: :1:8: executing \"\" at <join>: wrong number of args for join: want 2 got 1"),
        ErrorCase("{{join .List}}", .execute, "template: :1:2: executing \"\" at <join>: wrong number of args for join: want 2 got 1"),
        ErrorCase("{{if .T}}{{$x := 1}}{{end}}{{$x}}", .parse, "template: :1: undefined variable \"$x\""),
        ErrorCase("{{.Config.Labels.com.example}}", .execute, "template: :1:9: executing \"\" at <.Config.Labels.com.example>: map has no entry for key \"com\""),
        ErrorCase("{{range .Ports}}{{.Nope}}{{end}}", .execute, "template: :1:18: executing \"\" at <.Nope>: map has no entry for key \"Nope\""),
        ErrorCase("a\n{{.Int}}{{.Nope}}", .execute, "template: :2:10: executing \"\" at <.Nope>: map has no entry for key \"Nope\""),
        ErrorCase("{{and}}", .execute, "template: :1:2: executing \"\" at <and>: wrong number of args for and: want at least 1 got 0"),
        ErrorCase("{{slice .List 2 1}}", .execute, "template: :1:2: executing \"\" at <slice .List 2 1>: error calling slice: invalid slice index: 2 > 1"),
        ErrorCase("{{lt .T .F}}", .execute, "template: :1:2: executing \"\" at <lt .T .F>: error calling lt: invalid type for comparison"),
        ErrorCase("{{range $k, $v := .Config.Labels}}{{$k}}{{end}}{{$k}}", .parse, "template: :1: undefined variable \"$k\""),
        ErrorCase("{{.Ports.IP}}", .execute, "template: :1:8: executing \"\" at <.Ports.IP>: can't evaluate field IP in type interface {}"),
        ErrorCase("{{index .List -1}}", .execute, "template: :1:2: executing \"\" at <index .List -1>: error calling index: index out of range: -1"),
        ErrorCase("{{index .List \"a\"}}", .execute, "template: :1:2: executing \"\" at <index .List \"a\">: error calling index: cannot index slice/array with type string"),
        ErrorCase("{{index 1 1}}", .execute, "template: :1:2: executing \"\" at <index 1 1>: error calling index: can't index item of type int"),
        ErrorCase("{{.List | join \"-\"}}", .execute, "template: :1:15: executing \"\" at <\"-\">: wrong type for value; expected string; got []interface {}"),
        ErrorCase("{{join .List .Int}}", .execute, "template: :1:13: executing \"\" at <.Int>: wrong type for value; expected string; got int"),
        ErrorCase("{{truncate .Name \"x\"}}", .execute, "template: :1:17: executing \"\" at <\"x\">: expected integer; found \"x\""),
        ErrorCase("{{pad .Name 1}}", .execute, "template: :1:2: executing \"\" at <pad>: wrong number of args for pad: want 3 got 2"),
        ErrorCase("{{  }}", .parse, "template: :1: missing value for command"),
    ]

    @Test(arguments: errorCases)
    func failsLikeGo(_ testCase: ErrorCase) throws {
        let data = try Self.data()
        do {
            let output = try GoTemplate(testCase.template).render(data)
            Issue.record("expected an error, got \(output.debugDescription)")
        } catch {
            #expect(error.phase == testCase.phase)
            #expect(error.message == testCase.message)
        }
    }

    /// Where Pier follows current Go (1.22+) or refuses clearly rather than matching
    /// the Go 1.19 reference the tables above came from.
    static let deliberateCases: [ErrorCase] = [
        ErrorCase(
            "{{eq .List .List}}", .execute,
            #"template: :1:2: executing "" at <eq .List .List>: error calling eq: uncomparable type []interface {}: [a b c]"#),
        ErrorCase(
            #"{{template "x"}}"#, .parse,
            "template: :1: {{template}} is not supported in --format templates (define, template and block are not available)"),
        ErrorCase("{{#}}", .parse, "template: :1: unrecognized character in action: U+0023 '#'"),
        ErrorCase("{{html .Id}}", .execute, #"template: :1:2: executing "" at <html>: function "html" is not supported in --format templates"#),
        ErrorCase("{{range $i, $e := 3}}{{end}}", .execute, #"template: :1:18: executing "" at <3>: can't use 3 to iterate over more than one variable"#),
    ]

    @Test(arguments: deliberateCases)
    func deliberateDifferences(_ testCase: ErrorCase) throws {
        try failsLikeGo(testCase)
    }

    @Test func rangeOverIntegerCountsUp() throws {
        #expect(try GoTemplate("{{range $i := 3}}{{$i}},{{end}}").render(.null) == "0,1,2,")
    }

    @Test func jsonKeepsDaemonKeyOrderAndDoesNotEscapeHTML() throws {
        let container: JSONValue = ["Names": ["/web"], "Id": "abc", "Labels": ["z": "1", "a": "<b>&"], "Size": 10]
        #expect(try GoTemplate("{{json .}}").render(container)
            == #"{"Names":["/web"],"Id":"abc","Labels":{"z":"1","a":"<b>&"},"Size":10}"#)
        #expect(try GoTemplate("{{.Labels}}").render(container) == "map[a:<b>& z:1]")
    }

    @Test func expandEscapesTurnsBackslashSequencesIntoControlCharacters() throws {
        #expect(GoTemplate.expandEscapes(#"{{.ID}}\t{{.Names}}\n"#) == "{{.ID}}\t{{.Names}}\n")
        #expect(GoTemplate.expandEscapes(#"a\\tb"#) == "a\\\tb")
        #expect(GoTemplate.expandEscapes("plain") == "plain")
    }

    @Test func textWithoutActionsIsCopied() throws {
        #expect(try GoTemplate("no actions here\n").render(.null) == "no actions here\n")
        #expect(try GoTemplate("").render(.null) == "")
    }

    @Test func errorsNameTheLineOfAMultiLineTemplate() throws {
        #expect(throws: TemplateError(phase: .parse, message: #"template: :3: function "nope" not defined"#)) {
            try GoTemplate("a\nb\n{{nope}}")
        }
        #expect(throws: TemplateError(
            phase: .execute, message: #"template: :2:4: executing "" at <.Missing>: map has no entry for key "Missing""#)
        ) {
            try GoTemplate("{{.Id}}\n  {{.Missing}}").render(["Id": "x"])
        }
    }

    @Test func malformedTemplatesNeverCrash() throws {
        let inputs = ["{{", "}}", "{{{{", "{{(}}", "{{)}}", "{{.A.}}", "{{$}}", "{{$x :}}", "{{\"abc}}", "{{`abc}}",
                      "{{'ab'}}", "{{1e}}", "{{/* x}}", "{{/* x */ y}}", "{{if}}{{end}}", "{{range}}{{end}}",
                      "{{else}}", "{{.A | }}", "{{| .A}}", "{{-}}", "{{- -}}", "{{.A (}}", "{{break}}",
                      "{{range $a, $b, $c := .}}{{end}}", "{{with}}", "{{end", "{{\u{1F600}}}", "{{.\u{00E9}}}"]
        for input in inputs {
            do {
                _ = try GoTemplate(input).render(["A": ["B": 1]])
            } catch {
                #expect(error.message.hasPrefix("template: :"), "\(input): \(error.message)")
            }
        }
    }

    struct LabelNotFound: Error, CustomStringConvertible {
        var description: String { "no such label" }
    }

    @Test func methodsAnswerFieldsCalledWithArguments() throws {
        let label: GoTemplate.Method = { receiver, arguments in
            guard case .string(let key) = arguments.first, let value = receiver["Labels"]?[key] else {
                throw LabelNotFound()
            }
            return value
        }
        let row: JSONValue = ["ID": "abc", "Labels": ["com.docker.compose.project": "shop"]]
        let template = try GoTemplate(#"{{.ID}} {{.Label "com.docker.compose.project"}} {{"x" | .Label}}"#)
        #expect(throws: TemplateError(
            phase: .execute, message: #"template: :1:56: executing "" at <.Label>: error calling Label: no such label"#)
        ) {
            try template.render(row, methods: ["Label": label])
        }
        #expect(try GoTemplate(#"{{.ID}} {{.Label "com.docker.compose.project"}}"#).render(row, methods: ["Label": label])
            == "abc shop")
        #expect(throws: TemplateError(
            phase: .execute, message: #"template: :1:2: executing "" at <.Label>: Label is not a method but has arguments"#)
        ) {
            try GoTemplate(#"{{.Label "x"}}"#).render(row)
        }
    }

    @Test func headerRowKeepsTitlesAndStopsAtTheFirstError() throws {
        let titles: JSONValue = ["ID": "CONTAINER ID", "Names": "NAMES", "Ports": "PORTS", "Image": "IMAGE"]
        let template = try GoTemplate("{{.ID}}\t{{lower .Names}}\t{{json .Ports}}\t{{pad .Image 1 1}}")
        #expect(template.renderHeader(titles) == "CONTAINER ID\tNAMES\tPORTS\t IMAGE ")
        #expect(try template.render(titles) == "CONTAINER ID\tnames\t\"PORTS\"\t IMAGE ")
        #expect(try GoTemplate("{{.ID}}\t{{.Label \"x\"}}\t{{.Names}}").renderHeader(titles) == "CONTAINER ID\t")
    }

    /// The `table` workflow of the commands: each row rendered with tab-separated
    /// cells, the header the same way, then aligned by TableWriter.
    @Test func tableFormatWorkflowMatchesDockerImages() throws {
        let format = GoTemplate.expandEscapes(#"{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"#)
        let template = try GoTemplate(format)
        var table = TableWriter()
        table.addLine(try template.render([
            "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED", "Size": "SIZE",
        ]))
        table.addLine(try template.render([
            "Repository": "busybox", "Tag": "latest", "ID": "6d3b2c9a8f1e", "CreatedSince": "2 hours ago",
            "Size": .string(Units.humanSize(4_261_234)),
        ]))
        #expect(table.render() == """
            REPOSITORY   TAG       IMAGE ID       CREATED       SIZE
            busybox      latest    6d3b2c9a8f1e   2 hours ago   4.26MB

            """)
    }
}
