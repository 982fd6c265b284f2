/// The verdict of a linearizability check.
///
/// There is no "probably fine": a search that ran out of budget says ``unknown(_:)``, and callers that
/// want a pass must match ``linearizable`` explicitly.
public enum LinearizabilityResult<Input, Output> {
    /// Some order of the operations respects real time and the model.
    case linearizable
    /// No such order exists; the violation explains where the search got stuck.
    case notLinearizable(LinearizabilityViolation<Input, Output>)
    /// The search ran out of budget before it found an order or ruled every order out.
    case unknown(SearchBudgetExceeded)

    /// Whether the verdict is ``linearizable``.
    public var isLinearizable: Bool {
        if case .linearizable = self { return true }
        return false
    }

    /// The violation, when the verdict is ``notLinearizable(_:)``.
    public var violation: LinearizabilityViolation<Input, Output>? {
        if case .notLinearizable(let violation) = self { return violation }
        return nil
    }
}

extension LinearizabilityResult: Sendable where Input: Sendable, Output: Sendable {}

extension LinearizabilityResult: CustomStringConvertible {
    public var description: String {
        switch self {
        case .linearizable: "linearizable"
        case .notLinearizable(let violation): violation.description
        case .unknown(let reason): "unknown: \(reason)"
        }
    }
}
