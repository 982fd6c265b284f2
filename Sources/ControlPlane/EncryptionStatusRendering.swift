import Encryption
import Foundation

/// Renders `elastickv-admin encryption status`: a JSON document or aligned tables.
///
/// Pure functions of the report, kept out of the executable so tests can check the exact output. Wrapped DEKs
/// are never printed. The JSON keys are a script-facing contract: `state_addr`, `encryption_enabled`,
/// `raft_applied_index`, `storage_envelope_active`, `raft_envelope_cutover_index` (0 = none), `active`
/// (`storage`, `raft`; 0 = none), `keys` (each `id`, `purpose`, `created`, `local_epoch`, `keks`: the kek
/// ids holding a wrap, empty for one unnamed KEK), `kek_providers` (the answering node's KEKs: `kek_id`,
/// `scheme`, `primary`, `state` unknown/up/down/circuit-open, `consecutive_failures`, `last_error`), `registry` (each
/// `key_id`, `node16`, `full_node_id`, `first_seen_local_epoch`, `last_seen_local_epoch`) and `nodes` (each
/// `node_id`, `addr`, `reachable`, `encryption_capable`, `sidecar_present`, `local_epoch`, `full_node_id`,
/// `build_id`, `error`; the capability fields are null and `error` says why when `reachable` is false).
public enum EncryptionStatusRendering {
    /// The JSON form, with sorted keys so the output is stable.
    public static func json(_ report: EncryptionStatusReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(Document(report)), as: UTF8.self)
        } catch {
            preconditionFailure("encoding strings, booleans and integers to JSON cannot fail: \(error)")
        }
    }

    /// The human form: a summary block, then the keys, the writer registry and the members, each an aligned
    /// table separated by a blank line, then one line per unreachable member with the reason.
    public static func table(_ report: EncryptionStatusReport) -> String {
        var sections = [
            ClusterStatusRendering.aligned(summary(report)),
            ClusterStatusRendering.aligned(keys(report.state)),
            ClusterStatusRendering.aligned(providers(report.state)),
            ClusterStatusRendering.aligned(registry(report.state)),
            ClusterStatusRendering.aligned(nodes(report.nodes)),
        ]
        let unreachable = report.nodes.compactMap { node -> String? in
            guard case .unreachable(let reason) = node.answer else { return nil }
            return "unreachable: \(node.nodeID) (\(node.address)): \(reason)"
        }
        if !unreachable.isEmpty { sections.append(unreachable.joined(separator: "\n")) }
        return sections.joined(separator: "\n\n")
    }

    static func summary(_ report: EncryptionStatusReport) -> [[String]] {
        let state = report.state
        return [
            ["state from", report.stateAddress],
            ["encryption enabled", yesNo(state.encryptionEnabled)],
            ["storage envelope", state.storageEnvelopeActive ? "active" : "inactive"],
            ["raft envelope", state.raftEnvelopeCutoverIndex.map { "active after index \($0)" } ?? "inactive"],
            ["active storage DEK", state.activeStorageKeyID.map(String.init) ?? "none"],
            ["active raft DEK", state.activeRaftKeyID.map(String.init) ?? "none"],
            ["encryption applied index", String(state.raftAppliedIndex)],
        ]
    }

    static func keys(_ state: EncryptionStatus) -> [[String]] {
        let active: Set<KeyID> = Set([state.activeStorageKeyID, state.activeRaftKeyID].compactMap { $0 })
        return [["KEY ID", "PURPOSE", "CREATED", "LOCAL EPOCH", "ACTIVE", "KEKS"]]
            + state.keys.map { key in
                [
                    String(key.keyID), key.purpose.rawValue, key.created, String(key.localEpoch),
                    yesNo(active.contains(key.keyID)), key.wrappedBy.isEmpty ? "-" : key.wrappedBy.joined(separator: ","),
                ]
            }
    }

    static func providers(_ state: EncryptionStatus) -> [[String]] {
        [["KEK", "SCHEME", "PRIMARY", "STATE", "FAILURES", "LAST ERROR"]]
            + state.kekProviders.map { provider in
                [
                    provider.kekID, provider.scheme, yesNo(provider.primary), provider.state.rawValue,
                    String(provider.consecutiveFailures), provider.lastError ?? "-",
                ]
            }
    }

    static func registry(_ state: EncryptionStatus) -> [[String]] {
        [["KEY ID", "NODE16", "FULL NODE ID", "LOCAL EPOCHS"]]
            + state.registry.map { entry in
                [
                    String(entry.keyID), String(entry.node16), String(entry.row.fullNodeID),
                    "\(entry.row.firstSeenLocalEpoch)-\(entry.row.lastSeenLocalEpoch)",
                ]
            }
    }

    static func nodes(_ nodes: [EncryptionStatusReport.Node]) -> [[String]] {
        [["NODE ID", "ADDRESS", "REACHABLE", "CAPABLE", "SIDECAR", "LOCAL EPOCH", "FULL NODE ID", "BUILD"]]
            + nodes.map { node in
                guard let capability = node.capability else {
                    return [node.nodeID, node.address, "no", "-", "-", "-", "-", "-"]
                }
                return [
                    node.nodeID, node.address, "yes", yesNo(capability.encryptionCapable),
                    yesNo(capability.sidecarPresent), String(capability.localEpoch), String(capability.fullNodeID),
                    capability.buildID,
                ]
            }
    }

    private static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
}
