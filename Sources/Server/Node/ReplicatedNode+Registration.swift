import Encryption
import KV
import Raft
import Storage

extension ReplicatedNode {
    /// How long a node waits for its restart registration to show up committed before proposing it again.
    static let registrationRetryInterval: Duration = .seconds(2)

    /// Drives the process-start writer registration (DESIGN §3.6) until the cluster has committed it.
    ///
    /// Until then the keys loaded at start have no sealing epoch, so apply is held back and user proposals get
    /// a retryable error. The node
    /// proposes its registration (a cleartext 0x03 entry; a follower forwards it), watches the committed log
    /// for it, and decides the outcome with ``WriterRegistry/confirmation(of:rows:committed:)``. A rollback
    /// moves the epoch past the registry's, durably, and registers again; a collision stops the node.
    func advanceWriterRegistration() {
        guard halt == nil, let encryption, !encryption.pendingRegistrations.isEmpty else { return }
        let pending = encryption.pendingRegistrations
        // Nothing applies until the outcome is known: the registration must be judged on the committed log
        // before apply could see it, and apply may need to seal.
        core.applyLimit = core.appliedIndex
        switch committedConfirmation(of: pending) {
        case .accepted?:
            encryption.confirmRegistrations()
            core.applyLimit = .max
            registrationProposedAt = nil
            logger.info("writer registration committed", metadata: ["epochs": "\(Self.epochSummary(pending))"])
            scheduleProcess()
        case .rejected(let error)?:
            handleRejectedRegistration(error, encryption)
        case nil:
            proposeRegistrationIfDue(pending)
        }
    }

    /// Replays the registry rules over the committed, unapplied registration entries.
    func committedConfirmation(of pending: [WriterRegistration]) -> WriterRegistry.Confirmation? {
        let applied = core.appliedIndex
        let commit = core.commitIndex
        guard commit > applied else { return nil }
        var batches: [[WriterRegistration]] = []
        for index in (applied + 1)...commit {
            guard let entry = core.logEntry(at: index), entry.kind == .normal,
                  entry.data.first == EncryptionEntry.Opcode.writerRegistration,
                  case .writerRegistration(let batch)? = try? EncryptionEntry.decode(entry.data)
            else { continue }
            batches.append(batch)
        }
        guard batches.contains(pending) else { return nil }
        var rows: [WriterRegistryKey: WriterRegistryRow] = [:]
        for key in Set(batches.joined().map(\.registryKey)) {
            guard let row = try? store.registryRow(dekID: key.dekID, node16: key.node16) else { continue }
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
            registrationProposedAt = nil
            proposeRegistrationIfDue(next)
        } catch {
            stop("the sidecar cannot be written while re-deriving local epochs: \(error)")
        }
    }

    /// Proposes (leader) or forwards (follower) the registration, at most once per retry interval.
    func proposeRegistrationIfDue(_ pending: [WriterRegistration]) {
        if let last = registrationProposedAt, ContinuousClock.now - last < Self.registrationRetryInterval { return }
        guard let payload = try? EncryptionEntry.writerRegistration(pending).encoded() else { return }
        if core.role == .leader {
            guard (try? core.propose(payload, requireReadyToServe: false)) != nil else { return }
            scheduleProcess()
        } else {
            guard let leader = core.leader, let forwarder else { return }
            Task { _ = try? await forwarder.forward(payload, to: leader) }
        }
        registrationProposedAt = .now
    }

    static func epochSummary(_ registrations: [WriterRegistration]) -> String {
        registrations.map { "\($0.dekID)@\($0.localEpoch)" }.joined(separator: ",")
    }
}
