import PierDockerfile
import Testing

/// `.dockerignore` file parsing and the walker's "skip this directory" decision.
@Suite struct DockerIgnoreTests {
    @Test func fileSyntax() throws {
        let ignore = try DockerIgnore("""
            # comment
               # not a comment: a pattern starting with '#' after blanks

            /node_modules
            ./build/
            *.log
            !keep.log
            """)
        #expect(ignore.patterns.map(\.pattern) == ["# not a comment: a pattern starting with '#' after blanks",
                                                   "node_modules", "build", "*.log", "keep.log"])
        #expect(ignore.patterns.map(\.isException) == [false, false, false, false, true])
        #expect(ignore.isExcluded("node_modules/left-pad/index.js"))
        #expect(ignore.isExcluded("build"))
        #expect(ignore.isExcluded("debug.log"))
        #expect(!ignore.isExcluded("keep.log"))
        #expect(!ignore.isExcluded("src/debug.log"))
        #expect(!ignore.isExcluded("Dockerfile"))
        #expect(ignore.hasExceptions)
    }

    @Test func invalidPatternsNameTheLine() {
        #expect {
            try DockerIgnore("ok\n[unterminated\n")
        } throws: { error in
            (error as? DockerfileError)?.description == ".dockerignore:2: syntax error in pattern \"[unterminated\""
        }
        #expect(throws: DockerfileError.self) { try DockerIgnore(patterns: ["!"]) }
    }

    struct SkipCase: Sendable, CustomTestStringConvertible {
        let patterns: [String]
        let directory: String
        let canSkip: Bool
        var testDescription: String { "\(patterns) \(canSkip ? "skips" : "enters") \(directory)" }
    }

    static let skipCases = [
        SkipCase(patterns: ["node_modules"], directory: "node_modules", canSkip: true),
        SkipCase(patterns: ["node_modules"], directory: "src", canSkip: false),
        SkipCase(patterns: ["**"], directory: "a/b", canSkip: true),
        SkipCase(patterns: ["**", "!src"], directory: "src", canSkip: false),
        SkipCase(patterns: ["**", "!src"], directory: "docs", canSkip: true),
        SkipCase(patterns: ["**", "!src/main.go"], directory: "src", canSkip: false),
        SkipCase(patterns: ["**", "!src/main.go"], directory: "test", canSkip: true),
        SkipCase(patterns: ["**", "!**/*.go"], directory: "vendor", canSkip: false),
        SkipCase(patterns: ["**", "!*/keep"], directory: "a", canSkip: false),
        SkipCase(patterns: ["**", "!*/keep"], directory: "a/b", canSkip: true),
        SkipCase(patterns: ["**", "!a/**"], directory: "a", canSkip: false),
        SkipCase(patterns: ["**", "!a/**"], directory: "b", canSkip: true),
        SkipCase(patterns: ["**", "!a[0-9]/x"], directory: "a1", canSkip: false),
        SkipCase(patterns: ["**", "!a[0-9]/x"], directory: "ab", canSkip: true),
        // An exception before the pattern that excludes the directory cannot re-include.
        SkipCase(patterns: ["!build/keep", "build"], directory: "build", canSkip: true),
        SkipCase(patterns: ["build", "!build/keep", "build/*"], directory: "build", canSkip: false),
        SkipCase(patterns: ["build", "!build/keep", "build"], directory: "build", canSkip: true),
    ]

    @Test(arguments: skipCases)
    func skippingDirectories(_ testCase: SkipCase) throws {
        let ignore = try DockerIgnore(patterns: testCase.patterns)
        #expect(ignore.canSkipDirectory(testCase.directory) == testCase.canSkip)
    }

    /// Whenever a directory may be skipped, nothing beneath it is included.
    @Test(arguments: skipCases)
    func skippingNeverLosesIncludedFiles(_ testCase: SkipCase) throws {
        let ignore = try DockerIgnore(patterns: testCase.patterns)
        guard ignore.canSkipDirectory(testCase.directory) else { return }
        for child in ["x", "keep", "main.go", "a/b/c.go", "keep/x"] {
            #expect(ignore.isExcluded(testCase.directory + "/" + child))
        }
    }
}
