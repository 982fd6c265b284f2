import ControlPlane
import DurableIO
import Encryption
import Foundation
import KV
import Raft
import Storage

extension ReplicatedNode: EncryptionControl {
    /// What `GetCapability` reports as the build: the product and the on-disk format versions it speaks.
    static let buildID = "elastickv/0.1 envelope-v\(EnvelopeHeader.currentVersion) sidecar-v\(Sidecar.formatVersion)"

    /// Attaches how other members are asked for their capability.
    public func attachCapabilityPoller(_ poller: any CapabilityPolling) {
        capabilityPoller = poller
    }

    /// What this node can do now; the KEK check is of the KEK its source holds now (the file is read again),
    /// so during a KEK change it shows whether the new KEK is in place.
    public func capability() async -> EncryptionCapability {
        let sidecar = encryption?.applier.sidecar
        let epochs = sidecar?.keys.values.map(\.localEpoch) ?? []
        var kekCheck = ""
        if let provider = encryption?.applier.kekProvider {
            try? (provider as? any KEKReloading)?.reload()
            kekCheck = provider.checkValue ?? ""
        }
        return EncryptionCapability(
            nodeName: identity.name, fullNodeID: identity.id, encryptionCapable: encryption != nil && halt == nil,
            buildID: Self.buildID, sidecarPresent: sidecar != nil, localEpoch: epochs.max() ?? 0,
            kekCheck: kekCheck, raftLogKeyIDs: raftKeyIDsInLog())
    }

    public func encryptionState(node16: UInt16?) async throws(EncryptionControlError) -> EncryptionStatus {
        let rows: [RegistryRow]
        do throws(StorageError) { rows = try store.registryRows() } catch {
            throw .unavailable("the writer registry cannot be read: \(error)")
        }
        let registry = rows.filter { node16 == nil || $0.node16 == node16 }.map { row in
            EncryptionStatus.RegistryRow(
                keyID: row.dekID, node16: row.node16,
                row: WriterRegistryRow(fullNodeID: row.fullNodeID, firstSeenLocalEpoch: row.firstSeenLocalEpoch,
                                       lastSeenLocalEpoch: row.lastSeenLocalEpoch))
        }
        guard let sidecar = encryption?.applier.sidecar else {
            return EncryptionStatus(
                encryptionEnabled: encryption != nil, raftAppliedIndex: 0, storageEnvelopeActive: false,
                raftEnvelopeCutoverIndex: nil, activeStorageKeyID: nil, activeRaftKeyID: nil, keys: [],
                registry: registry, kekProviders: encryption?.applier.kekProvider.providerHealth() ?? [])
        }
        let seals: [UInt32: UInt64]
        do throws(StorageError) { seals = try store.sealCounts() } catch {
            throw .unavailable("the seal counts cannot be read: \(error)")
        }
        let keys = sidecar.keys.keys.sorted().map { id in
            let key = sidecar.keys[id]!
            return EncryptionStatus.Key(keyID: id, purpose: key.purpose, wrapped: key.wrapped.bytes,
                                        created: key.created, localEpoch: key.localEpoch,
                                        wrappedBy: key.wrapped.kekIDs, sealCount: seals[id] ?? 0)
        }
        return EncryptionStatus(
            encryptionEnabled: true, raftAppliedIndex: sidecar.raftAppliedIndex,
            storageEnvelopeActive: sidecar.storageEnvelopeActive,
            raftEnvelopeCutoverIndex: sidecar.raftEnvelopeCutoverIndex,
            activeStorageKeyID: sidecar.activeKeyIDs[.storage], activeRaftKeyID: sidecar.activeKeyIDs[.raft],
            keys: keys, registry: registry, kekProviders: encryption?.applier.kekProvider.providerHealth() ?? [],
            rotationPolicy: sidecar.rotationPolicy, memberCount: memberCount)
    }

    /// The rotation policy this node applied (the default until one is set).
    public var rotationPolicy: RotationPolicy { encryption?.applier.sidecar?.effectiveRotationPolicy ?? .default }

    /// Voters and learners: each seals its own copy of every stored value.
    var memberCount: Int {
        let configuration = core.configurationState
        return configuration.voters.union(configuration.learners).count
    }

    func bootstrapExclusively() async throws(EncryptionControlError) -> EncryptionChange {
        let encryption = try requireEncryptionLeader()
        if let sidecar = encryption.applier.sidecar {
            let indexKey = try await createIndexKeyIfMissing(encryption)
            return EncryptionChange(index: 0, summary: "already bootstrapped: storage DEK "
                + "\(sidecar.activeKeyIDs[.storage] ?? 0), raft DEK \(sidecar.activeKeyIDs[.raft] ?? 0), index key "
                + "\(indexKey)")
        }
        let members = try await requireCapableMembers()
        var ids = Self.newKeyIDs(count: 2, avoiding: [])
        let storage = try newDEK(id: ids.removeFirst(), purpose: .storage, encryption)
        let raft = try newDEK(id: ids.removeFirst(), purpose: .raft, encryption)
        let registrations = members.flatMap { member in
            [storage.keyID, raft.keyID].map { WriterRegistration(dekID: $0, fullNodeID: member, localEpoch: 0) }
        }
        let entry = EncryptionEntry.bootstrap(.init(
            createdUnixSeconds: Self.unixSeconds(), storageKey: storage, raftKey: raft, registrations: registrations))
        let index = try await proposeEncryptionEntry(entry)
        guard encryption.applier.sidecar?.activeKeyIDs[.storage] == storage.keyID else {
            throw .refused("the bootstrap entry at \(index) was not applied: another bootstrap came first")
        }
        let indexKey = try await createIndexKeyIfMissing(encryption)
        return EncryptionChange(
            index: index, summary: "bootstrapped: storage DEK \(storage.keyID), raft DEK \(raft.keyID), index key "
                + "\(indexKey)")
    }

    /// Proposes the cluster's index key when it has none (a cluster bootstrapped before index keys existed
    /// gets one at its next bootstrap or enable-storage-envelope call); answers the active index key's id.
    func createIndexKeyIfMissing(_ encryption: KVEncryption) async throws(EncryptionControlError) -> KeyID {
        guard let sidecar = encryption.applier.sidecar else { throw .refused("encryption is not bootstrapped") }
        if let existing = sidecar.activeKeyIDs[.index] { return existing }
        let key = try newDEK(id: Self.newKeyIDs(count: 1, avoiding: Set(sidecar.keys.keys))[0], purpose: .index,
                             encryption)
        let index = try await proposeEncryptionEntry(
            .createIndexKey(.init(createdUnixSeconds: Self.unixSeconds(), key: key)))
        guard let active = encryption.applier.sidecar?.activeKeyIDs[.index] else {
            throw .refused("the create-index-key entry at \(index) did not take effect")
        }
        return active
    }

    func enableStorageEnvelopeExclusively() async throws(EncryptionControlError) -> EncryptionChange {
        let encryption = try requireEncryptionLeader()
        if encryption.applier.sidecar?.storageEnvelopeActive == true {
            _ = try await createIndexKeyIfMissing(encryption)
            return EncryptionChange(index: 0, summary: "the storage envelope is already active")
        }
        if encryption.applier.sidecar == nil { _ = try await bootstrapExclusively() }
        _ = try await createIndexKeyIfMissing(encryption)
        _ = try await requireCapableMembers()
        let index = try await proposeEncryptionEntry(.enableStorageEnvelope)
        guard encryption.applier.sidecar?.storageEnvelopeActive == true else {
            throw .refused("the enable-storage-envelope entry at \(index) did not take effect")
        }
        return EncryptionChange(index: index, summary: "the storage envelope is active: every value written from "
            + "index \(index) on is sealed")
    }

    func enableRaftEnvelopeExclusively() async throws(EncryptionControlError) -> EncryptionChange {
        let encryption = try requireEncryptionLeader()
        guard let sidecar = encryption.applier.sidecar else {
            throw .refused("encryption is not bootstrapped; run `encryption enable-storage-envelope` first")
        }
        if let cutover = sidecar.raftEnvelopeCutoverIndex {
            return EncryptionChange(index: 0, summary: "the raft envelope is already active from index \(cutover)")
        }
        _ = try await requireCapableMembers()
        raftCutoverBarrier = true
        defer { raftCutoverBarrier = false }
        let index = try await proposeEncryptionEntry(.enableRaftEnvelope)
        guard let cutover = encryption.raftCutover.cutoverIndex else {
            throw .refused("the enable-raft-envelope entry at \(index) did not take effect")
        }
        logger.info("raft envelope active", metadata: ["cutover": "\(cutover)"])
        return EncryptionChange(index: cutover, summary: "the raft envelope is active: entries after index "
            + "\(cutover) are sealed")
    }

    func rotateDEKExclusively(purpose: KeyPurpose) async throws(EncryptionControlError) -> EncryptionChange {
        let encryption = try requireEncryptionLeader()
        guard purpose.seals else {
            throw .refused("the index key is not rotated: the element rows of collections are named with it")
        }
        guard let sidecar = encryption.applier.sidecar, let replaced = sidecar.activeKeyIDs[purpose] else {
            throw .refused("there is no active \(purpose.rawValue) DEK to rotate; bootstrap first")
        }
        let members = try await requireCapableMembers(everyMember: false)
        let key = try newDEK(id: Self.newKeyIDs(count: 1, avoiding: Set(sidecar.keys.keys))[0], purpose: purpose,
                             encryption)
        let registrations = members.map { WriterRegistration(dekID: key.keyID, fullNodeID: $0, localEpoch: 0) }
        let entry = EncryptionEntry.rotateDEK(.init(
            createdUnixSeconds: Self.unixSeconds(), replacedKeyID: replaced, key: key, registrations: registrations))
        let index = try await proposeEncryptionEntry(entry)
        guard encryption.applier.sidecar?.activeKeyIDs[purpose] == key.keyID else {
            throw .refused("the rotation at \(index) was superseded by another key change; retry")
        }
        return EncryptionChange(index: index, summary: "\(purpose.rawValue) DEK \(key.keyID) is active; "
            + "DEK \(replaced) stays for reading")
    }

    func rewrapDEKsExclusively() async throws(EncryptionControlError) -> EncryptionChange {
        let encryption = try requireEncryptionLeader()
        guard let sidecar = encryption.applier.sidecar else { throw .refused("encryption is not bootstrapped") }
        _ = try await requireCapableMembers(everyMember: false)
        let provider = encryption.applier.kekProvider
        if let reloading = provider as? any KEKReloading {
            do { try reloading.reload() } catch { throw .refused("the KEK cannot be reloaded: \(error)") }
        }
        var keys: [EncryptionEntry.RewrappedDEK] = []
        var changed = 0
        for id in sidecar.keys.keys.sorted() {
            guard let installed = encryption.applier.keystore.entry(id: id), let stored = sidecar.keys[id] else {
                continue
            }
            let wrapped: WrappedDEK
            do { wrapped = try provider.wrapForStorage(installed.key) } catch {
                throw .refused("the KEK cannot wrap DEK \(id): \(error)")
            }
            if !Self.wrapsUnchanged(stored.wrapped, wrapped) { changed += 1 }
            keys.append(.init(keyID: id, wrapped: wrapped))
        }
        guard changed > 0 else {
            return EncryptionChange(index: core.appliedIndex, summary: "nothing to re-wrap: every DEK is already wrapped "
                + "by exactly the configured KEKs (\(provider.checkValue ?? "")); no entry was committed")
        }
        let index = try await proposeEncryptionEntry(.rewrapDEKs(keys))
        let keks = provider.checkValue.map { " (KEKs \($0))" } ?? ""
        return EncryptionChange(index: index, summary: "\(keys.count) DEKs re-wrapped under the configured KEKs\(keks)")
    }

    /// Whether a fresh wrap says the same as the stored one: the same KEKs (by id, in order) and, for a single
    /// unnamed KEK, the same bytes (AES Key Wrap is deterministic, so a file KEK that was not replaced wraps to
    /// the stored bytes; a replaced one changes them, and a file KEK's id is a fingerprint of its key).
    static func wrapsUnchanged(_ stored: WrappedDEK, _ fresh: WrappedDEK) -> Bool {
        stored.kekIDs == fresh.kekIDs && (!fresh.wraps.isEmpty || stored.bytes == fresh.bytes)
    }

    func retireDEKExclusively(keyID: KeyID) async throws(EncryptionControlError) -> EncryptionChange {
        let encryption = try requireEncryptionLeader()
        guard let sidecar = encryption.applier.sidecar, let key = sidecar.keys[keyID] else {
            throw .refused("DEK \(keyID) is not an unretired key of this cluster")
        }
        if !key.purpose.seals { try await checkRetirable(keyID, purpose: key.purpose) }  // refuses: it is never retired
        guard sidecar.activeKeyIDs[key.purpose] != keyID else {
            throw .refused("DEK \(keyID) is the active \(key.purpose.rawValue) key; rotate it first")
        }
        try await checkRetirable(keyID, purpose: key.purpose)
        let index = try await proposeEncryptionEntry(.retireDEK(keyID))
        return EncryptionChange(index: index, summary: "DEK \(keyID) is retired")
    }

    func registerWritersExclusively(_ registrations: [WriterRegistration]) async throws(EncryptionControlError)
        -> EncryptionChange
    {
        _ = try requireEncryptionLeader()
        guard !registrations.isEmpty else { throw .refused("no registration given") }
        let index = try await proposeEncryptionEntry(.writerRegistration(registrations))
        for registration in registrations {
            let row = try? store.registryRow(dekID: registration.dekID, node16: registration.node16)
            guard let row, row.fullNodeID == registration.fullNodeID,
                  row.lastSeenLocalEpoch == registration.localEpoch
            else {
                let held = row.map { "node \($0.fullNodeID) at epoch \($0.lastSeenLocalEpoch)" } ?? "no row"
                throw .refused("\(registration) was rejected (ErrNodeIDCollision or ErrLocalEpochRollback): the "
                    + "registry holds \(held)")
            }
        }
        return EncryptionChange(index: index, summary: "\(registrations.count) writer registrations committed")
    }

    public func setRotationPolicy(rotateAfterSeconds: UInt64?, rotateAfterSeals: UInt64?, rewriteAfterRotate: Bool?) async
        throws(EncryptionControlError) -> EncryptionChange
    {
        try await exclusively { () async throws(EncryptionControlError) in
            let encryption = try requireEncryptionLeader()
            guard let sidecar = encryption.applier.sidecar else {
                throw .refused("encryption is not bootstrapped; run `encryption enable-storage-envelope` first")
            }
            var policy = sidecar.effectiveRotationPolicy
            if let rotateAfterSeconds { policy.rotateAfterSeconds = rotateAfterSeconds }
            if let rotateAfterSeals { policy.rotateAfterSeals = rotateAfterSeals }
            if let rewriteAfterRotate { policy.rewriteAfterRotate = rewriteAfterRotate }
            guard policy.isValid else {
                throw .refused("\(policy) is out of range: at most \(RotationPolicy.maximumRotateAfterSeconds) s and "
                    + "\(RotationPolicy.maximumRotateAfterSeals) seals")
            }
            // A rewrite seals every stored version again under the new key: with a seal bound below that, each
            // rotation's rewrite would trigger the next one.
            let versions = UInt64((try? store.versionCount()) ?? 0)
            let rewriteSeals = versions.multipliedReportingOverflow(by: UInt64(max(memberCount, 1))).partialValue
            guard !policy.rewriteAfterRotate || policy.rotateAfterSeals == 0 || policy.rotateAfterSeals > 2 * rewriteSeals
            else {
                throw .refused("--rotate-after-seals \(policy.rotateAfterSeals) is too low for --rewrite-after-rotate: a "
                    + "rewrite seals the \(versions) stored versions again on \(memberCount) members (\(rewriteSeals) "
                    + "seals), so every rotation would trigger the next; give more than twice that")
            }
            guard sidecar.rotationPolicy != policy else {
                return EncryptionChange(index: core.appliedIndex, summary: "the rotation policy is already \(policy); "
                    + "no entry was committed")
            }
            let index = try await proposeEncryptionEntry(.setRotationPolicy(policy))
            logger.info("rotation policy set", metadata: ["policy": "\(policy)", "index": "\(index)"])
            return EncryptionChange(index: index, summary: "rotation policy: \(policy)")
        }
    }

    /// The sealing purposes whose active DEK the rotation policy says to rotate now, with the reason; empty
    /// unless this node leads a bootstrapped cluster and can run mutators.
    ///
    /// Seal counts are this replica's (every replica applies the same entries, so they agree), made cluster-wide
    /// as ``EncryptionStatus/Key/clusterSealCount(memberCount:)`` says; local epochs are the highest any member
    /// registered for the key.
    public func rotationsDue(nowUnixSeconds: UInt64) -> [(KeyPurpose, RotationPolicy.Reason)] {
        guard halt == nil, core.role == .leader, let sidecar = encryption?.applier.sidecar,
              let seals = try? store.sealCounts(), let rows = try? store.registryRows() else { return [] }
        let policy = sidecar.effectiveRotationPolicy
        var due: [(KeyPurpose, RotationPolicy.Reason)] = []
        for purpose in [KeyPurpose.storage, .raft] {
            guard let id = sidecar.activeKeyIDs[purpose], let key = sidecar.keys[id] else { continue }
            let created = Sidecar.unixSeconds(ofCreated: key.created) ?? nowUnixSeconds
            let status = EncryptionStatus.Key(keyID: id, purpose: purpose, wrapped: [], created: key.created,
                                              localEpoch: key.localEpoch, sealCount: seals[id] ?? 0)
            let use = RotationPolicy.KeyUse(
                ageSeconds: nowUnixSeconds > created ? nowUnixSeconds - created : 0,
                seals: status.clusterSealCount(memberCount: memberCount),
                highestLocalEpoch: rows.filter { $0.dekID == id }.map(\.lastSeenLocalEpoch).max() ?? 0)
            if let reason = policy.reasonToRotate(use) { due.append((purpose, reason)) }
        }
        return due
    }

    public func resyncSidecar() async throws(EncryptionControlError) -> EncryptionChange {
        guard let encryption else { throw .encryptionNotEnabled }
        guard let sidecar = encryption.applier.sidecar else {
            return EncryptionChange(index: 0, summary: "encryption is not bootstrapped; there is no sidecar to resync")
        }
        do throws(SidecarError) { try encryption.applier.sidecarFile.write(sidecar) } catch {
            throw .unavailable("the sidecar cannot be written: \(error)")
        }
        return EncryptionChange(index: sidecar.raftAppliedIndex,
                                summary: "the sidecar holds the applied encryption state as of index "
                                    + "\(sidecar.raftAppliedIndex)")
    }

    public func bootstrap() async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in try await bootstrapExclusively() }
    }

    public func enableStorageEnvelope() async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in try await enableStorageEnvelopeExclusively() }
    }

    public func enableRaftEnvelope() async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in try await enableRaftEnvelopeExclusively() }
    }

    public func rotateDEK(purpose: KeyPurpose) async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in
            try await rotateDEKExclusively(purpose: purpose)
        }
    }

    public func rewrapDEKs() async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in try await rewrapDEKsExclusively() }
    }

    public func retireDEK(keyID: KeyID) async throws(EncryptionControlError) -> EncryptionChange {
        try await exclusively { () async throws(EncryptionControlError) in try await retireDEKExclusively(keyID: keyID) }
    }

    public func registerWriters(_ registrations: [WriterRegistration]) async throws(EncryptionControlError)
        -> EncryptionChange
    {
        try await exclusively { () async throws(EncryptionControlError) in
            try await registerWritersExclusively(registrations)
        }
    }

    // MARK: - Helpers

    /// Runs one encryption mutator at a time on this leader.
    ///
    /// Each decides from the state it reads (active keys, members) and waits for its entry to apply; two at
    /// once could act on stale state, and any entry landing behind a pending cut-over would halt every replica.
    func exclusively<Result>(
        _ body: () async throws(EncryptionControlError) -> Result
    ) async throws(EncryptionControlError) -> Result {
        try await exclusively(busy: .retryable("another encryption or membership operation is in progress"), body)
    }

    /// Runs `body` unless another encryption or membership operation runs; throws `busy` if one does.
    func exclusively<Result, Failure: Error>(
        busy: Failure, _ body: () async throws(Failure) -> Result
    ) async throws(Failure) -> Result {
        guard !encryptionOperationRunning else { throw busy }
        encryptionOperationRunning = true
        defer { encryptionOperationRunning = false }
        return try await body()
    }

    /// The node's encryption, when it may run mutators: encryption enabled and leading.
    ///
    /// A follower answers with the leader's address first, whatever its own flags: the mutator belongs there.
    func requireEncryptionLeader() throws(EncryptionControlError) -> KVEncryption {
        if let halt { throw .unavailable(halt) }
        guard core.role == .leader else {
            throw .notLeader(leaderAddress: core.leader.flatMap { memberDirectory()[$0]?.address })
        }
        guard let encryption else { throw .encryptionNotEnabled }
        return encryption
    }

    /// Polls every member (voters and learners), fresh and concurrently, within one election timeout.
    ///
    /// - Parameter everyMember: the cut-over commands (bootstrap, enable-*) need an answer from every member
    ///   (DESIGN §4). Key commands (rotate, rewrap) only refuse members that answer not capable or with another
    ///   KEK: a member that is down applies the entry when it comes back, and a rotation must stay possible
    ///   while a member is being repaired.
    /// - Returns: the full node ids of all members, ascending.
    /// - Throws: ``EncryptionControlError/capabilityCheckFailed(_:)`` naming the members that failed.
    func requireCapableMembers(everyMember: Bool = true) async throws(EncryptionControlError) -> [UInt64] {
        let (members, answers, local) = await pollMembers()
        let directory = memberDirectory()
        let failing = members.filter { member in
            guard let answer = answers[member] else { return everyMember }
            return !Self.isCapable(answer, as: member, sameKEKAs: local)
        }
        guard failing.isEmpty else {
            throw .capabilityCheckFailed(failing.map { directory[$0]?.name ?? String($0) })
        }
        let byNode16 = Dictionary(grouping: members) { UInt16(truncatingIfNeeded: $0) }
        if let clash = byNode16.values.first(where: { $0.count > 1 }) {
            throw .refused("ErrNodeIDCollision: members \(clash.map { directory[$0]?.name ?? String($0) }) share "
                + "the low 16 bits of their ids, so their nonces would collide; replace one under another --node-id")
        }
        return members
    }

    /// Asks every member (voters and learners) for its capability, fresh and concurrently, within one
    /// election timeout; this node answers for itself.
    ///
    /// - Returns: the members ascending, their answers (absent: no answer in time) and this node's own.
    func pollMembers() async -> (members: [NodeID], answers: [NodeID: EncryptionCapability],
                                 local: EncryptionCapability)
    {
        let configuration = core.configurationState
        let members = configuration.voters.union(configuration.learners).sorted()
        let directory = memberDirectory()
        let timeout = options.tickInterval * 10
        let poller = capabilityPoller
        let selfID = identity.id
        let local = await capability()
        let answers = await withTaskGroup(of: (UInt64, EncryptionCapability?).self) { group in
            for member in members where member != selfID {
                let address = directory[member]?.address ?? ""
                group.addTask {
                    guard !address.isEmpty, let poller else { return (member, nil) }
                    return (member, await poller.capability(at: address, timeout: timeout))
                }
            }
            var answers: [UInt64: EncryptionCapability] = [selfID: local]
            for await (member, answer) in group { answers[member] = answer }
            return answers
        }
        return (members, answers, local)
    }

    /// Whether a member's answer is capable, from the member asked, with the KEK this node has.
    static func isCapable(_ answer: EncryptionCapability, as member: NodeID, sameKEKAs local: EncryptionCapability)
        -> Bool
    {
        answer.encryptionCapable && answer.fullNodeID == member
            && KEKCheck.compatible(answer.kekCheck, with: local.kekCheck)
    }

    /// Proposes an encryption entry and waits until it is applied on this node.
    func proposeEncryptionEntry(_ entry: EncryptionEntry) async throws(EncryptionControlError) -> UInt64 {
        let payload: [UInt8]
        do throws(EntryCodecError) { payload = try entry.encoded() } catch {
            throw .refused("the entry cannot be encoded: \(error)")
        }
        do throws(BackendError) {
            return try await proposeLocally(payload).index
        } catch {
            switch error {
            case .notLeader, .noLeader:
                throw .notLeader(leaderAddress: core.leader.flatMap { memberDirectory()[$0]?.address })
            case .ambiguous: throw .timeout
            case .tryAgain(let reason): throw .retryable(reason)
            default: throw .unavailable(error.description)
            }
        }
    }

    /// Draws a DEK from the system CSPRNG and wraps it under this node's KEK.
    func newDEK(id: KeyID, purpose: KeyPurpose, _ encryption: KVEncryption) throws(EncryptionControlError)
        -> EncryptionEntry.NewDEK
    {
        let key = DataEncryptionKey.generate()
        do {
            let wrapped = try encryption.applier.kekProvider.wrapForStorage(key)
            return EncryptionEntry.NewDEK(keyID: id, purpose: purpose, wrapped: wrapped)
        } catch {
            throw .refused("the KEK cannot wrap a new DEK: \(error)")
        }
    }

    /// Distinct, non-zero key ids from the system CSPRNG that no unretired key uses.
    static func newKeyIDs(count: Int, avoiding used: Set<KeyID>) -> [KeyID] {
        var generator = SystemRandomNumberGenerator()
        var ids: [KeyID] = []
        while ids.count < count {
            let id = KeyID.random(in: 1...KeyID.max, using: &generator)
            if !used.contains(id) && !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    static func unixSeconds() -> UInt64 {
        UInt64(max(0, Date().timeIntervalSince1970))
    }
}

extension ReplicatedNode {
    /// Refuses to retire a DEK that some member may still need (DESIGN §4, "Retire").
    ///
    /// Every member (voters and learners) must answer `GetKeyUsage`, and on none may a stored version, a log
    /// entry or the newest snapshot still be sealed under the key (see ``KeyUsageReport/Key/neededBecause(node:)``).
    /// Followers are asked too: garbage collection is node-local, so a follower can keep an old version the
    /// leader dropped, and each node's snapshot is its own. The refusal names the node, the reason and the
    /// command that clears it.
    func checkRetirable(_ keyID: KeyID, purpose: KeyPurpose) async throws(EncryptionControlError) {
        if purpose == .index {
            throw .refused("key \(keyID) is the index key: the element rows of collections are named with it, "
                + "so it is never retired")
        }
        let configuration = core.configurationState
        let members = configuration.voters.union(configuration.learners).sorted()
        let directory = memberDirectory()
        let timeout = options.tickInterval * 10
        let poller = capabilityPoller
        let selfID = identity.id
        var local: Result<KeyUsageReport, MemberUnreachable>
        do throws(EncryptionControlError) { local = .success(try await keyUsage()) } catch {
            local = .failure(MemberUnreachable(error.description))
        }
        let answers = await withTaskGroup(of: (NodeID, Result<KeyUsageReport, MemberUnreachable>).self) { group in
            for member in members where member != selfID {
                let address = directory[member]?.address ?? ""
                group.addTask {
                    guard !address.isEmpty, let poller else { return (member, .failure(MemberUnreachable("no address"))) }
                    return (member, await poller.keyUsage(at: address, timeout: timeout))
                }
            }
            var answers: [NodeID: Result<KeyUsageReport, MemberUnreachable>] = [selfID: local]
            for await (member, answer) in group { answers[member] = answer }
            return answers
        }
        for member in members {
            let name = directory[member]?.name ?? String(member)
            switch answers[member] ?? .failure(MemberUnreachable("no answer")) {
            case .failure(let failure):
                throw .refused("DEK \(keyID) may still be needed on \(name), which did not answer (\(failure)); retry "
                    + "when every member is up")
            case .success(let report):
                if let why = report.keys.first(where: { $0.keyID == keyID })?.neededBecause(node: name) {
                    throw .refused("DEK \(keyID) cannot be retired: \(why)")
                }
            }
        }
    }

    /// The key id of a raft envelope payload, or `nil` when the payload is not one.
    static func envelopeKeyID(_ data: [UInt8]) -> KeyID? {
        data.withUnsafeBytes { try? EnvelopeHeader(parsing: $0, purpose: .raft).keyID }
    }
}

extension ReplicatedNode {
    /// Before a member is added to an encrypted cluster: it must be able to decrypt.
    func checkNewMemberCapability(id: NodeID, name: String, address: String) async throws(ClusterControlError) {
        guard let poller = capabilityPoller else { return }
        let local = await capability()
        let answer = await poller.capability(at: address, timeout: options.tickInterval * 10)
        guard let answer, Self.isCapable(answer, as: id, sameKEKAs: local) else {
            throw .rejected(EncryptionControlError.capabilityCheckFailed([name]).description
                + "; start it with --encryption-enabled and the cluster's KEK")
        }
    }

    /// Commits a new member's writer registration for every unretired DEK, so it precedes the membership
    /// change and every entry the member will seal for (DESIGN §3.6); then makes the member start from a
    /// snapshot, whose keys it adopts at exactly the registered epochs.
    ///
    /// A node id that registered under a key before (an earlier life of the node, or an earlier attempt to add
    /// it) is registered one epoch above its last, so its new life never repeats an old nonce.
    func registerEncryptionWriter(newMember id: NodeID, name: String) async throws(ClusterControlError) {
        guard let sidecar = encryption?.applier.sidecar else { return }
        let identity = NodeIdentity(name: name)
        var registrations: [WriterRegistration] = []
        for keyID in sidecar.keys.keys.sorted() {
            var epoch: UInt16 = 0
            if let row = try? store.registryRow(dekID: keyID, node16: identity.node16) {
                guard row.fullNodeID == id else {
                    throw .rejected("ErrNodeIDCollision: '\(name)' shares its low 16 id bits with member "
                        + "\(row.fullNodeID) under DEK \(keyID); choose another --node-id")
                }
                guard row.lastSeenLocalEpoch < UInt16.max else {
                    throw .rejected("ErrLocalEpochExhausted: '\(name)' used every local epoch of DEK \(keyID); "
                        + "join under another --node-id")
                }
                epoch = row.lastSeenLocalEpoch + 1
            }
            registrations.append(WriterRegistration(dekID: keyID, fullNodeID: id, localEpoch: epoch))
        }
        do throws(EncryptionControlError) { _ = try await registerWritersExclusively(registrations) } catch {
            throw .rejected(error.description)
        }
        takeSnapshot(keepingEntries: 0)
    }
}
