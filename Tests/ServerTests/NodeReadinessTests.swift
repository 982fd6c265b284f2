@testable import Server
import Testing

@Suite struct NodeReadinessTests {
    static func reading(leader: String? = "n1", contact: Bool = true, commit: UInt64 = 10, applied: UInt64 = 10,
                        halted: Bool = false) -> NodeInfo.Reading {
        var reading = NodeInfo.Reading()
        reading.leaderName = leader
        reading.leaderContact = contact
        reading.commitIndex = commit
        reading.appliedIndex = applied
        reading.halted = halted
        return reading
    }

    @Test func aNodeInTouchWithItsLeaderAndCaughtUpIsReady() {
        let readiness = NodeReadiness(Self.reading())
        #expect(readiness.isReady)
        #expect(readiness.json == #"{"ready":true}"# + "\n")
    }

    @Test func eachReasonMakesItNotReady() {
        #expect(NodeReadiness(Self.reading(halted: true)).notReadyReason == "apply halted")
        #expect(NodeReadiness(Self.reading(leader: nil)).notReadyReason == "no leader known")
        #expect(NodeReadiness(Self.reading(contact: false)).notReadyReason == "no leader known")
        let lag = NodeReadiness.maxApplyLagEntries
        #expect(NodeReadiness(Self.reading(commit: 10 + lag, applied: 10)).isReady)
        let behind = NodeReadiness(Self.reading(commit: 11 + lag, applied: 10))
        #expect(behind.notReadyReason?.hasPrefix("applied index 10 trails") == true)
        #expect(behind.json.hasPrefix(#"{"ready":false,"reason":"applied index 10"#))
    }
}
