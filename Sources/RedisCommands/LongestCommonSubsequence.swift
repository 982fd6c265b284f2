import RESP

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], with Redis 7's replies: the dynamic-programming
/// table over both strings, then one walk back from the ends that yields the subsequence and, for IDX, the
/// matched ranges from the last to the first.
public enum LongestCommonSubsequence {
    /// What LCS answers.
    public enum Reply: Hashable, Sendable {
        /// The subsequence itself.
        case string
        /// LEN: its length.
        case length
        /// IDX: the matched ranges (at least `minimumMatch` long), with their lengths when `withLengths`.
        case ranges(minimumMatch: Int64, withLengths: Bool)
    }

    /// The largest table (one cell per pair of prefixes) LCS builds: 4 bytes per cell, 256 MiB.
    public static let maxCells = 64 << 20

    public static let tooLarge = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"

    public static func answer(_ a: [UInt8], _ b: [UInt8], _ reply: Reply) -> RESPValue {
        let width = b.count + 1
        let cells = (a.count + 1).multipliedReportingOverflow(by: width)
        guard !cells.overflow, cells.partialValue <= maxCells else { return .error(tooLarge) }
        // table[i * width + j]: the LCS length of a[0..<i] and b[0..<j].
        var table = [UInt32](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                table[i * width + j] = a[i - 1] == b[j - 1]
                    ? table[(i - 1) * width + j - 1] + 1
                    : max(table[(i - 1) * width + j], table[i * width + j - 1])
            }
        }
        let length = Int(table[a.count * width + b.count])
        if case .length = reply { return .integer(Int64(length)) }
        var result = [UInt8](repeating: 0, count: length)
        var matches: [RESPValue] = []
        var i = a.count, j = b.count, next = length
        // The range being extended backwards; `aStart == a.count` means none.
        var aStart = a.count, aEnd = 0, bStart = 0, bEnd = 0
        while i > 0 && j > 0 {
            var emit = false
            if a[i - 1] == b[j - 1] {
                result[next - 1] = a[i - 1]
                if aStart == a.count {
                    (aStart, aEnd, bStart, bEnd) = (i - 1, i - 1, j - 1, j - 1)
                } else if aStart == i && bStart == j {
                    aStart -= 1
                    bStart -= 1
                } else {
                    emit = true
                }
                if aStart == 0 || bStart == 0 { emit = true }
                next -= 1
                i -= 1
                j -= 1
            } else {
                if table[(i - 1) * width + j] > table[i * width + j - 1] { i -= 1 } else { j -= 1 }
                if aStart != a.count { emit = true }
            }
            if emit {
                let matchLength = aEnd - aStart + 1
                if case .ranges(let minimum, let withLengths) = reply, minimum == 0 || Int64(matchLength) >= minimum {
                    var item: [RESPValue] = [.array([.integer(Int64(aStart)), .integer(Int64(aEnd))]),
                                             .array([.integer(Int64(bStart)), .integer(Int64(bEnd))])]
                    if withLengths { item.append(.integer(Int64(matchLength))) }
                    matches.append(.array(item))
                }
                aStart = a.count
            }
        }
        guard case .ranges = reply else { return .bulkString(result) }
        return .map([.init(.bulk("matches"), .array(matches)), .init(.bulk("len"), .integer(Int64(length)))])
    }
}
