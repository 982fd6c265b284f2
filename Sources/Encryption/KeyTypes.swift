/// The identifier of a data encryption key. Never 0 on the wire or in the sidecar.
public typealias KeyID = UInt32

/// What a DEK protects. A key serves exactly one purpose for its whole life.
public enum KeyPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    /// Values in the MVCC store.
    case storage
    /// Raft log entry payloads.
    case raft

    /// The byte that names the purpose in binary entry codecs.
    public var wireValue: UInt8 {
        switch self {
        case .storage: return 1
        case .raft: return 2
        }
    }

    /// Decodes a purpose byte; `nil` for an unknown purpose.
    public init?(wireValue: UInt8) {
        switch wireValue {
        case 1: self = .storage
        case 2: self = .raft
        default: return nil
        }
    }
}
