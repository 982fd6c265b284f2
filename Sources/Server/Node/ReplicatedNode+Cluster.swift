import ControlPlane
import Encryption
import KV
import Raft
import Storage

extension ReplicatedNode: ClusterControl {
    /// How long a membership operation or a leadership transfer waits for its effect.
    static let membershipTimeout: Duration = .seconds(10)
    /// How long a read of the member directory is reused.
    static let directoryCacheLifetime: Duration = .seconds(1)

    public func status() async -> ClusterStatus {
        let directory = memberDirectory()
        let configuration = core.configurationState
        func address(_ id: NodeID) -> String { directory[id]?.address ?? "" }
        func name(_ id: NodeID) -> String { directory[id]?.name ?? String(id) }
        var members: [ClusterStatus.Member] = []
        for id in configuration.voters.sorted() {
            members.append(.init(name: name(id), raftID: id, address: address(id),
                                 role: id == core.leader ? .leader : .follower))
        }
        for id in configuration.learners.sorted() {
            members.append(.init(name: name(id), raftID: id, address: address(id), role: .learner))
        }
        return ClusterStatus(nodeName: identity.name, leaderName: core.leader.map(name),
                             leaderAddress: core.leader.map(address), term: core.term,
                             commitIndex: core.commitIndex, appliedIndex: core.appliedIndex, members: members)
    }

    public func addLearner(name: String, address: String) async throws(ClusterControlError) -> UInt64 {
        let id = NodeIdentity.fullNodeID(of: name)
        try requireLeader()
        directoryCache = nil
        let configuration = core.configurationState
        guard !configuration.voters.contains(id), !configuration.learners.contains(id) else {
            throw .alreadyMember(name)
        }
        if memberDirectory().values.contains(where: { $0.id != id && $0.name == name }) { throw .alreadyMember(name) }
        guard encryption?.applier.sidecar != nil else {
            try await registerInDirectory(id: id, name: name, address: address)
            return try await changeConfiguration(.addLearner(id))
        }
        let busy = ClusterControlError.rejected("another encryption or membership operation is in progress; retry")
        return try await exclusively(busy: busy) { () async throws(ClusterControlError) in
            try await checkNewMemberCapability(id: id, name: name, address: address)
            try await registerInDirectory(id: id, name: name, address: address)
            try await registerEncryptionWriter(newMember: id, name: name)
            return try await changeConfiguration(.addLearner(id))
        }
    }

    /// Records a member's name and address in the replicated directory.
    func registerInDirectory(id: NodeID, name: String, address: String) async throws(ClusterControlError) {
        let registration = CommandEntry(proposedTS: 0, nowMillis: 0, commands: [
            .registerMember(id: id, name: Array(name.utf8), address: Array(address.utf8)),
        ])
        do throws(BackendError) { _ = try await propose(registration.encoded()) } catch {
            throw Self.clusterError(error)
        }
    }

    public func promote(name: String) async throws(ClusterControlError) -> UInt64 {
        try await changeConfiguration(.promoteLearner(try memberID(named: name)))
    }

    public func remove(name: String) async throws(ClusterControlError) -> UInt64 {
        try await changeConfiguration(.removeMember(try memberID(named: name)))
    }

    public func transferLeader(to name: String) async throws(ClusterControlError) {
        let id = try memberID(named: name)
        try requireLeader()
        if core.leader == id { return }
        do throws(RaftError) { try core.transferLeadership(to: id) } catch { throw Self.clusterError(error) }
        process()
        let deadline = ContinuousClock.now + Self.membershipTimeout
        while ContinuousClock.now < deadline {
            if core.leader == id { return }
            try? await Task.sleep(for: options.tickInterval)
        }
        throw .timeout
    }

    /// Proposes one membership change and waits until it is applied.
    func changeConfiguration(_ change: ConfigurationChange) async throws(ClusterControlError) -> UInt64 {
        try requireLeader()
        let index: UInt64
        do throws(RaftError) { index = try core.proposeConfigurationChange(change) } catch {
            throw Self.clusterError(error)
        }
        let term = core.term
        let result = await withCheckedContinuation { continuation in
            proposals[index] = ProposalWaiter(term: term, deadline: deadline(), continuation: continuation)
            process()
        }
        do throws(BackendError) { _ = try result.get() } catch { throw Self.clusterError(error) }
        return index
    }

    func requireLeader() throws(ClusterControlError) {
        guard core.role == .leader else {
            throw .notLeader(leaderAddress: core.leader.flatMap { memberDirectory()[$0]?.address })
        }
    }

    func memberID(named name: String) throws(ClusterControlError) -> NodeID {
        let id = NodeIdentity.fullNodeID(of: name)
        let configuration = core.configurationState
        guard configuration.voters.contains(id) || configuration.learners.contains(id) else {
            throw .unknownMember(name)
        }
        return id
    }

    /// The replicated directory, plus this node's founding peers until they are registered.
    func memberDirectory() -> [NodeID: MemberDirectory.Member] {
        if let cache = directoryCache, ContinuousClock.now - cache.readAt < Self.directoryCacheLifetime {
            return cache.members
        }
        var directory: [NodeID: MemberDirectory.Member] = [:]
        for peer in initialPeers {
            directory[peer.id] = .init(id: peer.id, name: peer.name, address: peer.address.description)
        }
        for member in (try? MemberDirectory.members(in: store)) ?? [] { directory[member.id] = member }
        directoryCache = (.now, directory)
        return directory
    }

    /// A new leader registers the founding members it knows from `--initial-cluster` that the replicated
    /// directory lacks, so members added later can reach them.
    func seedDirectoryIfLeader() {
        guard core.role == .leader, core.isReadyToServe, directorySeededTerm != core.term else { return }
        directorySeededTerm = core.term
        let registered = Set(((try? MemberDirectory.members(in: store)) ?? []).map(\.id))
        let missing = initialPeers.filter { !registered.contains($0.id) }
        guard !missing.isEmpty else { return }
        let entry = CommandEntry(proposedTS: 0, nowMillis: 0, commands: missing.map {
            .registerMember(id: $0.id, name: Array($0.name.utf8), address: Array($0.address.description.utf8))
        })
        _ = try? append(entry.encoded())
    }

    static func clusterError(_ error: RaftError) -> ClusterControlError {
        switch error {
        case .notLeader: return .notLeader(leaderAddress: nil)
        case .configurationChangePending: return .changeInProgress
        case .memberAlreadyPresent(let id): return .alreadyMember(String(id))
        case .memberNotFound(let id): return .unknownMember(String(id))
        default: return .rejected(error.description)
        }
    }

    static func clusterError(_ error: BackendError) -> ClusterControlError {
        switch error {
        case .ambiguous: return .timeout
        case .noLeader: return .notLeader(leaderAddress: nil)
        default: return .rejected(error.description)
        }
    }
}
