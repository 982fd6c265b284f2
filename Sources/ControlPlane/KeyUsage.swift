import ElastickvAPI
import Encryption
import Foundation

/// What on one node still needs each unretired DEK (`encryption key-usage`): the checks `retire-dek` makes.
public struct KeyUsageReport: Sendable, Hashable {
    /// One DEK on the answering node.
    public struct Key: Sendable, Hashable {
        public var keyID: KeyID
        public var purpose: KeyPurpose
        public var isActive: Bool
        /// Versions in the node's store sealed under the key.
        public var storedVersions: UInt64
        /// Entries of the node's Raft log sealed under the key.
        public var logEntries: UInt64
        /// Versions in the node's newest snapshot sealed under the key.
        public var snapshotVersions: UInt64

        public init(keyID: KeyID, purpose: KeyPurpose, isActive: Bool, storedVersions: UInt64, logEntries: UInt64,
                    snapshotVersions: UInt64) {
            self.keyID = keyID
            self.purpose = purpose
            self.isActive = isActive
            self.storedVersions = storedVersions
            self.logEntries = logEntries
            self.snapshotVersions = snapshotVersions
        }

        /// Why the key cannot be retired because of this node, with the command that clears it; `nil` when
        /// nothing here needs it.
        public func neededBecause(node: String) -> String? {
            if purpose == .index { return "it is the index key, which names collection elements; it is never retired" }
            if isActive { return "it is the active \(purpose.rawValue) DEK; rotate it first (encryption rotate-dek)" }
            if storedVersions > 0 {
                return "\(node) stores \(storedVersions) versions sealed under it; run `elastickv-admin encryption "
                    + "rewrite --wait`"
            }
            if logEntries > 0 {
                return "\(node)'s Raft log holds \(logEntries) entries sealed under it; run `elastickv-admin cluster "
                    + "snapshot`"
            }
            if snapshotVersions > 0 {
                return "\(node)'s newest snapshot holds \(snapshotVersions) versions sealed under it; run "
                    + "`elastickv-admin cluster snapshot`"
            }
            return nil
        }
    }

    public var nodeName: String
    public var snapshotIndex: UInt64
    public var logFirstIndex: UInt64
    public var logLastIndex: UInt64
    /// Every unretired DEK, by ascending id.
    public var keys: [Key]

    public init(nodeName: String, snapshotIndex: UInt64, logFirstIndex: UInt64, logLastIndex: UInt64, keys: [Key]) {
        self.nodeName = nodeName
        self.snapshotIndex = snapshotIndex
        self.logFirstIndex = logFirstIndex
        self.logLastIndex = logLastIndex
        self.keys = keys
    }
}

extension Elastickv_V1_KeyUsageResponse {
    public init(_ report: KeyUsageReport) {
        self.init()
        nodeID = report.nodeName
        snapshotIndex = report.snapshotIndex
        logFirstIndex = report.logFirstIndex
        logLastIndex = report.logLastIndex
        keys = report.keys.map { key in
            var wire = Elastickv_V1_KeyUsage()
            wire.keyID = key.keyID
            wire.purpose = key.purpose.rawValue
            wire.active = key.isActive
            wire.storedVersions = key.storedVersions
            wire.logEntries = key.logEntries
            wire.snapshotVersions = key.snapshotVersions
            return wire
        }
    }
}

extension KeyUsageReport {
    /// Decodes a `GetKeyUsage` answer.
    ///
    /// - Throws: `EncryptionWireError` for key id 0 or an unknown purpose.
    public init(_ wire: Elastickv_V1_KeyUsageResponse) throws(EncryptionWireError) {
        var keys: [Key] = []
        for (position, key) in wire.keys.enumerated() {
            keys.append(Key(
                keyID: try EncryptionWire.keyID(key.keyID, field: "keys[\(position)].key_id"),
                purpose: try EncryptionWire.purpose(key.purpose, field: "keys[\(position)].purpose"),
                isActive: key.active, storedVersions: key.storedVersions, logEntries: key.logEntries,
                snapshotVersions: key.snapshotVersions))
        }
        self.init(nodeName: wire.nodeID, snapshotIndex: wire.snapshotIndex, logFirstIndex: wire.logFirstIndex,
                  logLastIndex: wire.logLastIndex, keys: keys)
    }
}

/// Why a member gave no answer (connection refused, deadline passed, an answer the wire checks refused).
public struct MemberUnreachable: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// `encryption key-usage` as a table or one JSON document: per node (or why it did not answer), per DEK.
///
/// JSON: `{"nodes": [{"node_id", "address", "error"?, "snapshot_index", "log_first_index", "log_last_index",
/// "keys": [{"key_id", "purpose", "active", "stored_versions", "log_entries", "snapshot_versions"}]}],
/// "retirable": [key ids nothing on any answering node needs; empty when a node did not answer]}`.
public enum KeyUsageRendering {
    /// A node's report, or why there is none.
    public typealias Answer = (address: String, report: Result<KeyUsageReport, MemberUnreachable>)

    /// Key ids that no node needs, or none at all when a node did not answer (it might need any of them).
    public static func retirable(_ answers: [Answer]) -> [KeyID] {
        var reports: [KeyUsageReport] = []
        for answer in answers {
            guard case .success(let report) = answer.report else { return [] }
            reports.append(report)
        }
        let ids = Set(reports.flatMap { $0.keys.map(\.keyID) })
        return ids.filter { id in
            reports.allSatisfy { report in
                report.keys.first { $0.keyID == id }.map { $0.neededBecause(node: report.nodeName) == nil } ?? true
            }
        }.sorted()
    }

    public static func table(_ answers: [Answer]) -> String {
        var rows = [["NODE", "KEY", "PURPOSE", "ACTIVE", "STORED", "LOG", "SNAPSHOT"]]
        var unreachable: [String] = []
        for answer in answers {
            switch answer.report {
            case .failure(let failure): unreachable.append("\(answer.address): did not answer: \(failure)")
            case .success(let report):
                for key in report.keys {
                    rows.append([report.nodeName, String(key.keyID), key.purpose.rawValue, key.isActive ? "yes" : "no",
                                 String(key.storedVersions), String(key.logEntries), String(key.snapshotVersions)])
                }
            }
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return column >= 4 ? padding + text : text + padding
            }.joined(separator: "  ")
        }
        lines += unreachable
        let ids = retirable(answers)
        lines.append(ids.isEmpty ? "retirable: none" : "retirable: " + ids.map(String.init).joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    public static func json(_ answers: [Answer]) -> String {
        let nodes: [[String: Any]] = answers.map { answer in
            switch answer.report {
            case .failure(let failure): return ["address": answer.address, "error": failure.reason]
            case .success(let report):
                return [
                    "address": answer.address, "node_id": report.nodeName, "snapshot_index": report.snapshotIndex,
                    "log_first_index": report.logFirstIndex, "log_last_index": report.logLastIndex,
                    "keys": report.keys.map { key -> [String: Any] in
                        ["key_id": key.keyID, "purpose": key.purpose.rawValue, "active": key.isActive,
                         "stored_versions": key.storedVersions, "log_entries": key.logEntries,
                         "snapshot_versions": key.snapshotVersions]
                    },
                ]
            }
        }
        let object: [String: Any] = ["nodes": nodes, "retirable": retirable(answers)]
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            preconditionFailure("numbers and strings always encode as JSON")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
