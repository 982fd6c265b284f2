/// Remembers the longest linearization a search has built, for the violation report.
///
/// The search's order of linearized operations grows and shrinks like a stack. Copying it whenever it
/// reaches a new length would cost quadratic time on a long sequential history, so the tracker also
/// remembers how long a front of the current order agrees with the longest one and copies only the rest.
struct LongestPrefixTracker {
    /// The longest order of operation indices seen.
    private(set) var longest: [Int] = []
    /// The current order and ``longest`` are equal on their first `agreeing` elements.
    private var agreeing = 0

    /// Records that `order` grew by one operation at its end.
    mutating func didPush(_ order: [Int]) {
        let position = order.count - 1
        if order.count > longest.count {
            longest.removeSubrange(agreeing...)
            longest.append(contentsOf: order[agreeing...])
            agreeing = order.count
        } else if agreeing == position && longest[position] == order[position] {
            agreeing += 1
        }
    }

    /// Records that the order shrank to `count` operations.
    mutating func didPop(toCount count: Int) {
        agreeing = min(agreeing, count)
    }
}
