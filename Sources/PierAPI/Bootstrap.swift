/// `GET /pier/bootstrap`: a base image Pier can make locally (Pier's own endpoint, not Docker's).
public struct BootstrapRecipe: Codable, Sendable {
    public var name: String
    public var present: Bool
    public var source: String

    public init(name: String, present: Bool, source: String) {
        self.name = name
        self.present = present
        self.source = source
    }
}
