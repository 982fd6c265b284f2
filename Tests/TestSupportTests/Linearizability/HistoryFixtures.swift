import TestSupport

typealias Register = RegisterModel<Int>
typealias RegisterOperation = HistoryOperation<Register.Input, Register.Output>
typealias KeyValue = KeyValueModel<String, Int>
typealias KeyValueOperation = HistoryOperation<KeyValue.Input, KeyValue.Output>

/// A register write by `client` over the closed time interval `interval`.
func write(_ value: Int, client: Int, _ interval: ClosedRange<Int>) -> RegisterOperation {
    RegisterOperation(
        clientID: client, input: .write(value), output: .ok,
        callTime: interval.lowerBound, returnTime: interval.upperBound)
}

/// A register read that saw `value`.
func read(_ value: Int, client: Int, _ interval: ClosedRange<Int>) -> RegisterOperation {
    RegisterOperation(
        clientID: client, input: .read, output: .read(value),
        callTime: interval.lowerBound, returnTime: interval.upperBound)
}

/// A register write issued at `callTime` that never returned.
func pendingWrite(_ value: Int, client: Int, calledAt callTime: Int) -> RegisterOperation {
    .pending(clientID: client, input: .write(value), callTime: callTime)
}

/// A register read issued at `callTime` that never returned.
func pendingRead(client: Int, calledAt callTime: Int) -> RegisterOperation {
    .pending(clientID: client, input: .read, callTime: callTime)
}

func put(_ key: String, _ value: Int, client: Int, _ interval: ClosedRange<Int>) -> KeyValueOperation {
    KeyValueOperation(
        clientID: client, input: .put(key: key, value: value), output: .ok,
        callTime: interval.lowerBound, returnTime: interval.upperBound)
}

func get(_ key: String, _ value: Int?, client: Int, _ interval: ClosedRange<Int>) -> KeyValueOperation {
    KeyValueOperation(
        clientID: client, input: .get(key: key), output: .read(value),
        callTime: interval.lowerBound, returnTime: interval.upperBound)
}

func delete(_ key: String, client: Int, _ interval: ClosedRange<Int>) -> KeyValueOperation {
    KeyValueOperation(
        clientID: client, input: .delete(key: key), output: .ok,
        callTime: interval.lowerBound, returnTime: interval.upperBound)
}

/// Checks a register history whose reads see 0 before any write.
func checkRegister(
    _ history: [RegisterOperation],
    limits: LinearizabilityLimits = .default
) throws -> LinearizabilityResult<Register.Input, Register.Output> {
    try LinearizabilityChecker(model: Register(initialValue: 0), limits: limits).check(history)
}

/// Checks a key-value history.
func checkKeyValue(
    _ history: [KeyValueOperation],
    limits: LinearizabilityLimits = .default
) throws -> LinearizabilityResult<KeyValue.Input, KeyValue.Output> {
    try LinearizabilityChecker(model: KeyValue(), limits: limits).check(history)
}
