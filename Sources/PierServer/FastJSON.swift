import PierAPI

/// A hand-written encoder for the one large answer pierd gives often: `GET /images/json`.
/// Foundation's JSONEncoder took ~20 ms for 1,000 images (measured, docs/benchmarks.md); this
/// writes the same bytes (keys sorted, as the rest of the API) in a fraction of that.
enum FastJSON {
    static func encode(_ images: [ImageSummary]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(images.count * 256 + 2)
        out.append(UInt8(ascii: "["))
        for (index, image) in images.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"Containers\":\(image.Containers),\"Created\":\(image.Created),\"Id\":".utf8)
            string(image.Id, into: &out)
            out += Array(",\"Labels\":{".utf8)
            for (position, key) in image.Labels.keys.sorted().enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                string(key, into: &out)
                out.append(UInt8(ascii: ":"))
                string(image.Labels[key] ?? "", into: &out)
            }
            out += Array("},\"ParentId\":".utf8)
            string(image.ParentId, into: &out)
            out += Array(",\"RepoDigests\":".utf8)
            strings(image.RepoDigests, into: &out)
            out += Array(",\"RepoTags\":".utf8)
            strings(image.RepoTags, into: &out)
            out += Array(",\"SharedSize\":\(image.SharedSize),\"Size\":\(image.Size),\"VirtualSize\":\(image.VirtualSize)}".utf8)
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
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0a: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0d: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension FastJSON {
    /// `GET /containers/json`, the other large list (`ps -a` with 1,000 containers).
    static func encode(_ containers: [ContainerSummary]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(containers.count * 512 + 2)
        out.append(UInt8(ascii: "["))
        for (index, container) in containers.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"Command\":".utf8)
            string(container.Command, into: &out)
            out += Array(",\"Created\":\(container.Created),\"HostConfig\":{\"NetworkMode\":".utf8)
            string(container.HostConfig.NetworkMode, into: &out)
            out += Array("},\"Id\":".utf8)
            string(container.Id, into: &out)
            out += Array(",\"Image\":".utf8)
            string(container.Image, into: &out)
            out += Array(",\"ImageID\":".utf8)
            string(container.ImageID, into: &out)
            out += Array(",\"Labels\":".utf8)
            dictionary(container.Labels, into: &out)
            out += Array(",\"Mounts\":[".utf8)
            for (position, mount) in container.Mounts.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out += Array("{\"Destination\":".utf8)
                string(mount.Destination, into: &out)
                if let driver = mount.Driver {
                    out += Array(",\"Driver\":".utf8)
                    string(driver, into: &out)
                }
                out += Array(",\"Mode\":".utf8)
                string(mount.Mode, into: &out)
                if let name = mount.Name {
                    out += Array(",\"Name\":".utf8)
                    string(name, into: &out)
                }
                out += Array(",\"Propagation\":".utf8)
                string(mount.Propagation, into: &out)
                out += Array(",\"RW\":\(mount.RW),\"Source\":".utf8)
                string(mount.Source, into: &out)
                out += Array(",\"Type\":".utf8)
                string(mount.Type, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out += Array("],\"Names\":".utf8)
            strings(container.Names, into: &out)
            out += Array(",\"Ports\":[".utf8)
            for (position, port) in container.Ports.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                if let ip = port.IP {
                    out += Array("\"IP\":".utf8)
                    string(ip, into: &out)
                    out.append(UInt8(ascii: ","))
                }
                out += Array("\"PrivatePort\":\(port.PrivatePort),".utf8)
                if let published = port.PublicPort { out += Array("\"PublicPort\":\(published),".utf8) }
                out += Array("\"Type\":".utf8)
                string(port.Type, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
            if let size = container.SizeRootFs { out += Array(",\"SizeRootFs\":\(size)".utf8) }
            if let size = container.SizeRw { out += Array(",\"SizeRw\":\(size)".utf8) }
            out += Array(",\"State\":".utf8)
            string(container.State, into: &out)
            out += Array(",\"Status\":".utf8)
            string(container.Status, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
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
