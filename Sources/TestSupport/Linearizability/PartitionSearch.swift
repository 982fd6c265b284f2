/// The search for a linearization of one partition of a history.
///
/// This is the Wing and Gong backtracking search as improved by Lowe. Call and return events sit in one
/// time-ordered list. The search scans it from the front: at a call event it tries to linearize that
/// operation next (the model must accept it, and the pair of linearized set and resulting state must be
/// new); on success it lifts the operation's events out of the list and rescans from the front. Reaching a
/// return event means that operation had to be linearized already, so the search undoes its latest
/// choice and tries the next call after it. The memo of explored (linearized set, state) pairs is what
/// keeps most histories polynomial: two orders reaching the same state with the same operations done
/// cannot differ in the future.
///
/// The search succeeds once every operation that returned is linearized. Pending operations' returns are
/// at the end of the list, so a pending operation can be linearized anywhere after its call, or not at
/// all, which is exactly "may or may not have taken effect".
struct PartitionSearch<Model: LinearizabilityModel> {
    typealias Operation = HistoryOperation<Model.Input, Model.Output>

    /// How a search ended.
    enum Outcome {
        case linearizable
        /// No linearization exists; the indices name operations of the partition.
        case violation(longestPrefix: [Int], blocked: [Int])
        case exceeded(SearchBudgetExceeded)
    }

    private struct MemoKey: Hashable {
        var linearized: OperationBitset
        var state: Model.State
    }

    private struct Frame {
        var callNode: Int
        var stateBefore: Model.State
    }

    private let model: Model
    private let operations: [Operation]
    private var events: CallReturnList
    private var state: Model.State
    private var linearized: OperationBitset
    private var memo: Set<MemoKey> = []
    private var frames: [Frame] = []
    private var order: [Int] = []
    private var prefix = LongestPrefixTracker()
    private var completedRemaining: Int
    private let memoEntryBytes: Int

    init(model: Model, operations: [Operation]) {
        self.model = model
        self.operations = operations
        events = CallReturnList(operations)
        state = model.initialState
        linearized = OperationBitset(capacity: operations.count)
        completedRemaining = operations.count { !$0.isPending }
        // A memo entry holds a copy of the bitset and a state, plus the set's own slot and array header.
        memoEntryBytes = linearized.storageBytes + MemoryLayout<MemoKey>.stride + 32
    }

    /// Runs the search to a verdict or until `budget` runs out.
    mutating func run(budget: inout SearchBudget) -> Outcome {
        var node = events.first
        while completedRemaining > 0 {
            if let exceeded = budget.takeStep() { return .exceeded(exceeded) }
            precondition(node != CallReturnList.end, "A scan must stop at the return of an unlinearized operation.")
            if events.isCall(node) {
                if linearizeNext(callNode: node) {
                    if let exceeded = budget.checkMemo(bytes: memo.count * memoEntryBytes) {
                        return .exceeded(exceeded)
                    }
                    node = events.first
                } else {
                    node = events.after(node)
                }
            } else {
                guard let callNode = undoLatest() else {
                    return .violation(longestPrefix: prefix.longest, blocked: blocked(after: prefix.longest))
                }
                node = events.after(callNode)
            }
        }
        return .linearizable
    }

    /// Linearizes the operation of `callNode` next if the model accepts it and the result is unexplored.
    private mutating func linearizeNext(callNode node: Int) -> Bool {
        let index = events.operation(at: node)
        let operation = operations[index]
        let (isLegal, next) = model.step(state, operation.input, operation.output)
        guard isLegal else { return false }
        linearized.insert(index)
        guard memo.insert(MemoKey(linearized: linearized, state: next)).inserted else {
            linearized.remove(index)
            return false
        }
        frames.append(Frame(callNode: node, stateBefore: state))
        state = next
        order.append(index)
        prefix.didPush(order)
        events.lift(call: node)
        if !operation.isPending { completedRemaining -= 1 }
        return true
    }

    /// Undoes the latest linearization and returns its call node, or `nil` when nothing is left to undo.
    private mutating func undoLatest() -> Int? {
        guard let frame = frames.popLast() else { return nil }
        let index = events.operation(at: frame.callNode)
        events.unlift(call: frame.callNode)
        linearized.remove(index)
        state = frame.stateBefore
        order.removeLast()
        prefix.didPop(toCount: order.count)
        if !operations[index].isPending { completedRemaining += 1 }
        return frame.callNode
    }

    /// The operations outside `prefix` that real time allows to come right after it, by call time.
    private func blocked(after prefix: [Int]) -> [Int] {
        var done = OperationBitset(capacity: operations.count)
        for index in prefix { done.insert(index) }
        let rest = operations.indices.filter { !done.contains($0) }
        let earliestReturn = rest.compactMap { operations[$0].returnTime }.min() ?? Int.max
        return rest.filter { operations[$0].callTime <= earliestReturn }
            .sorted { (operations[$0].callTime, $0) < (operations[$1].callTime, $1) }
    }
}
