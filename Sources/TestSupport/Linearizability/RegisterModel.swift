/// A single read/write register, the classic object of linearizability examples.
///
/// A read must see the value of the latest write in the linearization, or the initial value before any
/// write. Histories of a register cannot be partitioned.
public struct RegisterModel<Value: Hashable>: LinearizabilityModel {
    /// A register operation.
    public enum Input: Hashable {
        case read
        case write(Value)
    }

    /// The answer to a register operation: `ok` for a write, the value seen for a read.
    public enum Output: Hashable {
        case ok
        case read(Value)
    }

    /// The value reads see before any write.
    public let initialState: Value

    /// Creates a register model whose reads see `initialValue` before any write.
    public init(initialValue: Value) {
        initialState = initialValue
    }

    /// Applies a read or write; a read is legal only when it saw `state`.
    ///
    /// - Precondition: a read records ``Output/read(_:)`` and a write records ``Output/ok``.
    public func step(_ state: Value, _ input: Input, _ output: Output?) -> (isLegal: Bool, next: Value) {
        switch (input, output) {
        case (.write(let value), .ok), (.write(let value), nil):
            return (true, value)
        case (.read, .read(let seen)):
            return (seen == state, state)
        case (.read, nil):
            return (true, state)
        case (.write, .read), (.read, .ok):
            preconditionFailure("A register read must record the value read and a write must record ok.")
        }
    }

    /// Renders `write(v)` or `read() -> v`, marking operations that never returned.
    public func describe(_ input: Input, _ output: Output?) -> String {
        switch (input, output) {
        case (.write(let value), .some): "write(\(value))"
        case (.write(let value), nil): "write(\(value)) (no response)"
        case (.read, .read(let seen)): "read() -> \(seen)"
        case (.read, .ok): "read() -> ok"
        case (.read, nil): "read() (no response)"
        }
    }
}

extension RegisterModel: Sendable where Value: Sendable {}
extension RegisterModel.Input: Sendable where Value: Sendable {}
extension RegisterModel.Output: Sendable where Value: Sendable {}
