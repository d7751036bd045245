import PierOCI
import Testing

@Suite struct PlatformSpecifierTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let input: String
        /// The normalised platform, nil when the specifier is invalid.
        let normalised: String?
        var testDescription: String { input }
    }

    static let cases: [Case] = [
        Case(input: "linux/amd64", normalised: "linux/amd64"),
        Case(input: "linux/x86_64", normalised: "linux/amd64"),
        Case(input: "Linux/X86-64", normalised: "linux/amd64"),
        Case(input: "amd64", normalised: "linux/amd64"),
        Case(input: "linux/aarch64", normalised: "linux/arm64"),
        Case(input: "linux/arm64/8", normalised: "linux/arm64/v8"),
        Case(input: "linux/armhf", normalised: "linux/arm/v7"),
        Case(input: "linux/arm", normalised: "linux/arm/v7"),
        Case(input: "linux/arm/6", normalised: "linux/arm/v6"),
        Case(input: "linux/i386", normalised: "linux/386"),
        Case(input: "macos/arm64", normalised: "darwin/arm64"),
        Case(input: "linux/", normalised: nil),
        Case(input: "linux/amd64/v2/x", normalised: nil),
    ]

    @Test(arguments: cases) func normalises(_ example: Case) {
        #expect(Platform(specifier: example.input)?.description == example.normalised)
    }

    static let compatible: [(String, String, Bool)] = [
        ("linux/amd64", "linux/x86_64", true),
        ("linux/amd64/v1", "linux/amd64", true),
        ("linux/amd64/v3", "linux/amd64", false),
        ("linux/arm64/v8", "linux/arm64", true),
        ("linux/arm64", "linux/amd64", false),
        ("windows/amd64", "linux/amd64", false),
    ]

    @Test(arguments: compatible) func compatibility(_ a: String, _ b: String, _ expected: Bool) throws {
        let first = try #require(Platform(specifier: a))
        let second = try #require(Platform(specifier: b))
        #expect(first.isCompatible(with: second) == expected)
    }
}
