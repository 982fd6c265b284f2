import KV
import Raft

/// Sends a proposal to the leader on behalf of a follower and returns the answers once it is applied there.
///
/// The gRPC implementation calls the leader's `RaftTransport.Forward`; tests connect nodes in process.
public protocol ProposalForwarding: Sendable {
    func forward(_ payload: [UInt8], to leader: NodeID) async throws(BackendError) -> [CommandResult]
}
