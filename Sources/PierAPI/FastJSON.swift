/// A hand-written encoder for the two large answers pierd gives often: `GET /images/json` and
/// `GET /containers/json`. Foundation's JSONEncoder took ~20 ms for 1,000 images (measured,
/// docs/benchmarks.md); this writes the same bytes (keys sorted, as the rest of the API) in a
/// fraction of that.
public enum FastJSON {
    public static func encode(_ images: [ImageSummary]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(images.count * 256 + 2)
        out.append(UInt8(ascii: "["))
        for (index, image) in images.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"Containers\":\(image.Containers),\"Created\":\(image.Created),\"Id\":".utf8)
            string(image.Id, into: &out)
            out.append(contentsOf: ",\"Labels\":".utf8)
            dictionary(image.Labels, into: &out)
            out.append(contentsOf: ",\"ParentId\":".utf8)
            string(image.ParentId, into: &out)
            out.append(contentsOf: ",\"RepoDigests\":".utf8)
            strings(image.RepoDigests, into: &out)
            out.append(contentsOf: ",\"RepoTags\":".utf8)
            strings(image.RepoTags, into: &out)
            out.append(contentsOf: ",\"SharedSize\":\(image.SharedSize),\"Size\":\(image.Size),\"VirtualSize\":\(image.VirtualSize)}".utf8)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    static func strings(_ values: [String], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(value, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A JSON string: quotes, backslashes and control characters escaped; UTF-8 as is.
    static func string(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            out.append(UInt8(ascii: "\""))
            // Most strings need no escaping: copy them whole.
            if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                out.append(contentsOf: bytes)
                out.append(UInt8(ascii: "\""))
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
                case 0x0a: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
                case 0x0d: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
                case 0..<0x20:
                    out.append(contentsOf: "\\u00".utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0x0f)])
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension FastJSON {
    /// `GET /containers/json`, the other large list (`ps -a` with 1,000 containers).
    public static func encode(_ containers: [ContainerSummary]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(containers.count * 512 + 2)
        out.append(UInt8(ascii: "["))
        for index in containers.indices {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: head(of: containers[index]))
            tail(ports: containers[index].Ports, sizeRootFs: containers[index].SizeRootFs, sizeRw: containers[index].SizeRw,
                 state: containers[index].State, status: containers[index].Status, into: &out)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// A listed container's object up to and without `Ports`: the members only a change of the
    /// container changes, which pierd keeps encoded (see ContainerStore.Entry).
    public static func head(of container: ContainerSummary) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: "{\"Command\":".utf8)
        string(container.Command, into: &out)
        out.append(contentsOf: ",\"Created\":\(container.Created),\"HostConfig\":{\"NetworkMode\":".utf8)
        string(container.HostConfig.NetworkMode, into: &out)
        out.append(contentsOf: "},\"Id\":".utf8)
        string(container.Id, into: &out)
        out.append(contentsOf: ",\"Image\":".utf8)
        string(container.Image, into: &out)
        out.append(contentsOf: ",\"ImageID\":".utf8)
        string(container.ImageID, into: &out)
        out.append(contentsOf: ",\"Labels\":".utf8)
        dictionary(container.Labels, into: &out)
        out.append(contentsOf: ",\"Mounts\":[".utf8)
        for (position, mount) in container.Mounts.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"Destination\":".utf8)
            string(mount.Destination, into: &out)
            if let driver = mount.Driver {
                out.append(contentsOf: ",\"Driver\":".utf8)
                string(driver, into: &out)
            }
            out.append(contentsOf: ",\"Mode\":".utf8)
            string(mount.Mode, into: &out)
            if let name = mount.Name {
                out.append(contentsOf: ",\"Name\":".utf8)
                string(name, into: &out)
            }
            out.append(contentsOf: ",\"Propagation\":".utf8)
            string(mount.Propagation, into: &out)
            out.append(contentsOf: ",\"RW\":\(mount.RW),\"Source\":".utf8)
            string(mount.Source, into: &out)
            out.append(contentsOf: ",\"Type\":".utf8)
            string(mount.Type, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "],\"Names\":".utf8)
        strings(container.Names, into: &out)
        return out
    }

    /// The rest of a listed container's object after `head(of:)`: from `Ports` to the closing brace.
    public static func tail(ports: [PortSummary], sizeRootFs: Int64?, sizeRw: Int64?, state: String, status: String,
                            into out: inout [UInt8]) {
        out.append(contentsOf: ",\"Ports\":[".utf8)
        for (position, port) in ports.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            if let ip = port.IP {
                out.append(contentsOf: "\"IP\":".utf8)
                string(ip, into: &out)
                out.append(UInt8(ascii: ","))
            }
            out.append(contentsOf: "\"PrivatePort\":\(port.PrivatePort),".utf8)
            if let published = port.PublicPort { out.append(contentsOf: "\"PublicPort\":\(published),".utf8) }
            out.append(contentsOf: "\"Type\":".utf8)
            string(port.Type, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        if let size = sizeRootFs { out.append(contentsOf: ",\"SizeRootFs\":\(size)".utf8) }
        if let size = sizeRw { out.append(contentsOf: ",\"SizeRw\":\(size)".utf8) }
        out.append(contentsOf: ",\"State\":".utf8)
        string(state, into: &out)
        out.append(contentsOf: ",\"Status\":".utf8)
        string(status, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    static func dictionary(_ values: [String: String], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (position, key) in values.keys.sorted().enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            string(key, into: &out)
            out.append(UInt8(ascii: ":"))
            string(values[key] ?? "", into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
