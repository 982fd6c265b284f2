/// Which bound ended a linearizability search before it reached a verdict.
public enum SearchBudgetExceeded: Hashable, Sendable, CustomStringConvertible {
    /// ``LinearizabilityLimits/maxSearchSteps`` steps were taken.
    case searchSteps(limit: Int)
    /// The explored configurations of one partition outgrew ``LinearizabilityLimits/maxMemoBytes``.
    case memoBytes(limit: Int)
    /// ``LinearizabilityLimits/maxDuration`` elapsed.
    case duration(limit: Duration)

    public var description: String {
        switch self {
        case .searchSteps(let limit): "search exceeded \(limit) steps"
        case .memoBytes(let limit): "search memo exceeded \(limit) bytes"
        case .duration(let limit): "search exceeded \(limit)"
        }
    }
}
