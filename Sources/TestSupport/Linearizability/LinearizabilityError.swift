/// Why a history could not be checked at all.
public enum LinearizabilityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The history holds more operations than ``LinearizabilityLimits/maxOperations``: record a shorter
    /// history or raise the limit.
    case historyTooLarge(operationCount: Int, limit: Int)

    public var description: String {
        switch self {
        case .historyTooLarge(let operationCount, let limit):
            "history of \(operationCount) operations exceeds the limit of \(limit)"
        }
    }
}
