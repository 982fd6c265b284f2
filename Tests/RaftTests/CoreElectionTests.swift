import Raft
import Testing

@Suite struct CoreElectionTests {
    @Test func placeholderBuild() {
        #expect(Bool(true))
    }
}
