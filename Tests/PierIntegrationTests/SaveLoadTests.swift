import Foundation
import Testing

/// `save` and `load`: round trips through Pier, the docker CLI, skopeo and podman, and bad archives.
@Suite(.serialized) struct SaveLoadTests {
    func storeState(_ daemon: TestDaemon) -> [String] {
        let ids = daemon.pier(["images", "-a", "-q", "--no-trunc"]).stdout
        let blobs = (try? FileManager.default.contentsOfDirectory(atPath: daemon.root + "/image/content/blobs/sha256")) ?? []
        let snapshots = (try? FileManager.default.contentsOfDirectory(atPath: daemon.root + "/image/snapshots")) ?? []
        return [ids] + blobs.sorted() + ["--"] + snapshots.sorted()
    }

    @Test func saveRemoveLoadKeepsTheImage() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let id = daemon.pier(["images", "-q", "--no-trunc", "busybox"]).stdout
            let archive = daemon.directory + "/busybox.tar"
            let save = daemon.pier(["save", "-o", archive, "busybox"])
            #expect(save.status == 0, "\(save)")
            let listing = run("/bin/tar", ["-tf", archive]).stdout.split(separator: "\n").map(String.init)
            #expect(listing.contains("manifest.json"))
            #expect(listing.contains("index.json"))
            #expect(listing.contains("oci-layout"))
            #expect(listing.contains("repositories"))
            #expect(daemon.pier(["rmi", "busybox"]).status == 0)
            let load = daemon.pier(["load", "-i", archive])
            #expect(load.status == 0, "\(load)")
            #expect(load.stdout == "Loaded image: busybox:latest\n")
            #expect(daemon.pier(["images", "-q", "--no-trunc", "busybox"]).stdout == id)
        }
    }

    @Test func dockerCLIWorksAgainstPierd() throws {
        try requirePeer("docker")
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let version = daemon.docker(["version"])
            #expect(version.status == 0, "\(version)")
            #expect(version.stdout.contains("Server: Pier Engine"))
            #expect(version.stdout.contains("API version:      1.41"))

            let images = daemon.docker(["images"])
            #expect(images.status == 0)
            #expect(images.stdout.split(separator: "\n").contains { $0.hasPrefix("busybox      latest") })

            #expect(daemon.docker(["tag", "busybox", "copy:1"]).status == 0)
            let inspect = daemon.docker(["inspect", "--format", "{{.RepoTags}}", "copy:1"])
            #expect(inspect.stdout.contains("copy:1"))
            let history = daemon.docker(["history", "busybox"])
            #expect(history.status == 0)
            #expect(history.stdout.contains("CMD [\"sh\"]"))
            let rmi = daemon.docker(["rmi", "copy:1"])
            #expect(rmi.stdout == "Untagged: copy:1\n")

            let archive = daemon.directory + "/docker-save.tar"
            #expect(daemon.docker(["save", "-o", archive, "busybox"]).status == 0)
            #expect(daemon.docker(["rmi", "busybox"]).status == 0)
            let load = daemon.docker(["load", "-i", archive])
            #expect(load.status == 0, "\(load)")
            #expect(load.stdout.contains("Loaded image: busybox:latest"))
            let missing = daemon.docker(["inspect", "nosuch"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("No such"))
        }
    }

    @Test func skopeoAndPodmanReadPierArchives() throws {
        try requirePeer("skopeo")
        try requirePeer("podman")
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let archive = daemon.directory + "/busybox.tar"
            #expect(daemon.pier(["save", "-o", archive, "busybox"]).status == 0)
            let layers = daemon.pier(["image", "inspect", "--format", "{{json .RootFS.Layers}}", "busybox"]).stdout

            let inspect = run("/usr/bin/skopeo", ["inspect", "docker-archive:" + archive])
            #expect(inspect.status == 0, "\(inspect)")
            #expect(inspect.stdout.contains("\"Os\": \"linux\""))

            let storage = daemon.directory + "/podman"
            let podman = run("/usr/bin/podman", ["--root", storage + "/root", "--runroot", storage + "/run",
                                                 "--storage-driver", "vfs", "load", "-i", archive])
            #expect(podman.status == 0, "\(podman)")
            #expect((podman.stdout + podman.stderr).contains("busybox"))
            _ = run("/usr/bin/podman", ["--root", storage + "/root", "--runroot", storage + "/run",
                                        "--storage-driver", "vfs", "system", "reset", "-f"])

            // skopeo: Pier archive → OCI layout → docker-archive → Pier, keeping the config and layer digests
            // skopeo wrote (it re-serialises the config when it converts between OCI and Docker manifests).
            let layout = daemon.directory + "/layout"
            let toOCI = run("/usr/bin/skopeo", ["copy", "docker-archive:" + archive, "oci:" + layout + ":v1"])
            #expect(toOCI.status == 0, "\(toOCI)")
            let back = daemon.directory + "/from-skopeo.tar"
            let toDocker = run("/usr/bin/skopeo", ["copy", "oci:" + layout + ":v1", "docker-archive:" + back + ":roundtrip:v1"])
            #expect(toDocker.status == 0, "\(toDocker)")
            #expect(daemon.pier(["rmi", "busybox"]).status == 0)
            let load = daemon.pier(["load", "-i", back])
            #expect(load.status == 0, "\(load)")
            #expect(load.stdout.contains("Loaded image: roundtrip:v1"))
            let manifest = run("/bin/tar", ["-xOf", back, "manifest.json"]).stdout
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [[String: Any]])
            let configName = try #require(entries.first?["Config"] as? String)
            let expectedID = "sha256:" + configName.replacingOccurrences(of: ".json", with: "")
                .replacingOccurrences(of: "blobs/sha256/", with: "")
            #expect(daemon.pier(["images", "-q", "--no-trunc", "roundtrip:v1"]).stdout == expectedID + "\n")
            #expect(daemon.pier(["image", "inspect", "--format", "{{json .RootFS.Layers}}", "roundtrip:v1"]).stdout == layers)

            // An OCI archive (skopeo's oci-archive:) loads too.
            let ociArchive = daemon.directory + "/oci.tar"
            #expect(run("/usr/bin/skopeo", ["copy", "oci:" + layout + ":v1", "oci-archive:" + ociArchive]).status == 0)
            let ociLoad = daemon.pier(["load", "-i", ociArchive])
            #expect(ociLoad.status == 0, "\(ociLoad)")
        }
    }

    @Test func badArchivesLeaveTheStoreAsItWas() throws {
        try withDaemon { daemon in
            try daemon.bootstrapBusybox()
            let archive = daemon.directory + "/busybox.tar"
            #expect(daemon.pier(["save", "-o", archive, "busybox"]).status == 0)
            #expect(daemon.pier(["rmi", "busybox"]).status == 0)
            let before = storeState(daemon)

            // Truncated in the middle.
            let size = (try FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int) ?? 0
            let truncated = daemon.directory + "/truncated.tar"
            let data = try Data(contentsOf: URL(fileURLWithPath: archive))
            try data.prefix(size / 2).write(to: URL(fileURLWithPath: truncated))
            let result = daemon.pier(["load", "-i", truncated])
            #expect(result.status != 0)
            #expect(result.stderr.contains("truncated") || result.stderr.contains("invalid archive"), "\(result)")
            #expect(storeState(daemon) == before)

            // Garbage.
            let garbage = daemon.directory + "/garbage.tar"
            try Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }).write(to: URL(fileURLWithPath: garbage))
            let garbageResult = daemon.pier(["load", "-i", garbage])
            #expect(garbageResult.status != 0)
            #expect(storeState(daemon) == before)

            // A blob whose content does not match its name, and a layer that does not match its diff ID.
            let script = """
            import tarfile, io, sys, json
            src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
            with tarfile.open(src) as tin, tarfile.open(dst, "w") as tout:
                manifest = json.load(tin.extractfile("manifest.json"))
                layer = manifest[0]["Layers"][0]
                for member in tin.getmembers():
                    data = tin.extractfile(member).read() if member.isfile() else None
                    if member.name == layer:
                        if mode == "rename":
                            member.name = "blobs/sha256/" + "0" * 64
                        else:
                            member.name = "blobs/sha256/" + "1" * 64
                        if mode == "flip":
                            middle = len(data) // 2
                            data = data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64]) + data[middle + 64:]
                    if member.name == "manifest.json" and mode != "flip":
                        manifest[0]["Layers"][0] = "blobs/sha256/" + "0" * 64
                        data = json.dumps(manifest).encode()
                        member.size = len(data)
                    if member.name == "manifest.json" and mode == "flip":
                        manifest[0]["Layers"][0] = "evil/layer.tar"
                        data = json.dumps(manifest).encode()
                        member.size = len(data)
                    if mode == "flip" and member.name == "blobs/sha256/" + "1" * 64:
                        member.name = "evil/layer.tar"
                    tout.addfile(member, io.BytesIO(data) if data is not None else None)
            """
            for mode in ["rename", "flip"] {
                let bad = daemon.directory + "/bad-\(mode).tar"
                let made = run("/usr/bin/env", ["python3", "-c", script, archive, bad, mode])
                #expect(made.status == 0, "\(made)")
                let loaded = daemon.pier(["load", "-i", bad])
                #expect(loaded.status != 0, "\(mode): \(loaded)")
                #expect(loaded.stderr.contains("digest") || loaded.stderr.contains("diff ID"), "\(mode): \(loaded)")
                #expect(storeState(daemon) == before, "\(mode)")
            }
        }
    }

    @Test func escapingTarEntriesStayInside() throws {
        try withDaemon { daemon in
            let outside = daemon.directory + "/outside-target"
            let script = """
            import tarfile, io, sys
            out, outside = sys.argv[1], sys.argv[2]
            with tarfile.open(out, "w") as t:
                def add(name, data=b"x", kind=tarfile.REGTYPE, link=""):
                    info = tarfile.TarInfo(name); info.type = kind; info.linkname = link
                    info.size = len(data) if kind == tarfile.REGTYPE else 0
                    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
                add("ok.txt")
                add("../../../../" + outside.lstrip("/") + "-dotdot")
                add(outside + "-absolute")
                add("link", kind=tarfile.SYMTYPE, link=outside + "-dir")
                add("link/through-symlink")
            """
            let tarball = daemon.directory + "/evil.tar"
            try FileManager.default.createDirectory(atPath: outside + "-dir", withIntermediateDirectories: true)
            #expect(run("/usr/bin/env", ["python3", "-c", script, tarball, outside]).status == 0)
            _ = daemon.pier(["import", tarball, "evil:1"])
            #expect(!FileManager.default.fileExists(atPath: outside + "-dotdot"))
            #expect(!FileManager.default.fileExists(atPath: outside + "-absolute"))
            #expect(!FileManager.default.fileExists(atPath: outside + "-dir/through-symlink"))
        }
    }

    @Test func killingPierdMidLoadLeavesNoHalfImage() throws {
        try withDaemon { daemon in
            // An image with a large layer, so the load is slow enough to interrupt.
            let rootfs = daemon.directory + "/big"
            try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: true)
            #expect(run("/bin/dd", ["if=/dev/urandom", "of=\(rootfs)/blob", "bs=1M", "count=300"]).status == 0)
            let tarball = daemon.directory + "/big.tar"
            #expect(run("/bin/tar", ["-cf", tarball, "-C", rootfs, "."]).status == 0)
            #expect(daemon.pier(["import", tarball, "big:1"]).status == 0)
            let archive = daemon.directory + "/big-save.tar"
            #expect(daemon.pier(["save", "-o", archive, "big:1"]).status == 0)
            #expect(daemon.pier(["rmi", "big:1"]).status == 0)
            try? FileManager.default.removeItem(atPath: tarball)
            try? FileManager.default.removeItem(atPath: rootfs)
            let before = storeState(daemon)

            let loader = try #require(spawn(TestDaemon.pier, ["load", "-i", archive], environment: daemon.environment,
                                            stdin: "/dev/null", stdout: "/dev/null", stderr: "/dev/null"))
            // Wait until the load is under way (the ingest directory fills), then kill the daemon.
            var started = false
            for _ in 0..<400 {
                let ingest = (try? FileManager.default.contentsOfDirectory(atPath: daemon.root + "/image/content/ingest")) ?? []
                if !ingest.isEmpty { started = true; break }
                usleep(10_000)
            }
            #expect(started)
            daemon.kill()
            #expect(waitForExit(loader) != 0)

            let restarted = try daemon.restart()
            defer { restarted.stop() }
            #expect(storeState(restarted) == before)
            let ingest = try FileManager.default.contentsOfDirectory(atPath: daemon.root + "/image/content/ingest")
            #expect(ingest.isEmpty)
        }
    }
}
