extension EncryptionStatusRendering {
    /// The JSON document of `encryption status`; see the type's documentation for the keys.
    struct Document: Encodable {
        struct Active: Encodable {
            var storage: UInt32
            var raft: UInt32
        }

        struct Key: Encodable {
            var id: UInt32
            var purpose: String
            var created: String
            var localEpoch: UInt16
            var wrappedBy: [String]

            enum CodingKeys: String, CodingKey {
                case id, purpose, created, localEpoch = "local_epoch", wrappedBy = "keks"
            }
        }

        struct Provider: Encodable {
            var kekID: String
            var scheme: String
            var primary: Bool
            var state: String
            var consecutiveFailures: Int
            var lastError: String?

            enum CodingKeys: String, CodingKey {
                case kekID = "kek_id", scheme, primary, state
                case consecutiveFailures = "consecutive_failures", lastError = "last_error"
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(kekID, forKey: .kekID)
                try container.encode(scheme, forKey: .scheme)
                try container.encode(primary, forKey: .primary)
                try container.encode(state, forKey: .state)
                try container.encode(consecutiveFailures, forKey: .consecutiveFailures)
                try container.encode(lastError, forKey: .lastError)  // null when the last call worked
            }
        }

        struct RegistryRow: Encodable {
            var keyID: UInt32
            var node16: UInt16
            var fullNodeID: UInt64
            var firstSeenLocalEpoch: UInt16
            var lastSeenLocalEpoch: UInt16

            enum CodingKeys: String, CodingKey {
                case keyID = "key_id", node16, fullNodeID = "full_node_id"
                case firstSeenLocalEpoch = "first_seen_local_epoch", lastSeenLocalEpoch = "last_seen_local_epoch"
            }
        }

        var stateAddr: String
        var encryptionEnabled: Bool
        var raftAppliedIndex: UInt64
        var storageEnvelopeActive: Bool
        var raftEnvelopeCutoverIndex: UInt64
        var active: Active
        var keys: [Key]
        var registry: [RegistryRow]
        var kekProviders: [Provider]
        var nodes: [NodeEntry]

        enum CodingKeys: String, CodingKey {
            case stateAddr = "state_addr", encryptionEnabled = "encryption_enabled"
            case raftAppliedIndex = "raft_applied_index", storageEnvelopeActive = "storage_envelope_active"
            case raftEnvelopeCutoverIndex = "raft_envelope_cutover_index", active, keys, registry, nodes
            case kekProviders = "kek_providers"
        }

        init(_ report: EncryptionStatusReport) {
            let state = report.state
            stateAddr = report.stateAddress
            encryptionEnabled = state.encryptionEnabled
            raftAppliedIndex = state.raftAppliedIndex
            storageEnvelopeActive = state.storageEnvelopeActive
            raftEnvelopeCutoverIndex = state.raftEnvelopeCutoverIndex ?? 0
            active = Active(storage: state.activeStorageKeyID ?? 0, raft: state.activeRaftKeyID ?? 0)
            keys = state.keys.map {
                Key(id: $0.keyID, purpose: $0.purpose.rawValue, created: $0.created, localEpoch: $0.localEpoch,
                    wrappedBy: $0.wrappedBy)
            }
            kekProviders = state.kekProviders.map {
                Provider(kekID: $0.kekID, scheme: $0.scheme, primary: $0.primary, state: $0.state.rawValue,
                         consecutiveFailures: $0.consecutiveFailures, lastError: $0.lastError)
            }
            registry = state.registry.map {
                RegistryRow(
                    keyID: $0.keyID, node16: $0.node16, fullNodeID: $0.row.fullNodeID,
                    firstSeenLocalEpoch: $0.row.firstSeenLocalEpoch, lastSeenLocalEpoch: $0.row.lastSeenLocalEpoch)
            }
            nodes = report.nodes.map(NodeEntry.init)
        }
    }

    /// One member in the JSON document: every key is always present, null when the member did not answer.
    struct NodeEntry: Encodable {
        var node: EncryptionStatusReport.Node

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id", addr, reachable, encryptionCapable = "encryption_capable"
            case sidecarPresent = "sidecar_present", localEpoch = "local_epoch", fullNodeID = "full_node_id"
            case buildID = "build_id", kekCheck = "kek_check", error
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let capability = node.capability
            try container.encode(node.nodeID, forKey: .nodeID)
            try container.encode(node.address, forKey: .addr)
            try container.encode(capability != nil, forKey: .reachable)
            try container.encode(capability?.encryptionCapable, forKey: .encryptionCapable)
            try container.encode(capability?.sidecarPresent, forKey: .sidecarPresent)
            try container.encode(capability?.localEpoch, forKey: .localEpoch)
            try container.encode(capability?.fullNodeID, forKey: .fullNodeID)
            try container.encode(capability?.buildID, forKey: .buildID)
            try container.encode(capability?.kekCheck, forKey: .kekCheck)
            if case .unreachable(let reason) = node.answer {
                try container.encode(reason, forKey: .error)
            } else {
                try container.encodeNil(forKey: .error)
            }
        }
    }
}
