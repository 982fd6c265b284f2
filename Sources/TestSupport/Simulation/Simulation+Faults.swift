import Raft

extension Simulation {
    /// Draws this step's faults and operator actions.
    func injectFaults() {
        if chance(options.crashProbability), let node = pick(nodes.filter(\.isRunning)) {
            note("member \(node.id) crashes")
            node.crash()
        }
        if chance(options.restartProbability), let node = pick(nodes.filter { !$0.isRunning }) {
            note("member \(node.id) restarts")
            node.start(randomSeed: random.next())
        }
        if chance(options.partitionProbability) { partitionRandomly() }
        if chance(options.healProbability) {
            note("network heals")
            network.heal()
        }
        if chance(options.membershipChangeProbability) { changeMembership() }
        if chance(options.transferProbability) { transferLeadership() }
    }

    private func partitionRandomly() {
        network.heal()
        if random.next() % 2 == 0, let node = pick(nodes) {
            network.isolated = [node.id]
            note("member \(node.id) is isolated")
        } else {
            for node in nodes { network.partitionGroups[node.id] = Int(random.next() % 2) }
            let groups = network.partitionGroups.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }
            note("network partitioned: \(groups)")
        }
    }

    /// Proposes a random valid membership change at a leader ready to serve.
    private func changeMembership() {
        guard let leader = currentLeaders().first?.1, leader.isReadyToServe else { return }
        let configuration = leader.configurationState
        let outsiders = nodes.map(\.id).filter { !configuration.members.contains($0) }
        var choices: [ConfigurationChange] = []
        if let member = pick(outsiders) { choices += [.addLearner(member), .addVoter(member)] }
        if let learner = pick(configuration.learners.sorted()) {
            choices += [.promoteLearner(learner), .removeMember(learner)]
        }
        if configuration.voters.count > 2, let voter = pick(configuration.voters.sorted()) {
            choices.append(.removeMember(voter))
        }
        guard let change = pick(choices) else { return }
        do {
            let index = try leader.proposeConfigurationChange(change)
            note("leader \(leader.id) proposes \(change) at \(index)")
        } catch {
            note("leader \(leader.id) refuses \(change): \(error)")
        }
    }

    private func transferLeadership() {
        guard let leader = currentLeaders().first?.1 else { return }
        guard let target = pick(leader.configurationState.voters.filter { $0 != leader.id }.sorted()) else { return }
        do {
            try leader.transferLeadership(to: target)
            note("leader \(leader.id) transfers to \(target)")
        } catch {
            note("leader \(leader.id) refuses transfer to \(target): \(error)")
        }
    }

    /// A client sends a put or a get to a random running member.
    func issueClientOperation() {
        guard history.count < options.maxClientOperations, chance(options.clientOperationProbability),
            let first = pick(nodes.filter(\.isRunning))
        else { return }
        let operationID = nextOperationID
        let key = UInt8(random.next() % UInt64(options.keyCount))
        let isPut = random.next() % 2 == 0
        var node = first
        // A client told "not leader, try L" follows the redirect once, as a real client would.
        for _ in 0..<2 {
            guard let core = node.core else { return }
            do {
                if isPut {
                    let command = RegisterCommand(operationID: operationID, key: key, value: operationID)
                    try core.propose(command.encoded)
                    node.pendingPuts[operationID] = history.count
                    record(operationID, node: node, input: .put(key: key, value: operationID))
                } else {
                    let context = RegisterCommand.bigEndian(operationID)
                    try core.readIndex(context: context)
                    node.pendingReads[context] = (history.count, key)
                    record(operationID, node: node, input: .get(key: key))
                }
                nextOperationID += 1
                return
            } catch .notLeader(let leader?) {
                guard let redirected = nodes.first(where: { $0.id == leader }) else { return }
                node = redirected
            } catch {
                return
            }
        }
    }

    private func record(_ operationID: UInt64, node: SimulatedNode, input: RegisterInput) {
        history.append(
            OperationRecord(
                id: operationID, member: node.id, input: input, output: nil, callTime: step, returnTime: .max))
    }
}
