@testable import ControlPlane
import Synchronization

@testable import Server

/// A scripted `ClusterControl`: returns a fixed status, answers mutations with increasing indexes or with a
/// chosen failure, and records every call.
final class FakeClusterControl: ClusterControl {
    struct State {
        var status: ClusterStatus
        var failure: ClusterControlError?
        var nextIndex: UInt64 = 100
        var calls: [String] = []
    }

    let state: Mutex<State>

    init(status: ClusterStatus = FakeClusterControl.threeNodes) {
        state = Mutex(State(status: status))
    }

    static let threeNodes = ClusterStatus(
        nodeName: "n2", leaderName: "n1", leaderAddress: "127.0.0.1:50051", term: 7, commitIndex: 42,
        appliedIndex: 41,
        members: [
            .init(name: "n1", raftID: 1, address: "127.0.0.1:50051", role: .leader),
            .init(name: "n2", raftID: 2, address: "127.0.0.1:50052", role: .follower),
            .init(name: "n3", raftID: 3, address: "127.0.0.1:50053", role: .learner),
        ])

    var calls: [String] { state.withLock { $0.calls } }

    func fail(with failure: ClusterControlError?) {
        state.withLock { $0.failure = failure }
    }

    func status() async -> ClusterStatus {
        state.withLock { $0.status }
    }

    func addLearner(name: String, address: String) async throws(ClusterControlError) -> UInt64 {
        try record("addLearner \(name) \(address)")
    }

    func promote(name: String) async throws(ClusterControlError) -> UInt64 {
        try record("promote \(name)")
    }

    func remove(name: String) async throws(ClusterControlError) -> UInt64 {
        try record("remove \(name)")
    }

    func transferLeader(to name: String) async throws(ClusterControlError) {
        _ = try record("transferLeader \(name)")
    }

    func snapshotAndCompact() async throws(ClusterControlError) -> UInt64 { try record("snapshotAndCompact") }

    private func record(_ call: String) throws(ClusterControlError) -> UInt64 {
        let outcome: Result<UInt64, ClusterControlError> = state.withLock { state in
            state.calls.append(call)
            if let failure = state.failure { return .failure(failure) }
            state.nextIndex += 1
            return .success(state.nextIndex)
        }
        return try outcome.get()
    }
}
