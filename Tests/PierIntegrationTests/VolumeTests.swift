import Foundation
import Testing

/// Volumes through the real `pier` CLI and the docker CLI, against a real `pierd`.
@Suite(.serialized) struct VolumeTests {
    @Test func namedVolumesKeepData() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.pier(["volume", "create", "--label", "team=ml", "models"]).stdout == "models\n")
            let write = daemon.pier(["run", "--rm", "-v", "models:/models", "busybox", "sh", "-c", "echo weights > /models/w.bin"])
            #expect(write.status == 0, "\(write)")
            let read = daemon.pier(["run", "--rm", "-v", "models:/models", "busybox", "cat", "/models/w.bin"])
            #expect(read.stdout == "weights\n", "\(read)")
            // --mount type=volume, and :ro enforced.
            let mounted = daemon.pier(["run", "--rm", "--mount", "type=volume,src=models,dst=/m,readonly", "busybox", "cat", "/m/w.bin"])
            #expect(mounted.stdout == "weights\n", "\(mounted)")
            let readOnly = daemon.pier(["run", "--rm", "-v", "models:/models:ro", "busybox", "sh", "-c", "echo x > /models/new"])
            #expect(readOnly.status != 0)
            #expect(readOnly.stderr.contains("Read-only file system"), "\(readOnly)")
            // -v NAME makes a missing volume.
            #expect(daemon.pier(["run", "--rm", "-v", "auto:/a", "busybox", "true"]).status == 0)
            let ls = daemon.pier(["volume", "ls"])
            #expect(ls.stdout == "DRIVER    VOLUME NAME\nlocal     auto\nlocal     models\n", "\(ls)")
            let labels = daemon.pier(["volume", "inspect", "--format", "{{.Labels.team}} {{.Driver}}", "models"])
            #expect(labels.stdout == "ml local\n")
            // In use: refused while a container (even stopped) mounts it.
            #expect(daemon.pier(["create", "--name", "holder", "-v", "models:/models", "busybox", "true"]).status == 0)
            let inUse = daemon.pier(["volume", "rm", "models"])
            #expect(inUse.status == 1 && inUse.stderr.contains("volume is in use"), "\(inUse)")
            let dangling = daemon.pier(["volume", "ls", "-q", "--filter", "dangling=true"])
            #expect(dangling.stdout == "auto\n", "\(dangling)")
            // --volumes-from: the same volume, at the same place.
            let from = daemon.pier(["run", "--rm", "--volumes-from", "holder", "busybox", "cat", "/models/w.bin"])
            #expect(from.stdout == "weights\n", "\(from)")
            // Data survives the removal of every container, and system prune.
            #expect(daemon.pier(["rm", "holder"]).status == 0)
            #expect(daemon.pier(["system", "prune", "-f"]).status == 0)
            #expect(daemon.pier(["run", "--rm", "-v", "models:/models", "busybox", "cat", "/models/w.bin"]).stdout == "weights\n")
            let df = daemon.pier(["system", "df", "-v"])
            #expect(df.stdout.contains("Local Volumes space usage:"), "\(df)")
            #expect(df.stdout.split(separator: "\n").contains { $0.hasPrefix("models ") && $0.hasSuffix("8B") }, "\(df)")
            // Unknown and bad names.
            let unknown = daemon.pier(["volume", "inspect", "nosuchvolume"])
            #expect(unknown.status == 1 && unknown.stderr.contains("no such volume"), "\(unknown)")
            let badName = daemon.pier(["volume", "create", "bad name"])
            #expect(badName.status == 1 && badName.stderr.contains("invalid characters"), "\(badName)")
            #expect(daemon.pier(["volume", "rm", "models", "auto"]).status == 0)
            #expect(daemon.pier(["volume", "ls", "-q"]).stdout.isEmpty)
        }
    }

    @Test func copyUpAndAnonymousVolumes() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            // A new, empty volume over image content starts with that content, modes kept.
            let listing = daemon.pier(["run", "--rm", "-v", "bins:/bin", "busybox", "ls", "-l", "/bin/busybox"])
            #expect(listing.status == 0, "\(listing)")
            #expect(listing.stdout.hasPrefix("-rwx"), "\(listing)")
            let path = daemon.pier(["volume", "inspect", "--format", "{{.Mountpoint}}", "bins"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(FileManager.default.isExecutableFile(atPath: path + "/busybox"))
            // volume-nocopy: stays empty.
            let nocopy = daemon.pier(["run", "--rm", "--mount", "type=volume,src=empty,dst=/usr/bin,volume-nocopy", "busybox",
                                      "/bin/ls", "-A", "/usr/bin"])
            #expect(nocopy.status == 0 && nocopy.stdout.isEmpty, "\(nocopy)")
            // -v /path: an anonymous volume, removed by rm -v.
            #expect(daemon.pier(["run", "--name", "anon", "-v", "/scratch", "busybox", "sh", "-c", "echo a > /scratch/a"]).status == 0)
            let anonymous = daemon.pier(["inspect", "--format", "{{range .Mounts}}{{.Name}}{{end}}", "anon"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(anonymous.count == 64, "\(anonymous)")
            #expect(daemon.pier(["volume", "ls", "-q"]).stdout.contains(anonymous))
            #expect(daemon.pier(["rm", "-v", "anon"]).status == 0)
            #expect(!daemon.pier(["volume", "ls", "-q"]).stdout.contains(anonymous))
            // --rm removes anonymous volumes too; named ones stay.
            #expect(daemon.pier(["run", "--rm", "-v", "/tmpdata", "busybox", "true"]).status == 0)
            #expect(daemon.pier(["volume", "ls", "-q"]).stdout == "bins\nempty\n")
            let pruned = daemon.pier(["volume", "prune", "-f"])
            #expect(pruned.stdout.contains("bins") && pruned.stdout.contains("empty"), "\(pruned)")
            #expect(daemon.pier(["volume", "ls", "-q"]).stdout.isEmpty)
        }
    }

    @Test func volumeDataSurvivesDaemonKill() throws {
        let daemon = try TestDaemon()
        defer { daemon.stop() }
        try daemon.bootstrapBusybox()
        #expect(daemon.pier(["run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c",
                             "echo before > /data/f && sync"]).status == 0)
        daemon.kill()
        let restarted = try daemon.restart()
        defer { restarted.stop() }
        let read = restarted.pier(["run", "--rm", "-v", "keep:/data", "busybox", "cat", "/data/f"])
        #expect(read.stdout == "before\n", "\(read)")
        #expect(restarted.pier(["volume", "ls", "-q"]).stdout == "keep\n")
    }

    @Test func dockerCLIVolumes() throws {
        try requirePeer("docker")
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            #expect(daemon.docker(["volume", "create", "dv"]).stdout == "dv\n")
            #expect(daemon.docker(["run", "--rm", "-v", "dv:/d", "busybox", "sh", "-c", "echo docker > /d/x"]).status == 0)
            #expect(daemon.docker(["run", "--rm", "-v", "dv:/d", "busybox", "cat", "/d/x"]).stdout == "docker\n")
            let ls = daemon.docker(["volume", "ls", "--format", "{{.Name}}"])
            #expect(ls.stdout == "dv\n", "\(ls)")
            #expect(daemon.docker(["volume", "rm", "dv"]).status == 0)
        }
    }
}
