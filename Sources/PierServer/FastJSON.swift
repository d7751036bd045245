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
