/// A client request against the simulated key-value register store.
public enum RegisterInput: Sendable, Hashable {
    case put(key: UInt8, value: UInt64)
    case get(key: UInt8)
}
