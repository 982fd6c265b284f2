import ElastickvAPI
import Foundation

/// One membership command of `elastickv-admin cluster`, with its request and how its result is printed.
///
/// Pure, so the wording and the JSON keys (`operation`, `node_id`, `index`; `addr` for add-learner) are tested
/// without a process. Transferring leadership writes no configuration entry, so its output has no index.
public enum ClusterChange: Sendable, Hashable {
    /// Add a non-voting member reachable at `address`.
    case addLearner(nodeID: String, address: String)
    /// Turn a learner into a voter.
    case promote(nodeID: String)
    /// Remove a voter or a learner.
    case remove(nodeID: String)
    /// Hand leadership to a voter.
    case transferLeader(nodeID: String)

    /// The subcommand name, also the `operation` value in JSON output.
    public var operation: String {
        switch self {
        case .addLearner: return "add-learner"
        case .promote: return "promote"
        case .remove: return "remove"
        case .transferLeader: return "transfer-leader"
        }
    }

    /// The member the command is about.
    public var nodeID: String {
        switch self {
        case .addLearner(let nodeID, _), .promote(let nodeID), .remove(let nodeID), .transferLeader(let nodeID):
            return nodeID
        }
    }

    /// The gRPC request for this command.
    public var request: Elastickv_V1_MemberRequest {
        var request = Elastickv_V1_MemberRequest()
        request.nodeID = nodeID
        if case .addLearner(_, let address) = self { request.addr = address }
        return request
    }

    /// One human-readable line describing the committed change.
    public func summary(_ response: Elastickv_V1_ChangeResponse) -> String {
        switch self {
        case .addLearner(let nodeID, let address):
            return "added learner \(nodeID) (\(address)) at index \(response.index)"
        case .promote(let nodeID): return "promoted \(nodeID) to voter at index \(response.index)"
        case .remove(let nodeID): return "removed \(nodeID) at index \(response.index)"
        case .transferLeader(let nodeID): return "leadership transferred to \(nodeID)"
        }
    }

    /// The JSON object describing the committed change, with sorted keys.
    public func json(_ response: Elastickv_V1_ChangeResponse) -> String {
        var object: [String: Any] = ["operation": operation, "node_id": nodeID]
        if case .addLearner(_, let address) = self { object["addr"] = address }
        if case .transferLeader = self {} else { object["index"] = response.index }
        do {
            let data = try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        } catch {
            preconditionFailure("encoding strings and integers to JSON cannot fail: \(error)")
        }
    }
}
