import Foundation
import Testing

/// The build cache outlives pierd (its layers are not garbage) until `builder prune`.
@Suite(.serialized) struct BuildCacheTests {
    @Test func theCacheSurvivesARestartAndGoesWithBuilderPrune() throws {
        let context = NSTemporaryDirectory() + "pier-cache-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: context) }
        // Two stages: the first one's layers belong to no tagged image, only to the cache.
        try """
        FROM busybox AS make
        RUN echo made > /made
        FROM busybox
        COPY --from=make /made /made
        RUN cat /made
        """.write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["build", "-q", "-t", "cached", context]).status == 0)
            daemon.kill()
            let restarted = try daemon.restart()
            defer { restarted.stop() }
            let again = restarted.pier(["build", "-t", "cached", context])
            #expect(again.status == 0)
            #expect(again.stdout.components(separatedBy: "Using cache").count - 1 == 3, "\(again.stdout)")
            let prune = restarted.pier(["builder", "prune", "-f"])
            #expect(prune.status == 0 && prune.stdout.contains("Total reclaimed space"), "\(prune)")
            let cold = restarted.pier(["build", "-t", "cached", context])
            #expect(cold.status == 0 && !cold.stdout.contains("Using cache"), "\(cold.stdout)")
        }
    }
}
