import Foundation

/// Aligns tab-separated text into columns exactly as docker prints its tables: Go's
/// `text/tabwriter` (elastic tabstops) configured as `NewWriter(out, 10, 1, 3, ' ', 0)`.
///
/// The rules that decide every space of `docker ps` output:
/// - a cell is text terminated by `\t`; the text after a line's last tab is not part of
///   any column and is never padded;
/// - a column is a run of consecutive lines that all have a cell at that position, so a
///   line with fewer cells ends the column, and lines after it start a new one;
/// - a column is as wide as its widest cell plus `padding`, and at least `minWidth`;
/// - widths count terminal columns (wide CJK characters count two).
///
/// Feed it the rows a `table` format renders (`addLine`), or cells (`addRow`), then
/// `render()`.
struct TableWriter: Sendable {
    let minWidth: Int
    let padding: Int

    private struct Cell: Sendable {
        var text: String
        var width: Int
    }

    /// Lines of cells; the last cell of a line is the unterminated text after its last tab.
    private var lines: [[Cell]] = [[]]
    private var pending = ""
    /// Indexes in `lines` where a form feed ended all columns.
    private var sectionStarts: [Int] = [0]

    init(minWidth: Int = 10, padding: Int = 3) {
        self.minWidth = minWidth
        self.padding = padding
    }

    /// Adds one row given as cells; the same as `addLine(cells.joined(separator: "\t"))`.
    mutating func addRow(_ cells: [String]) {
        // Cells without control characters go straight in (a list of 1,000 rows would
        // otherwise be joined and scanned again, scalar by scalar).
        guard pending.isEmpty, cells.allSatisfy(TableWriter.isPlain) else {
            write(cells.joined(separator: "\t") + "\n")
            return
        }
        lines[lines.count - 1].append(contentsOf: cells.map { Cell(text: $0, width: DisplayWidth.of($0)) })
        lines.append([])
    }

    /// No tab, vertical tab, newline or form feed: nothing `write` would treat specially.
    private static func isPlain(_ cell: String) -> Bool {
        !cell.utf8.contains { $0 == 0x09 || $0 == 0x0A || $0 == 0x0B || $0 == 0x0C }
    }

    /// Adds one line whose cells are separated by `\t` (a row rendered from a `table`
    /// format). Newlines inside `line` start further lines, as they would in docker.
    mutating func addLine(_ line: String) {
        write(line + "\n")
    }

    /// Adds raw text: `\t` (and `\v`) end cells, `\n` ends lines, `\f` ends lines and
    /// all columns. Text after the last newline forms a final line printed without one.
    mutating func write(_ text: String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\t", "\u{0B}":
                terminateCell()
            case "\n", "\u{0C}":
                terminateCell()
                lines.append([])
                if scalar == "\u{0C}" { sectionStarts.append(lines.count - 1) }
            default:
                pending.unicodeScalars.append(scalar)
            }
        }
    }

    private mutating func terminateCell() {
        lines[lines.count - 1].append(Cell(text: pending, width: DisplayWidth.of(pending)))
        pending = ""
    }

    /// The aligned text.
    func render() -> String {
        var all = lines
        if !pending.isEmpty {
            all[all.count - 1].append(Cell(text: pending, width: DisplayWidth.of(pending)))
        }
        var out = ""
        var widths: [Int] = []
        let bounds = sectionStarts + [all.count]
        for section in 0..<sectionStarts.count {
            format(all, from: bounds[section], to: bounds[section + 1], widths: &widths, into: &out)
        }
        return out
    }

    /// tabwriter's `format`: finds each column block left to right and recurses into
    /// the lines it spans with one more known column width.
    private func format(_ lines: [[Cell]], from start: Int, to end: Int, widths: inout [Int], into out: inout String) {
        let column = widths.count
        var printed = start
        var line = start
        while line < end {
            if column < lines[line].count - 1 {
                writeLines(lines, from: printed, to: line, widths: widths, into: &out)
                let blockStart = line
                var width = minWidth
                while line < end && column < lines[line].count - 1 {
                    width = max(width, lines[line][column].width + padding)
                    line += 1
                }
                widths.append(width)
                format(lines, from: blockStart, to: line, widths: &widths, into: &out)
                widths.removeLast()
                printed = line
            } else {
                line += 1
            }
        }
        writeLines(lines, from: printed, to: end, widths: widths, into: &out)
    }

    private func writeLines(_ lines: [[Cell]], from start: Int, to end: Int, widths: [Int], into out: inout String) {
        guard start < end else { return }
        var bytes: [UInt8] = []
        for index in start..<end {
            for (column, cell) in lines[index].enumerated() {
                bytes.append(contentsOf: cell.text.utf8)
                if column < widths.count {
                    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: max(widths[column] - cell.width, 0)))
                }
            }
            // The very last line has no newline of its own (text after the final "\n").
            if index + 1 < lines.count { bytes.append(UInt8(ascii: "\n")) }
        }
        out += String(decoding: bytes, as: UTF8.self)
    }
}
