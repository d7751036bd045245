import Testing
@testable import PierEngine

/// Names for containers created without `--name`: there are only 576 bare pairs, and the
/// 577th container must still get a name at once (it used to loop for ever).
@Suite struct ContainerNamesTests {
    static let bare = Set(ContainerNames.adjectives.flatMap { adjective in
        ContainerNames.names.map { "\(adjective)_\($0)" }
    })

    @Test func aFreeBarePairIsUsedFirst() {
        let name = ContainerNames.unused(id: "0123456789abcdef") { _ in false }
        #expect(Self.bare.contains(name))
    }

    @Test func onceEveryBarePairIsTakenANumberIsAdded() {
        var taken = Self.bare
        for _ in 0..<200 {
            let name = ContainerNames.unused(id: "0123456789abcdef") { taken.contains($0) }
            #expect(!taken.contains(name))
            #expect(name.last?.isNumber == true, "\(name) should end in a number")
            taken.insert(name)
        }
    }

    @Test func withNothingFreeTheShortIDIsTheName() {
        let name = ContainerNames.unused(id: "0123456789abcdef") { _ in true }
        #expect(name == "0123456789ab")
    }
}
