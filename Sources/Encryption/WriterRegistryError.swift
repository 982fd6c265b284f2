/// A registration that the writer-registry rules refuse (DESIGN §3.6, rules 2 and 4).
///
/// Both mean that sealing with the claimed nonce prefix could repeat a nonce, so the registration has no
/// effect and the claiming node must not seal under that DEK.
public enum WriterRegistryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Another node already owns this `node16` under this DEK.
    case nodeIDCollision(dekID: KeyID, node16: UInt16, registeredFullNodeID: UInt64, claimingFullNodeID: UInt64)
    /// The node registered a later local epoch under this DEK before.
    case localEpochRollback(dekID: KeyID, fullNodeID: UInt64, lastSeenLocalEpoch: UInt16, claimedLocalEpoch: UInt16)

    public var description: String {
        switch self {
        case .nodeIDCollision(let dekID, let node16, let registered, let claiming):
            return "ErrNodeIDCollision: nodes \(registered) and \(claiming) share node16 \(node16) under DEK "
                + "\(dekID), so their nonces would collide; give one of them another --node-id"
        case .localEpochRollback(let dekID, let node, let lastSeen, let claimed):
            return "ErrLocalEpochRollback: node \(node) claims local_epoch \(claimed) under DEK \(dekID) but "
                + "already registered \(lastSeen); restore its data dir's encryption/keys.json or rotate the DEK"
        }
    }
}
