import Synchronization

/// Maps the numeric cursors SCAN hands out to the key where the next call resumes.
///
/// Keys are ordered bytes, not hash slots, so a cursor cannot encode a position in a table as Redis's does;
/// instead each continuation is remembered under a fresh number, and the oldest are forgotten beyond a named
/// limit (an expired cursor answers `ERR invalid cursor`). Cursors are local to the node that issued them.
public final class ScanCursors: Sendable {
    /// How many open cursors are remembered.
    public static let maxOpenCursors = 65_536

    private struct State {
        var next: UInt64 = 1
        var positions: [UInt64: [UInt8]] = [:]
        var order: [UInt64] = []
        var orderStart = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Remembers where a scan resumes and returns its cursor number (never 0).
    public func open(resumeAt key: [UInt8]) -> UInt64 {
        state.withLock { state in
            let cursor = state.next
            state.next = state.next == UInt64.max ? 1 : state.next + 1
            state.positions[cursor] = key
            state.order.append(cursor)
            if state.positions.count > Self.maxOpenCursors {
                state.positions[state.order[state.orderStart]] = nil
                state.orderStart += 1
                if state.orderStart > Self.maxOpenCursors {
                    state.order.removeFirst(state.orderStart)
                    state.orderStart = 0
                }
            }
            return cursor
        }
    }

    /// The resume key of a cursor; `[]` for cursor 0; `nil` when unknown or forgotten.
    public func resumeKey(for cursor: UInt64) -> [UInt8]? {
        cursor == 0 ? [] : state.withLock { $0.positions[cursor] }
    }
}
