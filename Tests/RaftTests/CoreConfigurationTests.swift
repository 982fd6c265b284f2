import Raft
import Testing

/// Membership changes as data: validation, application and the entry encoding.
@Suite struct CoreConfigurationTests {
    @Test func configurationEntryRoundTrips() {
        let entry = ConfigurationEntry(
            change: .promoteLearner(0x0102_0304_0506_0708),
            resulting: ConfigurationState(voters: [1, 0x0102_0304_0506_0708], learners: [9]))

        #expect(ConfigurationEntry(decoding: entry.encoded) == entry)
    }

    @Test func changesApplyAsSetOperations() {
        let start = ConfigurationState(voters: [1, 2], learners: [3])

        #expect(start.applying(.promoteLearner(3)) == ConfigurationState(voters: [1, 2, 3]))
        #expect(start.applying(.removeMember(3)) == ConfigurationState(voters: [1, 2]))
        #expect(start.applying(.addLearner(4)).learners == [3, 4])
        #expect(start.applying(.addVoter(3)) == ConfigurationState(voters: [1, 2, 3]))
        #expect(
            start.applying(.removeMember(1)).applying(.removeMember(1))
                == ConfigurationState(voters: [2], learners: [3]))
    }

    @Test func errorsDescribeWhatToDo() {
        #expect(RaftError.notLeader(leader: 7).description.contains("7"))
        #expect(RaftError.configurationChangePending.description.contains("retry"))
    }
}
