import Foundation
import PierAPI
import Testing

/// The hand-written list encoders must say what Foundation's encoder says of the same values.
@Suite struct FastJSONTests {
    static func parsed(_ bytes: [UInt8]) throws -> NSObject {
        try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as! NSObject
    }

    static func foundation<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    static var containers: [ContainerSummary] {
        var running = ContainerSummary(
            Id: String(repeating: "ab", count: 32), Names: ["/web", "/db/alias"], Image: "busybox:latest",
            ImageID: "sha256:" + String(repeating: "cd", count: 32), Command: "sh -c \"echo \\\"hi\\\"\ttab\"",
            Created: 1_714_564_800, Labels: ["b": "2", "a": "1 é \u{1}", "quote\"key": "back\\slash"],
            State: "running", Status: "Up 3 minutes (healthy)", NetworkMode: "bridge",
            Mounts: [MountPoint(Type: "bind", Source: "/srv/data", Destination: "/data", Mode: "ro", RW: false)])
        var volume = MountPoint(Type: "volume", Source: "/var/lib/pier/volumes/v/_data", Destination: "/v", Mode: "z", RW: true)
        volume.Name = "v"
        volume.Driver = "local"
        running.Mounts.append(volume)
        running.Ports = [PortSummary(IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"),
                         PortSummary(IP: nil, PrivatePort: 53, PublicPort: nil, Type: "udp")]
        running.SizeRw = 12
        running.SizeRootFs = 4_261_234
        let created = ContainerSummary(
            Id: String(repeating: "ef", count: 32), Names: ["/c1"], Image: "busybox", ImageID: "sha256:00",
            Command: "true", Created: 0, Labels: [:], State: "created", Status: "Created", NetworkMode: "none", Mounts: [])
        return [running, created]
    }

    @Test func containerListMatchesFoundation() throws {
        let containers = Self.containers
        #expect(try Self.parsed(FastJSON.encode(containers)) == Self.parsed(Self.foundation(containers)))
        #expect(try Self.parsed(FastJSON.encode([ContainerSummary]())) == Self.parsed(Self.foundation([ContainerSummary]())))
    }

    @Test func imageListMatchesFoundation() throws {
        let images = [
            ImageSummary(Id: "sha256:" + String(repeating: "ab", count: 32), ParentId: "", RepoTags: ["busybox:latest", "bb:1"],
                         RepoDigests: ["busybox@sha256:" + String(repeating: "0f", count: 32)], Created: 1_714_564_800,
                         Size: 4_261_234, Labels: ["z": "last", "a": "first \"quoted\"\n"], Containers: 2),
            ImageSummary(Id: "sha256:00", ParentId: "sha256:ab", RepoTags: [], RepoDigests: [], Created: 0, Size: 0,
                         Labels: [:], Containers: -1),
        ]
        #expect(try Self.parsed(FastJSON.encode(images)) == Self.parsed(Self.foundation(images)))
    }

    /// pierd keeps each container's head and writes the tail per list: together, one object.
    @Test func headAndTailMakeTheObject() throws {
        for container in Self.containers {
            var bytes = FastJSON.head(of: container)
            FastJSON.tail(ports: container.Ports, sizeRootFs: container.SizeRootFs, sizeRw: container.SizeRw,
                          state: container.State, status: container.Status, into: &bytes)
            #expect(try Self.parsed(bytes) == Self.parsed(Self.foundation(container)))
        }
    }
}
