/// A node's identity as the envelope and the writer registry see it (DESIGN §3.1).
public struct NodeIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The `--node-id` string.
    public let name: String
    /// FNV-1a-64 of the UTF-8 name; 1 when the hash is 0. Also the Raft member id.
    public let fullNodeID: UInt64

    public init(name: String) {
        self.name = name
        self.fullNodeID = NodeIdentity.fullNodeID(of: name)
    }

    /// The low 16 bits of ``fullNodeID``: the first two bytes of every nonce this node makes.
    public var node16: UInt16 { UInt16(truncatingIfNeeded: fullNodeID) }

    /// FNV-1a-64 of the UTF-8 bytes of `name`, with 0 replaced by 1.
    public static func fullNodeID(of name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash == 0 ? 1 : hash
    }

    public var description: String { "\(name) (\(fullNodeID))" }
}
