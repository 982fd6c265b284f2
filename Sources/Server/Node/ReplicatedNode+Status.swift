import Encryption
import KV
import Raft

extension ReplicatedNode {
    /// A single-member cluster does not wait for an election timeout to elect itself.
    public func campaignIfSoleVoter() {
        let configuration = core.configurationState
        if configuration.voters == [identity.id] && core.role != .leader { campaign() }
    }

    /// The node's view of Raft: role, term, leader and indexes.
    public struct RaftStatus: Sendable, Hashable {
        public var role: RaftRole
        public var term: UInt64
        public var leader: NodeID?
        public var commitIndex: UInt64
        public var appliedIndex: UInt64
        public var configuration: ConfigurationState
        public var halted: String?
    }

    public func raftStatus() -> RaftStatus {
        RaftStatus(role: core.role, term: core.term, leader: core.leader, commitIndex: core.commitIndex,
                   appliedIndex: core.appliedIndex, configuration: core.configurationState,
                   halted: halt)
    }

    /// Publishes the Raft gauges and the `INFO` reading; the encryption series at most once a second.
    ///
    /// Runs after every ready batch, so the gauges are resolved once (``RaftGauges``) rather than looked up
    /// by name and labels on every call.
    func updateGauges() {
        publishInfo()
        observeLifecycle()
        guard let metrics, let gauges = raftGauges else { return }
        let roles: [RaftRole: Double] = [.follower: 0, .preCandidate: 1, .candidate: 2, .leader: 3]
        gauges.role.set(to: roles[core.role] ?? 0)
        gauges.term.set(to: Double(core.term))
        gauges.commitIndex.set(to: Double(core.commitIndex))
        gauges.appliedIndex.set(to: Double(core.appliedIndex))
        gauges.isLeader.set(to: core.role == .leader ? 1 : 0)
        gauges.applyHalted.set(to: halt == nil ? 0 : 1)
        let leader = core.leader.map { String($0) } ?? "none"
        if leader != publishedLeader {
            let leaderHelp = "1 for the member currently known as leader (label: its Raft member id)"
            if let previous = publishedLeader {
                metrics.gauge("elastickv_raft_leader", help: leaderHelp, labels: ["id": previous]).set(to: 0)
            }
            metrics.gauge("elastickv_raft_leader", help: leaderHelp, labels: ["id": leader]).set(to: 1)
            publishedLeader = leader
        }
        let now = ContinuousClock.now
        if let last = encryptionGaugesUpdatedAt, now - last < .seconds(1) { return }
        encryptionGaugesUpdatedAt = now
        updateEncryptionGauges(metrics)
    }

    /// The encryption series of DESIGN §7; ids and counts only, never key material.
    func updateEncryptionGauges(_ metrics: MetricsRegistry) {
        guard let encryption, let sidecar = encryption.applier.sidecar else { return }
        logEncryptionChanges(sidecar)
        for purpose in KeyPurpose.allCases {
            metrics.gauge("elastickv_encryption_active_dek_id", help: "Id of the DEK new data of a purpose is sealed with",
                          labels: ["purpose": purpose.rawValue]).set(to: Double(sidecar.activeKeyIDs[purpose] ?? 0))
        }
        metrics.gauge("elastickv_encryption_sidecar_raft_index",
                      help: "Index of the last encryption entry the sidecar reflects").set(to: Double(sidecar.raftAppliedIndex))
        let failures = encryption.decryptFailures.snapshot
        for reason in DecryptFailures.Reason.allCases {
            let count = failures[reason] ?? 0
            metrics.advanceCounter("elastickv_encryption_decrypt_failures_total",
                                   help: "Envelopes that failed to open, by reason", labels: ["reason": reason.rawValue],
                                   to: count)
        }
        for keyID in sidecar.keys.keys.sorted() {
            metrics.advanceCounter("elastickv_encryption_writes_per_dek_total",
                                   help: "Envelopes sealed by this process, by DEK", labels: ["key_id": String(keyID)],
                                   to: encryption.keyring.sealCount(for: keyID))
        }
    }

    /// Logs a storage-envelope switch and each change of a purpose's active DEK (a bootstrap or rotation), by
    /// key id only; compared with what was last seen, at most as often as the encryption series refresh.
    func logEncryptionChanges(_ sidecar: Sidecar) {
        let seen = EncryptionLogState(storageEnvelopeActive: sidecar.storageEnvelopeActive,
                                      activeKeyIDs: sidecar.activeKeyIDs)
        defer { observedEncryption = seen }
        // The first reading (at start, or at bootstrap) is compared with "nothing active yet".
        let previous = observedEncryption ?? EncryptionLogState(storageEnvelopeActive: false, activeKeyIDs: [:])
        guard previous != seen else { return }
        if seen.storageEnvelopeActive && !previous.storageEnvelopeActive {
            logger.info("storage envelope active: new values are sealed")
        }
        for purpose in KeyPurpose.allCases where seen.activeKeyIDs[purpose] != previous.activeKeyIDs[purpose] {
            logger.info("active DEK changed", metadata: [
                "purpose": "\(purpose.rawValue)", "key_id": "\(seen.activeKeyIDs[purpose].map { String($0) } ?? "none")",
                "previous_key_id": "\(previous.activeKeyIDs[purpose].map { String($0) } ?? "none")",
            ])
        }
    }

    /// Logs leader changes and, on the leader, members that stopped or started answering (at most once per
    /// change); sets `elastickv_raft_peer_reachable` from the leader's view (NaN elsewhere: only the leader
    /// hears from every member).
    func observeLifecycle() {
        let leader = core.leader
        if leader != observedLeader {
            if let leader {
                let name = memberDirectory()[leader]?.name ?? String(leader)
                logger.info(leader == identity.id ? "elected leader" : "leader changed",
                            metadata: ["leader": "\(name)", "term": "\(core.term)"])
            } else if observedLeader != nil {
                logger.info("leader lost", metadata: ["term": "\(core.term)"])
            }
            observedLeader = leader
        }
        let active = core.recentlyActivePeers
        var reachable: [NodeID: Bool?] = [:]
        for peer in core.peers { reachable.updateValue(active.map { $0.contains(peer) }, forKey: peer) }
        guard reachable != observedPeers else { return }
        for (peer, isReachable) in reachable {
            let previous = observedPeers[peer] ?? nil
            guard previous != isReachable || observedPeers[peer] == nil else { continue }
            let name = memberDirectory()[peer]?.name ?? String(peer)
            switch (previous, isReachable) {
            case (true?, false?), (nil, false?): logger.info("peer down", metadata: ["peer": "\(name)"])
            case (false?, true?): logger.info("peer back", metadata: ["peer": "\(name)"])
            default: break
            }
            metrics?.gauge("elastickv_raft_peer_reachable",
                           help: "On the leader: 1 when the member answered within the last two election timeouts; NaN on other roles",
                           labels: ["peer": name]).set(to: isReachable.map { $0 ? 1 : 0 } ?? .nan)
        }
        observedPeers = reachable
    }

    func publishInfo() {
        let sidecar = encryption?.applier.sidecar
        info.publish(NodeInfo.Reading(
            role: core.role == .leader ? "leader" : (core.configurationState.learners.contains(identity.id)
                ? "learner" : "follower"),
            leaderName: core.leader.map { memberDirectory()[$0]?.name ?? String($0) }, term: core.term,
            commitIndex: core.commitIndex, appliedIndex: core.appliedIndex, halted: halt != nil,
            leaderContact: core.hasLeaderContact,
            encryptionEnabled: encryption != nil, storageEnvelopeActive: sidecar?.storageEnvelopeActive ?? false,
            raftEnvelopeCutoverIndex: sidecar?.raftEnvelopeCutoverIndex ?? 0,
            replicaMatchIndexes: core.replicaMatchIndexes.values.sorted(), lastLogIndex: core.lastIndex,
            snapshotIndex: lastSnapshotIndex,
            lastSnapshotUnixSeconds: lastSnapshotUnixSeconds))
    }
}

/// The Raft gauges a node updates after every ready batch, resolved once.
struct RaftGauges {
    let role: MetricGauge
    let term: MetricGauge
    let commitIndex: MetricGauge
    let appliedIndex: MetricGauge
    let isLeader: MetricGauge
    let applyHalted: MetricGauge

    init(_ metrics: MetricsRegistry) {
        applyHalted = metrics.gauge("elastickv_apply_halted",
                                    help: "1 when this node stopped applying (see its log for the reason)")
        role = metrics.gauge("elastickv_raft_role", help: "0 follower, 1 pre-candidate, 2 candidate, 3 leader")
        term = metrics.gauge("elastickv_raft_term", help: "Current Raft term")
        commitIndex = metrics.gauge("elastickv_raft_commit_index", help: "Raft commit index")
        appliedIndex = metrics.gauge("elastickv_raft_applied_index", help: "Raft applied index")
        isLeader = metrics.gauge("elastickv_raft_is_leader", help: "1 when this member leads")
    }
}

/// The encryption state last logged by ``ReplicatedNode/logEncryptionChanges(_:)``.
struct EncryptionLogState: Equatable {
    var storageEnvelopeActive: Bool
    var activeKeyIDs: [KeyPurpose: KeyID]
}
