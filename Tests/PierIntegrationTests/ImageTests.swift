import Foundation
import Testing

/// The image commands through the real `pier` binary against a real `pierd`.
@Suite(.serialized) struct ImageCommandTests {
    @Test func bootstrapBusyboxThenListAndInspect() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let images = daemon.pier(["images"])
            #expect(images.status == 0)
            let lines = images.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("REPOSITORY   TAG       IMAGE ID       CREATED") == true)
            #expect(lines.contains { $0.hasPrefix("busybox      latest    ") })

            let inspect = daemon.pier(["image", "inspect", "busybox"])
            #expect(inspect.status == 0)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]])
            let image = try #require(json.first)
            #expect((image["Id"] as? String)?.hasPrefix("sha256:") == true)
            #expect(image["RepoTags"] as? [String] == ["busybox:latest"])
            #expect(image["Os"] as? String == "linux")
            let config = try #require(image["Config"] as? [String: Any])
            #expect(config["Cmd"] as? [String] == ["sh"])
            let labels = try #require(config["Labels"] as? [String: String])
            #expect(labels["org.pier.bootstrap.source"]?.contains("busybox-static") == true)
            // docker's layout: a JSON array indented by four spaces.
            #expect(inspect.stdout.hasPrefix("[\n    {\n        \""))
            #expect(inspect.stdout.contains("\n        \"Id\": \"sha256:"))

            // Making it again is a no-op unless --force.
            let again = daemon.pier(["bootstrap", "busybox"])
            #expect(again.status == 0)
            #expect(again.stdout.contains("already exists"))

            let format = daemon.pier(["image", "inspect", "--format", "{{.Config.Cmd}} {{.Os}}", "busybox"])
            #expect(format.stdout == "[sh] linux\n")
        }
    }

    @Test func tagRemoveAndErrors() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["tag", "busybox", "team/tools:1.0"]).status == 0)
            let listed = daemon.pier(["images", "--format", "{{.Repository}}:{{.Tag}}"])
            #expect(listed.stdout.split(separator: "\n").sorted() == ["busybox:latest", "team/tools:1.0"])

            let id = daemon.pier(["images", "-q", "busybox"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(id.count == 12)
            let byID = daemon.pier(["rmi", id])
            #expect(byID.status == 1)
            #expect(byID.stderr.contains("must be forced"))

            let untag = daemon.pier(["rmi", "team/tools:1.0"])
            #expect(untag.status == 0)
            #expect(untag.stdout == "Untagged: team/tools:1.0\n")

            let missing = daemon.pier(["rmi", "nosuch:image"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("Error response from daemon: No such image: nosuch:image"))

            let malformed = daemon.pier(["image", "inspect", "UPPER/Case"])
            #expect(malformed.status == 1)

            let badTag = daemon.pier(["tag", "busybox", "bad tag!"])
            #expect(badTag.status == 1)
            #expect(badTag.stderr.contains("invalid reference format"))

            let delete = daemon.pier(["rmi", "busybox"])
            #expect(delete.status == 0)
            #expect(delete.stdout.contains("Untagged: busybox:latest"))
            #expect(delete.stdout.contains("Deleted: sha256:"))
            #expect(daemon.pier(["images", "-q"]).stdout.isEmpty)
            // Nothing is left on disk once the last image is gone.
            let blobs = try FileManager.default.contentsOfDirectory(atPath: daemon.root + "/image/content/blobs/sha256")
            #expect(blobs.isEmpty)
        }
    }

    @Test func historyAndFilters() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let history = daemon.pier(["history", "busybox"])
            #expect(history.status == 0)
            let lines = history.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("IMAGE          CREATED") == true)
            #expect(lines.count == 3)
            #expect(lines[1].contains("CMD [\"sh\"]"))
            #expect(lines[2].hasPrefix("<missing>"))

            #expect(daemon.pier(["images", "--filter", "dangling=true", "-q"]).stdout.isEmpty)
            #expect(daemon.pier(["images", "--filter", "reference=busy*", "-q"]).stdout.count == 13)
            #expect(daemon.pier(["images", "--filter", "label=org.pier.bootstrap=true", "-q"]).stdout.count == 13)
            #expect(daemon.pier(["images", "--filter", "label=nope", "-q"]).stdout.isEmpty)
            let bad = daemon.pier(["images", "--filter", "bogus=1"])
            #expect(bad.status == 1)
            #expect(bad.stderr.contains("invalid filter 'bogus'"))
        }
    }

    @Test func importWithChanges() throws {
        try withDaemon { daemon in
            let rootfs = daemon.directory + "/rootfs"
            try FileManager.default.createDirectory(atPath: rootfs + "/etc", withIntermediateDirectories: true)
            try "hello\n".write(toFile: rootfs + "/etc/greeting", atomically: true, encoding: .utf8)
            let tarball = daemon.directory + "/rootfs.tar.gz"
            #expect(run("/bin/tar", ["-czf", tarball, "-C", rootfs, "."]).status == 0)
            let imported = daemon.pier(["import", "--change", "CMD [\"cat\", \"/etc/greeting\"]", "--change", "ENV A=1",
                                        tarball, "greeting:v1"])
            #expect(imported.status == 0, "\(imported)")
            #expect(imported.stdout.hasPrefix("sha256:"))
            let config = daemon.pier(["image", "inspect", "--format", "{{json .Config.Cmd}} {{json .Config.Env}}", "greeting:v1"])
            #expect(config.stdout == "[\"cat\",\"/etc/greeting\"] [\"A=1\"]\n")
        }
    }

    @Test func systemCommands() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let version = daemon.pier(["version"])
            #expect(version.status == 0)
            #expect(version.stdout.contains("API version:      1.41"))
            let info = daemon.pier(["info"])
            #expect(info.stdout.contains("Images: 1"))
            let df = daemon.pier(["system", "df"])
            #expect(df.stdout.hasPrefix("TYPE"))
            #expect(df.stdout.contains("Images "))
            #expect(daemon.pier(["tag", "busybox", "extra:1"]).status == 0)
            #expect(daemon.pier(["rmi", "busybox"]).status == 0)
            #expect(daemon.pier(["rmi", "extra:1"]).status == 0)
            let prune = daemon.pier(["system", "prune", "-a", "-f"])
            #expect(prune.status == 0)
            #expect(prune.stdout.contains("Total reclaimed space"))
        }
    }
}
