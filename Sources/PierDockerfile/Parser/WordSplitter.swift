/// Splits `ENV`, `LABEL` and `ARG` arguments into words at unquoted whitespace, keeping
/// quotes and escapes in the words (they are removed later, at expansion time).
/// BuildKit's `parseWords`.
struct WordSplitter {
    let escape: Unicode.Scalar

    func words(_ text: Scalars) -> [String] {
        enum Phase { case spaces, word, quote }
        var words: [String] = []
        var phase = Phase.spaces
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var word = Scalars()
        var position = 0

        while position <= text.count {
            let atEnd = position == text.count
            var scalar: Unicode.Scalar = atEnd ? "\0" : text[position]

            if phase == .spaces {
                if atEnd { break }
                if scalar.isGoSpace {
                    position += 1
                    continue
                }
                phase = .word
            }
            if atEnd {
                if blankOK || !word.isEmpty { words.append(word.string) }
                break
            }
            if phase == .word {
                if scalar.isGoSpace {
                    phase = .spaces
                    if blankOK || !word.isEmpty { words.append(word.string) }
                    word = []
                    blankOK = false
                    position += 1
                    continue
                }
                if scalar == "'" || scalar == "\"" {
                    quote = scalar
                    blankOK = true
                    phase = .quote
                }
                if scalar == escape {
                    if position + 1 == text.count {
                        position += 1
                        continue
                    }
                    word.append(scalar)
                    position += 1
                    scalar = text[position]
                }
                word.append(scalar)
                position += 1
                continue
            }
            // Inside quotes: the escape character escapes, except inside single quotes.
            if scalar == quote {
                phase = .word
            }
            if scalar == escape && quote != "'" {
                if position + 1 == text.count {
                    phase = .word
                    position += 1
                    continue
                }
                word.append(scalar)
                position += 1
                scalar = text[position]
            }
            word.append(scalar)
            position += 1
        }
        return words
    }
}
