/// Redis's index rules for a `start end` range over `length` items (GETRANGE, BITCOUNT, BITPOS): negative
/// indexes count from the end, both are clamped into `0 ..< length`, an inverted range is empty. GETRANGE
/// also answers nothing when both indexes are negative and inverted (before clamping could make them meet).
enum RedisRange {
    static func resolve(_ start: Int64, _ end: Int64, length: Int64, invertedNegativesAreEmpty: Bool)
        -> ClosedRange<Int64>?
    {
        guard length > 0, !(invertedNegativesAreEmpty && start < 0 && end < 0 && start > end) else { return nil }
        let first = max(start < 0 ? length + start : start, 0)
        let last = min(max(end < 0 ? length + end : end, 0), length - 1)
        return first <= last ? first...last : nil
    }
}
