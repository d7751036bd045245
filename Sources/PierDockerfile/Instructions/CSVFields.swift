/// Splits one CSV record (RFC 4180: `"` quotes a field, `""` inside quotes is a quote).
enum CSVFields {
    private static let badQuote = "failed to parse csv mounts: extraneous or missing \" in quoted-field"
    private static let bareQuote = "failed to parse csv mounts: bare \" in non-quoted-field"

    static func split(_ text: String,
                      onError failure: (String) -> DockerfileError) throws(DockerfileError) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var fields: [String] = []
        var index = 0
        repeat {
            var field = String.UnicodeScalarView()
            if index < scalars.count, scalars[index] == "\"" {
                index += 1
                while true {
                    guard index < scalars.count else { throw failure(Self.badQuote) }
                    if scalars[index] == "\"" {
                        if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                            field.append("\"")
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    field.append(scalars[index])
                    index += 1
                }
                guard index == scalars.count || scalars[index] == "," else { throw failure(Self.badQuote) }
            } else {
                while index < scalars.count, scalars[index] != "," {
                    guard scalars[index] != "\"" else { throw failure(Self.bareQuote) }
                    field.append(scalars[index])
                    index += 1
                }
            }
            fields.append(String(field))
            index += 1
        } while index <= scalars.count
        return fields
    }
}
