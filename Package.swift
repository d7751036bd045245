// swift-tools-version:6.0
// Pier: a Docker-compatible container engine for Linux.
// Modules depend in one direction only (see docs/architecture.md):
//   PierOCI ← PierStore ─┐
//   PierArchive ─────────┴ PierEngine ← PierServer ← pierd
//   PierOCI ← PierAPI ← PierClient ← PierCLI ← pier
import PackageDescription

let package = Package(
    name: "Pier",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pier", targets: ["pier"]),
        .executable(name: "pierd", targets: ["pierd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        // libarchive (headers from Debian's libarchive-dev), loaded on first use rather than at
        // start-up: see Sources/CArchive/lazy.c.
        .target(name: "CArchive", path: "Sources/CArchive"),
        // libdeflate, from Debian's libdeflate-dev: whole-buffer gzip, ~3× zlib's speed at level 1 (pushes).
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", pkgConfig: "libdeflate",
                       providers: [.apt(["libdeflate-dev"])]),

        // OCI image-spec types, digests, references. No I/O.
        .target(name: "PierOCI"),
        // tar + gzip/zstd streams through libarchive; safe extraction.
        .target(name: "PierArchive", dependencies: [
            "CArchive",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Content-addressed blobs, image names, layer snapshots, GC.
        .target(name: "PierStore", dependencies: [
            "PierOCI",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Engine API (v1.41) request/response models shared by server and client.
        .target(name: "PierAPI", dependencies: ["PierOCI"]),
        // Running containers: OCI runtime config generation, cgroups (v1, v2, hybrid), the shim protocol.
        .target(name: "PierRuntime", dependencies: [
            "PierOCI",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Container networking on the host: bridges, veth pairs, nftables NAT and port forwards, embedded DNS.
        .target(name: "PierNetwork", dependencies: [
            "CNetlink",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // rtnetlink requests (veth pairs, addresses, routes) for PierNetwork: C for the syscall glue.
        .target(name: "CNetlink", path: "Sources/CNetlink"),
        // snprintf for the CLI's number formatting, without Swift's variadic boxing.
        .target(name: "CFormat", path: "Sources/CFormat"),
        // The OCI distribution protocol: a registry client and Pier's own registry server.
        .target(name: "PierRegistry", dependencies: [
            "PierOCI", "PierStore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ], linkerSettings: [.linkedLibrary("crypt")]),
        // The daemon's domain layer: image services, bootstrap, save/load, system.
        .target(name: "PierEngine", dependencies: [
            "PierOCI", "PierArchive", "PierStore", "PierAPI", "PierRuntime", "PierRegistry", "PierDockerfile", "PierNetwork", "CDeflate",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The Engine API over HTTP/1.1 on a unix socket (SwiftNIO).
        .target(name: "PierServer", dependencies: [
            "PierEngine", "PierAPI", "PierRuntime", "PierArchive",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // A small blocking HTTP/1.1 client for the unix socket (start-up budget: see docs).
        .target(name: "PierClient", dependencies: ["PierAPI"]),
        // The `pier` command line: one command a file, Docker's flags and columns.
        .target(name: "PierCLI", dependencies: [
            "PierClient", "PierAPI", "PierOCI", "PierArchive", "PierDockerfile", "CFormat",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // The Dockerfile language: parser, shell-style expansion, .dockerignore matching. No I/O.
        .target(name: "PierDockerfile"),

        // Release builds (always linked with --static-swift-stdlib: README, demo.sh, bench/) are
        // fixed-address executables: a position-independent `pier` spends ~1.5 ms of every command
        // applying ~97,000 relocations. Not in debug builds, whose dynamically linked Swift runtime
        // makes glibc warn about copy relocations of its protected symbols.
        // Release `pier` also links libstdc++ statically (link/libstdc++.so is a linker script
        // naming the archive; lld, because the toolchain puts its -lstdc++ before ICU) and exports
        // no symbols: each command then starts ~0.6 ms sooner (docs/benchmarks.md).
        .executableTarget(name: "pier", dependencies: ["PierCLI"], exclude: ["link"],
                          linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie", "-use-ld=lld",
                                                         "-L", Context.packageDirectory + "/Sources/pier/link",
                                                         "-Xlinker", "--no-export-dynamic"],
                                                        .when(configuration: .release))]),
        // The per-container monitor and namespace setup (C: see docs/runtime.md for why).
        // Linked static and without Swift's start-up file (-nostartfiles), so it stays ≤ 2 MB RSS.
        .executableTarget(name: "pier-shim", path: "Sources/pier-shim",
                          linkerSettings: [.linkedLibrary("seccomp"),
                                           .unsafeFlags(["-static-executable", "-nostartfiles"])]),
        // The optional --init for containers: a tiny static PID 1.
        .executableTarget(name: "pier-init", path: "Sources/pier-init",
                          linkerSettings: [.unsafeFlags(["-static-executable", "-nostartfiles"])]),
        // `pier registry serve`: Pier's own OCI registry (exec'd by `pier`, which stays small).
        .executableTarget(name: "pier-registry", dependencies: [
            "PierRegistry",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Fixed-address in release too (see `pier` above): ~97,000 fewer relocations at start, and
        // the metadata pages they would write stay clean and shared instead of resident copies.
        .executableTarget(name: "pierd", dependencies: [
            "PierServer", "PierEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie", "-Xlinker", "--no-export-dynamic"],
                                         .when(configuration: .release))]),

        .testTarget(name: "PierOCITests", dependencies: ["PierOCI"]),
        .testTarget(name: "PierArchiveTests", dependencies: ["PierArchive"]),
        .testTarget(name: "PierStoreTests", dependencies: [
            "PierStore", "PierOCI", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "PierCLITests", dependencies: ["PierCLI"]),
        .testTarget(name: "PierDockerfileTests", dependencies: ["PierDockerfile"]),
        .testTarget(name: "PierEngineTests", dependencies: ["PierEngine", "PierDockerfile", "PierOCI", "PierStore"]),
        .testTarget(name: "PierShimTests", dependencies: ["pier-shim", "pier-init"]),
        .testTarget(name: "PierNetworkTests", dependencies: ["PierNetwork"]),
        .testTarget(name: "PierRuntimeTests", dependencies: ["PierRuntime", "PierOCI"]),
        .testTarget(name: "PierRegistryTests", dependencies: ["PierRegistry", "PierOCI", "PierStore"]),
        .testTarget(name: "PierIntegrationTests",
                    dependencies: ["pier", "pierd", "pier-shim", "pier-init", "pier-registry", "PierOCI"]),
    ],
    swiftLanguageModes: [.v6]
)
