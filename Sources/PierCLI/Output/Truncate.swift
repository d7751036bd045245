import Foundation

/// Shortens `text` to at most `width` terminal columns, ending it with `…` when cut:
/// docker's `formatter.Ellipsis`, used for the COMMAND and similar columns.
///
/// Width 0 or less gives "", width 1 gives the first character alone; wide (CJK)
/// characters count two columns. Like docker, text whose first character is wider
/// than the room left for it is returned whole.
func truncate(_ text: String, _ width: Int) -> String {
    if width <= 0 { return "" }
    let scalars = Array(text.unicodeScalars)
    if width == 1 { return scalars.first.map { String($0) } ?? "" }
    if text.utf8.count == scalars.count {  // ASCII: one column per byte
        if scalars.count <= width { return text }
        return String(String.UnicodeScalarView(scalars[0..<width - 1])) + "…"
    }
    var ends: [Int] = []
    var total = 0
    for scalar in scalars {
        total += DisplayWidth.eastAsian(scalar)
        ends.append(total)
    }
    if total <= width { return text }
    for index in ends.indices where ends[index] <= width - 1 && index + 1 < ends.count && ends[index + 1] > width - 1 {
        return String(String.UnicodeScalarView(scalars[0...index])) + "…"
    }
    return text
}
