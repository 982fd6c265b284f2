import Foundation
@testable import Server

/// Opens a node in a data directory this test process just closed. The tests run beside others that spawn
/// processes: a child forked at the moment the previous node held `<data-dir>/LOCK` shares that lock's open
/// file description until it execs (the descriptor is close-on-exec), so the lock may outlive `close()` by
/// a moment. A restart in production is a new process and never sees this; the tests wait it out, bounded.
enum ReopeningNode {
    static func open(_ open: () throws -> ReplicatedNode) async throws -> ReplicatedNode {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try open()
            } catch let error as StartupFailure {
                guard case .dataDirectoryLocked = error, ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}
