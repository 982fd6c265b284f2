extension MessageKind {
    /// The byte that identifies this kind on the wire.
    ///
    /// Spelled out rather than taken from the raw value, so reordering the enum cannot silently change the
    /// wire format; docs/formats.md lists the same table.
    var wireCode: UInt8 {
        switch self {
        case .preVote: return 1
        case .preVoteResponse: return 2
        case .vote: return 3
        case .voteResponse: return 4
        case .append: return 5
        case .appendResponse: return 6
        case .heartbeat: return 7
        case .heartbeatResponse: return 8
        case .snapshotChunk: return 9
        case .snapshotChunkResponse: return 10
        case .timeoutNow: return 11
        case .readIndex: return 12
        case .readIndexResponse: return 13
        }
    }

    /// The kind a wire byte identifies, or `nil` for a byte no kind uses.
    init?(wireCode: UInt8) {
        switch wireCode {
        case 1: self = .preVote
        case 2: self = .preVoteResponse
        case 3: self = .vote
        case 4: self = .voteResponse
        case 5: self = .append
        case 6: self = .appendResponse
        case 7: self = .heartbeat
        case 8: self = .heartbeatResponse
        case 9: self = .snapshotChunk
        case 10: self = .snapshotChunkResponse
        case 11: self = .timeoutNow
        case 12: self = .readIndex
        case 13: self = .readIndexResponse
        default: return nil
        }
    }
}
