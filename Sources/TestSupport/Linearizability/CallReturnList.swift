/// The call and return events of a partition, in time order, as a doubly linked list that supports
/// removing an operation's two events and putting them back.
///
/// Removing ("lifting") an operation unlinks its events but leaves their own links intact, so putting
/// them back is constant time, provided lifts are undone in reverse order, which the search's stack
/// guarantees. Node 0 is a sentinel before the first event.
struct CallReturnList {
    /// The link value meaning "no node".
    static let end = -1

    /// One call or return event, ordered as the list keeps them.
    private struct Event: Comparable {
        var isPendingReturn: Bool
        var time: Int
        var isReturn: Bool
        var operation: Int

        static func < (a: Event, b: Event) -> Bool {
            (a.isPendingReturn ? 1 : 0, a.time, a.isReturn ? 1 : 0, a.operation)
                < (b.isPendingReturn ? 1 : 0, b.time, b.isReturn ? 1 : 0, b.operation)
        }
    }

    private var next: [Int]
    private var previous: [Int]
    private var operationOfNode: [Int]
    private var returnNodeOfCall: [Int]

    /// Builds the list for `operations`.
    ///
    /// Events sort by time; at equal times calls come before returns, so operations that touch at one
    /// instant are concurrent. Returns of pending operations come after every other event.
    init<Input, Output>(_ operations: [HistoryOperation<Input, Output>]) {
        var events: [Event] = []
        events.reserveCapacity(operations.count * 2)
        for (index, operation) in operations.enumerated() {
            events.append(Event(isPendingReturn: false, time: operation.callTime, isReturn: false, operation: index))
            let returnTime = operation.returnTime ?? 0
            events.append(
                Event(isPendingReturn: operation.isPending, time: returnTime, isReturn: true, operation: index)
            )
        }
        events.sort()
        let nodeCount = events.count + 1
        next = Array(1...nodeCount).map { $0 == nodeCount ? Self.end : $0 }
        previous = Array(-1..<(nodeCount - 1))
        operationOfNode = [Self.end] + events.map(\.operation)
        returnNodeOfCall = Array(repeating: Self.end, count: nodeCount)
        var callNodeOfOperation = Array(repeating: Self.end, count: operations.count)
        for (offset, event) in events.enumerated() {
            if event.isReturn {
                returnNodeOfCall[callNodeOfOperation[event.operation]] = offset + 1
            } else {
                callNodeOfOperation[event.operation] = offset + 1
            }
        }
    }

    /// The first event still in the list, or ``end``.
    var first: Int { next[0] }

    /// The event after `node`, or ``end``.
    func after(_ node: Int) -> Int { next[node] }

    /// The index of the operation whose event `node` is.
    func operation(at node: Int) -> Int { operationOfNode[node] }

    /// Whether `node` is a call event.
    func isCall(_ node: Int) -> Bool { returnNodeOfCall[node] != Self.end }

    /// Unlinks the call event `node` and its return event.
    mutating func lift(call node: Int) {
        precondition(isCall(node), "Only a call event can be lifted with its return.")
        unlink(node)
        unlink(returnNodeOfCall[node])
    }

    /// Puts back the call event `node` and its return event, undoing the latest ``lift(call:)``.
    mutating func unlift(call node: Int) {
        relink(returnNodeOfCall[node])
        relink(node)
    }

    private mutating func unlink(_ node: Int) {
        next[previous[node]] = next[node]
        if next[node] != Self.end { previous[next[node]] = previous[node] }
    }

    private mutating func relink(_ node: Int) {
        next[previous[node]] = node
        if next[node] != Self.end { previous[next[node]] = node }
    }
}
