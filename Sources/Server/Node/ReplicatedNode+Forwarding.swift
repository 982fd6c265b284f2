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
///
/// Keeps DESIGN §9's distinction end to end: a leader's refusal before it appended, or a leader that could not
/// be reached before anything was sent, is a definite failure (`TRYAGAIN`); a leader's `AMBIGUOUS` answer, or
/// a connection lost or a deadline passed after the request was sent, is `AMBIGUOUS`. A definite refusal that
/// names another leader is followed once.
public struct GRPCProposalForwarder: ProposalForwarding {
    /// How many leaders one proposal is sent to at most (the first, and one it redirects to).
    static let maxAttempts = 2

    let client: RaftForwardingClient
    let addressOf: @Sendable (NodeID) async -> String?

    public init(client: RaftForwardingClient, addressOf: @escaping @Sendable (NodeID) async -> String?) {
        self.client = client
        self.addressOf = addressOf
    }

    public func forward(_ payload: [UInt8], to leader: NodeID) async throws(BackendError) -> [CommandResult] {
        guard var address = await addressOf(leader) else { throw .notLeader(leader: leader) }
        var attempt = 1
        while true {
            let outcome: ForwardResult
            do throws(RaftForwardingError) { outcome = try await client.forward(payload: payload, to: address) } catch {
                if error.mayHaveTakenEffect { throw .ambiguous("the write was forwarded to the leader: \(error)") }
                throw .tryAgain("\(error)")
            }
            let refusal: RaftForwardingRefusal
            switch outcome {
            case .applied(_, _, let encoded): return try Self.decodeResults(encoded)
            case .refused(let answer): refusal = answer
            }
            if refusal.outcomeUnknown { throw .ambiguous("the leader at \(address) answered: \(refusal.reason)") }
            guard attempt < Self.maxAttempts, let next = refusal.leaderAddress, next != address else {
                throw .tryAgain("the leader at \(address) did not apply the write: \(refusal.description)")
            }
            attempt += 1
            address = next
        }
    }

    static func decodeResults(_ encoded: [UInt8]) throws(BackendError) -> [CommandResult] {
        do throws(KVError) { return try CommandResultCodec.decode(encoded) } catch {
            // The leader applied the write; only its answer is unreadable here.
            throw .ambiguous("the leader applied the write but its answer did not decode: \(error)")
        }
    }
}
