/// The identifier of a data encryption key. Never 0 on the wire or in the sidecar.
public typealias KeyID = UInt32

/// What a DEK protects. A key serves exactly one purpose for its whole life.
public enum KeyPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    /// Values in the MVCC store.
    case storage
    /// Raft log entry payloads.
    case raft
    /// The HMAC key that names the elements of collections in row keys (docs/formats.md §2a); it seals
    /// nothing, is never rotated, and stays while any collection's rows are named with it.
    case index

    /// Whether keys of this purpose seal envelopes (and so take nonces and writer registrations).
    public var seals: Bool { self != .index }

    /// The byte that names the purpose in binary entry codecs.
    public var wireValue: UInt8 {
        switch self {
        case .storage: return 1
        case .raft: return 2
        case .index: return 3
        }
    }

    /// Decodes a purpose byte; `nil` for an unknown purpose.
    public init?(wireValue: UInt8) {
        switch wireValue {
        case 1: self = .storage
        case 2: self = .raft
        case 3: self = .index
        default: return nil
        }
    }
}
