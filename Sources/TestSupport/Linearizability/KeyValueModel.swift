/// A key-value map with put, get and delete, checked one key at a time.
///
/// Operations on different keys never constrain each other, so ``partition(_:)`` splits a history by key
/// and each key's operations are searched separately; a violation on one key is found no matter how many
/// other keys the history touches. A get of a key that is absent, never written or deleted, reads `nil`.
public struct KeyValueModel<Key: Hashable, Value: Hashable>: LinearizabilityModel {
    /// A map operation.
    public enum Input: Hashable {
        case put(key: Key, value: Value)
        case get(key: Key)
        case delete(key: Key)

        /// The key the operation touches.
        public var key: Key {
            switch self {
            case .put(let key, _), .get(let key), .delete(let key): key
            }
        }
    }

    /// The answer to a map operation: `ok` for a put or delete, the value seen (or `nil`) for a get.
    public enum Output: Hashable {
        case ok
        case read(Value?)
    }

    /// Creates the model of an initially empty map.
    public init() {}

    /// The whole map; within one partition it holds at most the partition's key.
    public var initialState: [Key: Value] { [:] }

    /// Applies a put, get or delete; a get is legal only when it saw the key's value in `state`.
    ///
    /// - Precondition: a get records ``Output/read(_:)`` and a put or delete records ``Output/ok``.
    public func step(
        _ state: [Key: Value],
        _ input: Input,
        _ output: Output?
    ) -> (isLegal: Bool, next: [Key: Value]) {
        var next = state
        switch (input, output) {
        case (.put(let key, let value), .ok), (.put(let key, let value), nil):
            next[key] = value
            return (true, next)
        case (.delete(let key), .ok), (.delete(let key), nil):
            next[key] = nil
            return (true, next)
        case (.get(let key), .read(let seen)):
            return (state[key] == seen, state)
        case (.get, nil):
            return (true, state)
        case (.get, .ok), (.put, .read), (.delete, .read):
            preconditionFailure("A get must record the value read; a put or delete must record ok.")
        }
    }

    /// One part per key, in the order each key first appears in the history.
    public func partition(_ history: [HistoryOperation<Input, Output>]) -> [[HistoryOperation<Input, Output>]] {
        var partIndexOfKey: [Key: Int] = [:]
        var parts: [[HistoryOperation<Input, Output>]] = []
        for operation in history {
            let key = operation.input.key
            if let index = partIndexOfKey[key] {
                parts[index].append(operation)
            } else {
                partIndexOfKey[key] = parts.count
                parts.append([operation])
            }
        }
        return parts
    }

    /// Renders `put(k, v)`, `get(k) -> v` or `delete(k)`, marking operations that never returned.
    public func describe(_ input: Input, _ output: Output?) -> String {
        let call =
            switch input {
            case .put(let key, let value): "put(\(key), \(value))"
            case .get(let key): "get(\(key))"
            case .delete(let key): "delete(\(key))"
            }
        switch output {
        case nil: return "\(call) (no response)"
        case .ok: return call
        case .read(let value?): return "\(call) -> \(value)"
        case .read(nil): return "\(call) -> nil"
        }
    }
}

extension KeyValueModel: Sendable {}
extension KeyValueModel.Input: Sendable where Key: Sendable, Value: Sendable {}
extension KeyValueModel.Output: Sendable where Value: Sendable {}
