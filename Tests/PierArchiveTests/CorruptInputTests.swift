import Foundation
import Testing
@testable import PierArchive

#if canImport(Glibc)
import Glibc
#endif

/// A damaged archive and the error it must produce.
struct DamagedInput: Sendable, CustomTestStringConvertible {
    enum Damage: Sendable {
        /// The plain tar, cut after this many bytes.
        case cutPlain(at: Int)
        /// The plain tar with one byte changed.
        case flipPlain(at: Int)
        /// The compressed archive, cut after this fraction of its bytes.
        case cutCompressed(Compression, fraction: Double)
        /// The gzip archive with its first deflate block marked as the reserved type 3.
        case invalidDeflateBlock
        case garbage
        case gzipMagicThenGarbage
        case empty
        case xz
    }

    let name: String
    let damage: Damage
    let code: ArchiveError.Code
    /// Text the message must contain.
    let mentions: String

    var testDescription: String { name }
}

@Suite("Damaged input")
struct CorruptInputTests {
    /// small.txt at 0 (data at 512), big.bin at 1024 (data at 1536 ... 301536), after.txt after it.
    static func plainArchive() throws -> [UInt8] {
        try makeArchive { writer in
            try writer.writeBytes(patternBytes(100, seed: 1), as: "small.txt")
            try writer.writeBytes(patternBytes(300_000, seed: 2), as: "big.bin")
            try writer.writeBytes(patternBytes(10, seed: 3), as: "after.txt")
        }
    }

    static let cases: [DamagedInput] = [
        DamagedInput(name: "tar cut inside a file's data", damage: .cutPlain(at: 1_536 + 1_000), code: .corruptArchive,
                     mentions: "unexpected end of data in the data of entry \"big.bin\""),
        DamagedInput(name: "tar cut inside a header", damage: .cutPlain(at: 1_024 + 100), code: .corruptArchive,
                     mentions: "after entry \"small.txt\""),
        DamagedInput(name: "tar with a damaged header", damage: .flipPlain(at: 1_024 + 3), code: .corruptArchive,
                     mentions: "after entry \"small.txt\""),
        DamagedInput(name: "gzip cut in half", damage: .cutCompressed(.gzip, fraction: 0.5), code: .corruptArchive,
                     mentions: "archive is truncated or corrupt"),
        DamagedInput(name: "gzip cut after its header", damage: .cutCompressed(.gzip, fraction: 0.0001), code: .corruptArchive,
                     mentions: "archive is truncated or corrupt"),
        DamagedInput(name: "gzip cut just before its trailer", damage: .cutCompressed(.gzip, fraction: 0.9999), code: .corruptArchive,
                     mentions: "archive is truncated or corrupt"),
        DamagedInput(name: "gzip with an invalid deflate block", damage: .invalidDeflateBlock, code: .corruptArchive,
                     mentions: "archive is truncated or corrupt"),
        DamagedInput(name: "zstd cut in half", damage: .cutCompressed(.zstd, fraction: 0.5), code: .corruptArchive,
                     mentions: "archive is truncated or corrupt"),
        DamagedInput(name: "random bytes", damage: .garbage, code: .corruptArchive,
                     mentions: "not a tar archive"),
        DamagedInput(name: "gzip magic, then garbage", damage: .gzipMagicThenGarbage, code: .corruptArchive,
                     mentions: "archive is truncated or corrupt"),
        DamagedInput(name: "no bytes at all", damage: .empty, code: .corruptArchive,
                     mentions: "archive is empty"),
        DamagedInput(name: "xz compression", damage: .xz, code: .unsupported,
                     mentions: "compressed with xz"),
    ]

    static func damaged(_ damage: DamagedInput.Damage) throws -> [UInt8] {
        let plain = try plainArchive()
        switch damage {
        case .cutPlain(let at):
            return Array(plain.prefix(at))
        case .flipPlain(let at):
            var bytes = plain
            bytes[at] ^= 0x55
            return bytes
        case .cutCompressed(let compression, let fraction):
            let compressed = try recompress(plain, compression)
            return Array(compressed.prefix(max(12, Int(Double(compressed.count) * fraction))))
        case .invalidDeflateBlock:
            var compressed = try recompress(plain, .gzip)
            compressed[10] |= 0b110  // BTYPE bits of the first block (after the 10-byte header)
            return compressed
        case .garbage:
            return patternBytes(4_096, seed: 42)
        case .gzipMagicThenGarbage:
            return [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0, 3] + patternBytes(4_096, seed: 43)
        case .empty:
            return []
        case .xz:
            let tmp = try TemporaryDirectory()
            try writeFile(tmp.path + "/plain.tar", plain)
            try run("/usr/bin/xz", ["-z", tmp.path + "/plain.tar"])
            return try readFile(tmp.path + "/plain.tar.xz")
        }
    }

    static func recompress(_ plain: [UInt8], _ compression: Compression) throws -> [UInt8] {
        try makeArchive(compression) { writer in
            for (entry, data) in try readAll(pullSource(plain)) {
                try writer.write(entry: entry)
                try writer.writeData(data)
            }
        }
    }

    @Test("damaged input throws an ArchiveError that says what is wrong, from both the reader and the extractor", arguments: cases)
    func damaged(_ input: DamagedInput) throws {
        let bytes = try Self.damaged(input.damage)

        let readError = #expect(throws: ArchiveError.self) { _ = try readAll(pullSource(bytes, chunk: 10_000)) }
        #expect(readError?.code == input.code, "\(String(describing: readError))")
        #expect(readError?.message.contains(input.mentions) == true, "\(String(describing: readError))")

        let tmp = try TemporaryDirectory()
        let extractError = #expect(throws: ArchiveError.self) {
            try LayerExtractor.extract(from: pullSource(bytes), into: tmp.path, mode: .overlay)
        }
        #expect(extractError?.code == input.code, "\(String(describing: extractError))")
        #expect(extractError?.message.contains(input.mentions) == true, "\(String(describing: extractError))")
    }

    @Test("gzip data that is damaged yet still inflates is caught by the diffID")
    func damageCaughtByDigest() throws {
        // libarchive does not check the gzip CRC (a TODO in its source), so the digests
        // returned by the extractor are what a caller must compare with the image config.
        let plain = try Self.plainArchive()
        var compressed = try Self.recompress(plain, .gzip)
        let middle = compressed.count / 2
        for index in middle..<middle + 256 { compressed[index] = 0xFF }
        let tmp = try TemporaryDirectory()
        let original = try LayerDigests.measure(pullSource(plain))
        if let damaged = try? LayerExtractor.extract(from: pullSource(compressed), into: tmp.path, mode: .overlay) {
            #expect(damaged.diffID != original.diffID)
        }
    }

    @Test("a truncated layer also fails when only its digests are measured", arguments: [Compression.gzip, .zstd])
    func measureTruncated(_ compression: Compression) throws {
        let bytes = try Self.damaged(.cutCompressed(compression, fraction: 0.5))
        let error = #expect(throws: ArchiveError.self) { try LayerDigests.measure(pullSource(bytes)) }
        #expect(error?.code == .corruptArchive)
    }

    @Test("the undamaged archive reads fine (the cases above fail for their damage alone)")
    func intact() throws {
        let plain = try Self.plainArchive()
        for compression in Compression.allCases {
            let bytes = compression == .none ? plain : try Self.recompress(plain, compression)
            #expect(try readAll(pullSource(bytes)).map(\.entry.path) == ["small.txt", "big.bin", "after.txt"])
        }
    }
}
