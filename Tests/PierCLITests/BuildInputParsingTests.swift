import PierAPI
import Testing
@testable import PierCLI

/// `pier build`'s `--secret` values and Git URL contexts.
@Suite struct BuildInputParsingTests {
    struct SecretCase: Sendable, CustomStringConvertible {
        let specification: String
        /// The id and where the value comes from; nil when the specification is invalid.
        let parsed: (id: String, origin: String)?
        var description: String { specification }
    }

    static let secrets: [SecretCase] = [
        SecretCase(specification: "id=npmrc,src=/home/me/.npmrc", parsed: ("npmrc", "file:/home/me/.npmrc")),
        SecretCase(specification: "id=npmrc,source=.npmrc", parsed: ("npmrc", "file:.npmrc")),
        SecretCase(specification: "type=file,id=key", parsed: ("key", "file:key")),
        SecretCase(specification: "id=token,env=GITHUB_TOKEN", parsed: ("token", "environment:GITHUB_TOKEN")),
        SecretCase(specification: "type=env,id=token,src=GITHUB_TOKEN", parsed: ("token", "environment:GITHUB_TOKEN")),
        SecretCase(specification: "type=env,id=TOKEN", parsed: ("TOKEN", "environment:TOKEN")),
        SecretCase(specification: "id=TOKEN", parsed: ("TOKEN", "either:TOKEN")),
        SecretCase(specification: "src=/x", parsed: nil),
        SecretCase(specification: "id=a,src=/x,env=Y", parsed: nil),
        SecretCase(specification: "id=a,type=vault", parsed: nil),
        SecretCase(specification: "id=a,type=file,env=Y", parsed: nil),
        SecretCase(specification: "id=a,colour=blue", parsed: nil),
        SecretCase(specification: "id", parsed: nil),
    ]

    @Test(arguments: secrets) func secretSpecifications(_ example: SecretCase) {
        let source = try? SecretSource(parsing: example.specification)
        let origin: String? = source.map {
            switch $0.origin {
            case .file(let path): "file:" + path
            case .environment(let name): "environment:" + name
            case .either(let name): "either:" + name
            }
        }
        #expect(source?.id == example.parsed?.id)
        #expect(origin == example.parsed?.origin)
    }

    struct GitCase: Sendable, CustomStringConvertible {
        let text: String
        /// Repository, ref, subdirectory; nil when the text is not a Git URL.
        let parsed: [String?]?
        var description: String { text }
    }

    static let gitURLs: [GitCase] = [
        GitCase(text: "https://github.com/org/app.git", parsed: ["https://github.com/org/app.git", nil, nil]),
        GitCase(text: "https://host/org/app.git#v1.2:docker/web", parsed: ["https://host/org/app.git", "v1.2", "docker/web"]),
        GitCase(text: "https://host/org/app.git#:sub", parsed: ["https://host/org/app.git", nil, "sub"]),
        GitCase(text: "git://127.0.0.1:9418/app.git#main", parsed: ["git://127.0.0.1:9418/app.git", "main", nil]),
        GitCase(text: "git@github.com:org/app.git#feature/x", parsed: ["git@github.com:org/app.git", "feature/x", nil]),
        GitCase(text: "github.com/org/app", parsed: ["github.com/org/app", nil, nil]),
        GitCase(text: "https://host/context.tar.gz", parsed: nil),
        GitCase(text: ".", parsed: nil),
        GitCase(text: "./app.git", parsed: nil),
    ]

    @Test(arguments: gitURLs) func gitContexts(_ example: GitCase) {
        let url = GitContextURL(example.text)
        #expect(url.map { [$0.repository, $0.ref, $0.subdirectory] } == example.parsed)
    }
}
