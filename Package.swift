// swift-tools-version:6.0
// Pier: a Docker-compatible container engine for Linux.
// Modules depend in one direction only (see docs/architecture.md):
//   PierOCI ← PierArchive ← PierStore ← PierEngine ← PierServer ← pierd
//   PierOCI ← PierAPI ← PierClient ← PierCLI ← pier
import PackageDescription

let package = Package(
    name: "Pier",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pier", targets: ["pier"]),
        .executable(name: "pierd", targets: ["pierd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libarchive, from Debian's libarchive-dev.
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive",
                       providers: [.apt(["libarchive-dev"])]),

        // OCI image-spec types, digests, references. No I/O.
        .target(name: "PierOCI"),
        // tar + gzip/zstd streams through libarchive; safe extraction.
        .target(name: "PierArchive", dependencies: [
            "CArchive",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Content-addressed blobs, image names, layer snapshots, GC.
        .target(name: "PierStore", dependencies: [
            "PierOCI", "PierArchive",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Engine API (v1.41) request/response models shared by server and client.
        .target(name: "PierAPI", dependencies: ["PierOCI"]),
        // The daemon's domain layer: image services, bootstrap, save/load, system.
        .target(name: "PierEngine", dependencies: [
            "PierOCI", "PierArchive", "PierStore", "PierAPI",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Engine API over HTTP/1.1 on a unix socket (SwiftNIO).
        .target(name: "PierServer", dependencies: [
            "PierEngine", "PierAPI",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A small blocking HTTP/1.1 client for the unix socket (start-up budget: see docs).
        .target(name: "PierClient", dependencies: ["PierAPI"]),
        // The `pier` command line: one command a file, Docker's flags and columns.
        .target(name: "PierCLI", dependencies: [
            "PierClient", "PierAPI", "PierOCI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // The Dockerfile language: parser, shell-style expansion, .dockerignore matching. No I/O.
        .target(name: "PierDockerfile"),

        .executableTarget(name: "pier", dependencies: ["PierCLI"]),
        .executableTarget(name: "pierd", dependencies: [
            "PierServer", "PierEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "PierOCITests", dependencies: ["PierOCI"]),
        .testTarget(name: "PierArchiveTests", dependencies: ["PierArchive"]),
        .testTarget(name: "PierStoreTests", dependencies: ["PierStore", "PierOCI", "PierArchive"]),
        .testTarget(name: "PierCLITests", dependencies: ["PierCLI"]),
        .testTarget(name: "PierDockerfileTests", dependencies: ["PierDockerfile"]),
        .testTarget(name: "PierIntegrationTests", dependencies: ["pier", "pierd", "PierOCI"]),
    ],
    swiftLanguageModes: [.v6]
)
