extension RaftNode {
    /// The membership in effect: the one produced by the last configuration entry in the log.
    public var configurationState: ConfigurationState { configurationHistory.last?.state ?? baseConfiguration }

    var currentConfiguration: ConfigurationState { configurationState }

    /// The index of the last configuration entry in the log (0 when there is none after the snapshot).
    var lastConfigurationIndex: UInt64 { configurationHistory.last?.index ?? 0 }

    /// The membership as of `index`, for drivers taking a snapshot at that index.
    ///
    /// - Precondition: `index` is not before the first log entry's predecessor (the history before it is gone).
    public func configurationState(asOf index: UInt64) -> ConfigurationState {
        precondition(index + 1 >= log.firstIndex, "Membership before the first log index \(log.firstIndex) is gone.")
        return configurationHistory.last(where: { $0.index <= index })?.state ?? baseConfiguration
    }

    /// Reads every configuration entry of the log at start-up.
    func loadConfigurationHistory() {
        var low = log.firstIndex
        let end = log.lastIndex + 1
        while low < end {
            guard let batch = log.entries(from: low, to: end, maxBytes: configuration.maxBytesPerAppend),
                let last = batch.last
            else { preconditionFailure("The log from \(low) vanished while loading the membership.") }
            recordAppended(batch)
            low = last.index + 1
        }
    }

    /// Keeps the membership history in step with entries just written to the log (replacing any suffix).
    func recordAppended(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        let before = currentConfiguration
        configurationHistory.removeAll { $0.index >= first.index }
        for entry in entries where entry.kind == .configurationChange {
            configurationHistory.append((entry.index, ConfigurationEntry(decoding: entry.data).resulting))
        }
        if currentConfiguration != before { configurationDidChange() }
    }

    /// A new membership took effect: a leader starts or stops tracking members and re-evaluates commitment.
    private func configurationDidChange() {
        guard role == .leader else { return }
        let members = currentConfiguration.members
        for member in members where member != id && progress[member] == nil {
            progress[member] = ReplicationProgress(next: log.lastIndex + 1)
            progress[member]?.isRecentlyActive = true
        }
        for member in progress.keys where !members.contains(member) {
            progress[member] = nil
        }
        if let target = transferTarget, !currentConfiguration.voters.contains(target) { transferTarget = nil }
        if maybeCommit() { didCommitAsLeader() }
    }
}
