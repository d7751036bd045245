import Testing
@testable import PierCLI

/// Expected outputs come from Go's text/tabwriter configured as docker configures it
/// (`NewWriter(out, 10, 1, 3, ' ', 0)`), except the wide-character cases, which follow
/// docker's go-runewidth counting and are worked out by hand.
@Suite struct TableWriterTests {
    struct TableCase: Sendable, CustomTestStringConvertible {
        let input: String
        let expected: String
        init(_ input: String, _ expected: String) {
            self.input = input
            self.expected = expected
        }
        var testDescription: String { input.debugDescription }
    }

    static let cases: [TableCase] = [
        TableCase("a\tb\tc\n", "a         b         c\n"),
        TableCase("a\tb\tc", "a         b         c"),
        TableCase("a\tb\t\n", "a         b         \n"),
        TableCase("aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n", "aaaa      bbb       d\naa        b         dd\na         \naa        cccc      eee\n"),
        TableCase("x\n", "x\n"),
        TableCase("", ""),
        TableCase("only one line no tabs", "only one line no tabs"),
        TableCase("NAME\nfoo\tbar\n", "NAME\nfoo       bar\n"),
        TableCase("a\tb\nc\n\td\te\n", "a         b\nc\n          d         e\n"),
        TableCase("h1\th2\n\n\tx\n", "h1        h2\n\n          x\n"),
        TableCase("verylongcellcontentexceedingminimum\tx\nshort\ty\n", "verylongcellcontentexceedingminimum   x\nshort                                 y\n"),
        TableCase("a\tb\u{0C}c\td\n", "a         b\nc         d\n"),
        TableCase("\t\t\n\t\t\n", "                    \n                    \n"),
        TableCase("α\tβ\nγγγγγγγγγγγγ\tδ\n", "α              β\nγγγγγγγγγγγγ   δ\n"),
        TableCase("a\u{0B}b\tc\n", "a         b         c\n"),
        TableCase("one\ttwo\tthree\nfour\n", "one       two       three\nfour\n"),
        TableCase("1\t2\t3\t4\n5\t6\n7\t8\t9\t10\n", "1         2         3         4\n5         6\n7         8         9         10\n"),
        // Wide characters take two columns: 名前 is 4 wide, so its cell is 7 and the column 10.
        TableCase("名前\tx\nab\ty\n", "名前      x\nab        y\n"),
        TableCase("コンテナ名前です\tx\nab\ty\n", "コンテナ名前です   x\nab                 y\n"),
        // Combining marks take none: "é" written as e + U+0301 is one column.
        TableCase("e\u{301}\u{301}tait\tx\n", "e\u{301}\u{301}tait     x\n"),
    ]

    @Test(arguments: cases)
    func alignsLikeGoTabwriter(_ testCase: TableCase) {
        var table = TableWriter()
        table.write(testCase.input)
        #expect(table.render() == testCase.expected)
    }

    @Test func dockerImages() {
        var table = TableWriter()
        table.addRow(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
        table.addRow(["busybox", "latest", "6d3b2c9a8f1e", "2 hours ago", "4.26MB"])
        #expect(table.render() == """
            REPOSITORY   TAG       IMAGE ID       CREATED       SIZE
            busybox      latest    6d3b2c9a8f1e   2 hours ago   4.26MB

            """)
    }

    @Test func dockerPsWithAnEmptyPortsCell() {
        var table = TableWriter()
        table.addLine("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
        table.addLine("0123456789ab\tnginx:latest\t\"/docker-entrypoint.…\"\t5 minutes ago\tUp 5 minutes\t0.0.0.0:8080->80/tcp\tweb")
        table.addLine("fedcba987654\tredis\t\"docker-entrypoint.s…\"\tAbout an hour ago\tExited (0) 2 minutes ago\t\tcache")
        #expect(table.render() == """
            CONTAINER ID   IMAGE          COMMAND                  CREATED             STATUS                     PORTS                  NAMES
            0123456789ab   nginx:latest   "/docker-entrypoint.…"   5 minutes ago       Up 5 minutes               0.0.0.0:8080->80/tcp   web
            fedcba987654   redis          "docker-entrypoint.s…"   About an hour ago   Exited (0) 2 minutes ago                          cache

            """)
    }

    @Test func headerOnlyTable() {
        var table = TableWriter()
        table.addLine("NETWORK ID\tNAME\tDRIVER\tSCOPE")
        #expect(table.render() == "NETWORK ID   NAME      DRIVER    SCOPE\n")
    }

    @Test func customMinimumWidthAndPadding() {
        var table = TableWriter(minWidth: 0, padding: 1)
        table.addRow(["a", "bb", "c"])
        table.addRow(["ddd", "e", "f"])
        #expect(table.render() == "a   bb c\nddd e  f\n")
    }

    @Test func emptyWriterRendersNothing() {
        #expect(TableWriter().render() == "")
    }
}
