/// A sequential specification that concurrent histories are checked against.
///
/// The checker searches for an order of the history's operations that respects real time and that this
/// model accepts step by step. `State` must be `Hashable` because the search remembers every pair of
/// (set of operations linearized, state) it has already explored and never explores one twice; a model
/// whose equal states hash differently would only make the search slower, a model whose different states
/// compare equal would make it wrong.
public protocol LinearizabilityModel {
    /// The state of the sequential object between operations.
    associatedtype State: Hashable
    /// What a client asks for.
    associatedtype Input
    /// What a client is told.
    associatedtype Output

    /// The state before any operation.
    var initialState: State { get }

    /// Applies one operation to `state`.
    ///
    /// Returns whether the operation, applied in `state`, could have produced `output`, and the state
    /// after it. When `output` is `nil` the operation never returned: the model must accept it and
    /// return the state after it takes effect (the checker handles the case where it took no effect by
    /// leaving the operation out). The returned state is ignored when the operation is not legal.
    func step(_ state: State, _ input: Input, _ output: Output?) -> (isLegal: Bool, next: State)

    /// Splits a history into independent parts that can be checked one by one.
    ///
    /// A history is linearizable exactly when every part is, which holds when parts touch disjoint
    /// objects, such as the keys of a map. Every operation must land in exactly one part. The default
    /// keeps the whole history as one part.
    func partition(_ history: [HistoryOperation<Input, Output>]) -> [[HistoryOperation<Input, Output>]]

    /// A short human-readable rendering of one operation for diagnostics, such as `get(k) -> 3`.
    ///
    /// `output` is `nil` for an operation that never returned.
    func describe(_ input: Input, _ output: Output?) -> String
}

extension LinearizabilityModel {
    /// Keeps the whole history as one part.
    public func partition(_ history: [HistoryOperation<Input, Output>]) -> [[HistoryOperation<Input, Output>]] {
        [history]
    }

    /// Renders the input and output with their default descriptions.
    public func describe(_ input: Input, _ output: Output?) -> String {
        guard let output else { return "\(input) -> (no response)" }
        return "\(input) -> \(output)"
    }
}
