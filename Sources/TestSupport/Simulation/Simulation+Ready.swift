import Raft

extension Simulation {
    /// Drives one member's ready loop: persist (maybe crashing before the sync), send, apply, advance; a leader
    /// sends first when the batch allows it.
    func processReady(_ node: SimulatedNode) throws(SafetyViolation) {
        var rounds = 0
        while let core = node.core, core.hasReady, rounds < Self.maxReadyRoundsPerStep {
            rounds += 1
            let ready = core.ready()
            if let first = ready.entries.first {
                try checker.checkAppended(
                    node.id, entries: ready.entries, previousTerm: core.logTerm(at: first.index - 1))
            }
            // A leader may send before its own write; the crash below then loses entries it already sent.
            if ready.maySendBeforePersisting { network.send(ready.messages) }
            if let hardState = ready.hardState { node.storage.setHardState(hardState) }
            if let snapshot = ready.snapshot { node.storage.applySnapshot(snapshot) }
            node.storage.append(ready.entries)
            if isFaultPhase && chance(options.crashDuringPersistProbability) {
                note("member \(node.id) crashes before syncing")
                node.crash()
                return
            }
            node.durable = node.storage.copy()
            if !ready.maySendBeforePersisting { network.send(ready.messages) }
            try apply(ready, to: node, core: core)
            core.advance(ready)
            compactIfNeeded(node, core: core)
        }
    }

    private func apply(_ ready: Ready, to node: SimulatedNode, core: RaftNode) throws(SafetyViolation) {
        if let snapshot = ready.snapshot {
            node.registers = RegisterCommand.decodeState(snapshot.data)
            node.appliedIndex = snapshot.metadata.index
            snapshotsInstalled += 1
            note("member \(node.id) installs snapshot at \(snapshot.metadata.index)")
            try checker.checkState(node.id, index: snapshot.metadata.index, stateDigest: node.stateDigest)
        }
        let leaders = currentLeaders()
        for entry in ready.committedEntries {
            precondition(
                entry.index == node.appliedIndex + 1,
                "Member \(node.id) was handed entry \(entry.index) after \(node.appliedIndex).")
            node.appliedIndex = entry.index
            if entry.kind == .normal, let command = RegisterCommand(decoding: entry.data) {
                node.registers[command.key] = command.value
                if let position = node.pendingPuts.removeValue(forKey: command.operationID) {
                    respond(position, output: .ok)
                }
            }
            try checker.checkApplied(
                node.id, memberTerm: core.term, entry: entry, stateDigest: node.stateDigest, leaders: leaders)
        }
        for readState in ready.readStates {
            guard let read = node.pendingReads.removeValue(forKey: readState.context) else { continue }
            node.readsAwaitingApply.append((readState.index, read.position, read.key))
        }
        node.readsAwaitingApply.removeAll { read in
            guard read.index <= node.appliedIndex else { return false }
            respond(read.position, output: .value(node.registers[read.key]))
            return true
        }
    }

    private func respond(_ position: Int, output: RegisterOutput) {
        history[position].output = output
        history[position].returnTime = step
    }

    /// Takes a snapshot of the register map at the applied index and compacts the log behind it.
    private func compactIfNeeded(_ node: SimulatedNode, core: RaftNode) {
        let applied = node.appliedIndex
        guard applied >= node.storage.firstIndex + options.compactionThresholdEntries else { return }
        do {
            try node.storage.createSnapshot(
                at: applied, configuration: core.configurationState(asOf: applied),
                data: RegisterCommand.encodeState(node.registers))
            let compactTo = applied - options.entriesKeptAfterCompaction
            try node.storage.compact(through: compactTo)
            core.didCompact(through: compactTo)
            node.durable = node.storage.copy()
            note("member \(node.id) snapshots at \(applied), compacts through \(compactTo)")
        } catch {
            preconditionFailure("Compacting member \(node.id) at \(applied) failed: \(error)")
        }
    }
}
