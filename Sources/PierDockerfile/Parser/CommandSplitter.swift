/// Splits a logical line into its keyword, its leading `--flags` and the rest
/// (BuildKit's `splitCommand` and `extractBuilderFlags`).
struct CommandSplitter {
    let escape: Unicode.Scalar

    struct Parts {
        var keyword: String
        var flags: [String]
        var rest: Scalars
    }

    func split(_ line: Scalars) -> Parts {
        let pieces = line.trimmingGoSpace().splitOnSeparators(limit: 2)
        let keyword = pieces[0].string
        guard pieces.count == 2 else { return Parts(keyword: keyword, flags: [], rest: []) }
        let (rest, flags) = extractFlags(pieces[1])
        return Parts(keyword: keyword, flags: flags, rest: rest.trimmingGoSpace())
    }

    /// Takes the words starting with `--` off the front; a lone `--` ends the flags.
    /// Quotes are removed from flag words and the escape character escapes the next one.
    private func extractFlags(_ line: Scalars) -> (Scalars, [String]) {
        enum Phase { case spaces, word, quote }
        var words: [String] = []
        var phase = Phase.spaces
        var word = Scalars()
        var quote: Unicode.Scalar = "\0"
        var blankOK = false
        var position = 0

        while position <= line.count {
            let atEnd = position == line.count
            let scalar: Unicode.Scalar = atEnd ? "\0" : line[position]

            if phase == .spaces {
                if atEnd { break }
                if scalar.isGoSpace {
                    position += 1
                    continue
                }
                guard scalar == "-", position + 1 < line.count, line[position + 1] == "-" else {
                    return (Array(line[position...]), words)
                }
                phase = .word
            }
            if atEnd {
                if word != ["-", "-"], blankOK || !word.isEmpty { words.append(word.string) }
                break
            }
            if phase == .word {
                if scalar.isGoSpace {
                    phase = .spaces
                    if word == ["-", "-"] { return (Array(line[position...]), words) }
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
                    position += 1
                    continue
                }
                var character = scalar
                if scalar == escape {
                    if position + 1 == line.count {
                        position += 1
                        continue
                    }
                    position += 1
                    character = line[position]
                }
                word.append(character)
                position += 1
                continue
            }
            // Inside quotes.
            if scalar == quote {
                phase = .word
                position += 1
                continue
            }
            var character = scalar
            if scalar == escape {
                if position + 1 == line.count {
                    phase = .word
                    position += 1
                    continue
                }
                position += 1
                character = line[position]
            }
            word.append(character)
            position += 1
        }
        return ([], words)
    }
}
