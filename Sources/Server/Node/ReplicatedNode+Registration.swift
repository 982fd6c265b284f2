import Encryption
import KV
import Raft
import Storage

extension ReplicatedNode {
    /// How long a node waits for its restart registration to show up committed before proposing it again.
    static let registrationRetryInterval: Duration = .seconds(2)

    /// Where the process-start writer registration stands.
    struct RegistrationProgress {
        /// A ReadIndex round for the cluster's view was started and has not answered yet.
        var viewRequested = false
        /// The leader's commit index some time after this process started; the local log must reach it.
        var viewIndex: UInt64?
        /// The epochs were checked against every registration the cluster had committed when this process
        /// started; only then is the registration proposed.
        var viewChecked = false
        /// When the registration was last proposed or forwarded.
        var proposedAt: ContinuousClock.Instant?
    }

    /// Drives the process-start writer registration (DESIGN §3.6) until the cluster has committed it.
    ///
    /// Until then the keys loaded at start have no sealing epoch: apply is held back and user proposals get a
    /// retryable error. First the node makes its epochs exceed every epoch the cluster had registered for it
    /// when this process started (`e = max(sidecar, cluster's last_seen) + 1`): its own applied rows may be
    /// stale (a restored data dir, a predecessor process whose registration committed but was not applied
    /// here), so it reads every registration in its log once the log covers the leader's commit index. A
    /// predecessor seals only after its registration commits, so every epoch it may have sealed with is in
    /// that view. Then it proposes the registration (cleartext 0x03; a follower forwards it), watches the
    /// committed log and decides with ``WriterRegistry/confirmation(of:rows:committed:)``. A rollback moves the
    /// epoch past the registry's, durably, and registers again; a collision stops the node.
    func advanceWriterRegistration() {
        guard halt == nil, let encryption, !encryption.pendingRegistrations.isEmpty else { return }
        core.applyLimit = core.appliedIndex
        guard registration.viewChecked || checkRegistrationView(encryption) else { return }
        let pending = encryption.pendingRegistrations
        switch committedConfirmation(of: pending) {
        case .accepted?:
            encryption.confirmRegistrations()
            core.applyLimit = .max
            registration = RegistrationProgress()
            logger.info("writer registration committed", metadata: ["epochs": "\(Self.epochSummary(pending))"])
            scheduleProcess()
        case .rejected(let error)?:
            handleRejectedRegistration(error, encryption)
        case nil:
            proposeRegistrationIfDue(pending)
        }
    }

    /// Raises the pending epochs above every registration of this node the cluster had committed when the
    /// process started; `false` while that view is not available yet.
    func checkRegistrationView(_ encryption: KVEncryption) -> Bool {
        if core.role != .leader {
            // A leader's log holds every committed entry; a follower's does once it reaches a read index.
            guard let index = registration.viewIndex else {
                requestRegistrationView()
                return false
            }
            guard core.commitIndex >= index else { return false }
        }
        guard let highest = registeredEpochsInView(for: encryption.identity) else { return false }
        for registration in encryption.pendingRegistrations {
            guard let last = highest[registration.dekID], last >= registration.localEpoch else { continue }
            handleRejectedRegistration(.localEpochRollback(
                dekID: registration.dekID, fullNodeID: registration.fullNodeID, lastSeenLocalEpoch: last,
                claimedLocalEpoch: registration.localEpoch), encryption)
            if halt != nil { return false }
        }
        registration.viewChecked = true
        return true
    }

    /// Starts a ReadIndex round whose answer tells how far the local log must reach.
    func requestRegistrationView() {
        guard !registration.viewRequested, core.leader != nil else { return }
        registration.viewRequested = true
        Task {
            let index = try? await self.confirmReadIndex()
            self.registrationViewConfirmed(index)
        }
    }

    func registrationViewConfirmed(_ index: UInt64?) {
        registration.viewRequested = false
        if let index { registration.viewIndex = index }
        scheduleProcess()
    }

    /// The highest epoch registered for this node per DEK: applied rows plus every registration in the log
    /// after them, committed or not (counting an uncommitted one only makes the new epoch higher).
    /// `nil` when the store cannot be read.
    func registeredEpochsInView(for identity: NodeIdentity) -> [KeyID: UInt16]? {
        var highest: [KeyID: UInt16] = [:]
        guard let rows = try? store.registryRows() else { return nil }
        for row in rows where row.node16 == identity.node16 && row.fullNodeID == identity.fullNodeID {
            highest[row.dekID] = max(highest[row.dekID] ?? 0, row.lastSeenLocalEpoch)
        }
        for batch in registrationBatches(from: core.appliedIndex + 1, through: core.lastIndex) {
            for registration in batch where registration.fullNodeID == identity.fullNodeID {
                highest[registration.dekID] = max(highest[registration.dekID] ?? 0, registration.localEpoch)
            }
        }
        return highest
    }

    /// The writer-registration batches of the log entries in `from...through`, in log order.
    func registrationBatches(from: UInt64, through: UInt64) -> [[WriterRegistration]] {
        guard through >= from else { return [] }
        var batches: [[WriterRegistration]] = []
        for index in from...through {
            guard let entry = core.logEntry(at: index), entry.kind == .normal,
                  entry.data.first == EncryptionEntry.Opcode.writerRegistration,
                  case .writerRegistration(let batch)? = try? EncryptionEntry.decode(entry.data)
            else { continue }
            batches.append(batch)
        }
        return batches
    }

    /// Replays the registry rules over the committed, unapplied registration entries.
    func committedConfirmation(of pending: [WriterRegistration]) -> WriterRegistry.Confirmation? {
        let batches = registrationBatches(from: core.appliedIndex + 1, through: core.commitIndex)
        guard batches.contains(pending) else { return nil }
        var rows: [WriterRegistryKey: WriterRegistryRow] = [:]
        for key in Set(batches.joined().map(\.registryKey)) {
            let row: RegistryRow?
            do throws(StorageError) { row = try store.registryRow(dekID: key.dekID, node16: key.node16) } catch {
                return nil
            }
            guard let row else { continue }
            rows[key] = WriterRegistryRow(fullNodeID: row.fullNodeID, firstSeenLocalEpoch: row.firstSeenLocalEpoch,
                                          lastSeenLocalEpoch: row.lastSeenLocalEpoch)
        }
        return WriterRegistry.confirmation(of: pending, rows: rows, committed: batches)
    }

    func handleRejectedRegistration(_ error: WriterRegistryError, _ encryption: KVEncryption) {
        guard case .localEpochRollback(let keyID, _, let lastSeen, _) = error else {
            stop(error.description)
            return
        }
        do throws(SidecarError) {
            guard let next = try encryption.rederivePendingEpoch(of: keyID, above: lastSeen) else {
                stop("ErrLocalEpochExhausted: the registry holds local_epoch 65535 for DEK \(keyID); rotate it "
                    + "from another member, retire it, then restart this node")
                return
            }
            logger.warning("local epoch behind the registry (data dir restored from an older copy?); re-derived",
                           metadata: ["key_id": "\(keyID)", "epochs": "\(Self.epochSummary(next))"])
            registration.proposedAt = nil
            proposeRegistrationIfDue(next)
        } catch {
            stop("the sidecar cannot be written while re-deriving local epochs: \(error)")
        }
    }

    /// Proposes (leader) or forwards (follower) the registration, at most once per retry interval.
    func proposeRegistrationIfDue(_ pending: [WriterRegistration]) {
        guard registration.viewChecked else { return }
        if let last = registration.proposedAt, ContinuousClock.now - last < Self.registrationRetryInterval { return }
        guard let payload = try? EncryptionEntry.writerRegistration(pending).encoded() else { return }
        if core.role == .leader {
            guard (try? core.propose(payload, requireReadyToServe: false)) != nil else { return }
            scheduleProcess()
        } else {
            guard let leader = core.leader, let forwarder else { return }
            Task { _ = try? await forwarder.forward(payload, to: leader) }
        }
        registration.proposedAt = .now
    }

    static func epochSummary(_ registrations: [WriterRegistration]) -> String {
        registrations.map { "\($0.dekID)@\($0.localEpoch)" }.joined(separator: ",")
    }
}
