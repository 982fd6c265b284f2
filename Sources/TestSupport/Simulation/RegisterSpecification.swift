/// The sequential specification of the simulated key-value registers, for a linearizability checker.
///
/// Registers are independent, so a history can be checked one key at a time (``historiesByKey(_:)``);
/// within a key the state is the register's value (`nil` before the first put).
public enum RegisterSpecification {
    /// Applies `input` to `state`: whether `output` is what a sequential register answers, and the next state.
    ///
    /// An operation that never returned (`output == nil`) is legal with any outcome.
    public static func step(
        _ state: UInt64?, _ input: RegisterInput, _ output: RegisterOutput?
    ) -> (isLegal: Bool, next: UInt64?) {
        switch input {
        case .put(_, let value):
            return (output == nil || output == .ok, value)
        case .get:
            guard let output else { return (true, state) }
            return (output == .value(state), state)
        }
    }

    /// Splits a history into one history per key, each in invocation order.
    public static func historiesByKey(_ history: [OperationRecord]) -> [UInt8: [OperationRecord]] {
        var byKey: [UInt8: [OperationRecord]] = [:]
        for record in history {
            switch record.input {
            case .put(let key, _), .get(let key): byKey[key, default: []].append(record)
            }
        }
        return byKey
    }
}
