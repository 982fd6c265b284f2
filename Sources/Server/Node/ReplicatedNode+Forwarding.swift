import KV
import Raft

extension ReplicatedNode: RaftForwardingHandler {
    public func forward(payload: [UInt8]) async -> ForwardResult {
        do throws(BackendError) {
            let (index, term, results) = try await proposeLocally(payload)
            return .applied(index: index, term: term, result: CommandResultCodec.encode(results))
        } catch {
            return .refused(refusal(error.description))
        }
    }

    public func readIndex() async -> ReadIndexResult {
        do throws(BackendError) { return .index(try await confirmReadIndex()) } catch {
            return .refused(refusal(error.description))
        }
    }

    func refusal(_ reason: String) -> RaftForwardingRefusal {
        let leader = core.leader
        return RaftForwardingRefusal(reason: reason, leaderID: leader,
                                     leaderAddress: leader.flatMap { memberDirectory()[$0]?.address })
    }

    /// The gRPC address of a member, from the directory or the founding peers.
    public func address(of member: NodeID) -> String? {
        memberDirectory()[member]?.address
    }

    /// Every other member's address, for the transport.
    public func peerAddresses() -> [NodeID: String] {
        var peers: [NodeID: String] = [:]
        for (id, member) in memberDirectory() where id != identity.id { peers[id] = member.address }
        return peers
    }
}

/// Forwards a follower's proposals to the leader over the Raft transport's gRPC `Forward` call.
public struct GRPCProposalForwarder: ProposalForwarding {
    let client: RaftForwardingClient
    let addressOf: @Sendable (NodeID) async -> String?

    public init(client: RaftForwardingClient, addressOf: @escaping @Sendable (NodeID) async -> String?) {
        self.client = client
        self.addressOf = addressOf
    }

    public func forward(_ payload: [UInt8], to leader: NodeID) async throws(BackendError) -> [CommandResult] {
        guard let address = await addressOf(leader) else { throw .notLeader(leader: leader) }
        let outcome: ForwardResult
        do throws(RaftForwardingError) { outcome = try await client.forward(payload: payload, to: address) } catch {
            throw .tryAgain("the leader at \(address) could not be reached: \(error)")
        }
        switch outcome {
        case .applied(_, _, let encoded):
            do throws(KVError) { return try CommandResultCodec.decode(encoded) } catch {
                throw .unavailable("the leader's answer did not decode: \(error)")
            }
        case .refused(let refusal):
            throw .tryAgain(refusal.description)
        }
    }
}
