import RESP
import Synchronization

/// The read-only scripts this node is running, for SCRIPT KILL / FUNCTION KILL and FUNCTION STATS.
///
/// Scripts that write run inside a Raft entry's apply on every replica; they are bounded by their
/// deterministic limits instead and cannot be killed (a kill on one replica would make it diverge).
public final class RunningScripts: Sendable {
    private struct Run: @unchecked Sendable {
        // LuaSandbox is used by one thread; only its kill() (an atomic store) is called from here.
        let sandbox: LuaSandbox
        let label: String
        let started: ContinuousClock.Instant
    }

    private let runs = Mutex<(next: Int, active: [Int: Run])>((0, [:]))

    public init() {}

    func start(_ sandbox: LuaSandbox, label: String) -> Int {
        runs.withLock { state in
            state.next += 1
            state.active[state.next] = Run(sandbox: sandbox, label: label, started: .now)
            return state.next
        }
    }

    func finish(_ token: Int) {
        _ = runs.withLock { $0.active.removeValue(forKey: token) }
    }

    /// Stops every running read-only script: +OK, or NOTBUSY when none runs.
    public func kill() -> RESPValue {
        let active = runs.withLock { Array($0.active.values) }
        guard !active.isEmpty else { return .error("NOTBUSY No scripts in execution right now.") }
        for run in active { run.sandbox.kill() }
        return .ok
    }

    /// FUNCTION STATS' `running_script`: the longest-running script's name and duration, or null.
    var current: RESPValue? {
        guard let run = runs.withLock({ $0.active.values.min { $0.started < $1.started } }) else { return nil }
        let elapsed = ContinuousClock.now - run.started
        let millis = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return .map([
            RESPValue.Pair(.bulk("name"), .bulk(run.label)),
            RESPValue.Pair(.bulk("command"), .array([])),
            RESPValue.Pair(.bulk("duration_ms"), .integer(millis)),
        ])
    }
}
