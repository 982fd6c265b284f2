/// Checks whether a concurrent history of client operations is linearizable with respect to a model.
///
/// The model first splits the history into independent partitions (for a map, one per key); each is
/// searched on its own, smallest first, so a violation in a small partition is found before a large one
/// can use up the budget. The first partition without a linearization decides the verdict. All partitions
/// share one step and time budget from ``LinearizabilityLimits``; running out yields
/// ``LinearizabilityResult/unknown(_:)``, never a pass.
///
/// Operations that never returned may be linearized anywhere after their call or left out entirely: the
/// history passes when every operation that returned is linearized.
///
/// ```swift
/// let checker = LinearizabilityChecker(model: KeyValueModel<String, String>())
/// switch try checker.check(history) {
/// case .linearizable: break
/// case .notLinearizable(let violation): Issue.record("\(violation)")
/// case .unknown(let reason): Issue.record("inconclusive: \(reason)")
/// }
/// ```
public struct LinearizabilityChecker<Model: LinearizabilityModel> {
    public typealias Operation = HistoryOperation<Model.Input, Model.Output>

    /// The sequential specification histories are checked against.
    public let model: Model
    /// The bounds on each check.
    public let limits: LinearizabilityLimits

    /// Creates a checker.
    public init(model: Model, limits: LinearizabilityLimits = .default) {
        self.model = model
        self.limits = limits
    }

    /// Checks `history`.
    ///
    /// - Parameter history: the operations in any order; operations that never returned are pending.
    /// - Throws: ``LinearizabilityError/historyTooLarge(operationCount:limit:)`` when the history holds more
    ///   than ``LinearizabilityLimits/maxOperations`` operations.
    public func check(
        _ history: [Operation]
    ) throws(LinearizabilityError) -> LinearizabilityResult<Model.Input, Model.Output> {
        guard history.count <= limits.maxOperations else {
            throw .historyTooLarge(operationCount: history.count, limit: limits.maxOperations)
        }
        let partitions = model.partition(history)
        precondition(
            partitions.reduce(0) { $0 + $1.count } == history.count,
            "A model's partition must place every operation in exactly one part."
        )
        var budget = SearchBudget(limits: limits)
        let smallestFirst = partitions.indices.sorted { (partitions[$0].count, $0) < (partitions[$1].count, $1) }
        for partitionIndex in smallestFirst {
            let operations = partitions[partitionIndex]
            var search = PartitionSearch(model: model, operations: operations)
            switch search.run(budget: &budget) {
            case .linearizable:
                continue
            case .exceeded(let reason):
                return .unknown(reason)
            case .violation(let longestPrefix, let blocked):
                let violation = LinearizabilityViolation(
                    partitionIndex: partitionIndex,
                    partitionCount: partitions.count,
                    partition: operations,
                    longestLinearizablePrefix: longestPrefix.map { operations[$0] },
                    blockedOperations: blocked.map { operations[$0] },
                    describe: model.describe
                )
                return .notLinearizable(violation)
            }
        }
        return .linearizable
    }
}

extension LinearizabilityChecker: Sendable where Model: Sendable {}
