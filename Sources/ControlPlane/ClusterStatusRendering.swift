import ElastickvAPI
import Foundation

/// Renders a `Cluster.Status` answer for `elastickv-admin cluster status`: a JSON document or an aligned table.
///
/// Pure functions of the response, kept out of the executable so tests can check the exact output. The JSON
/// keys are a script-facing contract: `node_id`, `leader` (the leader's node id, empty when unknown),
/// `leader_addr`, `term`, `commit_index`, `applied_index` and `members` (each `node_id`, `raft_id`, `addr`,
/// `role`).
public enum ClusterStatusRendering {
    /// The JSON form, with sorted keys so the output is stable.
    public static func json(_ status: Elastickv_V1_StatusResponse) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(Document(status)), as: UTF8.self)
        } catch {
            preconditionFailure("encoding strings and integers to JSON cannot fail: \(error)")
        }
    }

    /// The human form: a summary block, a blank line, then one aligned row per member.
    public static func table(_ status: Elastickv_V1_StatusResponse) -> String {
        let leader: String
        if status.leader.isEmpty {
            leader = "(unknown)"
        } else if status.leaderAddr.isEmpty {
            leader = status.leader
        } else {
            leader = "\(status.leader) (\(status.leaderAddr))"
        }
        let summary = [
            ["node", status.nodeID],
            ["leader", leader],
            ["term", String(status.term)],
            ["commit index", String(status.commitIndex)],
            ["applied index", String(status.appliedIndex)],
        ]
        var members = [["NODE ID", "RAFT ID", "ADDRESS", "ROLE"]]
        for member in status.members {
            members.append([member.nodeID, String(member.raftID), member.addr, member.role])
        }
        return aligned(summary) + "\n\n" + aligned(members)
    }

    /// Left-aligns each column to its widest cell, two spaces apart, without trailing spaces.
    static func aligned(_ rows: [[String]]) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }.joined()
        }.joined(separator: "\n")
    }

    private struct Document: Encodable {
        struct Member: Encodable {
            var nodeID: String
            var raftID: UInt64
            var addr: String
            var role: String

            enum CodingKeys: String, CodingKey {
                case nodeID = "node_id", raftID = "raft_id", addr, role
            }
        }

        var nodeID: String
        var leader: String
        var leaderAddr: String
        var term: UInt64
        var commitIndex: UInt64
        var appliedIndex: UInt64
        var members: [Member]

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id", leader, leaderAddr = "leader_addr", term, commitIndex = "commit_index"
            case appliedIndex = "applied_index", members
        }

        init(_ status: Elastickv_V1_StatusResponse) {
            nodeID = status.nodeID
            leader = status.leader
            leaderAddr = status.leaderAddr
            term = status.term
            commitIndex = status.commitIndex
            appliedIndex = status.appliedIndex
            members = status.members.map {
                Member(nodeID: $0.nodeID, raftID: $0.raftID, addr: $0.addr, role: $0.role)
            }
        }
    }
}
